import type { RawStreams } from "./raw-streams.js";
import type { SessionInput } from "./session.js";

/** One append of a byte copy: whole lines, the byte and line caps of the sync's batches. */
export interface ByteBatch {
  bytes: Buffer;
  lines: number;
}

/**
 * Copies a stream between two stores that keep it as line bytes (`RawStreams`),
 * from line `fromSeq` on: the source is read once, and each batch of whole
 * lines goes out as one append at the position the target should be at, as
 * the line copy does (so a kill, a lost acknowledgement or another writer is
 * handled by the same position checks). `fromBytes`, when known, is where
 * the target's copy of the first `fromSeq` lines ends: a source whose line
 * `fromSeq` starts elsewhere cannot hold the same lines, and nothing is sent
 * ("mismatch": the caller decides with the line copy). `put` goes with the
 * first append (or alone, when there are no lines to send).
 */
export async function copyStreamBytes(
  from: RawStreams,
  to: RawStreams,
  id: string,
  stream: string,
  fromSeq: number,
  fromBytes: number | null,
  put: SessionInput | null,
  limits: { batchLines: number; batchBytes: number; signal?: AbortSignal },
  onBatch: (lines: number, bytes: number) => void,
): Promise<"copied" | "mismatch"> {
  let pos = fromSeq;
  let pendingPut = put;
  let started = false;
  for await (const item of lineBatches(from.readStreamBytes(id, stream), fromSeq, limits.batchLines, limits.batchBytes)) {
    if ("start" in item) {
      if (fromBytes !== null && item.start !== fromBytes) return "mismatch";
      started = true;
      continue;
    }
    limits.signal?.throwIfAborted();
    const res = await to.appendBytes(id, stream, pos, item.bytes, { lines: item.lines, ...(pendingPut ? { put: pendingPut } : {}) });
    pendingPut = null;
    pos = res.seq;
    onBatch(item.lines, item.bytes.length);
  }
  // Fewer lines than the target holds: not a copy of this source.
  if (!started) return "mismatch";
  if (pendingPut) await to.appendBytes(id, stream, pos, new Uint8Array(0), { lines: 0, put: pendingPut });
  return "copied";
}

/**
 * The stream's bytes after its first `skip` lines, cut into batches of whole
 * lines (at most `maxLines` lines and `maxBytes` bytes, a bigger single line
 * alone). First yields where line `skip` starts, or nothing if the stream
 * has fewer lines. Bytes after the last "\n" are not a line and are dropped.
 */
export async function* lineBatches(
  chunks: AsyncIterable<Uint8Array>,
  skip: number,
  maxLines: number,
  maxBytes: number,
): AsyncGenerator<{ start: number } | ByteBatch> {
  let skipped = 0;
  let offset = 0;
  let started = false;
  // Bytes not yet sent: `lines` complete lines end at `end`; `scan` is where the search for the next "\n" resumes.
  let pending: Buffer = Buffer.alloc(0);
  let lines = 0;
  let end = 0;
  let scan = 0;
  for await (const chunk of chunks) {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (skipped < skip && buf.length > 0) {
      const nl = buf.indexOf(10);
      if (nl === -1) {
        offset += buf.length;
        buf = buf.subarray(buf.length);
        break;
      }
      skipped++;
      offset += nl + 1;
      buf = buf.subarray(nl + 1);
    }
    if (skipped < skip) continue;
    if (!started) {
      started = true;
      yield { start: offset };
    }
    if (buf.length === 0) continue;
    pending = pending.length === 0 ? buf : Buffer.concat([pending, buf]);
    for (let nl = pending.indexOf(10, scan); nl !== -1; nl = pending.indexOf(10, scan)) {
      if (lines > 0 && (lines >= maxLines || nl + 1 > maxBytes)) {
        yield { bytes: pending.subarray(0, end), lines };
        pending = pending.subarray(end);
        nl -= end;
        end = 0;
        lines = 0;
      }
      lines++;
      end = nl + 1;
      scan = end;
    }
    scan = pending.length;
    // A batch is only cut at a "\n": without one yet, the line grows on.
    if (lines > 0 && (lines >= maxLines || end >= maxBytes)) {
      yield { bytes: pending.subarray(0, end), lines };
      pending = pending.subarray(end);
      scan -= end;
      end = 0;
      lines = 0;
    }
  }
  if (!started && skipped === skip) yield { start: offset };
  if (lines > 0) yield { bytes: pending.subarray(0, end), lines };
}
