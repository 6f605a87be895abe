import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ConflictError,
  InvalidInputError,
  IoError,
  StoreUnavailableError,
  WriterQueue,
  codexPersistencePolicy,
  type AppendOptions,
  type SessionStore,
} from "@sessionvault/core";
import { conformanceId, sessionHeadLines } from "@sessionvault/core/conformance";
import { MemoryStore } from "./support/memory-store.js";

type Appender = Pick<SessionStore, "append" | "readStream">;

async function newSession(): Promise<{ store: MemoryStore; id: string }> {
  const store = new MemoryStore();
  const id = conformanceId();
  await store.putSession({
    id,
    created_at: "2026-03-01T10:00:00.000Z",
    cwd: "/w",
    title: "t",
    archived: false,
    source: "exec",
    originator: "codex_exec",
    cli_version: "0.98.0",
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
  });
  return { store, id };
}

async function read(store: Appender, id: string, stream = "debug-log"): Promise<string[]> {
  const out: string[] = [];
  for await (const l of store.readStream(id, stream)) out.push(l);
  return out;
}

/** Wraps a store's append with a hook that runs around the real call. */
function wrap(store: MemoryStore, around: (call: () => Promise<{ seq: number }>, n: number) => Promise<{ seq: number }>): Appender & { calls: number } {
  const wrapper = {
    calls: 0,
    append: (id: string, stream: string, seq: number, lines: readonly string[], options?: AppendOptions) => {
      wrapper.calls++;
      return around(() => store.append(id, stream, seq, lines, options), wrapper.calls);
    },
    readStream: (id: string, stream: string, options?: { fromSeq?: number }) => store.readStream(id, stream, options),
  };
  return wrapper;
}

/** A gate that holds appends until opened. */
/** Waits until `cond` holds (the test's timeout bounds it). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

const ticks = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};
const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i} ✓ "quoted" \\ back`);

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on("unhandledRejection", onUnhandled);
});
afterEach(() => {
  process.off("unhandledRejection", onUnhandled);
});

describe("WriterQueue", () => {
  it("keeps order and sends a synchronous burst as one append (group commit)", async () => {
    const { store, id } = await newSession();
    const q = new WriterQueue({ store, sessionId: id, stream: "debug-log", startSeq: 0 });
    const want = lines(1000);
    const writes = want.map((l) => q.write(l));
    await Promise.all(writes);
    await q.flush();
    expect(await read(store, id)).toEqual(want);
    expect(store.appendCalls).toEqual([{ stream: "debug-log", expectedSeq: 0, lines: 1000, durable: false }]);
    expect(q.committedSeq).toBe(1000);
    expect(q.appends).toBe(1);
  });

  it("batches what queues up while an append is in flight on a slow store", async () => {
    const { store, id } = await newSession();
    const slow = wrap(store, async (call) => {
      await new Promise((r) => setTimeout(r, 15));
      return call();
    });
    const q = new WriterQueue({ store: slow, sessionId: id, stream: "debug-log", startSeq: 0 });
    const want = lines(400);
    for (const [i, l] of want.entries()) {
      await q.write(l);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await q.flush();
    expect(await read(store, id)).toEqual(want);
    // Every append after the first carries everything that queued during the previous one.
    expect(store.appendCalls.length).toBeLessThan(40);
    expect(store.appendCalls.length).toBeGreaterThan(1);
    let seq = 0;
    for (const c of store.appendCalls) {
      expect(c.expectedSeq).toBe(seq);
      seq += c.lines;
    }
    expect(seq).toBe(400);
  });

  it("applies backpressure: when full, write waits and memory stays bounded", async () => {
    const { store, id } = await newSession();
    const g = gate();
    const held = wrap(store, async (call) => {
      await g.opened;
      return call();
    });
    const q = new WriterQueue({ store: held, sessionId: id, stream: "debug-log", startSeq: 0, maxQueuedLines: 100 });
    const want = lines(1000);
    let resolved = 0;
    const producer = (async () => {
      for (const l of want) {
        await q.write(l);
        resolved++;
      }
    })();
    await ticks(50);
    // One line in flight (held by the store) plus a full queue of 100; the next writer waits.
    expect(resolved).toBe(101);
    expect(q.queuedLines).toBe(102);
    g.open();
    await producer;
    await q.flush();
    expect(resolved).toBe(1000);
    expect(await read(store, id)).toEqual(want);
    expect(Math.max(...store.appendCalls.map((c) => c.lines))).toBeLessThanOrEqual(100);
  });

  it("bounds memory by bytes too, yet accepts a single line larger than the bound", async () => {
    const { store, id } = await newSession();
    const g = gate();
    const held = wrap(store, async (call) => {
      await g.opened;
      return call();
    });
    const q = new WriterQueue({ store: held, sessionId: id, stream: "debug-log", startSeq: 0, maxQueuedBytes: 1000 });
    const big = "x".repeat(5000);
    await q.write(big);
    let resolved = 0;
    const small = Array.from({ length: 30 }, (_, i) => `${i}`.padStart(100, "."));
    const producer = (async () => {
      for (const l of small) {
        await q.write(l);
        resolved++;
      }
    })();
    await ticks(50);
    // The big line is in flight; ten 100-byte lines fill the 1000-byte queue.
    expect(resolved).toBe(10);
    g.open();
    await producer;
    await q.flush();
    expect(await read(store, id)).toEqual([big, ...small]);
    expect(Math.max(...store.appendCalls.slice(1).map((c) => c.lines))).toBeLessThanOrEqual(10);
  });

  it("flush resolves only once everything written before it is committed", async () => {
    const { store, id } = await newSession();
    const g = gate();
    const held = wrap(store, async (call) => {
      await g.opened;
      return call();
    });
    const q = new WriterQueue({ store: held, sessionId: id, stream: "debug-log", startSeq: 0 });
    await q.flush(); // nothing queued: resolves at once
    void q.write("a");
    void q.write("b");
    let flushed = false;
    const f = q.flush().then(() => {
      flushed = true;
    });
    await ticks();
    expect(flushed).toBe(false);
    expect(await read(store, id)).toEqual([]);
    g.open();
    await f;
    expect(await read(store, id)).toEqual(["a", "b"]);
  });

  it("retries after a lost acknowledgement without duplicating lines", async () => {
    const { store, id } = await newSession();
    // Every third append commits, then reports a failure: the writer cannot know it landed.
    const lossy = wrap(store, async (call, n) => {
      const res = await call();
      if (n % 3 === 0) throw new IoError("connection reset after commit");
      return res;
    });
    const q = new WriterQueue({ store: lossy, sessionId: id, stream: "debug-log", startSeq: 0, retryDelayMs: 1 });
    const want = lines(300);
    for (const [i, l] of want.entries()) {
      await q.write(l);
      if (i % 10 === 0) await q.flush();
    }
    await q.flush();
    expect(await read(store, id)).toEqual(want);
    // Lost acknowledgements really happened and were retried at the same position.
    expect(lossy.calls).toBeGreaterThanOrEqual(3);
    const positions = store.appendCalls.map((c) => c.expectedSeq);
    expect(new Set(positions).size).toBeLessThan(positions.length);
    expect(q.committedSeq).toBe(300);
    expect(q.error).toBeNull();
  });

  it("retries transient failures that did not commit", async () => {
    const { store, id } = await newSession();
    const flaky = wrap(store, async (call, n) => {
      if (n <= 2) throw new StoreUnavailableError("try later");
      return call();
    });
    const q = new WriterQueue({ store: flaky, sessionId: id, stream: "debug-log", startSeq: 0, retryDelayMs: 1 });
    await q.write("one");
    await q.write("two");
    await q.flush();
    expect(await read(store, id)).toEqual(["one", "two"]);
    expect(flaky.calls).toBeGreaterThanOrEqual(3);
  });

  it("a final failure surfaces through flush, shutdown, write and onError — never as an unhandled rejection", async () => {
    const { store, id } = await newSession();
    const broken = wrap(store, async () => {
      throw new IoError("disk full");
    });
    const errors: Error[] = [];
    const q = new WriterQueue({ store: broken, sessionId: id, stream: "debug-log", startSeq: 0, retries: 2, retryDelayMs: 1, onError: (e) => errors.push(e) });
    await q.write("a");
    await q.write("b");
    const err = await q.flush().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IoError);
    expect(broken.calls).toBe(3);
    expect(errors).toEqual([err]);
    expect(q.error).toBe(err);
    await expect(q.write("c")).rejects.toBe(err);
    await expect(q.flush()).rejects.toBe(err);
    await expect(q.shutdown()).rejects.toBe(err);
    expect(q.uncommitted()).toEqual(["a", "b"]);
    expect(await read(store, id)).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
  });

  it("a failure with nobody flushing is reported through onError only, and a throwing onError does not crash the host", async () => {
    const { store, id } = await newSession();
    const broken = wrap(store, async () => {
      throw new IoError("gone");
    });
    let called = 0;
    const q = new WriterQueue({
      store: broken,
      sessionId: id,
      stream: "debug-log",
      startSeq: 0,
      retries: 1,
      retryDelayMs: 1,
      onError: () => {
        called++;
        throw new Error("callback bug");
      },
    });
    await q.write("x");
    await until(() => called > 0);
    // A turn more for a second (wrong) report or an unhandled rejection to show up.
    await new Promise((r) => setTimeout(r, 50));
    expect(called).toBe(1);
    expect(unhandled).toEqual([]);
    expect(q.error).toBeInstanceOf(IoError);
  });

  it("an agent that fires writes and never awaits them does not crash when the store fails", async () => {
    const { store, id } = await newSession();
    const g = gate();
    const broken = wrap(store, async () => {
      await g.opened;
      throw new IoError("disk full");
    });
    const errors: Error[] = [];
    const q = new WriterQueue({
      store: broken,
      sessionId: id,
      stream: "debug-log",
      startSeq: 0,
      maxQueuedLines: 5,
      retries: 1,
      retryDelayMs: 1,
      onError: (e) => errors.push(e),
    });
    // Fire and forget: some lines queue, some wait for room, one is malformed.
    for (const l of lines(20)) void q.write(l);
    void q.write("bad\nline");
    void q.flush();
    g.open();
    await until(() => q.error !== null);
    for (const l of lines(3, "after")) void q.write(l);
    void q.flush();
    const shutdown = q.shutdown();
    await shutdown.catch(() => {});
    // A turn more for an unhandled rejection of the writes nobody awaited to show up.
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(q.uncommitted()).toEqual(lines(20));
  });

  it("does not retry a real conflict (another writer owns the position)", async () => {
    const { store, id } = await newSession();
    await store.append(id, "debug-log", 0, ["someone else"]);
    const q = new WriterQueue({ store, sessionId: id, stream: "debug-log", startSeq: 0, retryDelayMs: 1 });
    await q.write("mine");
    const err = await q.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(store.appendCalls.filter((c) => c.expectedSeq === 0)).toHaveLength(2);
    expect(await read(store, id)).toEqual(["someone else"]);
  });

  it("two queues on one stream: the second writer gets a ConflictError, never interleaved or duplicated lines", async () => {
    const { store, id } = await newSession();
    const a = new WriterQueue({ store, sessionId: id, stream: "debug-log", startSeq: 0, retryDelayMs: 1 });
    const b = new WriterQueue({ store, sessionId: id, stream: "debug-log", startSeq: 0, retryDelayMs: 1 });
    for (const l of lines(50, "A")) void a.write(l);
    for (const l of lines(50, "B")) void b.write(l);
    const [ra, rb] = await Promise.allSettled([a.flush(), b.flush()]);
    expect(ra.status).toBe("fulfilled");
    expect(rb.status).toBe("rejected");
    expect((rb as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    expect(await read(store, id)).toEqual(lines(50, "A"));
    expect(b.uncommitted()).toEqual(lines(50, "B"));
  });

  it("writers waiting for room are rejected, in order, when the queue fails; their lines stay recoverable", async () => {
    const { store, id } = await newSession();
    const g = gate();
    const failing = wrap(store, async () => {
      await g.opened;
      throw new IoError("nope");
    });
    const q = new WriterQueue({ store: failing, sessionId: id, stream: "debug-log", startSeq: 0, maxQueuedLines: 2, retries: 0 });
    await q.write("1"); // in flight, held by the gate
    await q.write("2");
    await q.write("3"); // the queue (2 lines) is full now
    const w4 = q.write("4");
    const w5 = q.write("5");
    const r3 = w4.catch((e: unknown) => e);
    const r4 = w5.catch((e: unknown) => e);
    await ticks();
    expect(q.queuedLines).toBe(5);
    g.open();
    expect(await r3).toBeInstanceOf(IoError);
    expect(await r4).toBeInstanceOf(IoError);
    expect(q.uncommitted()).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("passes durable to every append in durable mode", async () => {
    const { store, id } = await newSession();
    const q = new WriterQueue({ store, sessionId: id, stream: "debug-log", startSeq: 0, durable: true });
    await q.write("a");
    await q.flush();
    await q.write("b");
    await q.flush();
    expect(store.appendCalls.map((c) => c.durable)).toEqual([true, true]);
    const plain = new WriterQueue({ store, sessionId: id, stream: "debug-log", startSeq: 2 });
    await plain.write("c");
    await plain.flush();
    expect(store.appendCalls.map((c) => c.durable)).toEqual([true, true, false]);
  });

  it("rejects a line with a newline at write and keeps going", async () => {
    const { store, id } = await newSession();
    const q = new WriterQueue({ store, sessionId: id, stream: "debug-log", startSeq: 0 });
    await q.write("before");
    await expect(q.write("two\nlines")).rejects.toBeInstanceOf(InvalidInputError);
    await q.write("after");
    await q.flush();
    expect(await read(store, id)).toEqual(["before", "after"]);
  });

  it("drops lines the filter rejects without counting them; keeps unknown and non-JSON lines", async () => {
    const { store, id } = await newSession();
    const head = sessionHeadLines({
      id,
      created_at: "2026-03-01T10:00:00.000Z",
      cwd: "/w",
      title: "t",
      archived: false,
      source: "exec",
      originator: "codex_exec",
      cli_version: "0.98.0",
      model_provider: "openai",
      git: null,
      parent_id: null,
      forked_from_id: null,
    });
    const ts = "2026-03-01T10:00:01.000Z";
    const delta = JSON.stringify({ timestamp: ts, type: "event_msg", payload: { type: "agent_message_delta", delta: "Hel" } });
    const begin = JSON.stringify({ timestamp: ts, type: "event_msg", payload: { type: "exec_command_begin", call_id: "c1" } });
    const end = JSON.stringify({ timestamp: ts, type: "event_msg", payload: { type: "exec_command_end", call_id: "c1", exit_code: 0 } });
    const future = JSON.stringify({ timestamp: ts, type: "event_msg", payload: { type: "some_future_event" } });
    const q = new WriterQueue({ store, sessionId: id, stream: "rollout", startSeq: 0, filter: codexPersistencePolicy });
    for (const l of [...head, delta, begin, end, future, "not json at all"]) await q.write(l);
    await q.shutdown();
    expect(await read(store, id, "rollout")).toEqual([...head, end, future, "not json at all"]);
    expect(q.committedSeq).toBe(head.length + 3);
  });

  it("shutdown drains the queue, then refuses writes; calling it twice is fine", async () => {
    const { store, id } = await newSession();
    const slow = wrap(store, async (call) => {
      await new Promise((r) => setTimeout(r, 5));
      return call();
    });
    const q = new WriterQueue({ store: slow, sessionId: id, stream: "debug-log", startSeq: 0, maxQueuedLines: 10 });
    const want = lines(50);
    const producer = Promise.all(want.map((l) => q.write(l)));
    const done = q.shutdown();
    await expect(q.write("late")).rejects.toBeInstanceOf(InvalidInputError);
    await producer;
    await done;
    await q.shutdown();
    expect(await read(store, id)).toEqual(want);
  });
});
