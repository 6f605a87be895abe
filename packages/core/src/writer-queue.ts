import { appendLines } from "./append.js";
import type { PersistenceFilter } from "./codex/persistence-policy.js";
import { isRolloutLine } from "./codex/rollout-line.js";
import { InvalidInputError, SessionvaultError } from "./errors.js";
import type { SessionStore } from "./store.js";

export interface WriterQueueOptions {
  store: Pick<SessionStore, "append" | "readStream">;
  sessionId: string;
  stream: string;
  /** The stream's current position (its committed line count). */
  startSeq: number;
  /**
   * Lines queued before `write` waits. Default 10,000. The batch in flight is
   * not counted, so the caller can keep writing while it commits: memory
   * holds at most twice this many lines.
   */
  maxQueuedLines?: number;
  /**
   * Size of queued lines, in UTF-16 code units (what the strings cost in
   * memory, roughly), before `write` waits. A single bigger line is still
   * accepted on its own. Default 64 Mi.
   */
  maxQueuedBytes?: number;
  /** Every append is made durable (fsync) before it counts as committed. */
  durable?: boolean;
  /** Lines the filter rejects are dropped (not queued, not counted). Lines that are not rollout JSON are always kept. */
  filter?: PersistenceFilter;
  /** Called once when an append finally fails (after retries). Never called twice. */
  onError?: (error: Error) => void;
  /** Attempts after the first failure. Default 4. */
  retries?: number;
  /** First backoff delay; doubles each attempt. Default 25 ms. */
  retryDelayMs?: number;
}

interface Waiter {
  line: string;
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface FlushWaiter {
  target: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

// One shared settled promise: `write` is on the agent's hot path and must not allocate per line.
const ACCEPTED: Promise<void> = Promise.resolve();

/**
 * Marks a promise as handled: a caller that awaits it still sees the
 * rejection, but an agent that fires `write` and forgets it does not crash
 * on an unhandled rejection (the failure reaches it through `onError`).
 */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Errors that a retry cannot fix: the store said no, not "try again". */
const PERMANENT: ReadonlySet<string> = new Set([
  "CONFLICT",
  "INVALID_ID",
  "INVALID_INPUT",
  "NOT_FOUND",
  "LEGAL_HOLD",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "TOO_LARGE",
  "UNSUPPORTED",
]);

/**
 * A bounded, ordered queue in front of one stream of a store.
 *
 * `write` only enqueues, so an agent never waits on the disk or the network
 * unless the queue is full (backpressure). A single background loop drains
 * it: everything queued when an append starts goes out in that one append
 * (group commit), so a slow store gets bigger batches instead of a longer
 * queue. A failed append is retried at the same position through
 * `appendLines`, which recognises a batch that landed although its
 * acknowledgement was lost, so retries never duplicate. If it still fails the
 * queue stops: `flush`/`shutdown`/`write` reject and `onError` is called;
 * the background loop itself never rejects, so the host never sees an
 * unhandled rejection.
 */
export class WriterQueue {
  private readonly store: WriterQueueOptions["store"];
  private readonly sessionId: string;
  private readonly stream: string;
  private readonly maxLines: number;
  private readonly maxBytes: number;
  private readonly durable: boolean;
  private readonly filter: PersistenceFilter | undefined;
  private readonly onError: ((error: Error) => void) | undefined;
  private readonly retries: number;
  private readonly retryDelayMs: number;

  private seq: number;
  /** Lines accepted but not yet handed to an append. */
  private pending: string[] = [];
  private pendingBytes = 0;
  private inFlight = 0;
  private readonly waiters: Waiter[] = [];
  private flushWaiters: FlushWaiter[] = [];
  /** Counts of lines accepted into `pending` and committed, since construction. */
  private accepted = 0;
  private committed = 0;
  private draining = false;
  private failure: Error | null = null;
  private closing = false;
  private shutdownPromise: Promise<void> | null = null;
  private appendCount = 0;

  constructor(options: WriterQueueOptions) {
    this.store = options.store;
    this.sessionId = options.sessionId;
    this.stream = options.stream;
    this.seq = options.startSeq;
    this.maxLines = Math.max(1, options.maxQueuedLines ?? 10_000);
    this.maxBytes = Math.max(1, options.maxQueuedBytes ?? 64 * 1024 * 1024);
    this.durable = options.durable ?? false;
    this.filter = options.filter;
    this.onError = options.onError;
    this.retries = options.retries ?? 4;
    this.retryDelayMs = options.retryDelayMs ?? 25;
  }

  /** The stream's committed position. */
  get committedSeq(): number {
    return this.seq;
  }

  /** Lines held in memory (queued, waiting for room, or in flight). */
  get queuedLines(): number {
    return this.pending.length + this.inFlight + this.waiters.length;
  }

  /** Appends made so far (one per group commit). */
  get appends(): number {
    return this.appendCount;
  }

  /** The final append failure, once the queue has stopped. */
  get error(): Error | null {
    return this.failure;
  }

  /** Lines written but not committed, in order (after a failure: what the store never got). */
  uncommitted(): string[] {
    return [...this.pending, ...this.waiters.map((w) => w.line)];
  }

  /**
   * Enqueues one line (without its "\n"). Resolves as soon as the line is
   * queued; waits while the queue is full. Rejects with InvalidInputError for
   * a line containing "\n", and with the failure once the queue has stopped.
   */
  write(line: string): Promise<void> {
    if (this.failure) return handled(Promise.reject(this.failure));
    if (this.closing) return handled(Promise.reject(new InvalidInputError(`writer queue for ${this.sessionId}/${this.stream} is shut down`)));
    if (line.includes("\n")) return handled(Promise.reject(new InvalidInputError("a line must not contain a newline")));
    if (this.filter && !this.keeps(line)) return ACCEPTED;
    const bytes = line.length;
    if (this.waiters.length === 0 && this.hasRoom(bytes)) {
      this.accept(line, bytes);
      return ACCEPTED;
    }
    return handled(
      new Promise<void>((resolve, reject) => {
        this.waiters.push({ line, bytes, resolve, reject });
      }),
    );
  }

  /**
   * Resolves once every line written before this call is committed. Rejects
   * with the append error if the queue stopped before that.
   */
  flush(): Promise<void> {
    if (this.failure) return handled(Promise.reject(this.failure));
    const target = this.accepted + this.waiters.length;
    if (this.committed >= target) return ACCEPTED;
    return handled(
      new Promise<void>((resolve, reject) => {
        this.flushWaiters.push({ target, resolve, reject });
      }),
    );
  }

  /** Stops accepting lines, commits everything queued, then closes. Idempotent. */
  shutdown(): Promise<void> {
    if (!this.shutdownPromise) {
      // Waiters already queued still go in; only writes after this call are refused.
      this.shutdownPromise = this.flush();
      this.closing = true;
    }
    return this.shutdownPromise;
  }

  private keeps(line: string): boolean {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return true;
    }
    if (!isRolloutLine(value)) return true;
    try {
      return this.filter!(value);
    } catch {
      // A broken filter must not lose data.
      return true;
    }
  }

  private hasRoom(bytes: number): boolean {
    if (this.pending.length === 0) return true;
    return this.pending.length < this.maxLines && this.pendingBytes + bytes <= this.maxBytes;
  }

  private accept(line: string, bytes: number): void {
    this.pending.push(line);
    this.pendingBytes += bytes;
    this.accepted++;
    if (!this.draining) {
      this.draining = true;
      // Start on a microtask so that synchronous bursts of writes share one append.
      queueMicrotask(() => void this.drain());
    }
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.hasRoom(this.waiters[0]!.bytes)) {
      const w = this.waiters.shift()!;
      this.accept(w.line, w.bytes);
      w.resolve();
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        this.pendingBytes = 0;
        this.inFlight = batch.length;
        // Room opened up: waiting writers refill the queue while this batch commits.
        this.admitWaiters();
        try {
          await this.appendWithRetry(batch);
        } catch (err) {
          // Keep the failed batch in front so `uncommitted()` returns every line in order.
          this.pending = [...batch, ...this.pending];
          this.inFlight = 0;
          throw err;
        }
        this.seq += batch.length;
        this.committed += batch.length;
        this.inFlight = 0;
        this.resolveFlushes();
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.draining = false;
    }
  }

  private async appendWithRetry(batch: string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.appendCount++;
        await appendLines(this.store, this.sessionId, this.stream, this.seq, batch, this.durable ? { durable: true } : undefined);
        return;
      } catch (err) {
        const permanent = err instanceof SessionvaultError && PERMANENT.has(err.code);
        if (permanent || attempt >= this.retries) throw err;
        await new Promise((r) => setTimeout(r, this.retryDelayMs * 2 ** attempt));
      }
    }
  }

  private resolveFlushes(): void {
    if (this.flushWaiters.length === 0) return;
    const still: FlushWaiter[] = [];
    for (const f of this.flushWaiters) {
      if (this.committed >= f.target) f.resolve();
      else still.push(f);
    }
    this.flushWaiters = still;
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const f of this.flushWaiters) f.reject(error);
    this.flushWaiters = [];
    // Rejected writers' lines stay in `pending` so `uncommitted()` can still hand them back.
    for (const w of this.waiters.splice(0)) {
      this.pending.push(w.line);
      w.reject(error);
    }
    try {
      this.onError?.(error);
    } catch {
      // The host's error callback throwing must not turn into an unhandled rejection.
    }
  }
}
