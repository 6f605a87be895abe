import type { AgentName } from "../agents/agent-name.js";
import { NotACodexHomeError, NotFoundError } from "../errors.js";
import { emptySummary } from "../session.js";
import type { SessionStore } from "../store.js";
import { WriterQueue } from "../writer-queue.js";
import type { StreamSink } from "./stream-sink.js";

/**
 * Writes a session's side streams into any SessionStore (S3, Postgres, the
 * archive server, …) through one WriterQueue per stream: ordered, batched,
 * retried at the same position without duplicates. Appends continue from
 * each stream's current position, so a resumed session's streams grow.
 */
export class StoreSink implements StreamSink {
  readonly #store: SessionStore;
  readonly #sessionId: string;
  readonly #durable: boolean;
  /** Whose session it is: a session created here is read with that agent's reader once its transcript arrives. */
  readonly #agent: AgentName;
  readonly #queues = new Map<string, Promise<WriterQueue>>();
  #positions: Promise<Map<string, number>> | undefined;

  constructor(store: SessionStore, sessionId: string, options: { durable?: boolean; agent?: AgentName } = {}) {
    this.#store = store;
    this.#sessionId = sessionId;
    this.#durable = options.durable ?? false;
    this.#agent = options.agent ?? "codex";
  }

  async append(stream: string, lines: readonly string[]): Promise<void> {
    const q = await this.#queue(stream);
    for (const line of lines) await q.write(line);
    await q.flush();
  }

  async close(): Promise<void> {
    const queues = await Promise.all(this.#queues.values());
    await Promise.all(queues.map((q) => q.shutdown()));
  }

  /** A store keeps no partial garbage of ours beyond whole committed lines; nothing to undo. */
  async discard(): Promise<void> {
    const queues = await Promise.allSettled(this.#queues.values());
    await Promise.allSettled(queues.map((q) => (q.status === "fulfilled" ? q.value.shutdown() : undefined)));
  }

  #queue(stream: string): Promise<WriterQueue> {
    let q = this.#queues.get(stream);
    if (!q) {
      q = (async () => {
        const positions = await this.#streamPositions();
        return new WriterQueue({ store: this.#store, sessionId: this.#sessionId, stream, startSeq: positions.get(stream) ?? 0, durable: this.#durable });
      })();
      this.#queues.set(stream, q);
    }
    return q;
  }

  #streamPositions(): Promise<Map<string, number>> {
    this.#positions ??= (async () => {
      try {
        await this.#store.getSession(this.#sessionId);
      } catch (err) {
        // A fresh store directory is not a Codex home yet; creating the session makes it one.
        if (!(err instanceof NotFoundError) && !(err instanceof NotACodexHomeError)) throw err;
        // The rollout has not reached this store yet; the session's summary arrives with it (sync).
        const { lines: _l, bytes: _b, ...input } = emptySummary(this.#sessionId, new Date().toISOString());
        await this.#store.putSession({ ...input, agent: this.#agent });
      }
      const infos = await this.#store.streamPositions(this.#sessionId);
      return new Map(infos.map((s) => [s.name, s.lines]));
    })();
    return this.#positions;
  }
}
