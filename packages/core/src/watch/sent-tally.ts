import { rawStreamsOf, type RawAppendOptions, type RawStreams } from "../raw-streams.js";
import type { SessionDetail, SessionInput, SessionSummary, StreamInfo } from "../session.js";
import { STREAMS } from "../session.js";
import type { AppendOptions, AppendResult, DeleteOptions, ListQuery, SessionPage, SessionStore } from "../store.js";
import { rawOf } from "./session-subset.js";

/** What one sync pass sent of one session. */
export interface SessionSent {
  session_id: string;
  /** The pass started the session's rollout in the target. */
  new: boolean;
  /** Its summary was created or updated (a title, the archived flag). */
  summary: boolean;
  lines_sent: number;
  bytes_sent: number;
}

/**
 * A sync target that counts what each session received: `syncStores` reports
 * totals, and works on several sessions at once, so only the target's own
 * calls say which session got what. Counts only appends the target accepted.
 */
export class SentTally implements SessionStore, RawStreams {
  readonly #store: SessionStore;
  #sent = new Map<string, SessionSent>();

  constructor(store: SessionStore) {
    this.#store = store;
  }

  /** The sessions that received something since the last call, in the order they first did. */
  take(): SessionSent[] {
    const out = [...this.#sent.values()];
    this.#sent = new Map();
    return out;
  }

  #entry(id: string): SessionSent {
    let e = this.#sent.get(id);
    if (!e) {
      e = { session_id: id, new: false, summary: false, lines_sent: 0, bytes_sent: 0 };
      this.#sent.set(id, e);
    }
    return e;
  }

  async putSession(input: SessionInput): Promise<SessionSummary> {
    const out = await this.#store.putSession(input);
    this.#entry(out.id).summary = true;
    return out;
  }

  async append(sessionId: string, stream: string, expectedSeq: number, lines: readonly string[], options?: AppendOptions): Promise<AppendResult> {
    const res = await this.#store.append(sessionId, stream, expectedSeq, lines, options);
    const e = this.#entry(sessionId);
    if (stream === STREAMS.rollout && expectedSeq === 0) e.new = true;
    e.lines_sent += lines.length;
    for (const l of lines) e.bytes_sent += Buffer.byteLength(l, "utf8") + 1;
    return res;
  }

  /** States the store's byte copy, so a watched fs → fs sync copies bytes as `sync` does. */
  get capabilities(): { rawStreams: boolean } {
    return { rawStreams: rawStreamsOf(this.#store) !== null };
  }

  readStreamBytes(sessionId: string, stream: string): AsyncIterable<Uint8Array> {
    return rawOf(this.#store).readStreamBytes(sessionId, stream);
  }

  async appendBytes(sessionId: string, stream: string, expectedSeq: number, bytes: Uint8Array, options: RawAppendOptions): Promise<AppendResult> {
    const res = await rawOf(this.#store).appendBytes(sessionId, stream, expectedSeq, bytes, options);
    const e = this.#entry(sessionId);
    if (options.put) e.summary = true;
    if (stream === STREAMS.rollout && expectedSeq === 0) e.new = true;
    e.lines_sent += options.lines;
    e.bytes_sent += bytes.length;
    return res;
  }

  getSession(idOrPrefix: string): Promise<SessionDetail> {
    return this.#store.getSession(idOrPrefix);
  }

  listSessions(query?: ListQuery): Promise<SessionPage> {
    return this.#store.listSessions(query);
  }

  readStream(sessionId: string, stream: string, options?: { fromSeq?: number }): AsyncIterable<string> {
    return this.#store.readStream(sessionId, stream, options);
  }

  streamPositions(sessionId: string): Promise<StreamInfo[]> {
    return this.#store.streamPositions(sessionId);
  }

  deleteSession(sessionId: string, options?: DeleteOptions): Promise<void> {
    return this.#store.deleteSession(sessionId, options);
  }

  setLegalHold(sessionId: string, held: boolean): Promise<void> {
    return this.#store.setLegalHold(sessionId, held);
  }

  /** The store is the caller's: it closes it. */
  async close(): Promise<void> {}
}
