import { isUtf8 } from "node:buffer";
import { open } from "node:fs/promises";
import { InvalidInputError } from "./errors.js";

/**
 * A streaming, tolerant line reader for JSONL files (DESIGN.md §4).
 *
 * - Lines are split on "\n" at the byte level, so a 50 MB line costs one
 *   Buffer.concat, not a quadratic string build.
 * - `text` is the line exactly as stored (a "\r" before the "\n" or a BOM is
 *   kept), so joining `text + "\n"` gives back the original bytes. Use
 *   `parseJsonLine` to get the value: it strips the BOM and the "\r".
 * - A last segment without "\n" is a torn write (a crash mid-append), not a
 *   committed line: it is reported through `onWarning` and never yielded.
 * - Lines that are not valid UTF-8, or longer than `maxLineBytes`, are
 *   reported and skipped; the reader never throws on line content (only
 *   corrupt zstd data, which cannot be read past, ends it with an error).
 * - Blank lines are yielded (streams are byte-exact); `readJsonLines` skips them.
 */
export interface RawLine {
  /** 1-based physical line number in the file. */
  lineNo: number;
  text: string;
  /** Byte length of the line without its "\n". */
  byteLength: number;
}

export type LineWarningKind =
  | "invalid-utf8"
  | "too-long"
  | "torn-last-line"
  | "unparsable"
  | "not-a-session-start"
  | "unknown-record"
  /** A tool result whose call the transcript does not hold. */
  | "result-without-call"
  /** A tool call that never got its result before the session moved on. */
  | "call-without-result"
  /** A sub-agent transcript whose parent session is not there. */
  | "sub-agent-without-parent"
  /** A record already read was written again with other content (an in-place rewrite); the newer one wins. */
  | "rewritten";

export interface LineWarning {
  kind: LineWarningKind;
  lineNo: number;
  message: string;
}

export interface ReadLinesOptions {
  /** Lines longer than this are skipped with a warning (default 512 MiB). */
  maxLineBytes?: number;
  /**
   * A line that is not valid UTF-8 is skipped (default), or yielded with
   * U+FFFD in place of the bad bytes ("replace"). Either way it is reported.
   * Readers whose line count must equal the stream's position (a store's
   * `readStream`, which sync resumes from) should use "replace".
   */
  invalidUtf8?: "skip" | "replace";
  onWarning?: (warning: LineWarning) => void;
}

const DEFAULT_MAX_LINE = 512 * 1024 * 1024;
const NL = 0x0a;

export async function* readLines(source: AsyncIterable<Uint8Array>, options: ReadLinesOptions = {}): AsyncGenerator<RawLine> {
  for await (const batch of readLineBatches(source, options)) yield* batch;
}

/**
 * The lines of each chunk of `source` as one array: one async step per chunk
 * instead of one per line, for readers that go through millions of lines.
 * Same rules as `readLines`; a warning may be reported before the earlier
 * lines of its chunk are consumed.
 */
export async function* readLineBatches(source: AsyncIterable<Uint8Array>, options: ReadLinesOptions = {}): AsyncGenerator<RawLine[]> {
  const max = options.maxLineBytes ?? DEFAULT_MAX_LINE;
  const warn = options.onWarning ?? (() => {});
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const lossy = options.invalidUtf8 === "replace" ? new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }) : null;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = false;
  let lineNo = 0;

  const finish = (tail: Buffer): RawLine | undefined => {
    lineNo++;
    const total = pendingBytes + tail.length;
    if (skipping || total > max) {
      skipping = false;
      pending = [];
      pendingBytes = 0;
      warn({ kind: "too-long", lineNo, message: `line ${lineNo} is longer than ${max} bytes; skipped` });
      return undefined;
    }
    const buf = pending.length === 0 ? tail : Buffer.concat([...pending, tail], total);
    pending = [];
    pendingBytes = 0;
    // isUtf8 + toString (both native) validate and decode faster than a fatal TextDecoder; the BOM is kept either way.
    if (isUtf8(buf)) return { lineNo, text: buf.toString("utf8"), byteLength: total };
    try {
      return { lineNo, text: decoder.decode(buf), byteLength: total };
    } catch {
      if (lossy) {
        warn({ kind: "invalid-utf8", lineNo, message: `line ${lineNo} is not valid UTF-8; bad bytes replaced with U+FFFD` });
        return { lineNo, text: lossy.decode(buf), byteLength: total };
      }
      warn({ kind: "invalid-utf8", lineNo, message: `line ${lineNo} is not valid UTF-8; skipped` });
      return undefined;
    }
  };

  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const batch: RawLine[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NL, start);
      if (nl === -1) break;
      const line = finish(buf.subarray(start, nl));
      if (line) batch.push(line);
      start = nl + 1;
    }
    if (start < buf.length) {
      const rest = buf.subarray(start);
      if (!skipping) {
        pendingBytes += rest.length;
        if (pendingBytes > max) {
          skipping = true;
          pending = [];
        } else {
          // Copy: the stream may reuse its chunk buffers.
          pending.push(Buffer.from(rest));
        }
      }
    }
    if (batch.length > 0) yield batch;
  }
  if (pendingBytes > 0 || skipping) {
    warn({ kind: "torn-last-line", lineNo: lineNo + 1, message: `line ${lineNo + 1} has no trailing newline (torn write); not a committed line` });
  }
}

/**
 * Opens a file as a byte stream, decompressing `.zst` transparently. The file
 * is opened on the first read, so a missing file fails there (ENOENT).
 */
export function openFileBytes(path: string, options: { highWaterMark?: number; sizeHint?: number } = {}): AsyncIterable<Uint8Array> {
  const raw = fileChunks(path, options.highWaterMark ?? 1024 * 1024, options.sizeHint);
  return path.endsWith(".zst") ? zstdDecompress(raw, path) : raw;
}

/**
 * A file's bytes to its end, in fresh chunks of at most `max` bytes sized to
 * what is left of the file. Unlike fs.createReadStream, which allocates
 * `highWaterMark` bytes for every read, copies a short read into a second
 * buffer and needs one more read to see the end, a typical rollout
 * (100 KB) costs one read of exactly its size. A file that grows while it
 * is read is read on until a read comes back short. `sizeHint`, a regular
 * file's size as the caller last saw it, spares the fstat.
 */
async function* fileChunks(path: string, max: number, sizeHint?: number): AsyncGenerator<Uint8Array> {
  const fh = await open(path, "r");
  try {
    const st = sizeHint === undefined ? await fh.stat() : null;
    // A pipe or a device reads short at any time: only 0 bytes is its end.
    const regular = st === null || st.isFile();
    let left = st === null ? sizeHint! : regular ? st.size : 0;
    for (;;) {
      // One byte more than stat promised: the short read then says "end"
      // without another read. Past that size (the file grew), 64 KB at a time.
      const want = left > 0 ? Math.min(max, left + 1) : 64 * 1024;
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead > 0) yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
      // A regular file reads short only at its end.
      if (bytesRead === 0 || (regular && bytesRead < want)) return;
      left -= bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Streams zstd-compressed bytes out decompressed (all frames, in order).
 * Errors of the underlying file (ENOENT, EACCES) pass through unchanged;
 * corrupt or truncated compressed data becomes an InvalidInputError naming
 * the file, after every byte that could be decompressed was yielded.
 */
async function* zstdDecompress(source: AsyncIterable<Uint8Array>, name = "zstd stream"): AsyncGenerator<Uint8Array> {
  // Loaded with the first compressed file: every command reads JSONL, few read a .zst (and the
  // CLI's bundle runs from a code cache that a package of node_modules is not part of).
  const { Decompress } = await import("fzstd");
  const out: Uint8Array[] = [];
  const stream = new Decompress((chunk) => {
    out.push(chunk);
  });
  const push = (chunk: Uint8Array, final: boolean): Error | undefined => {
    try {
      stream.push(chunk, final);
      return undefined;
    } catch (err) {
      return new InvalidInputError(`${name}: compressed data is corrupt or truncated (${(err as Error).message})`, { cause: err });
    }
  };
  for await (const chunk of source) {
    const err = push(chunk, false);
    while (out.length) yield out.shift()!;
    if (err) throw err;
  }
  const err = push(new Uint8Array(0), true);
  while (out.length) yield out.shift()!;
  if (err) throw err;
}

/** Reads a JSONL file line by line (see `readLines`). */
export function readFileLines(path: string, options: ReadLinesOptions = {}): AsyncGenerator<RawLine> {
  return readLines(openFileBytes(path), options);
}

export interface JsonLine extends RawLine {
  value: unknown;
}

/**
 * Reads JSONL values: blank lines are skipped, and a line that is not JSON
 * is reported through `onWarning` (kind "unparsable", with its line number)
 * and skipped, so one garbage line never hides the rest of a file.
 */
export async function* readJsonLines(source: AsyncIterable<Uint8Array>, options: ReadLinesOptions = {}): AsyncGenerator<JsonLine> {
  for await (const batch of readLineBatches(source, options)) {
    for (const line of batch) {
      let value: unknown;
      try {
        value = parseJsonLine(line.text);
      } catch (err) {
        options.onWarning?.({ kind: "unparsable", lineNo: line.lineNo, message: `line ${line.lineNo} is not valid JSON (${(err as Error).message}); skipped` });
        continue;
      }
      if (value === undefined) continue;
      yield { lineNo: line.lineNo, text: line.text, byteLength: line.byteLength, value };
    }
  }
}

/**
 * Parses one line's JSON, tolerating a BOM and a trailing "\r". Returns
 * undefined for blank lines; throws SyntaxError for garbage.
 */
export function parseJsonLine(text: string): unknown {
  let t = text;
  if (t.charCodeAt(0) === 0xfeff) t = t.slice(1);
  if (t.endsWith("\r")) t = t.slice(0, -1);
  // Only a line that starts with whitespace can be blank: no copy of a long line just to test that.
  const first = t.charCodeAt(0);
  if (t.length === 0 || ((first === 0x20 || first === 0x09 || first === 0x0d || first === 0x0b || first === 0x0c) && t.trim() === "")) return undefined;
  return JSON.parse(t);
}

/**
 * A line as a JSON object, the way every agent's reader takes its records:
 * null for a blank line or a value that is not an object, and null with an
 * `unparsable` warning for a line that is not JSON.
 */
export function parseJsonObjectLine(text: string, lineNo: number, onWarning: (w: LineWarning) => void): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = parseJsonLine(text);
  } catch {
    onWarning({ kind: "unparsable", lineNo, message: `line ${lineNo} is not valid JSON; skipped` });
    return null;
  }
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
