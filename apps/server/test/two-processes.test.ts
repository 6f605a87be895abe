import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PgStore } from "@sessionvault/pg-store";
import { startPostgres, type TestPostgres } from "../../../packages/pg-store/test/support/postgres.js";
import { createApiToken } from "../src/tokens.js";
import { fixtureRollouts, fixtureThread } from "./support/fixtures.js";
import { ingestRollout } from "./support/ingest.js";
import { spawnServer, type ServerProcess } from "./support/server-process.js";

const VERSION = "0.98.0";
let pgServer: TestPostgres;
let a: ServerProcess;
let b: ServerProcess;
let token: string;

function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set("schema", schema);
  return u.href;
}

beforeAll(async () => {
  pgServer = await startPostgres();
  const schema = `sv_two_${process.pid}`;
  const store = withSchema(pgServer.url, schema);
  const tokens = new PgStore({ connectionString: pgServer.url, schema });
  try {
    token = (await createApiToken(tokens, "acme", ["admin"])).token;
  } finally {
    await tokens.close();
  }
  [a, b] = await Promise.all([spawnServer(store), spawnServer(store)]);
  // Half the sessions arrive through each process.
  const rollouts = fixtureRollouts(VERSION);
  for (const [i, r] of rollouts.entries()) await ingestRollout(i % 2 ? a.url : b.url, token, r);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await pgServer?.stop();
});

async function get(s: ServerProcess, path: string): Promise<{ status: number; type: string | null; body: Buffer }> {
  const res = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get("content-type"), body: Buffer.from(await res.arrayBuffer()) };
}

describe("two server processes over one Postgres store", () => {
  test("give the same answers: lists, pages, details, byte-exact streams, actions, search", async () => {
    const paths = ["/v1/sessions?limit=100", "/v1/sessions?limit=3", "/v1/sessions?archived=all&limit=100", `/v1/sessions?q=${encodeURIComponent("does-not-exist")}`];
    for (const r of fixtureRollouts(VERSION)) {
      paths.push(`/v1/sessions/${r.id}`, `/v1/sessions/${r.id}/streams/rollout`, `/v1/sessions/${r.id}/streams/rollout?from_seq=3`, `/v1/sessions/${r.id}/actions`);
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
      fetch(`${s.url}/v1/sessions/${id}/streams/debug-log?expected_seq=${seq}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/x-ndjson" }, body });
    expect((await post(a, 0, "from a\n")).status).toBe(200);
    expect((await get(b, `/v1/sessions/${id}/streams/debug-log`)).body.toString()).toBe("from a\n");

    // Both race for position 1: exactly one wins, the other gets 409 with the position.
    const [ra, rb] = await Promise.all([post(a, 1, "a wins\n"), post(b, 1, "b wins\n")]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = ra.status === 409 ? ra : rb;
    expect(await loser.json()).toMatchObject({ code: "CONFLICT", current_seq: 2 });
    const stream = (await get(b, `/v1/sessions/${id}/streams/debug-log`)).body.toString();
    expect(["from a\na wins\n", "from a\nb wins\n"]).toContain(stream);
    expect((await get(a, `/v1/sessions/${id}/streams/debug-log`)).body.toString()).toBe(stream);
    expect((JSON.parse((await get(b, `/v1/sessions/${id}`)).body.toString()) as { lines: number }).lines).toBe(n);

    // A legal hold set through one blocks a delete through the other.
    const hold = await fetch(`${a.url}/v1/sessions/${id}/legal-hold`, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: '{"held":true}' });
    expect(hold.status).toBe(200);
    expect((await fetch(`${b.url}/v1/sessions/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } })).status).toBe(423);
  });

  test("each process logs structured JSON lines", () => {
    const lines = a.output().split("\n").filter((l) => l.startsWith("{"));
    expect(lines.length).toBeGreaterThan(0);
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec).toHaveProperty("level");
    expect(rec).toHaveProperty("time");
    expect(a.output()).not.toContain(token);
  });
});

