import { CommanderError } from "commander";
import { isSessionvaultError } from "@sessionvault/core";
import { EXIT_CODES, EXIT_UNEXPECTED } from "./exit-codes.js";
import { processContext } from "./io.js";
import { buildProgram } from "./program.js";

/** Runs the CLI and returns its exit code; errors become exit codes here and only here. */
export async function main(argv: string[], ctx = processContext()): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: "user" });
    return ctx.exitCode ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed help or the usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (isSessionvaultError(err)) {
      ctx.stderr.write(`sessionvault: ${err.message}\n`);
      return EXIT_CODES[err.code];
    }
    ctx.stderr.write(`sessionvault: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_UNEXPECTED;
  }
}

