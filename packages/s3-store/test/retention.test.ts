import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { applyRetention, DAY_MS, InvalidInputError, LegalHoldError, NotFoundError, type DeletionAuditRecord, type RetentionPolicy, type SessionInput } from "@sessionvault/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bucketLifecycleConfiguration, type S3Store } from "../src/index.js";
import { openTestStore } from "./support/open-store.js";
import { startS3Server, uniquePrefix, type TestS3Server } from "./support/s3-server.js";

let server: TestS3Server;
let client: S3Client;
beforeAll(async () => {
  server = await startS3Server();
  client = new S3Client({ endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true });
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

const NOW = new Date("2026-06-01T12:00:00.000Z");
const policy: RetentionPolicy = { name: "org-default", defaultTtlMs: 30 * DAY_MS, streamTtlsMs: { "raw-api": 7 * DAY_MS }, graceMs: 7 * DAY_MS, minTtlMs: DAY_MS, maxTtlMs: 400 * DAY_MS };

let n = 0;
/** A session whose last rollout line is `ageDays` before NOW, with a rollout, a debug log and raw API lines. */
async function session(store: S3Store, ageDays: number): Promise<{ id: string; rollout: string[] }> {
  n++;
  const at = new Date(NOW.getTime() - ageDays * DAY_MS).toISOString();
  const input: SessionInput = {
    id: `0c${String(n).padStart(6, "0")}-2222-7000-8000-${String(ageDays).padStart(12, "0")}`,
    created_at: at,
    updated_at: at,
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
  const rollout = [JSON.stringify({ timestamp: at, type: "session_meta", payload: { id: input.id } }), JSON.stringify({ timestamp: at, type: "event_msg", payload: { type: "user_message", message: input.title } })];
  await store.append(input.id, "rollout", 0, rollout);
  await store.append(input.id, "debug-log", 0, ["booting", "ready"]);
  await store.append(input.id, "raw-api", 0, ['{"direction":"request","headers":{"authorization":"[REDACTED]"}}']);
  return { id: input.id, rollout };
}

async function objects(prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const res = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) out.set(o.Key!, `${o.Size}:${o.ETag}`);
    token = res.NextContinuationToken;
  } while (token);
  return out;
}

async function audit(store: S3Store): Promise<DeletionAuditRecord[]> {
  const out: DeletionAuditRecord[] = [];
  for await (const r of store.deletionAudit()) out.push(r);
  return out;
}

async function rolloutOf(store: S3Store, id: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of store.readStream(id, "rollout")) out.push(l);
  return out;
}

describe("retention on S3", () => {
  test("expired sessions go soft first (hidden, restorable, bytes still there), then hard once the grace period is over", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix });
    const old1 = await session(store, 90);
    const old2 = await session(store, 45);
    const fresh = await session(store, 2);

    const first = await applyRetention(store, policy, { now: NOW });
    expect([...first.expired].sort()).toEqual([old1.id, old2.id].sort());
    expect(first.purged).toEqual([]);
    expect(first.bytes_freed).toBeGreaterThan(0);
    for (const o of [old1, old2]) {
      await expect(store.getSession(o.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.append(o.id, "rollout", 2, ["x"])).rejects.toBeInstanceOf(NotFoundError);
      expect((await objects(`${prefix}/sessions/${o.id}/`)).size).toBeGreaterThan(0); // soft: still stored
    }
    expect((await store.listSessions({ archived: "all" })).sessions.map((s) => s.id)).toEqual([fresh.id]);
    const trash: string[] = [];
    for await (const t of store.softDeletedSessions()) {
      trash.push(t.id);
      expect(t.purge_after).toBe(new Date(NOW.getTime() + 7 * DAY_MS).toISOString());
    }
    expect(trash.sort()).toEqual([old1.id, old2.id].sort());

    // Within the grace period nothing is purged, and a session can be brought back intact.
    const during = await applyRetention(store, policy, { now: new Date(NOW.getTime() + 3 * DAY_MS) });
    expect(during).toMatchObject({ expired: [], purged: [] });
    await store.restoreSession(old2.id, { actor: "alice", reason: "still needed" });
    expect(await rolloutOf(store, old2.id)).toEqual(old2.rollout);
    await store.setLegalHold(old2.id, true);

    const after = await applyRetention(store, policy, { now: new Date(NOW.getTime() + 8 * DAY_MS) });
    expect(after.purged).toEqual([old1.id]);
    expect(after.bytes_purged).toBeGreaterThan(0);
    expect(after.held).toEqual([old2.id]);
    expect(await objects(`${prefix}/sessions/${old1.id}/`)).toEqual(new Map());
    expect([...(await objects(`${prefix}/index/`)).keys()].some((k) => k.endsWith(old1.id))).toBe(false);
    expect([...(await objects(`${prefix}/trash/`)).keys()]).toEqual([]);
    expect(await rolloutOf(store, fresh.id)).toEqual(fresh.rollout);
    await store.close();
  });

  test("held sessions stay: a session hold and an org hold block expiry, purge and manual delete", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix, org: "acme" });
    const held = await session(store, 100);
    const free = await session(store, 100);
    await store.setLegalHold(held.id, true);

    const run = await applyRetention(store, policy, { now: NOW });
    expect(run.expired).toEqual([free.id]);
    expect(run.held).toEqual([held.id]);
    expect(await rolloutOf(store, held.id)).toEqual(held.rollout);
    await expect(store.deleteSession(held.id, { actor: "bob" })).rejects.toBeInstanceOf(LegalHoldError);

    // An org-wide hold placed during the grace period stops the purge too.
    await store.setOrgLegalHold(true);
    expect(await store.orgLegalHold()).toBe(true);
    const blocked = await applyRetention(store, policy, { now: new Date(NOW.getTime() + 30 * DAY_MS) });
    expect(blocked.purged).toEqual([]);
    expect([...blocked.held].sort()).toEqual([held.id, free.id].sort());
    expect((await objects(`${prefix}/orgs/acme/sessions/${free.id}/`)).size).toBeGreaterThan(0);
    const young = await session(store, 1);
    await expect(store.deleteSession(young.id)).rejects.toBeInstanceOf(LegalHoldError);
    await expect(store.purgeSession(free.id, { actor: "bob" })).rejects.toBeInstanceOf(LegalHoldError);

    await store.setOrgLegalHold(false);
    const released = await applyRetention(store, policy, { now: new Date(NOW.getTime() + 30 * DAY_MS) });
    expect(released.purged).toEqual([free.id]);
    expect(released.held).toEqual([held.id]);
    await store.close();
  });

  test("the audit records each deletion: who or which policy, what, when and how big, as immutable objects in the bucket", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix });
    const expiring = await session(store, 60);
    const streamOnly = await session(store, 10);
    const manual = await session(store, 1);
    const before = Date.now();
    await store.deleteSession(manual.id, { actor: "alice", reason: "asked by the user" });
    await applyRetention(store, { ...policy, graceMs: 0 }, { now: NOW });

    const records = await audit(store);
    const byAction = (a: string) => records.filter((r) => r.action === a);
    expect(byAction("delete")).toEqual([expect.objectContaining({ session_id: manual.id, actor: "alice", policy: null, reason: "asked by the user", stream: null })]);
    expect(byAction("soft_delete")).toEqual([expect.objectContaining({ session_id: expiring.id, actor: "policy:org-default", policy: "org-default" })]);
    expect(byAction("purge")).toEqual([expect.objectContaining({ session_id: expiring.id, actor: "policy:org-default", policy: "org-default" })]);
    expect(byAction("delete_stream")).toEqual([expect.objectContaining({ session_id: streamOnly.id, stream: "raw-api", policy: "org-default" })]);
    expect(records).toHaveLength(4);
    for (const r of records) {
      expect(Date.parse(r.at)).toBeGreaterThanOrEqual(before - 1000);
      expect(r.bytes).toBeGreaterThan(0);
    }
    // The raw-api stream expired sooner than the session: it is gone, the rest of the session is kept.
    expect((await store.streamPositions(streamOnly.id)).map((s) => s.name)).toEqual(["debug-log", "rollout"]);
    expect(await rolloutOf(store, streamOnly.id)).toEqual(streamOnly.rollout);
    // One object per record, each readable on its own.
    const keys = [...(await objects(`${prefix}/audit/`)).keys()];
    expect(keys).toHaveLength(4);
    const one = JSON.parse(await (await client.send(new GetObjectCommand({ Bucket: server.bucket, Key: keys[0]! }))).Body!.transformToString());
    expect(one).toHaveProperty("action");
    await store.close();
  });

  test("a dry run changes nothing and reports what would go, with counts and bytes", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix });
    const old = await session(store, 60);
    const streamOnly = await session(store, 10);
    await session(store, 1);
    const gone = await session(store, 90);
    await store.softDeleteSession(gone.id, { actor: "policy:org-default", purgeAfter: new Date(NOW.getTime() - DAY_MS) });
    const snapshot = await objects(`${prefix}/`);

    const dry = await applyRetention(store, policy, { now: NOW, dryRun: true });
    expect(dry).toMatchObject({ dry_run: true, expired: [old.id], purged: [gone.id], held: [] });
    expect(dry.streams_expired).toEqual([{ session_id: streamOnly.id, stream: "raw-api", bytes: expect.any(Number) }]);
    expect(dry.bytes_freed).toBeGreaterThan(0);
    expect(dry.bytes_purged).toBeGreaterThan(0);
    expect(await objects(`${prefix}/`)).toEqual(snapshot);

    const real = await applyRetention(store, policy, { now: NOW });
    expect(real).toMatchObject({ dry_run: false, expired: dry.expired, purged: dry.purged, bytes_freed: dry.bytes_freed, bytes_purged: dry.bytes_purged, streams_expired: dry.streams_expired });
    await store.close();
  });

  test("prune() (the store contract, used by the CLI) soft-deletes with the store's grace period", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix, pruneGraceMs: 7 * DAY_MS });
    const old = await session(store, 400);
    const res = await store.prune({ olderThan: new Date(Date.now() - 30 * DAY_MS), actor: "cli" });
    expect(res).toEqual({ expired: [old.id], held: [], bytes_freed: expect.any(Number), dry_run: false });
    await expect(store.getSession(old.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await objects(`${prefix}/sessions/${old.id}/`)).size).toBeGreaterThan(0);
    expect((await audit(store)).map((r) => [r.action, r.actor])).toEqual([["soft_delete", "cli"]]);
    await store.close();
  });

  test("a policy outside its bounds is refused before anything is deleted", async () => {
    const store = openTestStore(server);
    const s = await session(store, 500);
    await expect(applyRetention(store, { ...policy, defaultTtlMs: 500 * DAY_MS }, { now: NOW })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(applyRetention(store, { ...policy, streamTtlsMs: { "raw-api": 60_000 } }, { now: NOW })).rejects.toBeInstanceOf(InvalidInputError);
    expect(await rolloutOf(store, s.id)).toEqual(s.rollout);
    await store.close();
  });
});

describe("bucket lifecycle configuration", () => {
  test("expresses the policy as lifecycle rules scoped to the store's prefix and org", () => {
    const cfg = bucketLifecycleConfiguration(policy, { bucket: "archive", prefix: "sv", org: "acme" });
    expect(cfg.Bucket).toBe("archive");
    expect(cfg.LifecycleConfiguration!.Rules).toEqual([
      { ID: "sessionvault-org-default-sessions", Status: "Enabled", Filter: { Prefix: "sv/orgs/acme/sessions/" }, Expiration: { Days: 37 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
      { ID: "sessionvault-org-default-index", Status: "Enabled", Filter: { Prefix: "sv/orgs/acme/index/by-time/" }, Expiration: { Days: 37 } },
      { ID: "sessionvault-org-default-stream-raw-api", Status: "Enabled", Filter: { And: { Prefix: "sv/orgs/acme/sessions/", Tags: [{ Key: "sessionvault-stream", Value: "raw-api" }] } }, Expiration: { Days: 14 } },
    ]);
    expect(() => bucketLifecycleConfiguration({ ...policy, defaultTtlMs: -1 }, { bucket: "archive" })).toThrow(InvalidInputError);
  });
});
