import { GetObjectCommand, GetObjectLegalHoldCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ConflictError, InvalidIdError, InvalidInputError, type SessionInput } from "@sessionvault/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { S3Store } from "../src/index.js";
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

let n = 0;
function input(overrides: Partial<SessionInput> = {}): SessionInput {
  n++;
  return {
    id: `0b${String(n).padStart(6, "0")}-1111-7000-8000-${String(Date.now() % 1e12).padStart(12, "0")}`,
    created_at: new Date(Date.parse("2026-05-01T00:00:00.000Z") + n * 60_000).toISOString(),
    cwd: "/w",
    title: `session ${n}`,
    archived: false,
    source: "cli",
    originator: "test",
    cli_version: "0.169.0",
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
    ...overrides,
  };
}

async function readAll(store: S3Store, id: string, stream: string, fromSeq?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const l of store.readStream(id, stream, fromSeq === undefined ? {} : { fromSeq })) out.push(l);
  return out;
}

async function keys(prefix: string): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const res = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0 });
    token = res.NextContinuationToken;
  } while (token);
  return out;
}

describe("object layout", () => {
  test("an append is one immutable object at its start position, and the session has a newest-first index entry", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix });
    const s = input();
    await store.putSession(s);
    await store.append(s.id, "debug-log", 0, ["a", "b"]);
    await store.append(s.id, "debug-log", 2, ["c"]);
    const all = (await keys(`${prefix}/`)).map((k) => k.key.slice(prefix.length + 1));
    expect(all).toContain(`sessions/${s.id}/streams/debug-log/appends/000000000000`);
    expect(all).toContain(`sessions/${s.id}/streams/debug-log/appends/000000000002`);
    expect(all.filter((k) => k.startsWith("index/by-time/"))).toHaveLength(1);
    expect(all.find((k) => k.startsWith("index/"))).toMatch(new RegExp(`^index/by-time/\\d{6}/\\d{7}-${s.id}$`));
    await store.close();
  });

  test("two store instances appending at one position: exactly one wins each round, even with warm position caches", async () => {
    const prefix = uniquePrefix();
    const a = openTestStore(server, { prefix });
    const b = openTestStore(server, { prefix });
    const s = input();
    await a.putSession(s);
    const expected: string[] = [];
    for (let round = 0; round < 8; round++) {
      const la = [`r${round} a`];
      const lb = [`r${round} b1`, `r${round} b2`];
      const [ra, rb] = await Promise.allSettled([a.append(s.id, "rollout", expected.length, la), b.append(s.id, "rollout", expected.length, lb)]);
      expect([ra.status, rb.status].sort()).toEqual(["fulfilled", "rejected"]);
      const lost = (ra.status === "rejected" ? ra.reason : (rb as PromiseRejectedResult).reason) as unknown;
      expect(lost).toBeInstanceOf(ConflictError);
      expected.push(...(ra.status === "fulfilled" ? la : lb));
      expect((lost as ConflictError).currentSeq).toBe(expected.length);
    }
    expect(await readAll(a, s.id, "rollout")).toEqual(expected);
    expect(await readAll(b, s.id, "rollout")).toEqual(expected);
    await Promise.all([a.close(), b.close()]);
  });

  test("appends of at least multipartThresholdBytes go up by multipart upload and read back byte-exact", async () => {
    // Its own prefix picks its requests out of the log of the server other test files share.
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix, multipartThresholdBytes: 5 * 1024 * 1024, partSizeBytes: 5 * 1024 * 1024 });
    const s = input();
    await store.putSession(s);
    const big = JSON.stringify({ type: "response_item", payload: { image: "data:image/png;base64," + "QUJD".repeat(3 * 1024 * 1024) } });
    await store.append(s.id, "rollout", 0, ["first", big, "last ✓"]);
    const log = (await server.requestLog(`/${prefix}/`)).join("\n");
    expect(log).toMatch(/POST .*appends\/000000000000\?uploads/);
    expect(log.match(/PUT .*appends\/000000000000\?.*partNumber=/g)?.length).toBe(3);
    expect(log).toMatch(/POST .*appends\/000000000000\?uploadId=/);
    const back = await readAll(store, s.id, "rollout");
    expect(back.length).toBe(3);
    expect(back[1] === big).toBe(true);
    expect(back[2]).toBe("last ✓");
    // The multipart create is conditional too: a second writer at 0 loses.
    await expect(store.append(s.id, "rollout", 0, [big])).rejects.toBeInstanceOf(ConflictError);
    await store.close();
  });
});

describe("compaction", () => {
  test("merges small appends into a segment, switches the manifest, leaves tombstones, and reads stay byte-exact from any position", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix, compactAfterAppends: 0 });
    const s = input();
    await store.putSession(s);
    const lines: string[] = [];
    for (let i = 0; i < 20; i++) {
      const batch = [`line ${i}.0 {"ü":${i}}`, `line ${i}.1\r`];
      await store.append(s.id, "debug-log", lines.length, batch);
      lines.push(...batch);
    }
    expect(await store.compact(s.id, "debug-log")).toBe(20);
    const stream = `${prefix}/sessions/${s.id}/streams/debug-log/`;
    const objs = await keys(stream);
    const appends = objs.filter((o) => o.key.includes("/appends/"));
    expect(appends).toHaveLength(20);
    expect(appends.every((o) => o.size === 0)).toBe(true); // tombstones keep the keys taken
    expect(objs.filter((o) => o.key.includes("/segments/"))).toHaveLength(1);
    expect(objs.some((o) => o.key.endsWith("manifest.json"))).toBe(true);

    for (const from of [0, 1, 17, 39, 40]) expect(await readAll(store, s.id, "debug-log", from)).toEqual(lines.slice(from));
    expect(await store.streamPositions(s.id)).toEqual([{ name: "debug-log", lines: 40, bytes: Buffer.byteLength(lines.join("\n") + "\n") }]);

    // A writer (another instance, cold cache) at a compacted position is refused: the tombstone still holds the key.
    const stale = openTestStore(server, { prefix });
    await expect(stale.append(s.id, "debug-log", 10, ["stale"])).rejects.toMatchObject({ currentSeq: 40 });
    // Appends continue after the manifest, and a second compaction stacks a second segment.
    for (let i = 0; i < 3; i++) {
      await stale.append(s.id, "debug-log", lines.length, [`after ${i}`]);
      lines.push(`after ${i}`);
    }
    expect(await stale.compact(s.id, "debug-log")).toBe(3);
    expect(await readAll(store, s.id, "debug-log")).toEqual(lines);
    expect((await keys(stream)).filter((o) => o.key.includes("/segments/"))).toHaveLength(2);
    await Promise.all([store.close(), stale.close()]);
  });

  test("a reader in the middle of a stream when compaction switches it continues byte-exact", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix, compactAfterAppends: 0 });
    const s = input();
    await store.putSession(s);
    const lines = Array.from({ length: 30 }, (_, i) => `entry ${i}`);
    for (let i = 0; i < 30; i += 3) await store.append(s.id, "raw-api", i, lines.slice(i, i + 3));
    const got: string[] = [];
    const reader = store.readStream(s.id, "raw-api")[Symbol.asyncIterator]();
    for (let i = 0; i < 4; i++) got.push((await reader.next()).value as string);
    // Compacted by another instance while the reader holds the old plan.
    const other = openTestStore(server, { prefix });
    expect(await other.compact(s.id, "raw-api")).toBe(10);
    for (;;) {
      const r = await reader.next();
      if (r.done) break;
      got.push(r.value);
    }
    expect(got).toEqual(lines);
    await Promise.all([store.close(), other.close()]);
  });

  test("compaction runs by itself after compactAfterAppends appends", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix, compactAfterAppends: 4 });
    const s = input();
    await store.putSession(s);
    for (let i = 0; i < 9; i++) await store.append(s.id, "meta-events", i, [`{"event":${i}}`]);
    await store.close(); // waits for background compaction
    const objs = await keys(`${prefix}/sessions/${s.id}/streams/meta-events/`);
    expect(objs.filter((o) => o.key.includes("/segments/")).length).toBeGreaterThanOrEqual(1);
    const reopened = openTestStore(server, { prefix });
    expect(await readAll(reopened, s.id, "meta-events")).toEqual(Array.from({ length: 9 }, (_, i) => `{"event":${i}}`));
    await reopened.close();
  });
});

describe("legal holds", () => {
  test("with objectLockLegalHolds, a session hold also puts an S3 Object Lock legal hold on each of its objects, and clearing lifts them", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix, objectLockLegalHolds: true });
    const s = input();
    await store.putSession(s);
    await store.append(s.id, "rollout", 0, ['{"a":1}']);
    await store.append(s.id, "raw-api", 0, ['{"r":1}']);
    const status = async (key: string) => (await client.send(new GetObjectLegalHoldCommand({ Bucket: server.bucket, Key: key }))).LegalHold?.Status;
    const objects = (await keys(`${prefix}/sessions/${s.id}/`)).map((o) => o.key);
    expect(objects.length).toBeGreaterThanOrEqual(3);
    await store.setLegalHold(s.id, true);
    for (const key of await keys(`${prefix}/sessions/${s.id}/`)) expect(await status(key.key), key.key).toBe("ON");
    await expect(store.deleteSession(s.id)).rejects.toMatchObject({ code: "LEGAL_HOLD" });
    await store.setLegalHold(s.id, false);
    for (const key of objects) expect(await status(key), key).toBe("OFF");
    expect((await keys(`${prefix}/sessions/${s.id}/legal-hold.json`)).length).toBe(0);
    await store.deleteSession(s.id, { actor: "test" });
    await store.close();
  });
});

describe("orgs, tokens and bad input", () => {
  test("orgs under one prefix never see each other; tokens are shared by the prefix", async () => {
    const prefix = uniquePrefix();
    const acme = openTestStore(server, { prefix, org: "acme" });
    const globex = openTestStore(server, { prefix, org: "globex" });
    const s = input();
    await acme.putSession(s);
    await acme.append(s.id, "rollout", 0, ["x"]);
    expect((await acme.listSessions()).sessions.map((x) => x.id)).toEqual([s.id]);
    expect((await globex.listSessions()).sessions).toEqual([]);
    await expect(globex.getSession(s.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await keys(`${prefix}/orgs/acme/sessions/${s.id}/`)).length).toBeGreaterThan(0);

    const hash = "a".repeat(64);
    await acme.saveToken({ id: "t1", org: "acme", scopes: ["read"], hash, created_at: "2026-01-01T00:00:00.000Z" });
    expect(await globex.findTokenByHash(hash)).toMatchObject({ id: "t1", org: "acme" });
    expect(await globex.findTokenByHash("b".repeat(64))).toBeNull();
    await expect(acme.findTokenByHash("../../x")).rejects.toBeInstanceOf(InvalidInputError);
    await Promise.all([acme.close(), globex.close()]);
  });

  test("a manifest or session document that is not JSON is named in a clear error, and nothing is overwritten", async () => {
    const prefix = uniquePrefix();
    const store = openTestStore(server, { prefix, compactAfterAppends: 0 });
    const s = input();
    await store.putSession(s);
    await store.append(s.id, "rollout", 0, ["a", "b"]);
    await store.compact(s.id, "rollout");
    const manifest = `${prefix}/sessions/${s.id}/streams/rollout/manifest.json`;
    await client.send(new PutObjectCommand({ Bucket: server.bucket, Key: manifest, Body: '{"v":1,"cov' }));
    const fresh = openTestStore(server, { prefix });
    await expect(readAll(fresh, s.id, "rollout")).rejects.toMatchObject({ code: "IO", message: expect.stringContaining(manifest) });
    await expect(fresh.append(s.id, "rollout", 2, ["c"])).rejects.toMatchObject({ code: "IO" });
    const stored = await client.send(new GetObjectCommand({ Bucket: server.bucket, Key: manifest }));
    expect(await stored.Body!.transformToString()).toBe('{"v":1,"cov');

    const doc = `${prefix}/sessions/${s.id}/session.json`;
    await client.send(new PutObjectCommand({ Bucket: server.bucket, Key: doc, Body: "\u0000garbage" }));
    await expect(openTestStore(server, { prefix }).getSession(s.id)).rejects.toMatchObject({ code: "IO", message: expect.stringContaining(doc) });
    await Promise.all([store.close(), fresh.close()]);
  });

  test("a prefix or org that is a path, a forged cursor, and a bad position are refused", async () => {
    expect(() => new S3Store({ bucket: "b", prefix: "../other" })).toThrow(InvalidInputError);
    expect(() => new S3Store({ bucket: "b", prefix: "a/../../b" })).toThrow(InvalidInputError);
    expect(() => new S3Store({ bucket: "b", org: "../acme" })).toThrow(InvalidIdError);
    const store = openTestStore(server);
    await expect(store.listSessions({ cursor: Buffer.from("sessions/../../secret").toString("base64url") })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.listSessions({ cursor: "%%%" })).rejects.toBeInstanceOf(InvalidInputError);
    const s = input();
    await store.putSession(s);
    await expect(store.append(s.id, "rollout", -1, ["x"])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(store.append(s.id, "rollout", 0.5, ["x"])).rejects.toBeInstanceOf(InvalidInputError);
    expect(await readAll(store, s.id, "rollout")).toEqual([]);
    await store.close();
  });
});
