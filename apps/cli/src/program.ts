import { Command } from "commander";
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
