import { IoError, StoreUnavailableError, syncStores, type SessionInput, type SessionStore, type SyncProgress } from "@sessionvault/core";
import { conformanceId, sessionHeadLines } from "@sessionvault/core/conformance";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "./support/memory-store.js";

function input(i: number, overrides: Partial<SessionInput> = {}): SessionInput {
  return {
    id: conformanceId(),
    created_at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    cwd: `/src/p${i % 3}`,
    title: `task ${i}`,
    archived: i % 4 === 3,
    source: "cli",
    originator: "codex_cli_rs",
    cli_version: "0.169.0",
    model_provider: "openai",
    git: i % 2 ? { commit_hash: "abc", branch: "main", repository_url: "https://example.com/r.git" } : null,
    parent_id: null,
    forked_from_id: null,
    ...overrides,
  };
}

function rolloutLine(s: SessionInput, n: number): string {
  return JSON.stringify({ timestamp: s.created_at, type: "event_msg", payload: { type: "agent_message", message: `reply ${n} of ${s.id} ü 🚀` } });
}

/** A source with `count` sessions: rollouts of varying length, some side streams, some archived. */
async function makeSource(count: number): Promise<{ store: MemoryStore; inputs: SessionInput[] }> {
  const store = new MemoryStore();
  const inputs: SessionInput[] = [];
  for (let i = 0; i < count; i++) {
    const s = input(i);
    inputs.push(s);
    await store.putSession(s);
    const lines = [...sessionHeadLines(s), ...Array.from({ length: (i * 7) % 23 }, (_, n) => rolloutLine(s, n))];
    await store.append(s.id, "rollout", 0, lines);
    if (i % 2 === 0)
      await store.append(
        s.id,
        "debug-log",
        0,
        Array.from({ length: i + 1 }, (_, n) => `log ${n}`),
      );
    if (i % 5 === 0) await store.append(s.id, "raw-api", 0, ['{"direction":"request"}', '{"direction":"response"}']);
  }
  return { store, inputs };
}

async function readAll(store: SessionStore, id: string, stream: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of store.readStream(id, stream)) out.push(l);
  return out;
}

/** Every session, summary and stream of `a` is in `b` with exactly the same lines. */
async function expectSameContent(a: SessionStore, b: SessionStore, ids: string[]): Promise<void> {
  for (const id of ids) {
    const sa = await a.getSession(id);
    const sb = await b.getSession(id);
    expect({ ...sb, legal_hold: false }).toEqual({ ...sa, legal_hold: false });
    for (const st of sa.streams) expect(await readAll(b, id, st.name)).toEqual(await readAll(a, id, st.name));
  }
}

/** Passes everything through to `inner`, but fails the way a dying target does. */
function faulty(inner: SessionStore, fault: { failOnAppend?: number; loseAckOnAppend?: number }): SessionStore & { appends: number } {
  const wrapper = Object.create(inner) as SessionStore & { appends: number };
  wrapper.appends = 0;
  wrapper.append = async (...args: Parameters<SessionStore["append"]>) => {
    const call = ++wrapper.appends;
    if (call === fault.failOnAppend) throw new StoreUnavailableError("target went away");
    const res = await inner.append(...args);
    if (call === fault.loseAckOnAppend) throw new IoError("connection reset after the write");
    return res;
  };
  return wrapper;
}

describe("syncStores", () => {
  it("copies every session, archived ones included, with all streams; a rerun sends nothing", async () => {
    const { store: from, inputs } = await makeSource(12);
    const to = new MemoryStore();
    const first = await syncStores(from, to);
    const totalLines = (await Promise.all(inputs.map((s) => from.streamPositions(s.id)))).flat().reduce((n, p) => n + p.lines, 0);
    const totalBytes = (await Promise.all(inputs.map((s) => from.streamPositions(s.id)))).flat().reduce((n, p) => n + p.bytes, 0);
    expect(first).toEqual({ sessions_scanned: 12, sessions_sent: 12, lines_sent: totalLines, bytes_sent: totalBytes, conflicts: 0, errors: [] });
    await expectSameContent(
      from,
      to,
      inputs.map((s) => s.id),
    );
    expect((await to.listSessions({ archived: "archived" })).sessions.length).toBe(3);

    const calls = to.appendCalls.length;
    const again = await syncStores(from, to);
    expect(again).toEqual({ sessions_scanned: 12, sessions_sent: 0, lines_sent: 0, bytes_sent: 0, conflicts: 0, errors: [] });
    expect(to.appendCalls.length).toBe(calls);
  });

  it("sends only what the target lacks, from the target's positions", async () => {
    const { store: from, inputs } = await makeSource(4);
    const to = new MemoryStore();
    await syncStores(from, to);
    const s = inputs[1]!;
    const before = (await from.getSession(s.id)).lines;
    await from.append(s.id, "rollout", before, [rolloutLine(s, 100), rolloutLine(s, 101)]);
    await from.append(s.id, "meta-events", 0, ['{"event":"shutdown"}']);
    to.appendCalls.length = 0;
    const res = await syncStores(from, to);
    expect(res).toMatchObject({ sessions_sent: 1, lines_sent: 3, conflicts: 0, errors: [] });
    expect(to.appendCalls).toEqual([
      { stream: "rollout", expectedSeq: before, lines: 2, durable: false },
      { stream: "meta-events", expectedSeq: 0, lines: 1, durable: false },
    ]);
    await expectSameContent(
      from,
      to,
      inputs.map((x) => x.id),
    );
  });

  it("a summary change (archiving) is sent even when no line changed", async () => {
    const { store: from, inputs } = await makeSource(2);
    const to = new MemoryStore();
    await syncStores(from, to);
    await from.putSession({ ...inputs[0]!, archived: true });
    const res = await syncStores(from, to);
    expect(res).toMatchObject({ sessions_sent: 1, lines_sent: 0 });
    expect((await to.getSession(inputs[0]!.id)).archived).toBe(true);
  });

  it("a dry run reports exactly what a real run then sends, and writes nothing", async () => {
    const { store: from, inputs } = await makeSource(9);
    const to = new MemoryStore();
    // Part of it is already there.
    await syncStores(from, to);
    for (const s of inputs.slice(0, 4)) {
      const pos = (await from.getSession(s.id)).lines;
      await from.append(s.id, "rollout", pos, [rolloutLine(s, 500)]);
    }
    const extra = input(99);
    await from.putSession(extra);
    await from.append(extra.id, "rollout", 0, sessionHeadLines(extra));

    const callsBeforeDry = to.appendCalls.length;
    const dry = await syncStores(from, to, { dryRun: true });
    const callsAfterDry = to.appendCalls.length;
    expect(callsAfterDry).toBe(callsBeforeDry);
    await expect(to.getSession(extra.id)).rejects.toThrow();
    const real = await syncStores(from, to);
    expect(to.appendCalls.length).toBeGreaterThan(callsAfterDry);
    expect(dry).toEqual(real);
    expect(real).toMatchObject({ sessions_sent: 5, lines_sent: 4 + 3 });
  });

  it("batches appends by lines and by bytes", async () => {
    const from = new MemoryStore();
    const s = input(1);
    await from.putSession(s);
    const lines = Array.from({ length: 25 }, (_, n) => `line ${String(n).padStart(3, "0")}`); // 9 bytes each with "\n"
    await from.append(s.id, "debug-log", 0, lines);
    const byLines = new MemoryStore();
    await syncStores(from, byLines, { batchLines: 10 });
    expect(byLines.appendCalls.map((c) => [c.expectedSeq, c.lines])).toEqual([
      [0, 10],
      [10, 10],
      [20, 5],
    ]);
    const byBytes = new MemoryStore();
    await syncStores(from, byBytes, { batchBytes: 30 });
    expect(byBytes.appendCalls.map((c) => c.lines)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 1]);
    expect(await readAll(byBytes, s.id, "debug-log")).toEqual(lines);
  });

  it("interrupted at random appends and rerun: exactly the source's lines, nothing lost or duplicated", async () => {
    const { store: from, inputs } = await makeSource(15);
    const to = new MemoryStore();
    let interruptions = 0;
    for (let attempt = 0; attempt < 40; attempt++) {
      const target = faulty(to, { failOnAppend: 1 + Math.floor(Math.random() * 6) });
      try {
        await syncStores(from, target, { batchLines: 4 });
        break;
      } catch (err) {
        expect(err).toBeInstanceOf(StoreUnavailableError);
        interruptions++;
      }
    }
    expect(interruptions).toBeGreaterThan(2);
    const final = await syncStores(from, to, { batchLines: 4 });
    expect(final).toMatchObject({ lines_sent: 0, conflicts: 0, errors: [] });
    await expectSameContent(
      from,
      to,
      inputs.map((s) => s.id),
    );
  });

  it("a lost acknowledgement is an error for that session only; the rerun does not duplicate", async () => {
    const { store: from, inputs } = await makeSource(5);
    const to = new MemoryStore();
    const res = await syncStores(from, faulty(to, { loseAckOnAppend: 3 }), { batchLines: 5 });
    expect(res.errors).toHaveLength(1);
    expect(res.errors[0]!.message).toContain("connection reset");
    expect(res.sessions_scanned).toBe(5);
    const rerun = await syncStores(from, to, { batchLines: 5 });
    expect(rerun.errors).toEqual([]);
    await expectSameContent(
      from,
      to,
      inputs.map((s) => s.id),
    );
  });

  it("a target that holds the source's first lines without listing the session (a run cut early) is completed, not in conflict", async () => {
    const { store: from, inputs } = await makeSource(3);
    const to = new MemoryStore();
    const s = inputs[1]!;
    const all = await readAll(from, s.id, "rollout");
    await to.putSession(s);
    await to.append(s.id, "rollout", 0, all.slice(0, 2));
    // Like a Codex home that does not list a session whose head is incomplete.
    const hiding = Object.create(to) as SessionStore;
    hiding.listSessions = async (q) => {
      const page = await to.listSessions(q);
      return { ...page, sessions: page.sessions.filter((x) => x.id !== s.id) };
    };
    const res = await syncStores(from, hiding);
    expect(res).toMatchObject({ conflicts: 0, errors: [] });
    expect(await readAll(to, s.id, "rollout")).toEqual(all);
    await expectSameContent(
      from,
      to,
      inputs.map((x) => x.id),
    );
  });

  it("never overwrites a target that holds more than the source: a conflict", async () => {
    const { store: from, inputs } = await makeSource(3);
    const to = new MemoryStore();
    await syncStores(from, to);
    const s = inputs[0]!;
    const pos = (await to.getSession(s.id)).lines;
    await to.append(s.id, "rollout", pos, ['{"written":"only in the target"}']);
    const res = await syncStores(from, to);
    expect(res).toMatchObject({ conflicts: 1, lines_sent: 0 });
    expect((await readAll(to, s.id, "rollout")).at(-1)).toBe('{"written":"only in the target"}');
  });

  it("a writer racing on the target is a conflict, not a duplicate", async () => {
    const { store: from, inputs } = await makeSource(1);
    const to = new MemoryStore();
    const s = inputs[0]!;
    const racing = Object.create(to) as SessionStore;
    let raced = false;
    racing.append = async (...args: Parameters<SessionStore["append"]>) => {
      if (!raced && args[1] === "rollout") {
        raced = true;
        await to.append(args[0], "rollout", 0, ['{"other":"writer"}']);
      }
      return to.append(...args);
    };
    const res = await syncStores(from, racing);
    expect(res.conflicts).toBe(1);
    expect(await readAll(to, s.id, "rollout")).toEqual(['{"other":"writer"}']);
  });

  it("sends the first listing page while it lists the next: 1 100 sessions in three pages, all sent once, total known at the last page", async () => {
    const from = new MemoryStore();
    const ids: string[] = [];
    for (let i = 0; i < 1100; i++) {
      const s = input(i);
      ids.push(s.id);
      await from.putSession(s);
      await from.append(s.id, "rollout", 0, sessionHeadLines(s));
    }
    const pages: (string | null)[] = [];
    const source = Object.create(from) as SessionStore;
    source.listSessions = async (q) => {
      pages.push(q?.cursor ?? null);
      return from.listSessions(q);
    };
    const to = new MemoryStore();
    const seen: SyncProgress[] = [];
    const res = await syncStores(source, to, { onProgress: (p) => seen.push({ ...p }) });
    expect(res).toMatchObject({ sessions_scanned: 1100, sessions_sent: 1100, errors: [] });
    expect(pages).toHaveLength(3);
    const firstTotal = seen.findIndex((p) => p.sessions_total !== null);
    // Lines went out while the listing was still going.
    expect(seen.slice(0, firstTotal).some((p) => p.lines_sent > 0 && p.sessions_listed === 1000)).toBe(true);
    expect(seen[firstTotal]).toMatchObject({ sessions_total: 1100, sessions_listed: 1100 });
    expect(new Set((await to.listSessions({ archived: "all", limit: 2000 })).sessions.map((s) => s.id))).toEqual(new Set(ids));
    expect((await syncStores(source, to)).lines_sent).toBe(0);
  });

  it("a listing page that fails after sending began stops the sync with that error, and the rerun completes", async () => {
    const { store: from, inputs } = await makeSource(6);
    const source = Object.create(from) as SessionStore;
    let calls = 0;
    source.listSessions = async (q) => {
      calls++;
      const page = await from.listSessions({ ...q, limit: 2 });
      if (calls === 3) throw new StoreUnavailableError("source went away");
      return page;
    };
    const to = new MemoryStore();
    await expect(syncStores(source, to)).rejects.toThrow("source went away");
    expect((await to.listSessions({ archived: "all" })).sessions.length).toBeGreaterThan(0);
    calls = -100;
    const rest = await syncStores(source, to);
    expect(rest.errors).toEqual([]);
    await expectSameContent(
      from,
      to,
      inputs.map((s) => s.id),
    );
  });

  it("reports progress with a total, and stops between batches when aborted", async () => {
    const { store: from, inputs } = await makeSource(6);
    const to = new MemoryStore();
    const seen: SyncProgress[] = [];
    const ac = new AbortController();
    const err = await syncStores(from, to, {
      batchLines: 2,
      signal: ac.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.lines_sent >= 10) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect((err as Error).name).toBe("AbortError");
    // Listed page by page: no total until the (only) page is in, and it is in before anything is sent.
    expect(seen[0]).toMatchObject({ sessions_total: null, sessions_listed: 0, sessions_scanned: 0 });
    expect(seen.find((p) => p.sessions_total !== null)).toMatchObject({ sessions_total: 6, sessions_listed: 6, sessions_scanned: 0, lines_sent: 0 });
    const sentBeforeAbort = seen.at(-1)!.lines_sent;
    const done: SyncProgress[] = [];
    const rest = await syncStores(from, to, { onProgress: (p) => done.push(p) });
    const all = (await Promise.all(inputs.map((s) => from.streamPositions(s.id)))).flat().reduce((n, p) => n + p.lines, 0);
    expect(sentBeforeAbort + rest.lines_sent).toBe(all);
    expect(done.at(-1)).toMatchObject({ sessions_total: 6, sessions_scanned: 6, session_id: null, lines_sent: rest.lines_sent });
    await expectSameContent(
      from,
      to,
      inputs.map((s) => s.id),
    );
  });
});
