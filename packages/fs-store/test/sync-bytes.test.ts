import { existsSync, readdirSync } from "node:fs";
import { appendFile, mkdir, mkdtemp, open as openFile, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it, vi } from "vitest";
import { checkedStore, syncStores } from "@sessionvault/core";
import { generateCodexHome } from "@sessionvault/testing/codex-home";
import { FsStore } from "@sessionvault/fs-store";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "sv-sync-bytes-"));
  dirs.push(d);
  return d;
}

/** Rollout files under a home, by path relative to it. */
function rollouts(home: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/^rollout-.*\.jsonl$/.test(e.name)) out.push(relative(home, join(d, e.name)));
    }
  };
  walk(join(home, "sessions"));
  walk(join(home, "archived_sessions"));
  return out.sort();
}

const open = (root: string) => checkedStore(new FsStore({ root }));

// Each case with the file mirror (new sessions copied as whole files) and without it (the per-session byte copy).
describe.each([{ fileMirror: true }, { fileMirror: false }])("sync between two Codex homes copies bytes (%o)", (mirror) => {
  it("states RawStreams through the checked layer", () => {
    expect(open("/nonexistent").capabilities.rawStreams).toBe(true);
  });

  it("a line that is not UTF-8 arrives byte for byte (a line copy would replace it), and a session Codex could list alone gets no sidecar", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 6, archivedEvery: 3 });
    const odd = gen.sessions[1]!;
    // A user message with a byte sequence that is not UTF-8, as a crashed writer may leave one.
    await appendFile(
      odd.path,
      Buffer.concat([
        Buffer.from('{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"x","m":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}}\n'),
      ]),
    );
    const to = join(dir, "backup");
    const summary = await syncStores(open(src), open(to), mirror);
    expect(summary.errors).toEqual([]);
    expect(summary.sessions_sent).toBe(6);
    expect(rollouts(to)).toEqual(rollouts(src));
    for (const path of rollouts(src)) expect((await readFile(join(to, path))).equals(await readFile(join(src, path))), path).toBe(true);
    // Laid out as Codex lays it out: no sessions/<id>/ folder for a session whose rollout says everything.
    expect(readdirSync(join(to, "sessions")).filter((n) => n.includes("-"))).toEqual([]);
    const again = await syncStores(open(src), open(to), mirror);
    expect(again).toMatchObject({ sessions_sent: 0, lines_sent: 0, conflicts: 0 });
  });

  it("a thread name the source lists is kept in the target's sidecar, so the copy lists under it and a rerun sends nothing", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 3 });
    const named = gen.sessions[2]!;
    await writeFile(
      join(src, "session_index.jsonl"),
      `${JSON.stringify({ id: named.id, thread_name: "the migration", updated_at: "2026-01-01T00:00:00Z" })}\n`,
    );
    const to = join(dir, "backup");
    await syncStores(open(src), open(to), mirror);
    expect(existsSync(join(to, "sessions", named.id, "session.json"))).toBe(true);
    expect((await open(to).getSession(named.id)).title).toBe("the migration");
    expect(await syncStores(open(src), open(to), mirror)).toMatchObject({ sessions_sent: 0, lines_sent: 0 });
  });

  it("a target holding the first lines (a run cut short, a torn tail) gets exactly the rest", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 2, repeat: 3 });
    const to = join(dir, "backup");
    await syncStores(open(src), open(to), mirror);
    const s = gen.sessions[0]!;
    const path = rollouts(to).find((p) => p.includes(s.id))!;
    const whole = await readFile(join(to, path));
    // Cut in the middle of a line: 5 whole lines and half of the sixth.
    let cut = 0;
    for (let i = 0; i < 5; i++) cut = whole.indexOf(10, cut) + 1;
    await truncate(join(to, path), cut + 7);
    const summary = await syncStores(open(src), open(to), mirror);
    expect(summary).toMatchObject({ sessions_sent: 1, lines_sent: s.lines - 5, bytes_sent: s.bytes - cut, conflicts: 0, errors: [] });
    expect((await readFile(join(to, path))).equals(await readFile(s.path))).toBe(true);
  });

  it("a rollout over a mebibyte (read and counted through the thread pool, not by direct calls) arrives byte for byte, and so do lines added to it later", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 1, repeat: 120, archivedEvery: 0 });
    const s = gen.sessions[0]!;
    expect(s.bytes).toBeGreaterThan(1024 * 1024);
    const to = join(dir, "backup");
    expect(await syncStores(open(src), open(to), mirror)).toMatchObject({ sessions_sent: 1, lines_sent: s.lines, errors: [] });
    const copy = join(to, rollouts(to)[0]!);
    expect((await readFile(copy)).equals(await readFile(s.path))).toBe(true);
    // Fresh stores: the target counts its big copy again before appending to it.
    await appendFile(s.path, '{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"agent_message","message":"more"}}\n');
    expect(await syncStores(open(src), open(to), mirror)).toMatchObject({ sessions_sent: 1, lines_sent: 1, conflicts: 0, errors: [] });
    expect((await readFile(copy)).equals(await readFile(s.path))).toBe(true);
  });

  it("a target whose lines differ from the source's is never overwritten: a conflict", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 1 });
    const to = join(dir, "backup");
    await syncStores(open(src), open(to), mirror);
    const s = gen.sessions[0]!;
    const path = join(to, rollouts(to)[0]!);
    const theirs = await readFile(path);
    // The target's own longer stream: more lines than the source.
    await appendFile(path, '{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"theirs"}}\n');
    const summary = await syncStores(open(src), open(to), mirror);
    expect(summary.conflicts).toBe(1);
    expect(summary.lines_sent).toBe(0);
    expect((await readFile(path)).subarray(0, theirs.length).equals(theirs)).toBe(true);
    expect(s.lines).toBeGreaterThan(0);
  });
});

describe("a re-sync with listing caches on both homes (as the CLI opens them)", () => {
  /** The CLI's options: each home keeps a listing cache; the target reuses one walk of itself. */
  const openCached = (root: string, cache: string, target = false) => new FsStore({ root, summaryCache: cache, ...(target ? { reuseWalkMs: 10_000 } : {}) });

  it("a source that grew, a target cut short and a target changed in place at the same size are each seen, not skipped from the cache", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const to = join(dir, "backup");
    const gen = await generateCodexHome(src, { sessions: 4, repeat: 2, archivedEvery: 0 });
    const caches = { from: join(dir, "cache", "from.json"), to: join(dir, "cache", "to.json") };
    const run = async () => {
      const from = openCached(src, caches.from);
      const target = openCached(to, caches.to, true);
      // The listings and their caches, not the file mirror (home-mirror.test.ts), which would settle these by their stats.
      const summary = await syncStores(checkedStore(from), checkedStore(target), { fileMirror: false });
      await Promise.all([from.close(), target.close()]);
      return { summary, from: from.summaryCacheStats!, to: target.summaryCacheStats! };
    };
    expect((await run()).summary).toMatchObject({ sessions_sent: 4, errors: [] });
    // Files changed within the last 2 s are never cached (their times could still hide a change): let them age, then cache them.
    await sleep(2100);
    await run();
    const warm = await run();
    // Unchanged: every rollout answered by a stat and its cache entry on both sides, nothing read, nothing sent.
    expect(warm.summary).toMatchObject({ sessions_sent: 0, lines_sent: 0, conflicts: 0, errors: [] });
    expect(warm.from).toEqual({ hits: 4, misses: 0 });
    expect(warm.to).toEqual({ hits: 4, misses: 0 });

    const [grew, cut, changed] = gen.sessions;
    const targetPath = (id: string) => join(to, rollouts(to).find((p) => p.includes(id))!);
    // The source grew by one line.
    const line = '{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"agent_message","message":"later"}}\n';
    await appendFile(grew!.path, line);
    // The target was cut in the middle of its third line.
    const cutBytes = await readFile(targetPath(cut!.id));
    let at = 0;
    for (let i = 0; i < 2; i++) at = cutBytes.indexOf(10, at) + 1;
    await truncate(targetPath(cut!.id), at + 5);
    // The target's last line changed in place: same size, same line count, other bytes.
    const changedPath = targetPath(changed!.id);
    const before = await readFile(changedPath);
    const fh = await openFile(changedPath, "r+");
    await fh.write(Buffer.from("Z"), 0, 1, before.length - 3);
    await fh.close();

    const after = await run();
    expect(after.summary).toMatchObject({ sessions_sent: 2, lines_sent: 1 + (cut!.lines - 2), conflicts: 0, errors: [] });
    // Each changed file was read again, on the side where it changed.
    expect(after.from).toEqual({ hits: 3, misses: 1 });
    expect(after.to).toEqual({ hits: 2, misses: 2 });
    expect((await readFile(targetPath(grew!.id))).equals(await readFile(grew!.path))).toBe(true);
    expect((await readFile(targetPath(cut!.id))).equals(await readFile(cut!.path))).toBe(true);
    // Same positions on both sides: as without any cache, nothing is sent and the target's bytes are never overwritten.
    const held = await readFile(changedPath);
    expect(held.length).toBe(before.length);
    expect(held[before.length - 3]).toBe("Z".charCodeAt(0));
    // And the same outcome a run without caches gives.
    expect(await syncStores(open(src), open(to))).toMatchObject({ sessions_sent: 0, lines_sent: 0, conflicts: 0, errors: [] });
  }, 30_000);

  it("streamPositions right after a listing answers from it once (a sync asks for every session it lists); the next call and any write of the store look at the files again", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 2, archivedEvery: 0 });
    const [a, b] = gen.sessions;
    const store = new FsStore({ root: src });
    // The clock stands still, so what the listing counted stays within its time however slow the machine is.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      await store.listSessions({ archived: "all" });
      // Another process starts a side stream of both sessions after the listing.
      for (const s of [a!, b!]) {
        await mkdir(join(src, "sessions", s.id), { recursive: true });
        await writeFile(join(src, "sessions", s.id, "session.log"), "one\n");
      }
      expect(await store.streamPositions(a!.id)).toEqual([{ name: "rollout", lines: a!.lines, bytes: a!.bytes }]);
      expect(await store.streamPositions(a!.id)).toEqual([
        { name: "rollout", lines: a!.lines, bytes: a!.bytes },
        { name: "debug-log", lines: 1, bytes: 4 },
      ]);
      // A write of this store since the listing: nothing it counted is trusted.
      await store.append(a!.id, "debug-log", 1, ["two"]);
      expect(await store.streamPositions(b!.id)).toEqual([
        { name: "rollout", lines: b!.lines, bytes: b!.bytes },
        { name: "debug-log", lines: 1, bytes: 4 },
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});
