import { Command, Option } from "commander";
import { cat } from "./commands/cat.js";
import { EXPORT_FORMATS, exportSession } from "./commands/export.js";
import { list } from "./commands/list.js";
import { show } from "./commands/show.js";
import { run } from "./commands/run.js";
import type { CliContext } from "./io.js";

/**
 * Builds the commander program. Each command lives in commands/<name>.ts as
 * a plain function `(options, ctx) => Promise<void>`; this file only wires
 * flags to those functions.
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command("sessionvault")
    .description("Keep the complete record of AI coding-agent sessions (Codex CLI first).")
    .showHelpAfterError()
    .exitOverride();

  const storeHelp = "store URL or Codex home directory (default $CODEX_HOME, else ~/.codex)";
  program
    .command("list")
    .description("List sessions, newest first, one page at a time. Archived sessions are left out unless --archived or --all.")
    .option("--store <url>", storeHelp)
    .option("--limit <n>", "sessions per page (1-1000, default 50)")
    .option("--cursor <cursor>", "continue after a previous page (its next_cursor)")
    .option("--archived", "only archived sessions")
    .option("--all", "active and archived sessions")
    .option("--cwd <path>", "only sessions started in this directory (exact match)")
    .option("--json", 'print {"sessions": [...], "next_cursor"}')
    .addHelpText("after", "\nExamples:\n  sessionvault list\n  sessionvault list --all --limit 10 --json\n  sessionvault list --cwd . --store ~/.codex")
    .action(async (opts: { store?: string; limit?: string; cursor?: string; archived?: boolean; all?: boolean; cwd?: string; json?: boolean }) => {
      await list(opts, ctx);
    });

  program
    .command("show")
    .description("Show one session: its summary (title, times, cwd, Codex version, git, parent or fork) and its streams")
    .argument("<id>", "session id or a unique prefix of at least 8 characters")
    .option("--store <url>", storeHelp)
    .option("--json", "print the session object plus streams [{name, lines, bytes}]")
    .addHelpText("after", "\nExamples:\n  sessionvault show 01a1fd77-5062\n  sessionvault show 01a1fd77-5062-78c3-9c88-31a6914d7240 --json")
    .action(async (id: string, opts: { store?: string; json?: boolean }) => {
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
      await cat(id, opts, ctx);
    });

  program
    .command("export")
    .description(
      "Export a session: jsonl (the rollout lines), markdown (a readable transcript) or actions.v1 (one JSON action per line, " +
        "the stable format for tools). Secrets are redacted unless --no-redact.",
    )
    .argument("<id>", "session id or a unique prefix of at least 8 characters")
    .addOption(new Option("--format <format>", "output format").choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .option("-o, --output <file>", "write to this file (mode 0600) instead of stdout")
    .option("--no-redact", "keep secrets as they are")
    .option("--store <url>", storeHelp)
    .option("--json", 'with -o: print {"id", "format", "output", "bytes"} when done')
    .addHelpText("after", "\nExamples:\n  sessionvault export 01a1fd77-5062 --format markdown -o session.md\n  sessionvault export 01a1fd77-5062 --format actions.v1 | jq .action_type")
    .action(async (id: string, opts: { format?: string; output?: string; redact?: boolean; store?: string; json?: boolean }) => {
      await exportSession(id, opts, ctx);
    });

  program
    .command("run")
    .description(
      "Run an agent (Codex first) with the terminal passed through and exit with its code. With --persist-session, collect everything " +
        "about its session in <codex home>/sessions/<id>/: rollout.jsonl (link to the dated rollout), session.log (debug log), " +
        "session_oai_raw.log (every model-API request and response event, credentials redacted) and session_meta.log (approvals, " +
        "denials, interrupts, errors, start/resume/exit). Without it nothing is written.",
    )
    .argument("<command...>", 'the agent command line, after "--" (e.g. -- codex exec "fix the tests")')
    .option("--persist-session", "capture the session (recording proxy + per-session directory)")
    .option("--debug-log <path>", "debug log file; a relative path resolves inside the session directory (default session.log)")
    .option("--log-level <level>", "debug-log level: debug, info, warn or error", "info")
    .option("--store <url>", "write the captured streams to this store instead of the session directory")
    .option("--upstream <url>", "model API base URL to forward to (default: the agent's configured provider base_url)")
    .addHelpText("after", "\nExamples:\n  sessionvault run --persist-session -- codex exec \"add a test\"\n  sessionvault run --persist-session --debug-log /tmp/codex.log -- codex exec resume --last \"continue\"\n  sessionvault run --persist-session -- codex")
    .action(async (command: string[], opts: { persistSession?: boolean; debugLog?: string; logLevel?: string; store?: string; upstream?: string }) => {
      await run({ command, ...opts }, ctx);
    });
  return program;
}
