import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { sessionHeadLines } from "../codex/session-lines.js";
import { InvalidIdError, InvalidInputError, LegalHoldError, NotFoundError } from "../errors.js";
import { applyRetention, DAY_MS, type RetentionPolicy } from "../retention.js";
import type { SessionInput, StreamInfo } from "../session.js";
import type { DeletionAuditRecord, RetentionStore, SessionStore } from "../store.js";

/**
 * The retention conformance suite: the same cases, driven through core's `applyRetention()`,
 * against every `RetentionStore`. A store's retention tests call it at top level and keep only
 * what is specific to how the store keeps things (files, objects, rows). Everything here is
 * judged by what the store reports (reads, listings, positions, trash, audit). Sessions are made
 * as in `runStoreConformance`: their age is their rollout lines' timestamp, against a fixed `NOW`.
 */
export type RetentionConformanceStore = SessionStore & RetentionStore;

export interface RetentionConformanceContext {
  /** A new, empty store isolated from every other `open()`. Called once or more per case. */
  open(): Promise<RetentionConformanceStore>;
  /** Stores over ONE new, empty storage, each scoped to one of `orgs` (an org hold must stay in its org). */
  openOrgs(orgs: readonly string[]): Promise<RetentionConformanceStore[]>;
  /** Runs once after every case of the suite (stores were already closed). */
  cleanup?(): Promise<void>;
}

const NOW = new Date("2026-06-01T12:00:00.000Z");
const at = (days: number): Date => new Date(NOW.getTime() + days * DAY_MS);
const POLICY: RetentionPolicy = { name: "org-default", defaultTtlMs: 30 * DAY_MS, graceMs: 7 * DAY_MS };
const WITH_RAW_TTL: RetentionPolicy = { ...POLICY, streamTtlsMs: { "raw-api": 7 * DAY_MS } };
const BY_POLICY = { actor: "policy:org-default", policy: "org-default" };

const DEBUG = ["booting", "ready"];
const RAW = ['{"direction":"request","headers":{"authorization":"[REDACTED]"}}'];

interface Aged {
  id: string;
  streams: { rollout: string[]; "debug-log": string[]; "raw-api": string[] };
}

const bytesOf = (lines: readonly string[]): number => lines.reduce((n, l) => n + Buffer.byteLength(l, "utf8") + 1, 0);
const streamBytes = (s: Aged): number => Object.values(s.streams).reduce((n, l) => n + bytesOf(l), 0);

/** A session whose rollout was last written `ageDays` before NOW, with a rollout, a debug log and raw API lines. */
async function aged(store: RetentionConformanceStore, ageDays: number): Promise<Aged> {
  const created = at(-ageDays).toISOString();
  const input: SessionInput = {
    id: randomUUID(),
    created_at: created,
    cwd: "/w",
    title: `aged ${ageDays}d`,
    archived: false,
    source: "cli",
    originator: "test",
    cli_version: "0.169.0",
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
  };
  await store.putSession(input);
  const streams = { rollout: sessionHeadLines(input), "debug-log": DEBUG, "raw-api": RAW };
  for (const [name, lines] of Object.entries(streams)) await store.append(input.id, name, 0, lines);
  return { id: input.id, streams };
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

const read = (store: RetentionConformanceStore, id: string, stream = "rollout"): Promise<string[]> => all(store.readStream(id, stream));
const listed = async (store: RetentionConformanceStore): Promise<string[]> =>
  (await store.listSessions({ archived: "all", limit: 1000 })).sessions.map((s) => s.id).sort();
const sorted = (ids: readonly string[]): string[] => [...ids].sort();
const positions = async (store: RetentionConformanceStore, id: string): Promise<[string, number][]> =>
  (await store.streamPositions(id)).map((p: StreamInfo) => [p.name, p.lines] as [string, number]).sort(([a], [b]) => a.localeCompare(b));
const row = (a: DeletionAuditRecord): unknown[] => [a.action, a.session_id, a.stream, a.actor, a.policy];

/** Everything a store reports about its sessions: what a run that changes nothing must leave as it was. */
async function observe(store: RetentionConformanceStore, ids: readonly string[]): Promise<unknown> {
  const live = await listed(store);
  const streams: Record<string, unknown> = {};
  for (const id of live) streams[id] = [await positions(store, id), await read(store, id), await read(store, id, "raw-api")];
  const hidden = ids.filter((id) => !live.includes(id)).sort();
  return { live, hidden, streams, softDeleted: await all(store.softDeletedSessions()), audit: await all(store.deletionAudit()) };
}

async function expectHidden(store: RetentionConformanceStore, id: string): Promise<void> {
  await expect(store.getSession(id)).rejects.toBeInstanceOf(NotFoundError);
  await expect(store.getSession(id.slice(0, 8))).rejects.toBeInstanceOf(NotFoundError);
  await expect(read(store, id)).rejects.toBeInstanceOf(NotFoundError);
  await expect(read(store, id, "debug-log")).rejects.toBeInstanceOf(NotFoundError);
  await expect(store.streamPositions(id)).rejects.toBeInstanceOf(NotFoundError);
  await expect(store.append(id, "rollout", 3, ["x"])).rejects.toBeInstanceOf(NotFoundError);
}

export function runRetentionConformance(name: string, context: RetentionConformanceContext): void {
  describe(`${name} — RetentionStore conformance`, () => {
    const opened: RetentionConformanceStore[] = [];
    const open = async (): Promise<RetentionConformanceStore> => (await openOrgs(null))[0]!;
    const openOrgs = async (orgs: readonly string[] | null): Promise<RetentionConformanceStore[]> => {
      const stores = orgs ? await context.openOrgs(orgs) : [await context.open()];
      opened.push(...stores);
      return stores;
    };
    afterEach(async () => void (await Promise.all(opened.splice(0).map((s) => s.close()))));
    afterAll(async () => context.cleanup?.());

    it("expired sessions go soft first (hidden, restorable with every byte), then hard once the grace period is over", async () => {
      const store = await open();
      const old = await aged(store, 90);
      const mid = await aged(store, 10);
      const fresh = await aged(store, 2);
      const before = await positions(store, old.id);

      const run = await applyRetention(store, POLICY, { now: NOW });
      expect(run).toMatchObject({ dry_run: false, expired: [old.id], purged: [], held: [], streams_expired: [] });
      // At least every line of every stream (a store may count its own metadata too).
      const size = run.bytes_freed;
      expect(size).toBeGreaterThanOrEqual(streamBytes(old));
      await expectHidden(store, old.id);
      expect(await listed(store)).toEqual(sorted([mid.id, fresh.id]));
      const trash = await all(store.softDeletedSessions());
      expect(trash.map((s) => [s.id, s.purge_after, s.legal_hold])).toEqual([[old.id, at(7).toISOString(), false]]);
      // What a purge will free: every line at least (a store may count more objects or rows than the streams).
      const trashed = trash[0]!.bytes;
      expect(trashed).toBeGreaterThanOrEqual(size);

      await store.restoreSession(old.id, { actor: "alice", reason: "needed for an incident" });
      for (const [stream, lines] of Object.entries(old.streams)) expect(await read(store, old.id, stream), stream).toEqual(lines);
      expect(await positions(store, old.id)).toEqual(before);
      expect(await listed(store)).toEqual(sorted([old.id, mid.id, fresh.id]));
      expect(await all(store.softDeletedSessions())).toEqual([]);
      await expect(store.restoreSession(old.id, { actor: "alice" })).rejects.toBeInstanceOf(NotFoundError);

      expect((await applyRetention(store, POLICY, { now: NOW })).expired).toEqual([old.id]);
      const within = await applyRetention(store, POLICY, { now: at(3) });
      expect(within).toMatchObject({ expired: [], purged: [], bytes_purged: 0 });
      expect((await all(store.softDeletedSessions())).map((s) => s.id)).toEqual([old.id]);
      const after = await applyRetention(store, POLICY, { now: at(8) });
      expect(after).toMatchObject({ expired: [], purged: [old.id], bytes_purged: trashed });
      expect(await all(store.softDeletedSessions())).toEqual([]);
      await expect(store.restoreSession(old.id, { actor: "alice" })).rejects.toBeInstanceOf(NotFoundError);
      await expectHidden(store, old.id);
      expect(await listed(store)).toEqual(sorted([mid.id, fresh.id]));
      expect(await read(store, mid.id)).toEqual(mid.streams.rollout);

      const audit = await all(store.deletionAudit());
      expect(audit.map(row)).toEqual([
        ["soft_delete", old.id, null, BY_POLICY.actor, BY_POLICY.policy],
        ["restore", old.id, null, "alice", null],
        ["soft_delete", old.id, null, BY_POLICY.actor, BY_POLICY.policy],
        ["purge", old.id, null, BY_POLICY.actor, BY_POLICY.policy],
      ]);
      // What a restore counts is the store's; deletions count what they hid or freed.
      expect([audit[0]!.bytes, audit[2]!.bytes, audit[3]!.bytes]).toEqual([size, size, trashed]);
      expect(audit[1]!.reason).toBe("needed for an incident");
    });

    it("a per-stream TTL deletes only that stream of a kept session, once", async () => {
      const store = await open();
      const mid = await aged(store, 10);
      const fresh = await aged(store, 2);

      const run = await applyRetention(store, WITH_RAW_TTL, { now: NOW });
      expect(run).toMatchObject({ expired: [], purged: [], held: [], bytes_freed: bytesOf(RAW) });
      expect(run.streams_expired).toEqual([{ session_id: mid.id, stream: "raw-api", bytes: bytesOf(RAW) }]);
      expect(await positions(store, mid.id)).toEqual([
        ["debug-log", DEBUG.length],
        ["rollout", mid.streams.rollout.length],
      ]);
      expect(await read(store, mid.id)).toEqual(mid.streams.rollout);
      expect(await read(store, mid.id, "debug-log")).toEqual(DEBUG);
      expect(await read(store, fresh.id, "raw-api")).toEqual(RAW);
      expect(await listed(store)).toEqual(sorted([mid.id, fresh.id]));

      // A second run finds nothing more to do and writes no second record.
      expect((await applyRetention(store, WITH_RAW_TTL, { now: NOW })).streams_expired).toEqual([]);
      const audit = await all(store.deletionAudit());
      expect(audit.map((a) => [...row(a), a.bytes])).toEqual([["delete_stream", mid.id, "raw-api", BY_POLICY.actor, BY_POLICY.policy, bytesOf(RAW)]]);
    });

    it("a dry run reports what would go, with counts and bytes, and changes nothing", async () => {
      const store = await open();
      const old = await aged(store, 60);
      const streamOnly = await aged(store, 10);
      const fresh = await aged(store, 1);
      const gone = await aged(store, 90);
      await store.softDeleteSession(gone.id, { ...BY_POLICY, purgeAfter: at(-1) });
      const ids = [old.id, streamOnly.id, fresh.id, gone.id];
      const before = await observe(store, ids);

      const dry = await applyRetention(store, WITH_RAW_TTL, { now: NOW, dryRun: true });
      expect(dry).toMatchObject({ dry_run: true, expired: [old.id], purged: [gone.id], held: [] });
      expect(dry.streams_expired).toEqual([{ session_id: streamOnly.id, stream: "raw-api", bytes: bytesOf(RAW) }]);
      expect(dry.bytes_purged).toBe((await all(store.softDeletedSessions()))[0]!.bytes);
      expect(await observe(store, ids)).toEqual(before);

      const real = await applyRetention(store, WITH_RAW_TTL, { now: NOW });
      expect(real).toEqual({ ...dry, dry_run: false });
      expect(await listed(store)).toEqual(sorted([streamOnly.id, fresh.id]));
    });

    it("a legal hold on a session blocks expiry, stream TTLs, purge and manual delete, and writes no audit", async () => {
      const store = await open();
      const held = await aged(store, 90);
      const free = await aged(store, 90);
      await store.setLegalHold(held.id, true);

      const run = await applyRetention(store, WITH_RAW_TTL, { now: NOW });
      expect(run).toMatchObject({ expired: [free.id], held: [held.id], streams_expired: [] });
      for (const attempt of [
        () => store.purgeSession(held.id, { actor: "x" }),
        () => store.softDeleteSession(held.id, { actor: "x", purgeAfter: NOW }),
        () => store.deleteStream(held.id, "raw-api", { actor: "x" }),
        () => store.deleteSession(held.id, { actor: "x" }),
      ]) {
        await expect(attempt()).rejects.toBeInstanceOf(LegalHoldError);
      }
      for (const [stream, lines] of Object.entries(held.streams)) expect(await read(store, held.id, stream), stream).toEqual(lines);
      const later = await applyRetention(store, WITH_RAW_TTL, { now: at(30) });
      expect(later).toMatchObject({ expired: [], purged: [free.id], held: [held.id] });
      expect(await listed(store)).toEqual([held.id]);

      const audit = await all(store.deletionAudit());
      expect(audit.map((a) => [a.action, a.session_id])).toEqual([
        ["soft_delete", free.id],
        ["purge", free.id],
      ]);
    });

    it("a legal hold placed on a soft-deleted session (within its grace period) keeps it from the purge; restore still works", async () => {
      const store = await open();
      const old = await aged(store, 90);
      expect((await applyRetention(store, POLICY, { now: NOW })).expired).toEqual([old.id]);
      await store.setLegalHold(old.id, true);
      expect((await all(store.softDeletedSessions())).map((s) => [s.id, s.legal_hold])).toEqual([[old.id, true]]);
      await expect(store.purgeSession(old.id, { actor: "x" })).rejects.toBeInstanceOf(LegalHoldError);
      expect(await applyRetention(store, POLICY, { now: at(8) })).toMatchObject({ purged: [], held: [old.id] });
      await store.restoreSession(old.id, { actor: "legal" });
      for (const [stream, lines] of Object.entries(old.streams)) expect(await read(store, old.id, stream), stream).toEqual(lines);
      expect(await listed(store)).toEqual([old.id]);
      expect((await all(store.deletionAudit())).map((a) => [a.action, a.bytes === 0])).toEqual([
        ["soft_delete", false],
        ["restore", true],
      ]);
    });

    it("an org hold blocks every deletion in its org, soft-deleted sessions included, and nothing in another org", async () => {
      const [acme, globex] = await openOrgs(["acme", "globex"]);
      const a = await aged(acme!, 90);
      expect((await applyRetention(acme!, POLICY, { now: NOW })).expired).toEqual([a.id]);
      const b = await aged(acme!, 90);
      const young = await aged(acme!, 1);
      const c = await aged(globex!, 90);

      await acme!.setOrgLegalHold(true);
      expect(await acme!.orgLegalHold()).toBe(true);
      expect(await globex!.orgLegalHold()).toBe(false);
      const blocked = await applyRetention(acme!, WITH_RAW_TTL, { now: at(8) });
      expect(blocked).toMatchObject({ expired: [], purged: [], streams_expired: [] });
      expect(sorted(blocked.held)).toEqual(sorted([a.id, b.id, young.id]));
      for (const attempt of [
        () => acme!.deleteSession(young.id, { actor: "x" }),
        () => acme!.deleteStream(young.id, "raw-api", { actor: "x" }),
        () => acme!.softDeleteSession(b.id, { actor: "x", purgeAfter: NOW }),
        () => acme!.purgeSession(a.id, { actor: "x" }),
      ]) {
        await expect(attempt()).rejects.toBeInstanceOf(LegalHoldError);
      }
      const pruned = await applyRetention(acme!, { name: "prune", defaultTtlMs: 0, graceMs: 0 }, { now: NOW });
      expect(pruned.expired).toEqual([]);
      expect(pruned.held).toContain(b.id);
      expect(await listed(acme!)).toEqual(sorted([b.id, young.id]));
      expect(await read(acme!, young.id, "raw-api")).toEqual(RAW);
      // Another org is not held by acme's hold.
      expect((await applyRetention(globex!, POLICY, { now: NOW })).expired).toEqual([c.id]);

      await acme!.setOrgLegalHold(false);
      const released = await applyRetention(acme!, POLICY, { now: at(8) });
      expect(released).toMatchObject({ expired: [b.id], purged: [a.id], held: [] });
      expect((await all(acme!.deletionAudit())).map((r) => [r.action, r.session_id])).toEqual([
        ["soft_delete", a.id],
        ["soft_delete", b.id],
        ["purge", a.id],
      ]);
      expect((await all(globex!.deletionAudit())).map((r) => [r.action, r.session_id])).toEqual([["soft_delete", c.id]]);
    });

    it("every deletion writes exactly one audit record: when, what, who or which policy, and how many bytes", async () => {
      const store = await open();
      const expiring = await aged(store, 60);
      const streamOnly = await aged(store, 10);
      const manual = await aged(store, 1);
      const start = Date.now();
      await store.deleteSession(manual.id, { actor: "alice", reason: "asked by the user" });
      const run = await applyRetention(store, { ...WITH_RAW_TTL, graceMs: 0 }, { now: NOW });
      expect(run).toMatchObject({ expired: [expiring.id], purged: [expiring.id] });
      const end = Date.now();

      const audit = await all(store.deletionAudit());
      expect(audit).toHaveLength(4);
      expect(row(audit[0]!)).toEqual(["delete", manual.id, null, "alice", null]);
      expect(audit[0]!.reason).toBe("asked by the user");
      // Within one run the order of sessions is the store's; the purge pass follows the expiry pass.
      expect(sorted(audit.slice(1, 3).map((a) => JSON.stringify(row(a))))).toEqual(
        sorted([
          JSON.stringify(["soft_delete", expiring.id, null, BY_POLICY.actor, BY_POLICY.policy]),
          JSON.stringify(["delete_stream", streamOnly.id, "raw-api", BY_POLICY.actor, BY_POLICY.policy]),
        ]),
      );
      expect(row(audit[3]!)).toEqual(["purge", expiring.id, null, BY_POLICY.actor, BY_POLICY.policy]);
      expect(audit[0]!.bytes).toBeGreaterThanOrEqual(streamBytes(manual));
      expect(audit.find((a) => a.action === "delete_stream")!.bytes).toBe(bytesOf(RAW));
      expect(audit[3]!.bytes).toBeGreaterThanOrEqual(streamBytes(expiring));
      for (const a of audit) expect(Math.abs(Date.parse(a.at) - (start + end) / 2)).toBeLessThanOrEqual((end - start) / 2 + 1000);
      expect(await all(store.deletionAudit({ since: new Date(end + 60_000) }))).toEqual([]);
      expect(await all(store.deletionAudit({ since: new Date(start - 60_000) }))).toEqual(audit);
      expect(await listed(store)).toEqual([streamOnly.id]);
    });

    it("bad ids and stream names, and policies outside their bounds, are refused before anything changes", async () => {
      const store = await open();
      const s = await aged(store, 500);
      const before = await observe(store, [s.id]);
      for (const attempt of [
        () => store.softDeleteSession("../../etc", { actor: "x", purgeAfter: NOW }),
        () => store.purgeSession("../x", { actor: "x" }),
        () => store.restoreSession("not-a-uuid/..", { actor: "x" }),
        () => store.deleteStream(s.id, "../session.json", { actor: "x" }),
      ]) {
        await expect(attempt()).rejects.toBeInstanceOf(InvalidIdError);
      }
      // The rollout is the session: it goes with the session, never as a stream.
      await expect(store.deleteStream(s.id, "rollout", { actor: "x" })).rejects.toBeInstanceOf(InvalidInputError);
      const bounded: RetentionPolicy = { ...WITH_RAW_TTL, minTtlMs: DAY_MS, maxTtlMs: 400 * DAY_MS };
      const bad: Partial<RetentionPolicy>[] = [
        { defaultTtlMs: 500 * DAY_MS },
        { streamTtlsMs: { "raw-api": 60_000 } },
        { streamTtlsMs: { rollout: 7 * DAY_MS } },
        { graceMs: -1 },
        { minTtlMs: 10 * DAY_MS, maxTtlMs: DAY_MS },
        { name: "../evil" },
      ];
      for (const change of bad) {
        await expect(applyRetention(store, { ...bounded, ...change }, { now: NOW }), JSON.stringify(change)).rejects.toBeInstanceOf(InvalidInputError);
      }
      expect(await observe(store, [s.id])).toEqual(before);
      // The same policy within its bounds does expire the session.
      expect((await applyRetention(store, bounded, { now: NOW })).expired).toEqual([s.id]);
    });
  });
}
