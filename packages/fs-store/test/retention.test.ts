import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { applyRetention, DAY_MS, InvalidInputError, NotFoundError, sessionHeadLines, type RetentionPolicy, type SessionInput } from "@sessionvault/core";
import { conformanceId, runRetentionConformance } from "@sessionvault/core/conformance";
import { FsStore } from "@sessionvault/fs-store";
import { snapshotTree } from "@sessionvault/testing/tree-snapshot";

const FIXTURES = fileURLToPath(new URL("../../../fixtures/codex/", import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempHome(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "sv-fs-ret-"));
  dirs.push(d);
  return d;
}

runRetentionConformance("fs-store", {
  open: async () => new FsStore({ root: await tempHome() }),
  // Org stores share one home, as the archive server opens them.
  openOrgs: async (orgs) => ((root) => orgs.map((org) => new FsStore({ root, org })))(await tempHome()),
});

// What the shared suite cannot see: the files of a Codex home.
const NOW = new Date("2026-06-01T12:00:00.000Z");
const policy: RetentionPolicy = { name: "org-default", defaultTtlMs: 30 * DAY_MS, streamTtlsMs: { "raw-api": 7 * DAY_MS }, graceMs: 7 * DAY_MS };

const RAW_LINE = '{"direction":"request","headers":{"authorization":"[REDACTED]"}}';
/** The raw-api stream's bytes: its one line and the newline. */
const RAW = Buffer.byteLength(RAW_LINE) + 1;

function sessionInput(id: string, createdAt: string, title: string): SessionInput {
  return {
    id,
    created_at: createdAt,
    cwd: "/w",
    title,
    archived: false,
    source: "cli",
    originator: "test",
    cli_version: "0.169.0",
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
  };
}

/** A session whose rollout was last written `ageDays` before NOW, with a rollout, a debug log and raw API lines. */
async function session(store: FsStore, ageDays: number): Promise<{ id: string; rollout: string[] }> {
  const at = new Date(NOW.getTime() - ageDays * DAY_MS).toISOString();
  const input = sessionInput(conformanceId(), at, `aged ${ageDays}d`);
  await store.putSession(input);
  const rollout = sessionHeadLines(input);
  await store.append(input.id, "rollout", 0, rollout);
  await store.append(input.id, "debug-log", 0, ["booting", "ready"]);
  await store.append(input.id, "raw-api", 0, [RAW_LINE]);
  return { id: input.id, rollout };
}

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const lines = (store: FsStore, id: string, stream = "rollout") => all(store.readStream(id, stream));
const listed = async (store: FsStore) => (await store.listSessions({ archived: "all" })).sessions.map((s) => s.id).sort();

/** Every rollout file Codex itself would see (dated folders and archived_sessions). */
async function codexVisible(home: string): Promise<string[]> {
  const out: string[] = [];
  for (const top of ["sessions", "archived_sessions"]) {
    const entries = await readdir(join(home, top), { recursive: true }).catch(() => [] as string[]);
    out.push(...entries.filter((e) => /rollout-.*\.jsonl(\.zst)?$/.test(e) && !e.endsWith("rollout.jsonl")));
  }
  return out.sort();
}

describe("retention on a Codex home (RetentionStore + applyRetention)", () => {
  it("a dry run leaves every file as it was; a soft delete moves the whole session out of Codex's view into the trash; restore puts every file back; a purge empties the trash", async () => {
    const home = await tempHome();
    const store = new FsStore({ root: home });
    const old = await session(store, 90);
    const mid = await session(store, 10);
    const original = await snapshotTree(home);

    await applyRetention(store, policy, { now: NOW, dryRun: true });
    expect(await snapshotTree(home)).toEqual(original);

    const run = await applyRetention(store, policy, { now: NOW });
    expect(run.expired).toEqual([old.id]);
    expect((await codexVisible(home)).some((f) => f.includes(old.id))).toBe(false);
    expect(existsSync(join(home, "sessions", old.id))).toBe(false);
    expect(existsSync(join(home, ".sessionvault", "trash", old.id, "files", "sessions", old.id, "session.log"))).toBe(true);
    // The session's sidecar (session.json) counts too: more than its three streams' lines.
    const streamBytes = [...old.rollout, "booting", "ready", RAW_LINE].reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    expect((await all(store.softDeletedSessions()))[0]!.bytes).toBe(run.bytes_freed - RAW);
    expect(run.bytes_freed - RAW).toBeGreaterThan(streamBytes);
    // A new session under the same id would collide with the restore: refused.
    await expect(store.putSession(sessionInput(old.id, NOW.toISOString(), "same id"))).rejects.toBeInstanceOf(InvalidInputError);
    // The expired raw API stream of the kept session is its own file: removed, the rest stays.
    expect(existsSync(join(home, "sessions", mid.id, "session_oai_raw.log"))).toBe(false);
    expect(existsSync(join(home, "sessions", mid.id, "session.log"))).toBe(true);

    await store.restoreSession(old.id, { actor: "alice" });
    // Every file of the restored session is back where it was, bytes and mode unchanged.
    const back = await snapshotTree(home);
    // (The session's lock file is sessionvault's own and is rewritten by each holder.)
    for (const [path, entry] of Object.entries(original))
      if (path.includes(old.id) && !path.startsWith(".sessionvault/locks/")) expect(back[path], path).toBe(entry);

    await applyRetention(store, policy, { now: NOW });
    expect((await applyRetention(store, policy, { now: new Date(NOW.getTime() + 8 * DAY_MS) })).purged).toEqual([old.id]);
    expect(await readdir(join(home, ".sessionvault", "trash"))).toEqual([]);
    expect(Object.keys(await snapshotTree(home)).some((p) => p.includes(old.id))).toBe(false);
    await store.close();
  });

  it("a hold placed on a session in the trash blocks its purge after the grace period", async () => {
    const store = new FsStore({ root: await tempHome() });
    const s = await session(store, 90);
    await applyRetention(store, policy, { now: NOW });
    await store.setLegalHold(s.id, true);
    const later = await applyRetention(store, policy, { now: new Date(NOW.getTime() + 30 * DAY_MS) });
    expect(later).toMatchObject({ purged: [], held: [s.id] });
    await store.setLegalHold(s.id, false);
    await store.restoreSession(s.id, { actor: "x" });
    expect(await lines(store, s.id)).toEqual(s.rollout);
    await store.close();
  });

  it("on real Codex homes: a dry run changes nothing, a soft delete leaves a home Codex lists as empty, restore gives every byte back", async () => {
    for (const version of ["0.39.0", "0.98.0", "0.169.0"]) {
      const home = await tempHome();
      await cp(join(FIXTURES, version), home, { recursive: true });
      const store = new FsStore({ root: home });
      const before = await snapshotTree(home);
      const ids = await listed(store);
      expect(ids.length, version).toBeGreaterThan(0);
      const now = new Date(Date.now() + 400 * DAY_MS);
      const p: RetentionPolicy = { name: "fixtures", defaultTtlMs: 30 * DAY_MS, graceMs: 7 * DAY_MS };

      const dry = await applyRetention(store, p, { now, dryRun: true });
      expect(dry.expired.sort(), version).toEqual(expect.arrayContaining(ids));
      expect(await snapshotTree(home), version).toEqual(before);

      const run = await applyRetention(store, p, { now });
      expect(run.expired.sort()).toEqual(dry.expired.sort());
      expect(await codexVisible(home), version).toEqual([]);
      expect(await listed(store)).toEqual([]);
      for (const id of run.expired) await store.restoreSession(id, { actor: "test" });
      const after = await snapshotTree(home);
      // Only sessionvault's own files were added (audit log, empty trash); Codex's files are as they were.
      for (const [path, entry] of Object.entries(before)) expect(after[path], `${version} ${path}`).toBe(entry);
      expect(
        Object.keys(after)
          .filter((k) => !(k in before))
          .every((k) => k.startsWith(".sessionvault/")),
      ).toBe(true);
      expect(await listed(store)).toEqual(ids);
      await store.close();
    }
  });

  it("finishes moves and purges that a crash interrupted, without ever showing half a session", async () => {
    const home = await tempHome();
    const store = new FsStore({ root: home });
    const a = await session(store, 90);
    const b = await session(store, 90);
    const c = await session(store, 90);
    await applyRetention(store, { ...policy, streamTtlsMs: {} }, { now: NOW });
    const trash = join(home, ".sessionvault", "trash");
    const record = async (id: string) => JSON.parse(await readFile(join(trash, id, "record.json"), "utf8")) as { state: string; rollout: string };

    // a: a soft delete killed after moving the rollout, before moving sessions/<id>/.
    await rename(join(trash, a.id, "files", "sessions", a.id), join(home, "sessions", a.id));
    // b: a restore killed after moving sessions/<id>/ back, before the rollout.
    const rb = await record(b.id);
    await rename(join(trash, b.id, "files", "sessions", b.id), join(home, "sessions", b.id));
    await writeFile(join(trash, b.id, "record.json"), JSON.stringify({ ...rb, state: "restoring" }));
    // c: a purge killed after renaming its entry aside.
    await rename(join(trash, c.id), join(trash, `.purge-${c.id}-0000`));
    // A session whose rollout never came back is invisible meanwhile.
    await expect(store.getSession(b.id)).rejects.toBeInstanceOf(NotFoundError);

    expect((await all(store.softDeletedSessions())).map((s) => s.id)).toEqual([a.id]);
    expect(existsSync(join(home, "sessions", a.id))).toBe(false);
    expect(existsSync(join(trash, a.id, "files", "sessions", a.id, "session.log"))).toBe(true);
    expect((await record(a.id)).state).toBe("deleted");
    expect(await lines(store, b.id)).toEqual(b.rollout);
    expect(await lines(store, b.id, "debug-log")).toEqual(["booting", "ready"]);
    expect(await readdir(trash)).toEqual([a.id]);
    await expect(store.getSession(c.id)).rejects.toBeInstanceOf(NotFoundError);
    await store.restoreSession(a.id, { actor: "x" });
    expect(await lines(store, a.id, "raw-api")).toHaveLength(1);
    await store.close();
  });

  it("prune and manual deletes go through the same audit, which still reads lines written before retention existed", async () => {
    const home = await tempHome();
    const store = new FsStore({ root: home });
    await mkdir(join(home, ".sessionvault"), { recursive: true });
    await writeFile(
      join(home, ".sessionvault", "deletions.jsonl"),
      '{"id":"0d000001-3333-7000-8000-000000000000","deleted_at":"2026-01-01T00:00:00.000Z","actor":"bob","reason":null}\n',
    );
    const s = await session(store, 1);
    const t = await session(store, 2);
    // Here the rollout's TTL is the session's, and a stream never written frees nothing.
    await expect(store.deleteStream(s.id, "rollout", { actor: "x" })).rejects.toBeInstanceOf(InvalidInputError);
    expect(await store.deleteStream(s.id, "never-written", { actor: "x" })).toBe(0);

    await store.deleteSession(s.id, { actor: "carol", reason: "asked by the user" });
    await expect(store.getSession(s.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(existsSync(join(home, "sessions", s.id))).toBe(false);
    // `prune` with no grace: soft delete and purge in one go.
    const pruned = await applyRetention(store, { name: "prune", defaultTtlMs: 0, graceMs: 0 }, { actor: "cron" });
    expect(pruned.expired).toEqual([t.id]);
    expect(await listed(store)).toEqual([]);
    expect(await readdir(join(home, ".sessionvault", "trash"))).toEqual([]);

    const audit = await all(store.deletionAudit());
    expect(audit.map((a) => [a.action, a.session_id, a.actor, a.reason])).toEqual([
      ["delete", "0d000001-3333-7000-8000-000000000000", "bob", null],
      ["delete", s.id, "carol", "asked by the user"],
      ["soft_delete", t.id, "cron", expect.stringContaining("no activity since")],
      ["purge", t.id, "cron", expect.stringContaining("grace period over")],
    ]);
    await store.close();
  });
});
