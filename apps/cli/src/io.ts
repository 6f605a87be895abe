import type { Writable } from "node:stream";
import { terminalSafe } from "./terminal-text.js";

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

const warnings = new WeakMap<CliContext, number>();

/** A skipped input (garbage line, unreadable file): one line on stderr, counted for the closing summary. */
export function warn(ctx: CliContext, message: string): void {
  ctx.stderr.write(`sessionvault: warning: ${terminalSafe(message)}\n`);
  warnings.set(ctx, (warnings.get(ctx) ?? 0) + 1);
}

export function warningCount(ctx: CliContext): number {
  return warnings.get(ctx) ?? 0;
}

/**
 * Writes chunks to `out` in the order given, waiting whenever the stream's
 * buffer is full, so exporting a huge session never holds it in memory.
 */
export async function writeAll(out: Writable, chunks: AsyncIterable<string | Uint8Array>): Promise<void> {
  for await (const chunk of chunks) {
    if (!out.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          out.off("drain", onDrain);
          out.off("error", done);
          out.off("close", onDrain);
          if (err) reject(err);
          else resolve();
        };
        const onDrain = () => done();
        out.once("drain", onDrain);
        out.once("close", onDrain);
        out.once("error", done);
      });
    }
  }
}

/** Groups lines into chunks of about 64 KiB, each line followed by "\n". */
export async function* linesAsChunks(lines: AsyncIterable<string>, chunkChars = 64 * 1024): AsyncGenerator<string> {
  let buf = "";
  for await (const line of lines) {
    buf += line + "\n";
    if (buf.length >= chunkChars) {
      yield buf;
      buf = "";
    }
  }
  if (buf) yield buf;
}
