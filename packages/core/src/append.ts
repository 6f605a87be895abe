import { ConflictError } from "./errors.js";
import type { AppendOptions, AppendResult, SessionStore } from "./store.js";

/**
 * Appends with idempotent retries: if the store reports a conflict because
 * the stream is already past `expectedSeq`, and the lines stored from
 * `expectedSeq` on are exactly `lines`, this batch already landed (an earlier
 * attempt whose acknowledgement was lost) and counts as success. Anything
 * else is a real conflict and is rethrown.
 */
export async function appendLines(
  store: Pick<SessionStore, "append" | "readStream">,
  sessionId: string,
  stream: string,
  expectedSeq: number,
  lines: readonly string[],
  options?: AppendOptions,
): Promise<AppendResult> {
  try {
    return await store.append(sessionId, stream, expectedSeq, lines, options);
  } catch (err) {
    if (!(err instanceof ConflictError) || err.currentSeq < expectedSeq + lines.length) throw err;
    let i = 0;
    for await (const stored of store.readStream(sessionId, stream, { fromSeq: expectedSeq })) {
      if (i >= lines.length) break;
      if (stored !== lines[i]) throw err;
      i++;
    }
    if (i !== lines.length) throw err;
    return { seq: expectedSeq + lines.length };
  }
}
