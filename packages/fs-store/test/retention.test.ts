import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile, mkdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  applyRetention,
  DAY_MS,
  InvalidIdError,
  InvalidInputError,
  LegalHoldError,
  NotFoundError,
  sessionHeadLines,
  type DeletionAuditRecord,
  type RetentionPolicy,
  type SessionInput,
} from "@sessionvault/core";
import { conformanceId } from "@sessionvault/core/conformance";
import { FsStore } from "@sessionvault/fs-store";
import { snapshotTree } from "./support/tree-snapshot.js";

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

const NOW = new Date("2026-06-01T12:00:00.000Z");
const policy: RetentionPolicy = { name: "org-default", defaultTtlMs: 30 * DAY_MS, streamTtlsMs: { "raw-api": 7 * DAY_MS }, graceMs: 7 * DAY_MS };

const RAW_LINE = '{"direction":"request","headers":{"authorization":"[REDACTED]"}}';
/** The raw-api stream's bytes: its one line and the newline. */
const RAW = Buffer.byteLength(RAW_LINE) + 1;

/** A session whose rollout was last written `ageDays` before NOW, with a rollout, a debug log and raw API lines. */
async function session(store: FsStore, ageDays: number): Promise<{ id: string; rollout: string[] }> {
  const at = new Date(NOW.getTime() - ageDays * DAY_MS).toISOString();
  const input: SessionInput = { id: conformanceId(), created_at: at, cwd: "/w", title: `aged ${ageDays}d`, archived: false, source: "cli", originator: "test", cli_version: "0.169.0", model_provider: "openai", git: null, parent_id: null, forked_from_id: null };
  await store.putSession(input);
  const rollout = sessionHeadLines(input);
  await store.append(input.id, "rollout", 0, rollout);
  await store.append(input.id, "debug-log", 0, ["booting", "ready"]);
  await store.append(input.id, "raw-api", 0, ['{"direction":"request","headers":{"authorization":"[REDACTED]"}}']);
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
  it("expired sessions go soft first (moved out of Codex's view, restorable byte-exact), then hard once the grace period is over; short-TTL streams go alone", async () => {
    const home = await tempHome();
    const store = new FsStore({ root: home });
    const old = await session(store, 90);
    const mid = await session(store, 10);
    const fresh = await session(store, 2);
    const original = await snapshotTree(home);

    const dry = await applyRetention(store, policy, { now: NOW, dryRun: true });
    expect(dry).toMatchObject({ dry_run: true, expired: [old.id], purged: [], held: [] });
    expect(dry.streams_expired).toEqual([{ session_id: mid.id, stream: "raw-api", bytes: RAW }]);
    // The old session's rollout plus its debug log, raw API lines and sidecar, plus mid's raw API lines.
    expect(dry.bytes_freed).toBeGreaterThan(RAW + (await store.getSession(old.id)).bytes + RAW);
    expect(await snapshotTree(home)).toEqual(original);

    const run = await applyRetention(store, policy, { now: NOW });
    expect(run).toMatchObject({ dry_run: false, expired: [old.id], purged: [] });
    expect(run.bytes_freed).toBe(dry.bytes_freed);
    // Soft-deleted: gone from every read and from Codex's own view, but restorable.
    await expect(store.getSession(old.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.getSession(old.id.slice(0, 8))).rejects.toBeInstanceOf(NotFoundError);
    await expect(lines(store, old.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(lines(store, old.id, "debug-log")).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.append(old.id, "rollout", 2, ["x"])).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.append(old.id, "debug-log", 2, ["x"])).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.streamPositions(old.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await listed(store)).toEqual([mid.id, fresh.id].sort());
    expect((await codexVisible(home)).some((f) => f.includes(old.id))).toBe(false);
    expect(existsSync(join(home, "sessions", old.id))).toBe(false);
    expect((await all(store.softDeletedSessions())).map((s) => [s.id, s.purge_after, s.bytes])).toEqual([
      [old.id, new Date(NOW.getTime() + 7 * DAY_MS).toISOString(), dry.bytes_freed - RAW],
    ]);
    // A new session under the same id would collide with the restore: refused.
    await expect(store.putSession({ id: old.id, created_at: NOW.toISOString(), archived: false })).rejects.toBeInstanceOf(InvalidInputError);
    // The raw API stream of the 10-day-old session is gone; the rest of it stays.
    expect((await store.streamPositions(mid.id)).map((p) => p.name).sort()).toEqual(["debug-log", "rollout"]);
    expect(await lines(store, mid.id)).toEqual(mid.rollout);
    expect(existsSync(join(home, "sessions", mid.id, "session_oai_raw.log"))).toBe(false);

    await store.restoreSession(old.id, { actor: "alice", reason: "needed for an incident" });
    expect(await lines(store, old.id)).toEqual(old.rollout);
    expect(await lines(store, old.id, "debug-log")).toEqual(["booting", "ready"]);
    // Every file of the restored session is back where it was, bytes and mode unchanged.
    const back = await snapshotTree(home);
    for (const [path, entry] of Object.entries(original)) if (path.includes(old.id)) expect(back[path], path).toBe(entry);
    expect(await all(store.softDeletedSessions())).toEqual([]);
    await expect(store.restoreSession(old.id, { actor: "alice" })).rejects.toBeInstanceOf(NotFoundError);

    await applyRetention(store, policy, { now: NOW });
    // Within the grace period nothing is purged; after it, the session is gone for good.
    const within = await applyRetention(store, policy, { now: new Date(NOW.getTime() + 3 * DAY_MS) });
    expect(within.purged).toEqual([]);
    const after = await applyRetention(store, policy, { now: new Date(NOW.getTime() + 8 * DAY_MS) });
    expect(after.purged).toEqual([old.id]);
    expect(after.bytes_purged).toBe(dry.bytes_freed - RAW);
    expect(await all(store.softDeletedSessions())).toEqual([]);
    expect(await readdir(join(home, ".sessionvault", "trash"))).toEqual([]);
    await expect(store.restoreSession(old.id, { actor: "alice" })).rejects.toBeInstanceOf(NotFoundError);
    expect(await listed(store)).toEqual([mid.id, fresh.id].sort());

    const audit: DeletionAuditRecord[] = await all(store.deletionAudit());
    // One run's records follow the walk's order (newest file first); runs follow each other.
    const row = (a: DeletionAuditRecord) => [a.action, a.session_id, a.stream, a.actor, a.policy, a.bytes];
    const sortRun = (rows: unknown[][]) => rows.map((r) => JSON.stringify(r)).sort();
    expect(sortRun(audit.slice(0, 2).map(row))).toEqual(sortRun([
      ["soft_delete", old.id, null, "policy:org-default", "org-default", dry.bytes_freed - RAW],
      ["delete_stream", mid.id, "raw-api", "policy:org-default", "org-default", RAW],
    ]));
    expect(row(audit[2]!)).toEqual(["restore", old.id, null, "alice", null, 0]);
    expect(sortRun(audit.slice(3, 5).map(row))).toEqual(sortRun([
      ["soft_delete", old.id, null, "policy:org-default", "org-default", dry.bytes_freed - RAW],
      // At NOW + 8 days the fresh session's raw API lines are past their 7 days too.
      ["delete_stream", fresh.id, "raw-api", "policy:org-default", "org-default", RAW],
    ]));
    expect(row(audit[5]!)).toEqual(["purge", old.id, null, "policy:org-default", "org-default", dry.bytes_freed - RAW]);
    expect(audit).toHaveLength(6);
    expect(audit.every((a) => !Number.isNaN(Date.parse(a.at)))).toBe(true);
    expect(audit[2]!.reason).toBe("needed for an incident");
    expect(await all(store.deletionAudit({ since: new Date(Date.parse(audit[5]!.at)) }))).toContainEqual(audit[5]);
    await store.close();
  });

  it("a legal hold on a session or on the whole org blocks every deletion, soft-deleted sessions included", async () => {
    const root = await tempHome();
    const store = new FsStore({ root, org: "acme" });
    const other = new FsStore({ root, org: "globex" });
    const held = await session(store, 90);
    const free = await session(store, 90);
    const elsewhere = await session(other, 90);
    await store.setLegalHold(held.id, true);
    const run = await applyRetention(store, policy, { now: NOW });
    expect(run.expired).toEqual([free.id]);
    expect(run.held).toEqual([held.id]);
    for (const attempt of [
      () => store.purgeSession(held.id, { actor: "x" }),
      () => store.softDeleteSession(held.id, { actor: "x", purgeAfter: NOW }),
      () => store.deleteStream(held.id, "raw-api", { actor: "x" }),
      () => store.deleteSession(held.id, { actor: "x" }),
    ]) {
      await expect(attempt()).rejects.toBeInstanceOf(LegalHoldError);
    }
    expect(await lines(store, held.id, "raw-api")).toHaveLength(1);

    // A hold placed on a session in the trash blocks its purge after the grace period.
    await store.setLegalHold(free.id, true);
    const later = await applyRetention(store, policy, { now: new Date(NOW.getTime() + 30 * DAY_MS) });
    expect(later.purged).toEqual([]);
    expect(later.held.sort()).toEqual([held.id, free.id].sort());
    await expect(store.purgeSession(free.id, { actor: "x" })).rejects.toBeInstanceOf(LegalHoldError);
    await store.setLegalHold(free.id, false);

    await store.restoreSession(free.id, { actor: "x" });
    await store.setOrgLegalHold(true);
    expect(await store.orgLegalHold()).toBe(true);
    expect(await other.orgLegalHold()).toBe(false);
    const blocked = await applyRetention(store, policy, { now: NOW });
    expect(blocked.expired).toEqual([]);
    expect(blocked.held.sort()).toEqual([held.id, free.id].sort());
    await expect(store.deleteSession(free.id)).rejects.toBeInstanceOf(LegalHoldError);
    expect((await store.prune({ olderThan: NOW })).held.sort()).toEqual([held.id, free.id].sort());
    expect(await lines(store, free.id)).toEqual(free.rollout);
    // Another org is not held by acme's hold.
    expect((await applyRetention(other, policy, { now: NOW })).expired).toEqual([elsewhere.id]);

    await store.setOrgLegalHold(false);
    expect((await applyRetention(store, policy, { now: NOW })).expired).toEqual([free.id]);
    const audit = await all(store.deletionAudit());
    expect(audit.map((a) => a.action)).toEqual(["soft_delete", "restore", "soft_delete"]);
    expect(audit.every((a) => a.session_id === free.id)).toBe(true);
    await store.close();
    await other.close();
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
      expect(Object.keys(after).filter((k) => !(k in before)).every((k) => k.startsWith(".sessionvault/"))).toBe(true);
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

  it("manual deletes and prune go through the same audit; bad ids and stream names are refused before anything is touched", async () => {
    const home = await tempHome();
    const store = new FsStore({ root: home });
    // A line written by an older fs-store (before retention) still reads as a delete.
    await mkdir(join(home, ".sessionvault"), { recursive: true });
    await writeFile(join(home, ".sessionvault", "deletions.jsonl"), '{"id":"0d000001-3333-7000-8000-000000000000","deleted_at":"2026-01-01T00:00:00.000Z","actor":"bob","reason":null}\n');
    const s = await session(store, 1);
    const t = await session(store, 2);
    const tree = await snapshotTree(home);
    for (const attempt of [
      () => store.softDeleteSession("../../etc", { actor: "x", purgeAfter: NOW }),
      () => store.purgeSession("../x", { actor: "x" }),
      () => store.restoreSession("not-a-uuid", { actor: "x" }),
      () => store.deleteStream(s.id, "../session.json", { actor: "x" }),
    ]) {
      await expect(attempt()).rejects.toBeInstanceOf(InvalidIdError);
    }
    await expect(store.deleteStream(s.id, "rollout", { actor: "x" })).rejects.toBeInstanceOf(InvalidInputError);
    expect(await store.deleteStream(s.id, "never-written", { actor: "x" })).toBe(0);
    expect(await snapshotTree(home)).toEqual(tree);

    await store.deleteSession(s.id, { actor: "carol", reason: "asked by the user" });
    await expect(store.getSession(s.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(existsSync(join(home, "sessions", s.id))).toBe(false);
    const pruned = await store.prune({ olderThan: new Date(), actor: "cron" });
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
    expect(audit[1]!.bytes).toBeGreaterThan(0);
    await store.close();
  });
});
