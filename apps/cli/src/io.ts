import type { Writable } from "node:stream";

/**
 * What a command may touch of the outside world. Commands are plain
 * functions that take this context, so tests call them directly with
 * captured streams and an explicit environment.
 */
export interface CliContext {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Set by commands that pass a child's exit status through (`run`, `resume`); main returns it. */
  exitCode?: number;
}

export function processContext(): CliContext {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(JSON.stringify(value) + "\n");
}
