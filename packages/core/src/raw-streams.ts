import type { SessionInput } from "./session.js";
import type { AppendResult, SessionStore } from "./store.js";

/**
 * Stores that keep a stream as the bytes of its lines, each ended by "\n"
 * (a Codex home): sync between two of them copies bytes instead of decoding
 * and re-encoding every line (docs/sync.md). The driver only moves bytes;
 * which bytes, where a batch ends and what a position means stay in core.
 * Such a store derives a session's facts from its own rollout (facts a
 * writer sends are not kept), so a sync between two of them lists without
 * facts (`ListQuery.facts`).
 */
export interface RawStreams {
  /**
   * A stream's committed bytes exactly as stored (a torn tail left out), a
   * chunk at a time, each in a buffer of its own (a reader may keep it): line
   * N of `readStream` is the N-th "\n"-ended line here.
   */
  readStreamBytes(sessionId: string, stream: string): AsyncIterable<Uint8Array>;
  /**
   * Appends `bytes`, exactly `options.lines` whole lines, at position
   * `expectedSeq`, as atomically as `append` (a ConflictError when the
   * stream is elsewhere). With `put`, the session is first created or updated
   * as `putSession` would, in the same step: one lock, one lookup.
   */
  appendBytes(sessionId: string, stream: string, expectedSeq: number, bytes: Uint8Array, options: RawAppendOptions): Promise<AppendResult>;
}

export interface RawAppendOptions {
  /** How many lines `bytes` holds (its count of "\n"). */
  lines: number;
  put?: SessionInput;
  durable?: boolean;
}

/** The store's `RawStreams`, when it states it (or, a bare driver, has both methods). */
export function rawStreamsOf(store: SessionStore): RawStreams | null {
  const stated = (store as { capabilities?: { rawStreams?: boolean } }).capabilities?.rawStreams;
  const r = store as Partial<RawStreams>;
  if (stated === false) return null;
  if (typeof r.readStreamBytes !== "function" || typeof r.appendBytes !== "function") return null;
  return store as unknown as RawStreams;
}
