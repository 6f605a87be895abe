import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { appendFile, mkdtemp, open as openFile, readFile, rm, truncate, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { checkedStore, isStorageFull, SessionSubset, syncStores, type SessionStore } from "@sessionvault/core";
import { generateCodexHome } from "@sessionvault/testing/codex-home";
import { mountSmallDisk, type SmallDisk } from "@sessionvault/testing/small-disk";
import { FsStore } from "@sessionvault/fs-store";

const dirs: string[] = [];
afterAll(async () => {
  if (typeof disk !== "string") await disk.unmount();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "sv-mirror-"));
  dirs.push(d);
  return d;
}

/** Every file under a home's sessions/ and archived_sessions/, by path relative to it: its bytes, or a link's target. */
function tree(home: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(home, p), e.isSymbolicLink() ? `-> ${readlinkSync(p)}` : "");
    }
  };
  walk(join(home, "sessions"));
  walk(join(home, "archived_sessions"));
  return out;
}

const rolloutOf = (home: string, id: string) => join(home, [...tree(home).keys()].find((p) => p.endsWith(`${id}.jsonl`))!);
const lineOf = (text: string) => `{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"agent_message","message":"${text}"}}\n`;
/** The CLI's options: the source keeps the mirror's record (and its listing cache) in a cache folder; the target reuses one walk. */
const openCached = (root: string, cache: string) => checkedStore(new FsStore({ root, mirrorRecords: cache, summaryCache: join(cache, `${root.length}.json`) }));
const open = (root: string) => checkedStore(new FsStore({ root }));
const ids = (s: { sessions: { id: string }[] }) => s.sessions.map((x) => x.id);

async function namedHome(dir: string, sessions: number) {
  const src = join(dir, "home");
  const gen = await generateCodexHome(src, { sessions, archivedEvery: 3 });
  // Two thread names, as Codex keeps them: the summary's title, which no rollout says.
  const named = [gen.sessions[0]!.id, gen.sessions[2]!.id];
  await writeFile(
    join(src, "session_index.jsonl"),
    named.map((id, i) => JSON.stringify({ id, thread_name: `thread ${i}`, updated_at: "2026-01-05T09:00:00Z" }) + "\n").join(""),
  );
  return { src, gen, named };
}

describe("sync between two Codex homes: the file mirror", () => {
  it("copies each new session whole to the same place, cuts a torn last line, and leaves the target exactly as the per-session sync does", async () => {
    const dir = await tempDir();
    const { src, gen, named } = await namedHome(dir, 7);
    // Codex is writing session 4's last line: it is not committed yet.
    const torn = gen.sessions[4]!;
    await appendFile(torn.path, '{"timestamp":"2026-01-05T09:00:00.000Z","type":"event_msg","payl');

    const viaMirror = join(dir, "mirror");
    const bySession = join(dir, "by-session");
    const mirrored = await syncStores(open(src), open(viaMirror));
    // A view of the source without the mirror: every session goes through the per-session byte copy.
    const perSession = await syncStores(new SessionSubset(open(src), ids(gen)), open(bySession));
    expect(mirrored).toEqual(perSession);
    expect(mirrored).toMatchObject({ sessions_sent: 7, lines_sent: gen.totalLines, bytes_sent: gen.totalBytes, errors: [] });

    // The same files in the same places, with the same bytes: rollouts, the named sessions' sidecars and links.
    const a = tree(viaMirror);
    expect([...a.keys()].sort()).toEqual([...tree(bySession).keys()].sort());
    expect([...a.keys()].filter((p) => p.endsWith("session.json")).length).toBe(named.length);
    for (const [path, link] of a) {
      expect(link, path).toBe(tree(bySession).get(path));
      if (link === "") expect((await readFile(join(viaMirror, path))).equals(await readFile(join(bySession, path))), path).toBe(true);
    }
    for (const s of gen.sessions) expect(relative(viaMirror, rolloutOf(viaMirror, s.id))).toBe(relative(src, s.path));
    // The torn line stayed behind; every committed line arrived.
    const copy = await readFile(rolloutOf(viaMirror, torn.id));
    expect(copy.length).toBe(torn.bytes);
    expect(copy.equals((await readFile(torn.path)).subarray(0, torn.bytes))).toBe(true);
    // Listed as the source lists them (thread names as titles).
    const list = async (root: string) => (await open(root).listSessions({ archived: "all", limit: 100 })).sessions.map((s) => [s.id, s.title, s.lines]);
    expect(await list(viaMirror)).toEqual(await list(src));

    // Once Codex ends the line, the next sync sends just it.
    await appendFile(torn.path, 'oad":{"type":"agent_message","message":"done"}}\n');
    const again = await syncStores(open(src), open(viaMirror));
    expect(again).toMatchObject({ sessions_sent: 1, lines_sent: 1, conflicts: 0, errors: [] });
    expect((await readFile(rolloutOf(viaMirror, torn.id))).equals(await readFile(torn.path))).toBe(true);
  });

  it("a rerun settles unchanged sessions by their stats alone; a grown source, a cut or rewritten target, a touched file and a renamed thread are each synced again", async () => {
    const dir = await tempDir();
    const { src, gen, named } = await namedHome(dir, 7);
    const to = join(dir, "backup");
    const cache = join(dir, "cache");
    expect(await syncStores(openCached(src, cache), openCached(to, cache))).toMatchObject({ sessions_sent: 7, errors: [] });
    // Files changed within the last 2 s are not recorded (their times could still hide a change): let them age.
    await sleep(2100);
    await syncStores(openCached(src, cache), openCached(to, cache));
    const pass = async () => {
      const from = new FsStore({ root: src, mirrorRecords: cache });
      const p = (await from.mirrorFiles(new FsStore({ root: to }), {}))!;
      await p.finish(new Set());
      return p;
    };
    const settled = await pass();
    // Nothing left to the per-session sync: no rollout was read on either side.
    expect(settled).toMatchObject({ sessions_found: 7, sessions_settled: 7, sessions_copied: 0, rest: [] });
    expect(await syncStores(openCached(src, cache), openCached(to, cache))).toMatchObject({ sessions_scanned: 7, sessions_sent: 0, lines_sent: 0 });

    const [grew, cut, renamed, rewritten, touched] = [gen.sessions[1]!, gen.sessions[3]!, gen.sessions[2]!, gen.sessions[4]!, gen.sessions[5]!];
    await appendFile(grew.path, lineOf("later"));
    // The target cut in its third line, as a kill mid-append leaves it.
    const cutPath = rolloutOf(to, cut.id);
    const cutBytes = await readFile(cutPath);
    await truncate(cutPath, cutBytes.indexOf(10, cutBytes.indexOf(10) + 1) + 5);
    // The target's last line changed in place: same size, other bytes (somebody else's edit).
    const rewrittenPath = rolloutOf(to, rewritten.id);
    const fh = await openFile(rewrittenPath, "r+");
    await fh.write(Buffer.from("Z"), 0, 1, rewritten.bytes - 3);
    await fh.close();
    // Same bytes, other times (`touch`): looked at again, nothing to send.
    await utimes(touched.path, new Date("2026-01-01"), new Date("2026-01-01"));
    await appendFile(join(src, "session_index.jsonl"), JSON.stringify({ id: renamed.id, thread_name: "renamed", updated_at: "2026-01-06T09:00:00Z" }) + "\n");

    const changed = await pass();
    // The renamed thread changes the summary of one named session; the other named one stays settled.
    expect([...changed.rest].sort()).toEqual([grew.id, cut.id, renamed.id, rewritten.id, touched.id].sort());
    expect(changed.sessions_settled).toBe(2);
    expect(named).toContain(renamed.id);

    const summary = await syncStores(openCached(src, cache), openCached(to, cache));
    // grew: its new line; cut: the rest of its lines; renamed: its summary. The rewritten target is never overwritten.
    expect(summary).toMatchObject({ sessions_sent: 3, lines_sent: 1 + (cut.lines - 2), conflicts: 0, errors: [] });
    for (const s of [grew, cut]) expect((await readFile(rolloutOf(to, s.id))).equals(await readFile(s.path))).toBe(true);
    expect((await readFile(rewrittenPath))[rewritten.bytes - 3]).toBe("Z".charCodeAt(0));
    expect((await open(to).getSession(renamed.id)).title).toBe("renamed");
    // What was synced again is recorded once its source has aged, as the sync left it (the rewritten
    // target too: at the source's position, which is all the per-session sync compares): all settled.
    await sleep(2100);
    await syncStores(openCached(src, cache), openCached(to, cache));
    expect((await pass()).rest).toEqual([]);
  }, 30_000);

  it("two homes still as a sync left every session settled are settled from the record's first line alone; any change on either side, a newer source or another agent filter goes back to comparing sessions", async () => {
    const dir = await tempDir();
    const { src, gen, named } = await namedHome(dir, 5);
    const to = join(dir, "backup");
    const cache = join(dir, "cache");
    await syncStores(openCached(src, cache), openCached(to, cache));
    const recordName = () => (existsSync(cache) ? readdirSync(cache).find((n) => n.startsWith("fs-mirror-")) : undefined);
    const recordPath = () => join(cache, recordName()!);
    const treesOf = async () => (recordName() === undefined ? null : JSON.parse((await readFile(recordPath(), "utf8")).split("\n")[0]!).tree);
    // Just written: the source's files are too new to vouch for their stats (nothing is recorded yet).
    expect(await treesOf()).toBeNull();
    await sleep(2100);
    await syncStores(openCached(src, cache), openCached(to, cache));
    expect(await treesOf()).toMatchObject({ sessions: 5, agent: null, source: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // The per-session part of the record made unreadable (same size): only the trees can settle the named
    // sessions now (they have a sidecar in the target, so no byte comparison settles them).
    const saved = await readFile(recordPath());
    const body = saved.indexOf(10) + 1;
    await writeFile(recordPath(), Buffer.concat([saved.subarray(0, body), Buffer.from("x"), saved.subarray(body + 1)]));
    const pass = async (options = {}) => {
      const p = (await new FsStore({ root: src, mirrorRecords: cache }).mirrorFiles(new FsStore({ root: to }), options))!;
      return p;
    };
    expect(await pass()).toMatchObject({ sessions_found: 5, sessions_settled: 5, rest: [] });
    // Limited to one agent, the same homes are not the state the record vouches for.
    expect([...(await pass({ agent: "codex" })).rest].sort()).toEqual([...named].sort());

    // A sidecar of the target touched: that session is compared again (and the record, unreadable, settles no named one).
    const sidecar = join(to, "sessions", named[0]!, "session.json");
    await utimes(sidecar, new Date("2026-01-01"), new Date("2026-01-01"));
    expect([...(await pass()).rest].sort()).toEqual([...named].sort());
    // A line appended to a source rollout: sent, and the record of that run vouches for nothing (the source is new).
    const grew = gen.sessions.find((s) => !named.includes(s.id))!;
    await appendFile(grew.path, lineOf("later"));
    expect(await syncStores(openCached(src, cache), openCached(to, cache))).toMatchObject({ sessions_sent: 1, lines_sent: 1, errors: [] });
    expect(await treesOf()).toBeNull();
    await sleep(2100);
    await syncStores(openCached(src, cache), openCached(to, cache));
    expect(await treesOf()).toMatchObject({ sessions: 5 });
    expect((await pass()).rest).toEqual([]);
  }, 20_000);

  it("the trees are recorded only as the target is when the pass ends: a target written after the pass decided is not vouched for", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 3, archivedEvery: 0 });
    const to = join(dir, "backup");
    const cache = join(dir, "cache");
    await syncStores(openCached(src, cache), openCached(to, cache));
    await sleep(2100);
    const p = (await new FsStore({ root: src, mirrorRecords: cache }).mirrorFiles(new FsStore({ root: to }), {}))!;
    expect(p).toMatchObject({ sessions_settled: 3, rest: [] });
    // Between the pass and its end (the per-session sync's time), somebody writes to the target.
    await appendFile(rolloutOf(to, gen.sessions[1]!.id), lineOf("written in the backup"));
    await p.finish(new Set());
    const record = join(cache, readdirSync(cache).find((n) => n.startsWith("fs-mirror-"))!);
    expect(JSON.parse((await readFile(record, "utf8")).split("\n")[0]!).tree).toBeNull();
    // The next pass compares that session again.
    const next = (await new FsStore({ root: src, mirrorRecords: cache }).mirrorFiles(new FsStore({ root: to }), {}))!;
    expect(next.rest).toEqual([gen.sessions[1]!.id]);
  });

  it("a target filled without a record (an older version, a run killed before it wrote one) is settled by comparing bytes; a file that differs is left to the sync", async () => {
    const dir = await tempDir();
    const { src, gen, named } = await namedHome(dir, 6);
    const to = join(dir, "backup");
    // A sync that keeps no record, as one before the file mirror or one killed before its end.
    await syncStores(open(src), open(to));
    const [same, cut] = gen.sessions.filter((s) => !named.includes(s.id));
    const cutPath = rolloutOf(to, cut!.id);
    await truncate(cutPath, (await readFile(cutPath)).indexOf(10) + 1);
    // Same size, one byte different: only reading both tells.
    const changedPath = rolloutOf(to, same!.id);
    const fh = await openFile(changedPath, "r+");
    await fh.write(Buffer.from("Z"), 0, 1, same!.bytes - 3);
    await fh.close();
    const p = (await new FsStore({ root: src, mirrorRecords: join(dir, "cache") }).mirrorFiles(new FsStore({ root: to }), {}))!;
    await p.finish(new Set());
    // The named sessions have a sidecar in the target: the sync compares their summaries.
    expect([...p.rest].sort()).toEqual([same!.id, cut!.id, ...named].sort());
    expect(p.sessions_settled).toBe(6 - 2 - named.length);
  });

  it("a record of other homes, or a corrupt one, is no record: every session present on both sides is checked", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 3, archivedEvery: 0 });
    // Named sessions have a sidecar in the target, so only the record settles them (no byte comparison).
    await writeFile(join(src, "session_index.jsonl"), gen.sessions.map((s) => `${JSON.stringify({ id: s.id, thread_name: `t ${s.id}` })}\n`).join(""));
    const to = join(dir, "backup");
    const cache = join(dir, "cache");
    await syncStores(openCached(src, cache), openCached(to, cache));
    await sleep(2100);
    await syncStores(openCached(src, cache), openCached(to, cache));
    const rest = async () => {
      const p = (await new FsStore({ root: src, mirrorRecords: cache }).mirrorFiles(new FsStore({ root: to }), {}))!;
      return p.rest.length;
    };
    expect(await rest()).toBe(0);
    const [record] = readdirSync(cache).filter((n) => n.startsWith("fs-mirror-"));
    const path = join(cache, record!);
    const saved = await readFile(path, "utf8");
    await writeFile(path, saved.replace(JSON.stringify(src), JSON.stringify(join(dir, "elsewhere"))));
    expect(await rest()).toBe(3);
    await writeFile(path, saved.slice(0, saved.length / 2));
    expect(await rest()).toBe(3);
  }, 15_000);
});

// A 256 KiB tmpfs: a disk that fills up for real (where this process may mount one).
const disk = await mountSmallDisk("256k");

describe.skipIf(typeof disk === "string")("the file mirror into a full disk (a 256 KiB tmpfs)", () => {
  it("stops the sync with a storage-full error and leaves no part of a copy behind", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 12, repeat: 3, archivedEvery: 0 });
    expect(gen.totalBytes).toBeGreaterThan(256 * 1024);
    const to = join((disk as SmallDisk).dir, "backup");
    const err = await syncStores(open(src) as SessionStore, open(to)).catch((e: unknown) => e);
    expect(isStorageFull(err)).toBe(true);
    // What the target holds is whole copies only: a copy that did not fit was taken back.
    const held = [...tree(to).keys()];
    expect(held.length).toBeGreaterThan(0);
    expect(held.length).toBeLessThan(gen.sessions.length);
    for (const path of held) expect((await readFile(join(to, path))).equals(await readFile(join(src, path))), path).toBe(true);
  });
});
