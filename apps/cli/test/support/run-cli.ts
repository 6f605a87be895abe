import { PassThrough } from "node:stream";
import { main } from "../../src/main.ts";
import type { CliContext } from "../../src/io.ts";

export interface CliResult {
  code: number;
  stdout: Buffer;
  stderr: string;
  out: string;
}

/** Runs the CLI in-process (main + program, as bin.ts does) with captured output. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = {}, cwd = process.cwd()): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (d: Buffer) => out.push(d));
  stderr.on("data", (d: Buffer) => err.push(d));
  const ctx: CliContext = { stdout, stderr, env: { HOME: "/nonexistent-home", ...env }, cwd };
  const code = await main(argv, ctx);
  const buf = Buffer.concat(out);
  return { code, stdout: buf, out: buf.toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}
