import { close, open, read } from "node:fs";
import { promisify } from "node:util";
import type { BytePrefilter } from "@sessionvault/core/store-api";
import type { RolloutFile } from "./rollout-walk.js";

/** Files tested at once: enough to keep the thread pool's reads going while the main thread tests. */
const IN_FLIGHT = 8;
/** Bytes read per step: a typical rollout in one read, a big one streamed. */
const CHUNK = 256 * 1024;

// The plain fd calls: a FileHandle per file costs more than the read of a small rollout.
const openFd = promisify(open);
const readFd = promisify(read);
const closeFd = promisify(close);

export interface TestedFile<T> {
  file: RolloutFile;
  /** What `onPass` made of a file whose bytes may hold the needle; null for the others (and a file gone since the walk). */
  result: T | null;
  bytes: number;
  /** `known` decided the file (a search index knew it): `result` is final, nothing else is to be tested. */
  decided?: boolean;
}

/**
 * Tests each walked file's bytes with `maybe`, several files in flight,
 * handing them back in walk order. A file is streamed in chunks that
 * overlap by the longest span one match can cover; it is never held whole
 * unless it fits in one chunk, when `onPass` gets those bytes (null
 * otherwise) so a passing file is not read again. A `.zst` rollout cannot
 * be tested as bytes: it always passes.
 */
export async function* testRolloutFiles<T>(
  files: AsyncIterator<RolloutFile>,
  maybe: BytePrefilter,
  onPass: (file: RolloutFile, whole: Buffer | null) => Promise<T | null>,
  /** How a file is decided without reading it (a search index that knows it); null: it is read and tested. */
  known?: (file: RolloutFile) => TestedFile<T> | Promise<TestedFile<T>> | null,
): AsyncGenerator<TestedFile<T>> {
  const queue: (TestedFile<T> | Promise<TestedFile<T>>)[] = [];
  // One read buffer per file in flight, reused: a fresh one per file would be most of the scan's garbage.
  const pool: Buffer[] = [];
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && queue.length < IN_FLIGHT) {
        const n = await files.next();
        if (n.done) exhausted = true;
        else queue.push(known?.(n.value) ?? testFile(n.value, maybe, onPass, pool));
      }
      const next = queue.shift();
      if (!next) return;
      yield await next;
    }
  } finally {
    // Reads still in flight when the consumer stops must not become unhandled rejections.
    for (const p of queue) if (p instanceof Promise) p.catch(() => {});
  }
}

/** `testRolloutFiles` for one file, with its own read buffer. */
export function testRolloutFile<T>(
  file: RolloutFile,
  maybe: BytePrefilter,
  onPass: (file: RolloutFile, whole: Buffer | null) => Promise<T | null>,
): Promise<TestedFile<T>> {
  return testFile(file, maybe, onPass, []);
}

async function testFile<T>(
  file: RolloutFile,
  maybe: BytePrefilter,
  onPass: (file: RolloutFile, whole: Buffer | null) => Promise<T | null>,
  pool: Buffer[],
): Promise<TestedFile<T>> {
  if (file.compressed) return { file, result: await onPass(file, null), bytes: 0 };
  let fd: number;
  try {
    fd = await openFd(file.path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { file, result: null, bytes: 0 };
    throw err;
  }
  let pass = false;
  let whole: Buffer | null = null;
  let bytes = 0;
  const overlap = maybe.span;
  const buf = pool.pop() ?? Buffer.allocUnsafe(CHUNK + overlap);
  try {
    let kept = 0;
    for (;;) {
      const { bytesRead } = await readFd(fd, buf, kept, CHUNK, bytes);
      bytes += bytesRead;
      const end = kept + bytesRead;
      const last = bytesRead < CHUNK;
      if (bytesRead > 0 && maybe.testBytes(buf.subarray(0, end))) {
        pass = true;
        if (last && bytes === bytesRead) whole = Buffer.from(buf.subarray(0, end));
        break;
      }
      if (last) break;
      // The tail of this chunk starts the next one, so a match across the boundary is seen.
      kept = Math.min(overlap, end);
      buf.copy(buf, 0, end - kept, end);
    }
  } finally {
    pool.push(buf);
    await closeFd(fd);
  }
  return { file, result: pass ? await onPass(file, whole) : null, bytes };
}
