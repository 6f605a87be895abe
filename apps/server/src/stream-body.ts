import { Readable } from "node:stream";

const CHUNK_BYTES = 64 * 1024;

/**
 * Turns a store's line iterator into a byte stream (each line + "\n"),
 * batching small lines into ~64 KiB chunks. The first line is pulled before
 * the response starts, so a missing session or stream still becomes a
 * proper HTTP error instead of a truncated 200.
 */
export async function linesToBody(lines: AsyncIterable<string>): Promise<Readable> {
  const it = lines[Symbol.asyncIterator]();
  const first = await it.next();
  async function* chunks(): AsyncGenerator<Buffer> {
    let parts: string[] = [];
    let size = 0;
    let r = first;
    try {
      while (!r.done) {
        parts.push(r.value, "\n");
        size += r.value.length + 1;
        if (size >= CHUNK_BYTES) {
          yield Buffer.from(parts.join(""), "utf8");
          parts = [];
          size = 0;
        }
        r = await it.next();
      }
      if (parts.length) yield Buffer.from(parts.join(""), "utf8");
    } finally {
      if (!r.done) await it.return?.();
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/**
 * Splits an append body into lines. Every line must end with "\n" (a body
 * without its final newline was cut off in transit) and be valid UTF-8.
 */
export function splitBody(body: Buffer): string[] | string {
  if (body.length === 0) return "the body holds no lines";
  if (body[body.length - 1] !== 0x0a) return 'the body must end with a newline: every line is "\\n"-terminated';
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return "the body is not valid UTF-8";
  }
  const lines = text.split("\n");
  lines.pop();
  return lines;
}
