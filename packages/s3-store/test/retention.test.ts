import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { applyRetention, DAY_MS, InvalidInputError, sessionHeadLines, type RetentionPolicy, type SessionInput } from "@sessionvault/core";
import { conformanceId, runRetentionConformance } from "@sessionvault/core/conformance";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bucketLifecycleConfiguration, type S3Store } from "../src/index.js";
import { openTestStore } from "./support/open-store.js";
import { uniquePrefix } from "@sessionvault/testing/s3-server";
import { sharedS3Server } from "@sessionvault/testing/shared-services";

const server = sharedS3Server();
let client: S3Client;
beforeAll(async () => {
  client = new S3Client({ endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true });
});
afterAll(async () => {
  client?.destroy();
});

runRetentionConformance("s3-store", {
  open: async () => openTestStore(server),
  // Org stores share one prefix of the bucket, as the archive server opens them.
  openOrgs: async (orgs) => ((prefix) => orgs.map((org) => openTestStore(server, { prefix, org })))(uniquePrefix()),
});

// What the shared suite cannot see: the objects in the bucket.
const NOW = new Date("2026-06-01T12:00:00.000Z");
const policy: RetentionPolicy = {
  name: "org-default",
  defaultTtlMs: 30 * DAY_MS,
  streamTtlsMs: { "raw-api": 7 * DAY_MS },
  graceMs: 7 * DAY_MS,
  minTtlMs: DAY_MS,
  maxTtlMs: 400 * DAY_MS,
};

/** A session whose last rollout line is `ageDays` before NOW, with a rollout, a debug log and raw API lines. */
async function session(store: S3Store, ageDays: number): Promise<string> {
  const at = new Date(NOW.getTime() - ageDays * DAY_MS).toISOString();
  const input: SessionInput = {
    id: conformanceId(),
    created_at: at,
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
  await store.append(input.id, "rollout", 0, sessionHeadLines(input));
  await store.append(input.id, "debug-log", 0, ["booting", "ready"]);
  await store.append(input.id, "raw-api", 0, ['{"direction":"request","headers":{"authorization":"[REDACTED]"}}']);
  return input.id;
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

describe("retention on S3: the objects", () => {
  test("a dry run writes no object; a soft delete keeps the session's objects; a purge removes them, their index entries and the trash marker; the audit is one object per record; a held org's objects stay", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix });
    const sessionsOnly = { ...policy, streamTtlsMs: {} };
    const old = await session(store, 60);
    const fresh = await session(store, 1);
    // A held org's session in the same bucket prefix.
    const held = openTestStore(server, { prefix, org: "acme" });
    const heldId = await session(held, 100);
    await held.setOrgLegalHold(true);
    const snapshot = await objects(`${prefix}/`);
    await applyRetention(store, sessionsOnly, { now: NOW, dryRun: true });
    expect(await objects(`${prefix}/`)).toEqual(snapshot);

    await applyRetention(store, sessionsOnly, { now: NOW });
    expect((await objects(`${prefix}/sessions/${old}/`)).size).toBeGreaterThan(0);
    expect((await objects(`${prefix}/trash/`)).size).toBeGreaterThan(0);
    await applyRetention(store, sessionsOnly, { now: new Date(NOW.getTime() + 8 * DAY_MS) });
    expect(await objects(`${prefix}/sessions/${old}/`)).toEqual(new Map());
    expect([...(await objects(`${prefix}/index/`)).keys()].some((k) => k.endsWith(old))).toBe(false);
    expect([...(await objects(`${prefix}/trash/`)).keys()]).toEqual([]);
    expect((await objects(`${prefix}/sessions/${fresh}/`)).size).toBeGreaterThan(0);
    // Without the hold, a grace of 0 would soft-delete and purge it in this run.
    expect((await applyRetention(held, { ...sessionsOnly, graceMs: 0 }, { now: NOW })).held).toEqual([heldId]);
    expect((await objects(`${prefix}/orgs/acme/sessions/${heldId}/`)).size).toBeGreaterThan(0);
    await held.close();

    const keys = [...(await objects(`${prefix}/audit/`)).keys()];
    expect(keys).toHaveLength(2);
    const records = await Promise.all(
      keys.map(
        async (Key) =>
          JSON.parse(await (await client.send(new GetObjectCommand({ Bucket: server.bucket, Key }))).Body!.transformToString()) as {
            action: string;
            session_id: string;
          },
      ),
    );
    expect(records.map((r) => [r.action, r.session_id]).sort()).toEqual([
      ["purge", old],
      ["soft_delete", old],
    ]);
    await store.close();
  });
});

describe("bucket lifecycle configuration", () => {
  test("expresses the policy as lifecycle rules scoped to the store's prefix and org", () => {
    const cfg = bucketLifecycleConfiguration(policy, { bucket: "archive", prefix: "sv", org: "acme" });
    expect(cfg.Bucket).toBe("archive");
    expect(cfg.LifecycleConfiguration!.Rules).toEqual([
      {
        ID: "sessionvault-org-default-sessions",
        Status: "Enabled",
        Filter: { Prefix: "sv/orgs/acme/sessions/" },
        Expiration: { Days: 37 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
      { ID: "sessionvault-org-default-index", Status: "Enabled", Filter: { Prefix: "sv/orgs/acme/index/by-time/" }, Expiration: { Days: 37 } },
      {
        ID: "sessionvault-org-default-stream-raw-api",
        Status: "Enabled",
        Filter: { And: { Prefix: "sv/orgs/acme/sessions/", Tags: [{ Key: "sessionvault-stream", Value: "raw-api" }] } },
        Expiration: { Days: 14 },
      },
    ]);
    expect(() => bucketLifecycleConfiguration({ ...policy, defaultTtlMs: -1 }, { bucket: "archive" })).toThrow(InvalidInputError);
  });
});
