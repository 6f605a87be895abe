import { closeSync, constants, fdatasync, fstatSync, ftruncateSync, openSync, read, readSync, statSync, writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { promisify } from "node:util";
import {
  ConflictError,
  InvalidInputError,
  IoError,
  linesToUtf8,
  openFileBytes,
  readLineBatches,
  type AppendResult,
  type RawLine,
} from "@sessionvault/core/store-api";

/**
 * One stream file: committed lines end with "\n"; bytes after the last "\n"
 * are a torn write from a crashed writer and are not part of the stream.
 */
export interface FilePosition {
  /** Committed lines. */
  seq: number;
  /** Bytes up to and including the last "\n". */
  committed: number;
  /** File size when counted (committed + torn tail). */
  size: number;
  /** Offset where the last committed line starts (for its timestamp). */
  lastLineStart: number;
}

const CHUNK = 1024 * 1024;
const NL = 0x0a;

/**
 * Remembers each file's position by size, so an append or a listing does not
 * re-read a file it has already counted: if the file only grew, only the new
 * bytes are counted.
 */
export class PositionCache {
  readonly #entries = new Map<string, FilePosition>();
  readonly #max: number;

  constructor(max = 50_000) {
    this.#max = max;
  }

  get(path: string): FilePosition | undefined {
    return this.#entries.get(path);
  }

  set(path: string, pos: FilePosition): void {
    this.#entries.delete(path);
    this.#entries.set(path, pos);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  delete(path: string): void {
    this.#entries.delete(path);
  }
}

/** Counts committed lines of an open file, continuing from `from` when the file only grew since (`countPositionFd`). */
export function countPosition(fh: FileHandle, size: number, from?: FilePosition): Promise<FilePosition> {
  return countPositionFd(fh.fd, size, from);
}

/**
 * `countPosition` over a descriptor. A stream file's small operations (open,
 * stat, one read, close) cost microseconds; sent through libuv's thread pool
 * each costs a hand-off and a wake-up, more than the call itself (a sync of
 * 10,000 sessions made ~125 futex calls a session, docs/sync.md). So the
 * operations of one stream file are direct calls; only counting more than a
 * mebibyte (a big file not counted before: the event loop must not stall on
 * it) and the fsync of a durable append leave the main thread.
 */
export async function countPositionFd(fd: number, size: number, from?: FilePosition): Promise<FilePosition> {
  const pos: FilePosition = from && from.size <= size ? { ...from } : { seq: 0, committed: 0, size: 0, lastLineStart: 0 };
  if (pos.size === size) return pos;
  const direct = size - pos.committed <= CHUNK;
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size - pos.committed, 1)));
  let offset = pos.committed;
  let lineStart = pos.committed;
  while (offset < size) {
    const length = Math.min(buf.length, size - offset);
    const bytesRead = direct ? readSync(fd, buf, 0, length, offset) : (await readFd(fd, buf, 0, length, offset)).bytesRead;
    if (bytesRead === 0) break;
    let i = buf.indexOf(NL, 0);
    while (i !== -1 && i < bytesRead) {
      pos.seq++;
      pos.lastLineStart = lineStart;
      lineStart = offset + i + 1;
      pos.committed = lineStart;
      i = buf.indexOf(NL, i + 1);
    }
    offset += bytesRead;
  }
  return { ...pos, size };
}

const readFd = promisify(read);

/** `length` bytes at `offset` through the thread pool; a file that became shorter is an error. */
async function readFullyAsync(fd: number, path: string, length: number, offset: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  for (let off = 0; off < length; ) {
    let bytesRead: number;
    try {
      bytesRead = (await readFd(fd, buf, off, length - off, offset + off)).bytesRead;
    } catch (err) {
      throw new IoError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (bytesRead === 0) throw new IoError(`${path} became shorter while it was read`);
    off += bytesRead;
  }
  return buf;
}

/** Position of a whole file held in memory. */
export function positionOf(buf: Buffer): FilePosition {
  const pos: FilePosition = { seq: 0, committed: 0, size: buf.length, lastLineStart: 0 };
  let i = buf.indexOf(NL);
  while (i !== -1) {
    pos.seq++;
    pos.lastLineStart = pos.committed;
    pos.committed = i + 1;
    i = buf.indexOf(NL, i + 1);
  }
  return pos;
}

/**
 * The whole file when it is small (most rollouts are): one open and one read
 * give its position, its head and its last line. Null for a big or
 * compressed file, which is streamed instead. Direct calls (see `countPositionFd`).
 */
export function readSmallFile(path: string, max = 1024 * 1024): Buffer | null {
  if (path.endsWith(".zst")) return null;
  const fd = openStoreFileSync(path, constants.O_RDONLY);
  if (fd === null) return null;
  try {
    const { size } = fstatSync(fd);
    if (size > max) return null;
    return readFully(fd, path, size, 0, false);
  } finally {
    closeSync(fd);
  }
}

/** `length` bytes at `offset` (fewer at the end of the file, unless `exact`, which makes that an error). */
function readFully(fd: number, path: string, length: number, offset: number, exact: boolean): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let off = 0;
  while (off < length) {
    let bytesRead: number;
    try {
      bytesRead = readSync(fd, buf, off, length - off, offset + off);
    } catch (err) {
      throw new IoError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (bytesRead === 0) {
      if (exact) throw new IoError(`${path} became shorter while it was read`);
      break;
    }
    off += bytesRead;
  }
  return buf.subarray(0, off);
}

/**
 * Opens a file of the store, never through a symbolic link (the store reads
 * and writes only inside its own tree) and only if it is a regular file (a
 * folder named like a rollout is not one). Null when it does not exist; an
 * IoError that says what is wrong otherwise.
 */
export async function openStoreFile(path: string, flags: number, mode?: number): Promise<FileHandle | null> {
  let fh: FileHandle;
  try {
    fh = await open(path, flags | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw openError(path, err);
  }
  const st = await fh.stat().catch(async (err: unknown) => {
    await fh.close();
    throw new IoError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  });
  if (!st.isFile()) {
    await fh.close();
    throw new IoError(`${path} is ${st.isDirectory() ? "a folder, not a file" : "not a regular file"}`);
  }
  return fh;
}

/** Why a store file could not be opened (ENOENT aside, which is "no file"). */
function openError(path: string, err: unknown): IoError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ELOOP") return new IoError(`${path} is a symbolic link; sessionvault does not follow links inside the store`, { cause: err });
  if (code === "EISDIR") return new IoError(`${path} is a folder, not a file`, { cause: err });
  return new IoError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
}

/** `openStoreFile` with direct calls (see `countPositionFd`): a descriptor, or null when the file does not exist. */
export function openStoreFileSync(path: string, flags: number, mode?: number): number | null {
  let fd: number;
  try {
    fd = openSync(path, flags | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw openError(path, err);
  }
  let isFile: boolean;
  let isDir = false;
  try {
    const st = fstatSync(fd);
    isFile = st.isFile();
    isDir = st.isDirectory();
  } catch (err) {
    closeSync(fd);
    throw new IoError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!isFile) {
    closeSync(fd);
    throw new IoError(`${path} is ${isDir ? "a folder, not a file" : "not a regular file"}`);
  }
  return fd;
}

/** Refuses a path that is a symbolic link or not a regular file (for readers that open by path). */
export async function assertStoreFile(path: string): Promise<void> {
  const fd = openStoreFileSync(path, constants.O_RDONLY);
  if (fd !== null) closeSync(fd);
}

/** Position of a file by path (a `.zst` file is counted through its decompressed bytes). Direct calls (see `countPositionFd`). */
export async function filePosition(path: string, cache: PositionCache): Promise<FilePosition | null> {
  if (path.endsWith(".zst")) return compressedPosition(path);
  const known = cache.get(path);
  if (known) {
    // A size still equal to the counted one needs no open (one stat instead of open, fstat, close).
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path, { throwIfNoEntry: false });
    } catch (err) {
      throw new IoError(`cannot stat ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (!st) return null;
    if (st.size === known.size) return known;
  }
  const fd = openStoreFileSync(path, constants.O_RDONLY);
  if (fd === null) return null;
  try {
    const pos = await countPositionFd(fd, fstatSync(fd).size, cache.get(path));
    cache.set(path, pos);
    return pos;
  } finally {
    closeSync(fd);
  }
}

async function compressedPosition(path: string): Promise<FilePosition | null> {
  const pos: FilePosition = { seq: 0, committed: 0, size: 0, lastLineStart: 0 };
  try {
    for await (const chunk of openFileBytes(path)) {
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      let i = buf.indexOf(NL);
      while (i !== -1) {
        pos.seq++;
        pos.lastLineStart = pos.committed;
        pos.committed = pos.size + i + 1;
        i = buf.indexOf(NL, i + 1);
      }
      pos.size += buf.length;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new IoError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return pos;
}

/** The first bytes of the last committed line: enough for its `"timestamp"`. */
export async function lastLineHead(path: string, pos: FilePosition, max = 256): Promise<string | null> {
  if (pos.seq === 0 || path.endsWith(".zst")) return null;
  const fh = await open(path, "r").catch(() => null);
  if (!fh) return null;
  try {
    const len = Math.min(max, pos.committed - pos.lastLineStart);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, pos.lastLineStart);
    return buf.toString("utf8");
  } finally {
    await fh.close();
  }
}

export interface AppendFileOptions {
  durable?: boolean;
  /** Create the file (mode 0600) if missing; the rollout is created by putSession instead. */
  create?: boolean;
  lockTimeoutMs?: number;
}

export function validateLines(lines: readonly string[]): void {
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (typeof l !== "string") throw new InvalidInputError(`line ${i} of the batch is not a string`);
    if (l.includes("\n")) throw new InvalidInputError(`line ${i} of the batch contains a newline; a line must not contain "\\n"`);
  }
}

/**
 * Appends `lines` at position `expectedSeq` with one write. The caller holds
 * the session's lock (see FsStore), so the position read here cannot change
 * before the write lands. A torn tail left by a crashed writer is cut off
 * first so the file reads cleanly; a wrong position is a ConflictError and
 * writes nothing; a write that fails part-way (a full disk) is cut back, so a
 * refused append leaves no fragment for the next one to land on.
 */
export async function appendAt(
  path: string,
  expectedSeq: number,
  lines: readonly string[],
  cache: PositionCache,
  options: AppendFileOptions = {},
): Promise<AppendResult> {
  validateLines(lines);
  return appendBytesAt(path, expectedSeq, lines.length === 0 ? Buffer.alloc(0) : linesToUtf8(lines), lines.length, cache, options);
}

/**
 * `appendAt` for bytes already encoded: `buf` is exactly `lines` whole lines
 * (the caller checked it), written with one positioned write at the
 * stream's end, under the same checks.
 */
export async function appendBytesAt(
  path: string,
  expectedSeq: number,
  buf: Buffer,
  lines: number,
  cache: PositionCache,
  options: AppendFileOptions = {},
): Promise<AppendResult> {
  if (!Number.isInteger(expectedSeq) || expectedSeq < 0) throw new InvalidInputError(`expected position must be a non-negative integer, got ${expectedSeq}`);
  // Positioned writes, so no O_APPEND; O_CREAT only for streams that may start empty.
  // Direct calls but for the fsync of a durable append (see `countPositionFd`).
  const fd = openStoreFileSync(path, options.create ? constants.O_RDWR | constants.O_CREAT : constants.O_RDWR, 0o600);
  if (fd === null) throw new IoError(`cannot open ${path} for writing: it is gone`);
  try {
    const size = fstatSync(fd).size;
    const pos = await countPositionFd(fd, size, cache.get(path));
    if (pos.committed < size) {
      ftruncateSync(fd, pos.committed);
      if (options.durable) await datasync(fd);
    }
    const clean: FilePosition = { ...pos, size: pos.committed };
    cache.set(path, clean);
    if (expectedSeq !== pos.seq) {
      throw new ConflictError(`append at position ${expectedSeq} refused: the stream is at ${pos.seq}`, pos.seq);
    }
    if (lines === 0) return { seq: pos.seq };
    await writeAllOrNothing(fd, path, buf, pos.committed, options.durable === true);
    const bytes = buf.length;
    const next: FilePosition = {
      seq: pos.seq + lines,
      committed: pos.committed + bytes,
      size: pos.committed + bytes,
      lastLineStart: pos.committed + buf.lastIndexOf(NL, bytes - 2) + 1,
    };
    cache.set(path, next);
    return { seq: next.seq };
  } catch (err) {
    // Unknown state after a failed write: count again next time.
    if (!(err instanceof ConflictError)) cache.delete(path);
    throw err;
  } finally {
    closeSync(fd);
  }
}

const datasync = promisify(fdatasync);

/**
 * Writes `buf` at `offset`; if any part fails (ENOSPC, EIO), the file is cut
 * back to `offset` before the error is passed on, so no partial line stays.
 */
export async function writeAllOrNothing(fd: number, path: string, buf: Buffer, offset: number, durable: boolean): Promise<void> {
  let written = 0;
  try {
    while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written, offset + written);
    if (durable) await datasync(fd);
  } catch (err) {
    // If even the cut fails, the next append cuts the torn tail before writing.
    try {
      ftruncateSync(fd, offset);
    } catch {}
    throw new IoError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Appends one record line to a JSONL file sessionvault owns (tokens, the
 * deletion audit), under the caller's lock: whatever follows the last "\n"
 * (the torn tail of a writer that crashed or hit a full disk) is cut first,
 * so the record starts on a line boundary and is never glued onto a
 * fragment and lost with it.
 */
export async function appendRecord(path: string, record: unknown, options: { durable?: boolean } = {}): Promise<void> {
  const line = JSON.stringify(record);
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  } catch (err) {
    throw new IoError(`cannot open ${path} for writing: ${(err as Error).message}`, { cause: err });
  }
  try {
    const { size } = await fh.stat();
    const end = await committedEnd(fh, size);
    if (end < size) await fh.truncate(end);
    await writeAllOrNothing(fh.fd, path, Buffer.from(line + "\n", "utf8"), end, options.durable === true);
  } finally {
    await fh.close();
  }
}

/** Offset just after the last "\n" of the first `size` bytes (0 when there is none): read backwards, a block at a time. */
async function committedEnd(fh: FileHandle, size: number): Promise<number> {
  const buf = Buffer.allocUnsafe(4096);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - buf.length);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    const i = buf.subarray(0, bytesRead).lastIndexOf(NL);
    if (i !== -1) return start + i + 1;
    end = start;
  }
  return 0;
}

/**
 * A stream file's committed lines, a chunk at a time; the torn tail (if any)
 * is not yielded. A line that is not UTF-8 comes with replacement characters
 * (and is reported) rather than skipped, so positions stay line numbers.
 */
export function readFileLineBatches(path: string, options: { onWarning?: (message: string) => void; sizeHint?: number } = {}): AsyncGenerator<RawLine[]> {
  const warn = options.onWarning;
  return readLineBatches(openFileBytes(path, { sizeHint: options.sizeHint }), {
    invalidUtf8: "replace",
    onWarning: warn ? (w) => warn(`${path}: ${w.message}`) : undefined,
  });
}

/**
 * A stream file's committed bytes (its torn tail left out), read with one
 * open in chunks of at most `chunk` bytes, each a fresh buffer: a typical
 * rollout is one read. Nothing when the file does not exist.
 */
export async function* readCommittedBytes(path: string, cache: PositionCache, chunk = 4 * 1024 * 1024): AsyncGenerator<Uint8Array> {
  // Direct calls (see `countPositionFd`); a descriptor the consumer leaves open between chunks is closed by `finally`.
  const fd = openStoreFileSync(path, constants.O_RDONLY);
  if (fd === null) return;
  try {
    const pos = await countPositionFd(fd, fstatSync(fd).size, cache.get(path));
    cache.set(path, pos);
    // A file over a mebibyte is read through the thread pool: the event loop must not stall on it.
    const direct = pos.committed <= CHUNK;
    for (let offset = 0; offset < pos.committed; ) {
      const length = Math.min(chunk, pos.committed - offset);
      const buf = direct ? readFully(fd, path, length, offset, true) : await readFullyAsync(fd, path, length, offset);
      offset += buf.length;
      yield buf;
    }
  } finally {
    closeSync(fd);
  }
}
