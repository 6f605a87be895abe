import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { mountSmallDisk, type SmallDisk } from "@sessionvault/testing/small-disk";
import { createApiToken } from "../src/tokens.js";
import { spawnServer, type ServerProcess } from "./support/server-process.js";

/**
 * Issue 12, item 1: a full disk tears the last line of tokens.jsonl; a
 * revocation written after it must not be glued onto the fragment (and lost
 * with it), also across a restart. Runs on a real 1 MiB tmpfs filled up for
 * real, with the server as a separate process.
 */
const disk = await mountSmallDisk("1m");
const skip = typeof disk === "string" ? disk : null;

describe.skipIf(skip !== null)(`fs store on a full disk${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let d: SmallDisk;
  let store: string;
  let server: ServerProcess;
  let admin: string;

  beforeAll(async () => {
    d = disk as SmallDisk;
    store = join(d.dir, "store");
    const tokens = new FsStore({ root: store });
    admin = (await createApiToken(tokens, "acme", ["admin"])).token;
    await tokens.close();
    server = await spawnServer(store);
  });

  afterAll(async () => {
    await server?.stop();
    await d?.unmount();
  });

  const call = (method: string, path: string, token: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  test("a revocation (DELETE /v1/tokens/{id}) after a disk-full error holds, also after a restart; a token made afterwards works", async () => {
    const file = join(store, ".sessionvault", "tokens.jsonl");
    const create = async () => {
      const res = await call("POST", "/v1/tokens", admin, { scopes: ["read"] });
      expect(res.status, await res.clone().text()).toBe(201);
      return (await res.json()) as { id: string; token: string };
    };
    const victim = await create();
    // Tokens until the last page of tokens.jsonl has a little room left, less than one
    // record: on a full disk the next record then fits only in part (a short write).
    let size = statSync(file).size;
    const before = size;
    await create();
    size = statSync(file).size;
    const record = size - before;
    for (let i = 0; i < 200 && !(size % 4096 > 4096 - record + 8); i++) {
      await create();
      size = statSync(file).size;
    }
    expect(size % 4096, "no page end within one record's reach").toBeGreaterThan(4096 - record + 8);

    d.fill();
    const refused = await call("POST", "/v1/tokens", admin, { scopes: ["read"] });
    expect(refused.status, await refused.clone().text()).toBeGreaterThanOrEqual(500);
    await d.free();

    const revoke = await call("DELETE", `/v1/tokens/${victim.id}`, admin);
    expect(revoke.status, await revoke.clone().text()).toBe(200);
    expect((await call("GET", "/v1/sessions", victim.token)).status).toBe(401);
    const later = await create();

    await server.stop();
    server = await spawnServer(store);
    expect((await call("GET", "/v1/sessions", victim.token)).status, "the revoked token works again after a restart").toBe(401);
    expect((await call("GET", "/v1/sessions", later.token)).status, "a token made after the full disk does not work").toBe(200);
    const listed = (await (await call("GET", "/v1/tokens", admin)).json()) as { tokens: { id: string }[] };
    expect(listed.tokens.map((t) => t.id)).not.toContain(victim.id);
    expect(listed.tokens.map((t) => t.id)).toContain(later.id);
    // Every line of the file is a whole record: the failed write left no fragment.
    const text = readFileSync(file, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    for (const line of text.split("\n").slice(0, -1)) expect(() => JSON.parse(line), line).not.toThrow();
  });
});
