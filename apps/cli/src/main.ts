import { type Command, CommanderError } from "commander";
// Only the error classes: `--help` and usage errors load no more of core than this.
import { isSessionvaultError } from "@sessionvault/core/errors";
import { EXIT_CODES, EXIT_UNEXPECTED } from "./exit-codes.js";
import { processContext, warningCount, type CliContext } from "./io.js";
import { buildProgram } from "./program.js";
import { terminalSafe } from "./terminal-text.js";

/** Runs the CLI and returns its exit code; errors become exit codes here and only here. */
export async function main(argv: string[], ctx = processContext()): Promise<number> {
  const program = buildProgram(ctx);
  routeOutput(program, ctx);
  try {
    await program.parseAsync(argv, { from: "user" });
    summarizeWarnings(ctx);
    return ctx.exitCode ?? 0;
  } catch (err) {
    summarizeWarnings(ctx);
    if (err instanceof CommanderError) {
      // commander already printed help or the one-line usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (isSessionvaultError(err)) {
      // Messages can quote stored text (a title, a path from a store).
      ctx.stderr.write(`sessionvault: ${terminalSafe(err.message)}\n`);
      return EXIT_CODES[err.code];
    }
    if ((err as NodeJS.ErrnoException | undefined)?.code === "EPIPE") return 0; // the reader went away (`| head`)
    ctx.stderr.write(`sessionvault: unexpected error: ${terminalSafe(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    return EXIT_UNEXPECTED;
  }
}

/**
 * Help goes to the context's stdout; a usage error is one line on its
 * stderr, `sessionvault: …` like every other error (DESIGN.md §10).
 */
function routeOutput(cmd: Command, ctx: CliContext): void {
  cmd.configureOutput({
    writeOut: (s) => ctx.stdout.write(s),
    writeErr: (s) => ctx.stderr.write(s),
    outputError: (s, write) => write(`sessionvault: ${s.trim().replace(/^error: /, "")} (see --help)\n`),
  });
  cmd.showHelpAfterError(false);
  for (const sub of cmd.commands) routeOutput(sub, ctx);
}

function summarizeWarnings(ctx: CliContext): void {
  const n = warningCount(ctx);
  if (n > 0) ctx.stderr.write(`sessionvault: ${n} warning${n === 1 ? "" : "s"}: some input was skipped (see above)\n`);
}
