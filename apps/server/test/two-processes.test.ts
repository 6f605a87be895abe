import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { TokenStore } from "@sessionvault/core";
import { PgStore } from "@sessionvault/pg-store";
import { S3Store } from "@sessionvault/s3-store";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { uniquePrefix } from "@sessionvault/testing/s3-server";
import { sharedPostgres, sharedS3Server } from "@sessionvault/testing/shared-services";
import { createApiToken } from "../src/tokens.js";
import { fixtureRollouts, fixtureThread } from "@sessionvault/testing/codex-fixtures";
import { ingestRollout } from "./support/ingest.js";
import { spawnServer, type ServerProcess } from "./support/server-process.js";
import { uiLogin } from "@sessionvault/testing/ui-login";

const VERSION = "0.98.0";
const UI_SECRET = "two-processes-share-this-ui-secret-0123456789";

interface Backend {
  /** The store URL both server processes get. */
  url: string;
  /** Extra environment of the server processes. */
  env: Record<string, string>;
  tokens(): TokenStore & { close(): Promise<void> };
}

const BACKENDS: Record<string, () => Promise<Backend>> = {
  Postgres: async () => {
    const pg = sharedPostgres();
    const schema = freshSchema("two");
    const u = new URL(pg.url);
    u.searchParams.set("schema", schema);
    return { url: u.href, env: {}, tokens: () => new PgStore({ connectionString: pg.url, schema }) };
  },
  S3: async () => {
    const s3 = sharedS3Server();
    const prefix = uniquePrefix("two");
    const url = `s3://${s3.bucket}/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&force_path_style=true`;
    return {
      url,
      env: { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey },
      tokens: () => new S3Store({ bucket: s3.bucket, prefix, endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials }),
    };
  },
};

describe.each(Object.keys(BACKENDS))("two server processes over one %s store", (name) => {
  let backend: Backend;
  let a: ServerProcess;
  let b: ServerProcess;
  let token: string;

  beforeAll(async () => {
    backend = await BACKENDS[name]!();
    const tokens = backend.tokens();
    try {
      token = (await createApiToken(tokens, "acme", ["admin"])).token;
    } finally {
      await tokens.close();
    }
    // One web UI secret for both, as behind a load balancer.
    const env = { ...backend.env, SESSIONVAULT_UI_SECRET: UI_SECRET };
    [a, b] = await Promise.all([spawnServer(backend.url, env), spawnServer(backend.url, env)]);
    // Half the sessions arrive through each process.
    const rollouts = fixtureRollouts(VERSION);
    try {
      for (const [i, r] of rollouts.entries()) await ingestRollout(i % 2 ? a.url : b.url, token, r);
    } catch (err) {
      // The servers' JSON logs say why a request failed.
      throw new Error(`${(err as Error).message}\n--- server a ---\n${a.output()}\n--- server b ---\n${b.output()}`);
    }
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  async function get(s: ServerProcess, path: string): Promise<{ status: number; body: Buffer }> {
    const res = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  }

  test("give the same answers: lists, pages, details, byte-exact streams, actions, search", async () => {
    const paths = [
      "/v1/sessions?limit=100",
      "/v1/sessions?limit=3",
      "/v1/sessions?archived=all&limit=100",
      `/v1/sessions?q=${encodeURIComponent("does-not-exist")}`,
    ];
    for (const r of fixtureRollouts(VERSION)) {
      paths.push(
        `/v1/sessions/${r.id}`,
        `/v1/sessions/${r.id}/streams/rollout`,
        `/v1/sessions/${r.id}/streams/rollout?from_seq=3`,
        `/v1/sessions/${r.id}/actions`,
      );
    }
    for (const p of paths) {
      const [x, y] = await Promise.all([get(a, p), get(b, p)]);
      expect(x.status, p).toBe(200);
      expect(y.status, p).toBe(200);
      expect(y.body.equals(x.body), p).toBe(true);
    }
    for (const r of fixtureRollouts(VERSION)) {
      expect((await get(b, `/v1/sessions/${r.id}/streams/rollout`)).body.equals(readFileSync(r.path)), r.path).toBe(true);
    }
    const list = JSON.parse((await get(a, "/v1/sessions?limit=100")).body.toString()) as { sessions: unknown[] };
    expect(list.sessions.length).toBe(fixtureRollouts(VERSION).filter((r) => !r.archived).length);
    const search = JSON.parse((await get(b, `/v1/sessions?q=does-not-exist`)).body.toString()) as { sessions: { id: string }[] };
    expect(search.sessions.map((s) => s.id)).toContain(fixtureThread(VERSION, "04-fail"));
  });

  test("a write through one is read through the other at once, and positions hold across processes", async () => {
    const id = fixtureThread(VERSION, "02-shell");
    const n = (JSON.parse((await get(a, `/v1/sessions/${id}`)).body.toString()) as { lines: number }).lines;
    const post = (s: ServerProcess, seq: number, body: string) =>
      fetch(`${s.url}/v1/sessions/${id}/streams/debug-log?expected_seq=${seq}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" },
        body,
      });
    const first = await post(a, 0, "from a\n");
    expect(first.status, `${name}: ${await first.clone().text()}`).toBe(200);
    expect((await get(b, `/v1/sessions/${id}/streams/debug-log`)).body.toString(), name).toBe("from a\n");

    // Both race for position 1: exactly one wins, the other gets 409 with the position.
    const [ra, rb] = await Promise.all([post(a, 1, "a wins\n"), post(b, 1, "b wins\n")]);
    const bodies = [await ra.text(), await rb.text()];
    const statuses = [ra.status, rb.status].sort();
    expect(statuses, `${name}: ${bodies.join(" | ")}`).toEqual([200, 409]);
    const loser = JSON.parse(ra.status === 409 ? bodies[0]! : bodies[1]!) as unknown;
    expect(loser).toMatchObject({ code: "CONFLICT", current_seq: 2 });
    const stream = (await get(b, `/v1/sessions/${id}/streams/debug-log`)).body.toString();
    expect(["from a\na wins\n", "from a\nb wins\n"]).toContain(stream);
    expect((await get(a, `/v1/sessions/${id}/streams/debug-log`)).body.toString()).toBe(stream);
    expect((JSON.parse((await get(b, `/v1/sessions/${id}`)).body.toString()) as { lines: number }).lines, name).toBe(n);

    // A legal hold set through one blocks a delete through the other.
    const hold = await fetch(`${a.url}/v1/sessions/${id}/legal-hold`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: '{"held":true}',
    });
    expect(hold.status, `${name}: ${await hold.clone().text()}`).toBe(200);
    const del = await fetch(`${b.url}/v1/sessions/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
    expect(del.status, `${name}: ${await del.clone().text()}`).toBe(423);
  });

  test("a web UI login made through one process works on the other (no sticky sessions)", async () => {
    const login = await uiLogin(a.url, token);
    expect(login.status).toBe(303);
    const cookie = login.session;
    for (const s of [a, b]) {
      const page = await fetch(`${s.url}/sessions/${fixtureThread(VERSION, "02-shell")}`, { redirect: "manual", headers: { cookie } });
      expect(page.status, s.url).toBe(200);
    }
    expect((await fetch(`${b.url}/`, { redirect: "manual" })).status).toBe(303);
  });

  test("each process logs structured JSON lines", () => {
    const lines = a
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"));
    expect(lines.length).toBeGreaterThan(0);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec).toHaveProperty("level");
    expect(rec).toHaveProperty("time");
    expect(a.output()).not.toContain(token);
  });
});
