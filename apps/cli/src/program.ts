import { Command } from "commander";
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
  void ctx;
  return program;
}
