import { Command, Option } from "commander";
import { EXPORT_FORMATS } from "./export-formats.js";
import type { CliContext } from "./io.js";

/**
 * Builds the commander program. Each command lives in commands/<name>.ts as
 * a plain function `(options, ctx) => Promise<void>`; this file only wires
 * flags to those functions, importing a command's module when it runs, so
 * `--help` or `list` never load what `serve`, `sync` or `run` need.
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command("sessionvault")
    .description("Keep the complete record of AI coding-agent sessions (Codex CLI first).")
    .showHelpAfterError()
    .exitOverride();

  const storeHelp =
    "store URL, or a Codex home, Claude Code config dir or Gemini CLI dir (default: every local agent home: $CODEX_HOME or ~/.codex, $CLAUDE_CONFIG_DIR or ~/.claude, ~/.gemini)";
  program
    .command("list")
    .description("List sessions, newest first, one page at a time. Archived sessions are left out unless --archived or --all.")
    .option("--store <url>", storeHelp)
    .option("--limit <n>", "sessions per page (1-1000, default 50)")
    .option("--cursor <cursor>", "continue after a previous page (its next_cursor)")
    .option("--archived", "only archived sessions")
    .option("--all", "active and archived sessions")
    .option("--cwd <path>", "only sessions started in this directory (exact match)")
    .option("--agent <agent>", "only this agent's sessions: codex, claude-code or gemini-cli")
    .option(
      "--search <text>",
      "only sessions whose title, directory, repository, messages or commands contain it (Postgres: web-search words; a Codex home: read through, case-insensitive)",
    )
    .option("--no-redact", "show titles, directories and repository URLs with their secrets (redacted by default)")
    .option("--json", 'print {"sessions": [...], "next_cursor"}')
    .addHelpText(
      "after",
      '\nExamples:\n  sessionvault list\n  sessionvault list --all --limit 10 --json\n  sessionvault list --cwd . --store ~/.codex\n  sessionvault list --agent claude-code\n  sessionvault list --all --search "cargo test"',
    )
    .action(
      async (opts: {
        store?: string;
        limit?: string;
        cursor?: string;
        archived?: boolean;
        all?: boolean;
        cwd?: string;
        agent?: string;
        search?: string;
        redact?: boolean;
        json?: boolean;
      }) => {
        const { list } = await import("./commands/list.js");
        await list(opts, ctx);
      },
    );

  program
    .command("show")
    .description("Show one session: its summary (title, times, cwd, Codex version, git, parent or fork) and its streams")
    .argument("<id>", "session id or a unique prefix of at least 8 characters")
    .option("--store <url>", storeHelp)
    .option("--no-redact", "show the summary with its secrets (redacted by default)")
    .option("--json", "print the session object plus streams [{name, lines, bytes}]")
    .addHelpText("after", "\nExamples:\n  sessionvault show 01a1fd77-5062\n  sessionvault show 01a1fd77-5062-78c3-9c88-31a6914d7240 --json")
    .action(async (id: string, opts: { store?: string; redact?: boolean; json?: boolean }) => {
      const { show } = await import("./commands/show.js");
      await show(id, opts, ctx);
    });

  program
    .command("cat")
    .description("Print the raw bytes of a session's stream (default the rollout), exactly as stored")
    .argument("<id>", "session id or a unique prefix of at least 8 characters")
    .option("--stream <name>", "rollout, debug-log, raw-api, meta-events, or another stream the session has", "rollout")
    .option("--store <url>", storeHelp)
    .option("--json", 'one JSON object per line instead of raw bytes: {"seq", "line"}')
    .addHelpText("after", "\nExamples:\n  sessionvault cat 01a1fd77-5062 > rollout.jsonl\n  sessionvault cat 01a1fd77-5062 --stream debug-log | less")
    .action(async (id: string, opts: { stream?: string; store?: string; json?: boolean }) => {
      const { cat } = await import("./commands/cat.js");
      await cat(id, opts, ctx);
    });

  program
    .command("export")
    .description(
      "Export a session: jsonl (the rollout lines), markdown (a readable transcript), actions.v1 (one JSON action per line, " +
        "the stable format for tools) or otlp (OTLP/JSON traces, one request per turn per line; docs/otel.md). Secrets are redacted unless --no-redact.",
    )
    .argument("<id>", "session id or a unique prefix of at least 8 characters")
    .addOption(new Option("--format <format>", "output format").choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .option("-o, --output <file>", "write to this file (mode 0600) instead of stdout")
    .option("--no-redact", "keep secrets as they are")
    .option("--store <url>", storeHelp)
    .option("--json", 'with -o: print {"id", "format", "output", "bytes"} when done')
    .option("--include-content", "otlp: put message texts, tool inputs and outputs on the spans (redacted)")
    .addHelpText(
      "after",
      "\nExamples:\n  sessionvault export 01a1fd77-5062 --format markdown -o session.md\n  sessionvault export 01a1fd77-5062 --format actions.v1 | jq .action_type\n  sessionvault export 01a1fd77-5062 --format otlp -o trace.jsonl",
    )
    .action(async (id: string, opts: { format?: string; output?: string; redact?: boolean; store?: string; json?: boolean; includeContent?: boolean }) => {
      const { exportSession } = await import("./commands/export.js");
      await exportSession(id, opts, ctx);
    });

  program
    .command("run")
    .description(
      "Run an agent (Codex or Claude Code) with the terminal passed through and exit with its code. With --persist-session, collect everything " +
        "about its session in <codex home>/sessions/<id>/ (Claude Code: <config dir>/projects/<slug>/<id>/sessionvault/): " +
        "rollout.jsonl (Codex: link to the dated rollout), session.log (debug log), " +
        "session_oai_raw.log (every model-API request and response event, credentials redacted) and session_meta.log (approvals, " +
        "denials, interrupts, errors, start/resume/exit). Without it nothing is written.",
    )
    .argument("<command...>", 'the agent command line, after "--" (e.g. -- codex exec "fix the tests")')
    .option("--persist-session", "capture the session (recording proxy + per-session directory)")
    .option("--debug-log <path>", "debug log file; a relative path resolves inside the session directory (default session.log)")
    .option("--log-level <level>", "debug-log level: debug, info, warn or error", "info")
    .option("--store <url>", "write the captured streams to this store instead of the session directory")
    .option("--upstream <url>", "model API base URL to forward to (default: the agent's configured provider base_url)")
    .option("--slot <name>", "record the agent's session in this session-state slot, so `sessionvault resume NAME` continues it after a kill")
    .option("--state-file <path>", "session-state file for --slot (default $SESSIONVAULT_STATE, else <codex home>/sessionvault/state.json)")
    .addHelpText(
      "after",
      '\nExamples:\n  sessionvault run --persist-session -- codex exec "add a test"\n  sessionvault run --persist-session --debug-log /tmp/codex.log -- codex exec resume --last "continue"\n  sessionvault run --persist-session -- codex\n  sessionvault run --persist-session --slot pane-3 -- claude -p "add a test"',
    )
    .action(
      async (
        command: string[],
        opts: { persistSession?: boolean; debugLog?: string; logLevel?: string; store?: string; upstream?: string; slot?: string; stateFile?: string },
      ) => {
        const { run } = await import("./commands/run.js");
        await run({ command, ...opts }, ctx);
      },
    );

  const stateFileHelp = "session-state file (default $SESSIONVAULT_STATE, else <codex home>/sessionvault/state.json)";
  const state = program
    .command("state")
    .description(
      "Named session slots (e.g. pane-2, ci-job-17) that tell a supervisor which session to resume. The state file is written " +
        "atomically under a lock, so kills and concurrent writers never lose or tear it; a corrupt file is reported and moved aside.",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  sessionvault state list --json\n  codex resume $(sessionvault state get pane-2)\n  sessionvault state set pane-2 019a4f1c-…\n  sessionvault state clear pane-2",
    );
  state
    .command("list")
    .description("List every slot with its session, agent, last update and cwd")
    .option("--state-file <path>", stateFileHelp)
    .option("--json", 'print {"slots": [{"slot", "session_id", "agent", "cwd", "updated_at", …}]}')
    .action(async (opts: { stateFile?: string; json?: boolean }) => {
      const { stateList } = await import("./commands/state.js");
      await stateList(opts, ctx);
    });
  state
    .command("get")
    .description("Print the session id held by a slot (exit 4 if the slot is empty)")
    .argument("<slot>", "slot name")
    .option("--state-file <path>", stateFileHelp)
    .option("--json", "print the whole slot record")
    .action(async (slot: string, opts: { stateFile?: string; json?: boolean }) => {
      const { stateGet } = await import("./commands/state.js");
      await stateGet({ slot, ...opts }, ctx);
    });
  state
    .command("set")
    .description(
      "Point a slot at a session (full id, or a unique prefix of a session in the Codex home, or with --agent claude-code in the Claude Code config dir)",
    )
    .argument("<slot>", "slot name")
    .argument("<id>", "session id")
    .option("--agent <name>", "agent that owns the session", "codex")
    .option("--cwd <dir>", "the session's working directory (default: the current one)")
    .option("--state-file <path>", stateFileHelp)
    .option("--json", "print the record written")
    .action(async (slot: string, id: string, opts: { stateFile?: string; json?: boolean; agent?: string; cwd?: string }) => {
      const { stateSet } = await import("./commands/state.js");
      await stateSet({ slot, id, ...opts }, ctx);
    });
  state
    .command("clear")
    .description("Empty a slot (clearing an empty slot is not an error)")
    .argument("<slot>", "slot name")
    .option("--state-file <path>", stateFileHelp)
    .option("--json", 'print {"slot", "cleared"}')
    .action(async (slot: string, opts: { stateFile?: string; json?: boolean }) => {
      const { stateClear } = await import("./commands/state.js");
      await stateClear({ slot, ...opts }, ctx);
    });

  program
    .command("resume")
    .description(
      "Continue the session a slot holds: if its rollout is still in the Codex home, run `codex exec resume <id> …` (extra args " +
        "starting with `exec`) or `codex resume <id> …` (interactive); a Claude Code session whose transcript is in the config dir " +
        "with `claude --resume <id> …`; otherwise start fresh and point the slot at the new session. " +
        "Says on stderr which it did. SLOT_OR_ID may also be a session id or unique prefix (no slot involved).",
    )
    .argument("<slot-or-id>", "slot name, or session id / prefix")
    .argument("[agent-args...]", 'agent arguments after "--": `exec [options] [PROMPT]`, or options/prompt for the interactive TUI')
    .option("--agent-bin <path>", "agent executable (default: codex, or claude for a Claude Code session)")
    .option("--codex-home <dir>", "Codex home to look in (default $CODEX_HOME, else ~/.codex)")
    .option("--state-file <path>", stateFileHelp)
    .option("--persist-session", "capture the session as `sessionvault run --persist-session` does")
    .option("--restore-from <url>", "archive store to restore the session from when its rollout is not in the Codex home (e.g. postgres://…, s3://…)")
    .option(
      "--wait <seconds>",
      "how long to wait for an agent that still has the session open (e.g. one that outlived a killed supervisor) before giving up with exit 5",
      "10",
    )
    .addHelpText(
      "after",
      '\nExamples:\n  sessionvault resume pane-2\n  sessionvault resume ci-job-17 -- exec --json "continue with the failing tests"\n  sessionvault resume pane-3 -- -p "go on"\n  sessionvault resume 019a4f1c\n  sessionvault resume pane-2 --restore-from https://archive.internal',
    )
    .action(
      async (
        target: string,
        agentArgs: string[],
        opts: { agentBin?: string; codexHome?: string; stateFile?: string; persistSession?: boolean; restoreFrom?: string; wait?: string },
      ) => {
        const { resume } = await import("./commands/resume.js");
        await resume({ target, agentArgs, ...opts }, ctx);
      },
    );

  program
    .command("serve")
    .description(
      "Run the archive server (HTTP API + web UI) over a store. Sessions arrive with `sessionvault sync --to http://HOST:PORT`; " +
        "API clients and the web UI need a token from `sessionvault token create`. Ctrl-C stops it after in-flight appends finish.",
    )
    .option("--store <url>", "store URL or directory (default $SESSIONVAULT_STORE, else $SESSIONVAULT_DATA or ./.sessionvault-data)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0 picks a free one)", "7420")
    .option(
      "--import <dir...>",
      "keep importing these agent homes (Codex home, Claude Code config dir, Gemini CLI dir) while serving: new and growing sessions appear within seconds",
    )
    .option("--import-org <org>", "the org imported sessions go to", "default")
    .option("--import-rescan <seconds>", "seconds between full rescans of the imported homes, for changes the watch missed", "60")
    .addHelpText(
      "after",
      "\nSeveral instances over one store (behind a load balancer) share web UI logins when they share\n" +
        "SESSIONVAULT_UI_SECRET (32+ characters; a comma-separated list rotates it: the first signs).\n" +
        "\nExamples:\n  sessionvault serve\n  sessionvault serve --store postgres://archive@db/sessions --host 0.0.0.0 --port 8080\n  sessionvault serve --import ~/.codex ~/.claude",
    )
    .action(async (opts: { store?: string; host?: string; port?: string; import?: string[]; importOrg?: string; importRescan?: string }) => {
      const { serve } = await import("./commands/serve.js");
      await serve(opts, ctx);
    });

  const token = program.command("token").description("Manage API tokens of the archive server");
  const tokenStoreHelp =
    "the server's store (default $SESSIONVAULT_STORE, else $SESSIONVAULT_DATA or ./.sessionvault-data), or the server itself (http(s)://…, with an admin $SESSIONVAULT_TOKEN: its org's tokens only)";
  token
    .command("create")
    .description("Create an API token in the store the server serves; it is printed once and only its sha256 is kept")
    .option("--store <url>", tokenStoreHelp)
    .option("--org <org>", "organisation the token belongs to (it only ever sees this org's sessions); with an http(s) --store, the admin token's org")
    .requiredOption("--scope <scope...>", "read, write and/or admin (admin ⊃ write ⊃ read)")
    .option("--json", 'print {"token", "id", "org", "scopes"}')
    .addHelpText(
      "after",
      "\nExamples:\n  sessionvault token create --org acme --scope write\n  SESSIONVAULT_TOKEN=$(sessionvault token create --org acme --scope read) sessionvault list --store http://127.0.0.1:7420",
    )
    .action(async (opts: { store?: string; org?: string; scope?: string[]; json?: boolean }) => {
      const { tokenCreate } = await import("./commands/token.js");
      await tokenCreate(opts, ctx);
    });
  token
    .command("list")
    .description("List the API tokens the server accepts: id, org, scopes and creation time (the store keeps no secret to show)")
    .option("--store <url>", tokenStoreHelp)
    .option("--org <org>", "only this organisation's tokens")
    .option("--json", 'print {"tokens": [{"id", "org", "scopes", "created_at"}]}')
    .action(async (opts: { store?: string; org?: string; json?: boolean }) => {
      const { tokenList } = await import("./commands/token.js");
      await tokenList(opts, ctx);
    });
  token
    .command("revoke")
    .description("Revoke an API token by its id; servers refuse it within a minute (they cache a checked token that long)")
    .argument("<id>", "the token's id, as `token list` shows it (tok_…)")
    .option("--store <url>", tokenStoreHelp)
    .option("--json", 'print {"revoked": id}')
    .addHelpText("after", "\nExample:\n  sessionvault token list --org acme\n  sessionvault token revoke tok_0123456789abcdef")
    .action(async (id: string, opts: { store?: string; json?: boolean }) => {
      const { tokenRevoke } = await import("./commands/token.js");
      await tokenRevoke(id, opts, ctx);
    });

  program
    .command("sync")
    .description(
      "Send sessions from one store to another (any pair: a Codex home, postgres://, s3://, http(s)://). Only what the target lacks is " +
        "sent, by stream positions; interrupting and rerunning is safe and never duplicates a line. A rerun over an unchanged source sends nothing.",
    )
    .option("--from <url>", "source store URL or directory (default $CODEX_HOME, else ~/.codex; with --watch, every local agent home)")
    .option("--to <url>", "target store URL or directory, or an OpenTelemetry collector otlp+http://HOST:4318 (required)")
    .option("--dry-run", "report what would be sent; write nothing")
    .option("--include-content", "with --to otlp+http://…: put message texts, tool inputs and outputs on the spans (redacted)")
    .option(
      "--watch",
      "after the sync, keep running: new and growing sessions are sent within seconds (file events, and a full rescan for missed ones); " +
        "one line per session sent (--json: one JSON object per line); Ctrl-C or SIGTERM stops after the append in flight",
    )
    .option("--rescan <seconds>", "with --watch: seconds between full rescans (default 60)")
    .option("--agent <agent>", "only this agent's sessions: codex, claude-code or gemini-cli (default into a Claude Code or Gemini CLI home: that agent's)")
    .option(
      "--json",
      'print {"sessions_scanned", "sessions_sent", "lines_sent", "bytes_sent", "conflicts", "errors"} (OTLP: {"sessions_scanned", "sessions_sent", "turns_sent", "spans_sent", "errors"}); ' +
        'with --watch, one object per line, "event": synced, watching, session, error, warning, stopped (docs/sync.md)',
    )
    .addHelpText(
      "after",
      "\nExamples:\n  sessionvault sync --to postgres://archive@db:5432/sessions?schema=sessionvault\n  sessionvault sync --from postgres://archive@db/sessions --to ./restored-codex-home --json\n  SESSIONVAULT_TOKEN=… sessionvault sync --to https://archive.internal --dry-run\n  sessionvault sync --to otlp+http://localhost:4318\n" +
        "  sessionvault sync --watch --to postgres://archive@db/sessions        # every local agent home (Codex, Claude Code, Gemini CLI)\n" +
        "  sessionvault sync --watch --from ~/.claude --to ./archive --json\n" +
        "\nWith --watch, the sync runs once over everything, then sends each session that changes as soon as its agent\n" +
        "has written a burst of lines (usually within a second or two), so sessions are archived before the agent's own\n" +
        "cleanup deletes them. Stopping it at any point and running it again loses and duplicates nothing.",
    )
    .action(
      async (opts: {
        from?: string;
        to?: string;
        dryRun?: boolean;
        json?: boolean;
        includeContent?: boolean;
        watch?: boolean;
        rescan?: string;
        agent?: string;
      }) => {
        const { sync } = await import("./commands/sync.js");
        await sync(opts, ctx);
      },
    );

  program
    .command("mcp")
    .description(
      "Serve the archive to agents over MCP on stdio: search_sessions, get_session, get_actions, get_transcript, get_file_changes " +
        "(redacted, size-bounded). Configure it as an MCP server of Codex, Claude Code or Gemini CLI (docs/mcp.md).",
    )
    .option("--store <url>", "store URL or Codex home directory (default $CODEX_HOME, else ~/.codex)")
    .addHelpText("after", "\nExamples:\n  sessionvault mcp\n  claude mcp add sessionvault -- sessionvault mcp --store postgres://archive@db/sessions")
    .action(async (opts: { store?: string }) => {
      const { mcp } = await import("./commands/mcp.js");
      await mcp(opts, ctx);
    });

  program
    .command("prune")
    .description(
      "Expire sessions with no activity for DURATION (their last rollout line is older), skipping sessions on legal hold. Expired " +
        "sessions are soft-deleted first (hidden, restorable) and purged after --grace, single streams can expire " +
        "sooner (--stream-ttl), and every deletion is written to the store's deletion audit. --dry-run lists what would go.",
    )
    .option("--store <url>", "the store to prune (required): a Codex home, postgres://, s3://bucket/prefix?endpoint=…")
    .option("--older-than <duration>", "expire sessions idle longer than this: 30d, 12h, 2w, 1d12h (required)")
    .option("--dry-run", "list what would be deleted, with counts and bytes; change nothing")
    .option(
      "--grace <duration>",
      "keep expired sessions soft-deleted this long before purging them (default 0: purge now); in a Codex home they wait in .sessionvault/trash/",
    )
    .option("--stream-ttl <name=duration...>", "a stream that expires sooner than its session, e.g. raw-api=7d")
    .option("--actor <name>", "who prunes, for the deletion audit (default cli:$USER)")
    .option("--json", 'print {"expired": [ids], "held": [ids], "bytes_freed", "dry_run", "purged": [ids], "bytes_purged", "streams_expired"}')
    .addHelpText(
      "after",
      "\nExamples:\n  sessionvault prune --store ~/.codex --older-than 90d --dry-run\n  sessionvault prune --store 's3://archive/sessions?region=eu-west-1' --older-than 365d --grace 14d --stream-ttl raw-api=30d --json",
    )
    .action(async (opts: { store?: string; olderThan?: string; dryRun?: boolean; grace?: string; streamTtl?: string[]; actor?: string; json?: boolean }) => {
      const { prune } = await import("./commands/prune.js");
      await prune(opts, ctx);
    });

  return program;
}
