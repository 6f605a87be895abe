import { redactSecrets } from "../redact.js";
import { STREAMS } from "../session.js";
import type { RawApiRecord } from "./raw-api-record.js";
import type { StreamSink } from "./stream-sink.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(value: string): value is LogLevel {
  return value in LEVELS;
}

/**
 * A line of the `meta-events` stream (`session_meta.log`). Known types:
 * `started`, `resumed`, `exited` (code / signal), `interrupted`, `signal`,
 * `approval_request`, `approval_decision`, `denied`, `cancelled`, `error`.
 */
export interface MetaEvent {
  type: string;
  [key: string]: unknown;
}

export interface SessionRecorderOptions {
  /** Where lines go. Without one, lines are held in memory until `attach()`. */
  sink?: StreamSink;
  /** Debug-log lines below this level are dropped. Default "info". */
  level?: LogLevel;
  /** Lines held before a sink is attached; the oldest go beyond this. Default 10 000. */
  maxPendingLines?: number;
  /** Called once when the sink fails; the recorder then stops writing (the agent must keep running). */
  onError?: (err: unknown) => void;
  now?: () => Date;
}

/**
 * Records one session's side streams (DESIGN.md §3): the debug log, the raw
 * model-API exchanges and the meta events. The methods never block and
 * never throw: lines are queued and appended in order, one batch per stream
 * at a time. Everything is redacted before it is queued.
 */
export class SessionRecorder {
  readonly #level: number;
  readonly #maxPending: number;
  readonly #onError: (err: unknown) => void;
  readonly #now: () => Date;
  #sink: StreamSink | undefined;
  readonly #queues = new Map<string, string[]>();
  readonly #inFlight = new Map<string, Promise<void>>();
  #pendingCount = 0;
  #dropped = 0;
  #failed: unknown;
  #closed = false;

  constructor(options: SessionRecorderOptions = {}) {
    this.#level = LEVELS[options.level ?? "info"];
    this.#maxPending = options.maxPendingLines ?? 10_000;
    this.#onError = options.onError ?? (() => {});
    this.#now = options.now ?? (() => new Date());
    this.#sink = options.sink;
  }

  get attached(): boolean {
    return this.#sink !== undefined;
  }

  /** The first sink failure, if any (the recorder stopped writing then). */
  get failure(): unknown {
    return this.#failed;
  }

  /** Starts writing to `sink`, beginning with the lines held so far. */
  attach(sink: StreamSink): void {
    if (this.#sink) throw new Error("SessionRecorder already has a sink");
    this.#sink = sink;
    this.#pendingCount = 0;
    if (this.#dropped > 0) this.log("warn", `${this.#dropped} lines from before the session was known did not fit in memory and were dropped`);
    for (const stream of this.#queues.keys()) this.#kick(stream);
  }

  /** A debug-log line: `<ISO time> <LEVEL> <source>: <message>`; a multi-line message gives one line each. */
  log(level: LogLevel, message: string, source = "sessionvault"): void {
    if (LEVELS[level] < this.#level) return;
    const ts = this.#now().toISOString();
    const lvl = level.toUpperCase().padStart(5);
    const lines = redactSecrets(message)
      .split(/\r?\n/)
      .map((l) => `${ts} ${lvl} ${source}: ${l}`);
    this.#enqueue(STREAMS.debugLog, lines);
  }

  rawApi(record: RawApiRecord): void {
    this.#enqueue(STREAMS.rawApi, [JSON.stringify(record)]);
  }

  meta(event: MetaEvent): void {
    const { type, ...rest } = event;
    this.#enqueue(STREAMS.metaEvents, [JSON.stringify({ ts: this.#now().toISOString(), type, ...rest })]);
  }

  /** Resolves when everything queued so far has been appended (or the sink failed). */
  async flush(): Promise<void> {
    for (;;) {
      const pending = [...this.#inFlight.values()];
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  /** Flushes and closes the sink (fsync). Lines still held without a sink are dropped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    if (this.#sink && !this.#failed) {
      try {
        await this.#sink.close();
      } catch (err) {
        this.#fail(err);
      }
    }
  }

  #enqueue(stream: string, lines: string[]): void {
    if (this.#closed || this.#failed) return;
    let q = this.#queues.get(stream);
    if (!q) this.#queues.set(stream, (q = []));
    q.push(...lines);
    if (!this.#sink) {
      this.#pendingCount += lines.length;
      while (this.#pendingCount > this.#maxPending && q.length > 0) {
        q.shift();
        this.#pendingCount--;
        this.#dropped++;
      }
      return;
    }
    this.#kick(stream);
  }

  #kick(stream: string): void {
    if (this.#inFlight.has(stream)) return;
    const run = async () => {
      const sink = this.#sink!;
      for (;;) {
        const q = this.#queues.get(stream);
        if (!q || q.length === 0 || this.#failed) break;
        const batch = q.splice(0, q.length);
        try {
          await sink.append(stream, batch);
        } catch (err) {
          this.#fail(err);
          break;
        }
      }
      this.#inFlight.delete(stream);
    };
    this.#inFlight.set(stream, run());
  }

  #fail(err: unknown): void {
    if (this.#failed) return;
    this.#failed = err;
    this.#queues.clear();
    this.#onError(err);
  }
}
