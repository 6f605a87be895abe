import { IoError, NotFoundError, UnsupportedError } from "../errors.js";
import { rawStreamsOf, type RawAppendOptions, type RawStreams } from "../raw-streams.js";
import type { SessionDetail, SessionInput, SessionSummary, StreamInfo } from "../session.js";
import type { AppendOptions, AppendResult, DeleteOptions, ListQuery, SessionPage, SessionStore } from "../store.js";

/**
 * A store seen through a few session ids: its listing is those sessions
 * (the ones it has), read one by one, everything else is the store's own.
 * `syncStores` over two such views syncs the sessions a watcher saw change
 * without listing either store whole; it stays the same position-based sync,
 * and copies bytes where the store can (`RawStreams`), as `sync` does.
 */
export class SessionSubset implements SessionStore, RawStreams {
  readonly #store: SessionStore;
  readonly #ids: readonly string[];
  readonly #unreadable: { session_id: string; message: string }[] = [];

  constructor(store: SessionStore, ids: Iterable<string>) {
    this.#store = store;
    this.#ids = [...new Set(ids)];
  }

  /**
   * One page of every session named, newest first; the query's filters and
   * limit are not applied (sync asks for all), but `facts: false` is: the
   * summaries then compare as a listing's would.
   */
  async listSessions(query?: ListQuery): Promise<SessionPage> {
    const sessions: SessionSummary[] = [];
    this.#unreadable.length = 0;
    for (const id of this.#ids) {
      try {
        const { streams: _s, legal_hold: _h, facts, ...summary } = await this.#store.getSession(id);
        sessions.push(query?.facts === false || facts === undefined ? summary : { ...summary, facts });
      } catch (err) {
        // A file the store cannot read is that session's error, as a listing reports it (`unreadableSessions`).
        if (err instanceof IoError) this.#unreadable.push({ session_id: id, message: err.message });
        // Not (or no longer, or not yet: a rollout without its first message) a session of this store.
        else if (!(err instanceof NotFoundError)) throw err;
      }
    }
    sessions.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
    return { sessions, next_cursor: null };
  }

  /** The sessions named that the store could not read (the last listing's). */
  unreadableSessions(): { session_id: string; message: string }[] {
    return [...this.#unreadable];
  }

  getSession(idOrPrefix: string): Promise<SessionDetail> {
    return this.#store.getSession(idOrPrefix);
  }

  putSession(input: SessionInput): Promise<SessionSummary> {
    return this.#store.putSession(input);
  }

  append(sessionId: string, stream: string, expectedSeq: number, lines: readonly string[], options?: AppendOptions): Promise<AppendResult> {
    return this.#store.append(sessionId, stream, expectedSeq, lines, options);
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

  /** States the store's byte copy (or its absence: the methods below then refuse). */
  get capabilities(): { rawStreams: boolean } {
    return { rawStreams: rawStreamsOf(this.#store) !== null };
  }

  readStreamBytes(sessionId: string, stream: string): AsyncIterable<Uint8Array> {
    return rawOf(this.#store).readStreamBytes(sessionId, stream);
  }

  appendBytes(sessionId: string, stream: string, expectedSeq: number, bytes: Uint8Array, options: RawAppendOptions): Promise<AppendResult> {
    return rawOf(this.#store).appendBytes(sessionId, stream, expectedSeq, bytes, options);
  }

  /** The store is the caller's: it closes it. */
  async close(): Promise<void> {}
}

/** The store's byte copy; only called after `capabilities.rawStreams` said it has one. */
export function rawOf(store: SessionStore): RawStreams {
  const raw = rawStreamsOf(store);
  if (!raw) throw new UnsupportedError("this store keeps no raw stream bytes");
  return raw;
}
