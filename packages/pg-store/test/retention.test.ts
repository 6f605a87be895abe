import { applyRetention, DAY_MS, LegalHoldError, NotFoundError, type DeletionAuditRecord, type RetentionPolicy, type SessionInput } from "@sessionvault/core";
import { conformanceId } from "@sessionvault/core/conformance";
import { PgStore } from "@sessionvault/pg-store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshSchema } from "./support/fresh-schema.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";

let server: TestPostgres;
const stores: PgStore[] = [];
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  for (const s of stores) await s.close();
  await server?.stop();
});

const NOW = new Date("2026-06-01T12:00:00.000Z");
const policy: RetentionPolicy = { name: "org-default", defaultTtlMs: 30 * DAY_MS, streamTtlsMs: { "raw-api": 7 * DAY_MS }, graceMs: 7 * DAY_MS };

function open(org?: string, schema = freshSchema("ret")): PgStore {
  const s = new PgStore({ connectionString: server.url, schema, ...(org ? { org } : {}) });
  stores.push(s);
  return s;
}

/** A session whose last rollout line is `ageDays` before NOW, with a rollout, a debug log and raw API lines. */
async function session(store: PgStore, ageDays: number): Promise<{ id: string; rollout: string[] }> {
  const at = new Date(NOW.getTime() - ageDays * DAY_MS).toISOString();
  const input: SessionInput = { id: conformanceId(), created_at: at, updated_at: at, cwd: "/w", title: `aged ${ageDays}d`, archived: false, source: "cli", originator: "test", cli_version: "0.169.0", model_provider: "openai", git: null, parent_id: null, forked_from_id: null };
  await store.putSession(input);
  const rollout = [JSON.stringify({ timestamp: at, type: "session_meta", payload: { id: input.id } }), JSON.stringify({ timestamp: at, type: "event_msg", payload: { type: "user_message", message: input.title } })];
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

async function lines(store: PgStore, id: string, stream = "rollout"): Promise<string[]> {
  return all(store.readStream(id, stream));
}

describe("retention on Postgres (RetentionStore + applyRetention)", () => {
  it("expired sessions go soft first (hidden, restorable), then hard once the grace period is over; short-TTL streams go alone", async () => {
    const store = open();
    const old = await session(store, 90);
    const mid = await session(store, 10);
    const fresh = await session(store, 2);

    const dry = await applyRetention(store, policy, { now: NOW, dryRun: true });
    expect(dry).toMatchObject({ dry_run: true, expired: [old.id], purged: [], held: [] });
    expect(dry.streams_expired).toEqual([{ session_id: mid.id, stream: "raw-api", bytes: expect.any(Number) }]);
    expect(await lines(store, old.id)).toEqual(old.rollout);
    expect(await all(store.deletionAudit())).toEqual([]);

    const run = await applyRetention(store, policy, { now: NOW });
    expect(run).toMatchObject({ dry_run: false, expired: [old.id], purged: [] });
    expect(run.bytes_freed).toBe(dry.bytes_freed);
    // Soft-deleted: gone from every read, but restorable.
    await expect(store.getSession(old.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(lines(store, old.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.append(old.id, "rollout", 2, ["x"])).rejects.toBeInstanceOf(NotFoundError);
    expect((await store.listSessions({ archived: "all" })).sessions.map((s) => s.id).sort()).toEqual([mid.id, fresh.id].sort());
    expect((await all(store.softDeletedSessions())).map((s) => [s.id, s.purge_after])).toEqual([[old.id, new Date(NOW.getTime() + 7 * DAY_MS).toISOString()]]);
    // The raw API stream of the 10-day-old session is gone; the rest of it stays.
    expect((await store.streamPositions(mid.id)).map((p) => p.name)).toEqual(["debug-log", "rollout"]);
    expect(await lines(store, mid.id)).toEqual(mid.rollout);

    await store.restoreSession(old.id, { actor: "alice", reason: "needed for an incident" });
    expect(await lines(store, old.id)).toEqual(old.rollout);
    await applyRetention(store, policy, { now: NOW });
    // Within the grace period nothing is purged; after it, the session is gone for good.
    const within = await applyRetention(store, policy, { now: new Date(NOW.getTime() + 3 * DAY_MS) });
    expect(within.purged).toEqual([]);
    const after = await applyRetention(store, policy, { now: new Date(NOW.getTime() + 8 * DAY_MS) });
    expect(after.purged).toEqual([old.id]);
    expect(after.bytes_purged).toBeGreaterThan(0);
    expect(await all(store.softDeletedSessions())).toEqual([]);
    await expect(store.restoreSession(old.id, { actor: "alice" })).rejects.toBeInstanceOf(NotFoundError);

    const audit: DeletionAuditRecord[] = await all(store.deletionAudit());
    expect(audit.map((a) => [a.action, a.session_id, a.stream, a.actor, a.policy])).toEqual([
      ["soft_delete", old.id, null, "policy:org-default", "org-default"],
      ["delete_stream", mid.id, "raw-api", "policy:org-default", "org-default"],
      ["restore", old.id, null, "alice", null],
      ["soft_delete", old.id, null, "policy:org-default", "org-default"],
      // At NOW + 8 days the fresh session's raw API lines are past their 7 days too.
      ["delete_stream", fresh.id, "raw-api", "policy:org-default", "org-default"],
      ["purge", old.id, null, "policy:org-default", "org-default"],
    ]);
    expect(audit.every((a) => !Number.isNaN(Date.parse(a.at)))).toBe(true);
    expect(audit[0]!.bytes).toBeGreaterThan(0);
  });

  it("a legal hold on a session or on the whole org blocks every deletion", async () => {
    const schema = freshSchema("hold");
    const store = open("acme", schema);
    const other = open("globex", schema);
    const held = await session(store, 90);
    const free = await session(store, 90);
    const elsewhere = await session(other, 90);
    await store.setLegalHold(held.id, true);
    const run = await applyRetention(store, policy, { now: NOW });
    expect(run.expired).toEqual([free.id]);
    expect(run.held).toEqual([held.id]);
    await expect(store.purgeSession(held.id, { actor: "x" })).rejects.toBeInstanceOf(LegalHoldError);
    await expect(store.deleteStream(held.id, "raw-api", { actor: "x" })).rejects.toBeInstanceOf(LegalHoldError);

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
  });
});
