import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readFileLines, summarizeRollout } from "@sessionvault/core";
import { fixtureRollouts, fixtureThread, type FixtureRollout } from "@sessionvault/testing/codex-fixtures";
import { startTestServer, type TestServer } from "./support/server.js";
import { HttpStore } from "@sessionvault/http-store";

const VERSION = "0.169.0";
let t: TestServer;
let admin: string;
let writer: string;
let reader: string;
let otherOrg: string;
let rollouts: FixtureRollout[];

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function api(method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...(token ? auth(token) : {}), ...headers } };
  if (body !== undefined) {
    if (typeof body === "string" || Buffer.isBuffer(body)) {
      init.body = typeof body === "string" ? body : new Uint8Array(body);
      (init.headers as Record<string, string>)["content-type"] ??= "application/x-ndjson";
    } else {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
  }
  return fetch(`${t.url}${path}`, init);
}

/** Uploads one real rollout the way a client would: PUT the summary, then POST the lines in batches by position. */
async function ingest(r: FixtureRollout, token: string): Promise<number> {
  const head = await summarizeRollout(readFileLines(r.path));
  const summary = head ?? { id: r.id, created_at: new Date().toISOString() };
  const put = await api("PUT", `/v1/sessions/${r.id}`, token, { ...summary, archived: r.archived });
  expect(put.status, await put.clone().text()).toBe(200);
  let seq = 0;
  let batch: string[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const res = await api("POST", `/v1/sessions/${r.id}/streams/rollout?expected_seq=${seq}`, token, batch.map((l) => l + "\n").join(""));
    expect(res.status, await res.clone().text()).toBe(200);
    seq = ((await res.json()) as { seq: number }).seq;
    batch = [];
  };
  for await (const line of readFileLines(r.path)) {
    batch.push(line.text);
    if (batch.length === 25) await flush();
  }
  await flush();
  return seq;
}

beforeAll(async () => {
  t = await startTestServer({ maxAppendBytes: 2 * 1024 * 1024 });
  admin = await t.token("acme", ["admin"]);
  writer = await t.token("acme", ["write"]);
  reader = await t.token("acme", ["read"]);
  otherOrg = await t.token("globex", ["admin"]);
  rollouts = fixtureRollouts(VERSION);
  for (const r of rollouts) await ingest(r, writer);
});

afterAll(async () => {
  await t?.stop();
});

describe("the v1 API over real HTTP, with the real Codex fixtures ingested", () => {
  test("lists sessions newest first; archived ones only on request", async () => {
    const res = await api("GET", "/v1/sessions?limit=100", reader);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { sessions: { id: string; created_at: string; archived: boolean }[]; next_cursor: string | null };
    const active = rollouts.filter((r) => !r.archived).map((r) => r.id);
    // Runs before the delete test below: every active fixture session is there, once.
    expect(page.sessions.map((s) => s.id).sort()).toEqual(active.sort());
    const times = page.sessions.map((s) => s.created_at);
    expect(times).toEqual([...times].sort().reverse());
    expect(page.sessions.some((s) => s.archived)).toBe(false);

    const all = (await (await api("GET", "/v1/sessions?limit=100&archived=all", reader)).json()) as { sessions: { id: string }[] };
    const archivedId = fixtureThread(VERSION, "17-archived");
    expect(all.sessions.map((s) => s.id)).toContain(archivedId);
    expect(page.sessions.map((s) => s.id)).not.toContain(archivedId);
  });

  test("pages with an opaque cursor, without duplicates or gaps", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await api("GET", `/v1/sessions?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, reader);
      const page = (await res.json()) as { sessions: { id: string }[]; next_cursor: string | null };
      expect(page.sessions.length).toBeLessThanOrEqual(4);
      seen.push(...page.sessions.map((s) => s.id));
      cursor = page.next_cursor;
    } while (cursor);
    const full = (await (await api("GET", "/v1/sessions?limit=100", reader)).json()) as { sessions: { id: string }[] };
    expect(seen).toEqual(full.sessions.map((s) => s.id));
  });

  test("reads every rollout back byte-exact, from any position", async () => {
    for (const r of rollouts) {
      const res = await api("GET", `/v1/sessions/${r.id}/streams/rollout`, reader);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("application/x-ndjson");
      expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(r.path)), r.path).toBe(true);
    }
    const r = rollouts[0]!;
    const bytes = readFileSync(r.path);
    let cut = 0;
    for (let i = 0; i < 5; i++) cut = bytes.indexOf(0x0a, cut) + 1;
    const tail = await api("GET", `/v1/sessions/${r.id}/streams/rollout?from_seq=5`, reader);
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(cut))).toBe(true);
  });

  test("session detail carries the summary, streams and legal hold; a unique prefix works", async () => {
    const id = fixtureThread(VERSION, "02-shell");
    const res = await api("GET", `/v1/sessions/${id.slice(0, 13)}`, reader);
    // Fixture ids share their first 8 characters; 13 still names one session.
    expect(res.status).toBe(200);
    const s = (await res.json()) as Record<string, unknown>;
    expect(s).toMatchObject({ id, cli_version: VERSION, legal_hold: false, title: expect.stringContaining("hello.txt") });
    // The session facts, derived from the rollout by the session model.
    expect(s).toMatchObject({
      agent: "codex",
      outcome: "completed",
      turns: 1,
      files_changed: 0,
      children: [],
      tokens: { input: expect.any(Number), output: expect.any(Number) },
    });
    expect(typeof s.model).toBe("string");
    const listed = (await (await api("GET", `/v1/sessions?limit=100`, reader)).json()) as { sessions: Record<string, unknown>[] };
    expect(listed.sessions.find((x) => x.id === id)).toMatchObject({ agent: "codex", outcome: "completed", turns: 1 });
    const lines = readFileSync(rollouts.find((r) => r.id === id)!.path, "utf8").split("\n").length - 1;
    expect(s.streams).toEqual(expect.arrayContaining([expect.objectContaining({ name: "rollout", lines })]));

    const ambiguous = await api("GET", `/v1/sessions/${id.slice(0, 8)}`, reader);
    expect(ambiguous.status).toBe(409);
    expect(await ambiguous.json()).toMatchObject({ code: "AMBIGUOUS_ID" });
  });

  test("exports actions v1 as x-ndjson: the shell session's commands with exit codes", async () => {
    const id = fixtureThread(VERSION, "04-fail");
    const res = await api("GET", `/v1/sessions/${id}/actions`, reader);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const text = await res.text();
    expect(text.endsWith("\n")).toBe(true);
    const actions = text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(actions.map((a) => a.seq)).toEqual(actions.map((_, i) => i));
    expect(actions.every((a) => a.schema_version === 1 && a.session_id === id)).toBe(true);
    const commands = actions.filter((a) => a.action_type === "command_execution");
    expect(commands.map((a) => a.exit_code)).toEqual([3, 42]);
    expect(actions.some((a) => a.action_type === "file_change")).toBe(true);
  });

  test("actions are redacted; only an admin may ask for them unredacted", async () => {
    const id = fixtureThread(VERSION, "02-shell");
    const key = "sk-proj-" + "Zz9Yy8Xx7W".repeat(4);
    const n = ((await (await api("GET", `/v1/sessions/${id}`, reader)).json()) as { lines: number }).lines;
    const line = JSON.stringify({
      timestamp: "2026-11-21T09:40:00.000Z",
      type: "response_item",
      payload: {
        type: "function_call",
        name: "exec_command",
        arguments: JSON.stringify({ cmd: `curl -H 'Authorization: Bearer ${key}' https://api.example` }),
        call_id: "call_secret",
      },
    });
    const out = JSON.stringify({
      timestamp: "2026-11-21T09:40:01.000Z",
      type: "response_item",
      payload: { type: "function_call_output", call_id: "call_secret", output: "Process exited with code 0\nOutput:\nok\n" },
    });
    expect((await api("POST", `/v1/sessions/${id}/streams/rollout?expected_seq=${n}`, writer, `${line}\n${out}\n`)).status).toBe(200);

    const redacted = await (await api("GET", `/v1/sessions/${id}/actions`, reader)).text();
    expect(redacted).toContain("call_secret");
    expect(redacted).not.toContain(key);
    expect((await api("GET", `/v1/sessions/${id}/actions?redact=false`, reader)).status).toBe(403);
    const raw = await api("GET", `/v1/sessions/${id}/actions?redact=false`, admin);
    expect(raw.status).toBe(200);
    expect(await raw.text()).toContain(key);
  });

  test("searches titles, messages and commands", async () => {
    const fail = fixtureThread(VERSION, "04-fail");
    const res = await api("GET", `/v1/sessions?q=${encodeURIComponent("does-not-exist")}`, reader);
    expect(res.status).toBe(200);
    const ids = ((await res.json()) as { sessions: { id: string }[] }).sessions.map((s) => s.id);
    expect(ids).toContain(fail);
    expect(ids).not.toContain(fixtureThread(VERSION, "02-shell"));

    const none = (await (await api("GET", "/v1/sessions?q=zebrafish-nowhere", reader)).json()) as { sessions: unknown[] };
    expect(none.sessions).toEqual([]);
  });

  test("a search answers each session with its snippet, secrets redacted unless an admin asks", async () => {
    const id = fixtureThread(VERSION, "03-patch");
    const key = "sk-proj-" + "Qq1Ww2Ee3R".repeat(4);
    const n = ((await (await api("GET", `/v1/sessions/${id}`, reader)).json()) as { lines: number }).lines;
    const said = JSON.stringify({
      timestamp: "2026-11-21T09:41:00.000Z",
      type: "response_item",
      payload: { type: "message", role: "user", content: [{ type: "input_text", text: `deploy the marmoset build with ${key}` }] },
    });
    expect((await api("POST", `/v1/sessions/${id}/streams/rollout?expected_seq=${n}`, writer, `${said}\n`)).status).toBe(200);

    type Found = { sessions: { id: string }[]; snippets?: Record<string, string> };
    const found = (await (await api("GET", "/v1/sessions?q=marmoset", reader)).json()) as Found;
    expect(found.sessions.map((s) => s.id)).toEqual([id]);
    expect(found.snippets?.[id]).toContain("deploy the marmoset build");
    // A snippet is cut to about 60 characters; even the part of the key it shows is redacted.
    expect(found.snippets?.[id]).not.toContain("Qq1Ww2Ee3R");
    const raw = (await (await api("GET", "/v1/sessions?q=marmoset&redact=false", admin)).json()) as Found;
    expect(raw.snippets?.[id]).toContain("sk-proj-Qq1Ww2Ee3R");

    // The CLI's store for a server passes the snippets on (`list --search` prints them).
    const page = await new HttpStore({ baseUrl: t.url, token: reader }).listSessions({ q: "marmoset" });
    expect(page.snippets?.[id]).toContain("marmoset");
  });

  test("a legal hold blocks delete (423) until cleared; delete then removes the session", async () => {
    const id = fixtureThread(VERSION, "01-qa");
    expect((await api("PUT", `/v1/sessions/${id}/legal-hold`, admin, { held: true })).status).toBe(200);
    expect(((await (await api("GET", `/v1/sessions/${id}`, reader)).json()) as { legal_hold: boolean }).legal_hold).toBe(true);
    const refused = await api("DELETE", `/v1/sessions/${id}`, admin);
    expect(refused.status).toBe(423);
    expect(await refused.json()).toMatchObject({ code: "LEGAL_HOLD" });
    expect((await api("GET", `/v1/sessions/${id}/streams/rollout`, reader)).status).toBe(200);

    expect((await api("PUT", `/v1/sessions/${id}/legal-hold`, admin, { held: false })).status).toBe(200);
    expect((await api("DELETE", `/v1/sessions/${id}`, admin)).status).toBe(204);
    expect((await api("GET", `/v1/sessions/${id}`, reader)).status).toBe(404);
    expect((await api("GET", `/v1/sessions/${id}/streams/rollout`, reader)).status).toBe(404);
  });

  test("appends by position: 409 with current_seq on a conflict, a retried batch never duplicates", async () => {
    const id = fixtureThread(VERSION, "02-shell");
    const detail = (await (await api("GET", `/v1/sessions/${id}`, reader)).json()) as { streams: { name: string; lines: number }[] };
    const n = detail.streams.find((s) => s.name === "rollout")!.lines;
    const stale = await api("POST", `/v1/sessions/${id}/streams/rollout?expected_seq=${n - 1}`, writer, '{"other":true}\n');
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ code: "CONFLICT", current_seq: n });

    const batch = '{"a":1}\n{"b":2}\n';
    const first = await api("POST", `/v1/sessions/${id}/streams/debug-log?expected_seq=0`, writer, batch);
    expect(await first.json()).toEqual({ seq: 2 });
    const retry = await api("POST", `/v1/sessions/${id}/streams/debug-log?expected_seq=0`, writer, batch);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ seq: 2 });
    expect(await (await api("GET", `/v1/sessions/${id}/streams/debug-log`, reader)).text()).toBe(batch);
  });

  test("bad input: clear 400s and 413, and nothing is stored", async () => {
    const id = fixtureThread(VERSION, "03-patch");
    const before = await (await api("GET", `/v1/sessions/${id}/streams/rollout`, reader)).arrayBuffer();
    const pos = (await (await api("GET", `/v1/sessions/${id}`, reader)).json()) as { lines: number };

    const torn = await api("POST", `/v1/sessions/${id}/streams/rollout?expected_seq=${pos.lines}`, writer, '{"no":"newline"}');
    expect(torn.status).toBe(400);
    expect(((await torn.json()) as { message: string }).message).toMatch(/newline/);

    const badUtf8 = await api("POST", `/v1/sessions/${id}/streams/rollout?expected_seq=${pos.lines}`, writer, Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]));
    expect(badUtf8.status).toBe(400);
    expect(((await badUtf8.json()) as { message: string }).message).toMatch(/UTF-8/);

    const huge = await api("POST", `/v1/sessions/${id}/streams/rollout?expected_seq=${pos.lines}`, writer, `${"x".repeat(3 * 1024 * 1024)}\n`);
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ code: "TOO_LARGE" });

    const noSeq = await api("POST", `/v1/sessions/${id}/streams/rollout`, writer, "{}\n");
    expect(noSeq.status).toBe(400);
    expect(((await noSeq.json()) as { message: string }).message).toMatch(/expected_seq/);

    const badBody = await api("PUT", `/v1/sessions/${id}`, writer, { cwd: "/x" });
    expect(badBody.status).toBe(400);
    expect(((await badBody.json()) as { message: string }).message).toMatch(/created_at/);

    const traversal = await api("GET", `/v1/sessions/${id}/streams/..%2F..%2Fetc`, reader);
    expect(traversal.status).toBe(400);
    expect(await traversal.json()).toMatchObject({ code: "INVALID_ID" });
    const badId = await api("GET", `/v1/sessions/..%2F..%2Fsecret`, reader);
    expect(badId.status).toBe(400);

    const after = await (await api("GET", `/v1/sessions/${id}/streams/rollout`, reader)).arrayBuffer();
    expect(Buffer.from(after).equals(Buffer.from(before))).toBe(true);
  });
});

describe("auth", () => {
  test("a missing or wrong token gets 401, on every /v1 route", async () => {
    const id = fixtureThread(VERSION, "02-shell");
    for (const [method, path] of [
      ["GET", "/v1/sessions"],
      ["GET", `/v1/sessions/${id}`],
      ["GET", `/v1/sessions/${id}/streams/rollout`],
      ["GET", `/v1/sessions/${id}/actions`],
    ] as const) {
      const none = await api(method, path, null);
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ code: "UNAUTHORIZED" });
      expect((await api(method, path, "sv_wrong-token")).status).toBe(401);
    }
    expect((await api("POST", `/v1/sessions/${id}/streams/rollout?expected_seq=0`, null, "{}\n")).status).toBe(401);
    expect((await fetch(`${t.url}/v1/sessions`, { headers: { authorization: `Basic ${Buffer.from(`x:${admin}`).toString("base64")}` } })).status).toBe(401);
  });

  test("another org's session is 404 and never listed", async () => {
    const id = fixtureThread(VERSION, "02-shell");
    expect((await api("GET", `/v1/sessions/${id}`, otherOrg)).status).toBe(404);
    expect((await api("GET", `/v1/sessions/${id}/streams/rollout`, otherOrg)).status).toBe(404);
    expect((await api("GET", `/v1/sessions/${id}/actions`, otherOrg)).status).toBe(404);
    expect((await api("DELETE", `/v1/sessions/${id}`, otherOrg)).status).toBe(404);
    const list = (await (await api("GET", "/v1/sessions?archived=all", otherOrg)).json()) as { sessions: unknown[] };
    expect(list.sessions).toEqual([]);
    expect((await api("GET", `/v1/sessions/${id}`, reader)).status).toBe(200);
  });

  test("a read-only token cannot write (403) and a write token cannot delete or hold (403)", async () => {
    const id = fixtureThread(VERSION, "02-shell");
    const n = ((await (await api("GET", `/v1/sessions/${id}`, reader)).json()) as { lines: number }).lines;
    const post = await api("POST", `/v1/sessions/${id}/streams/rollout?expected_seq=${n}`, reader, "{}\n");
    expect(post.status).toBe(403);
    expect(await post.json()).toMatchObject({ code: "FORBIDDEN" });
    expect((await api("PUT", `/v1/sessions/${id}`, reader, { created_at: "2026-01-01T00:00:00.000Z" })).status).toBe(403);
    expect((await api("DELETE", `/v1/sessions/${id}`, reader)).status).toBe(403);
    expect((await api("DELETE", `/v1/sessions/${id}`, writer)).status).toBe(403);
    expect((await api("PUT", `/v1/sessions/${id}/legal-hold`, writer, { held: true })).status).toBe(403);
    expect(((await (await api("GET", `/v1/sessions/${id}`, reader)).json()) as { lines: number }).lines).toBe(n);
  });

  test("tokens are stored hashed: the plain token is in no file of the store", async () => {
    const { readdir, readFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const files = (await readdir(t.dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect((await readFile(f, "utf8")).includes(admin)).toBe(false);
  });
});

describe("tokens over the API", () => {
  type Listed = { id: string; org: string; scopes: string[]; created_at: string };
  const listTokens = async (token: string) => ((await (await api("GET", "/v1/tokens", token)).json()) as { tokens: Listed[] }).tokens;

  test("an admin lists its org's tokens (no hash, no secret, no other org), creates one it sees once, and only admins may", async () => {
    const before = await listTokens(admin);
    expect(before.length).toBeGreaterThanOrEqual(3);
    expect(before.every((x) => x.org === "acme")).toBe(true);
    const body = JSON.stringify(before);
    expect(body).not.toMatch(/[0-9a-f]{64}/);
    for (const secret of [admin, writer, reader, otherOrg]) expect(body).not.toContain(secret);
    expect((await listTokens(otherOrg)).every((x) => x.org === "globex")).toBe(true);

    const created = await api("POST", "/v1/tokens", admin, { scopes: ["read"] });
    expect(created.status).toBe(201);
    const made = (await created.json()) as { token: string; id: string; org: string; scopes: string[] };
    expect(made).toMatchObject({ org: "acme", scopes: ["read"] });
    expect((await api("GET", "/v1/sessions", made.token)).status).toBe(200);
    expect((await listTokens(admin)).map((x) => x.id)).toEqual([...before.map((x) => x.id), made.id]);

    expect((await api("GET", "/v1/tokens", writer)).status).toBe(403);
    expect((await api("POST", "/v1/tokens", writer, { scopes: ["admin"] })).status).toBe(403);
    const foreign = await api("POST", "/v1/tokens", admin, { scopes: ["read"], org: "globex" });
    expect(foreign.status).toBe(403);
    expect((await api("POST", "/v1/tokens", admin, { scopes: ["root"] })).status).toBe(400);
    expect((await listTokens(otherOrg)).some((x) => x.id === made.id)).toBe(false);
  });

  test("a revoke through this server is refused at once even after the token was used; another org's token is a 404 and keeps working", async () => {
    const victim = (await (await api("POST", "/v1/tokens", admin, { scopes: ["write"] })).json()) as { token: string; id: string };
    expect((await api("GET", "/v1/sessions", victim.token)).status).toBe(200); // now in the verifier's cache
    const globexToken = (await (await api("POST", "/v1/tokens", otherOrg, { scopes: ["read"] })).json()) as { token: string; id: string };

    expect((await api("DELETE", `/v1/tokens/${globexToken.id}`, admin)).status).toBe(404);
    expect((await api("GET", "/v1/sessions", globexToken.token)).status).toBe(200);
    expect((await api("DELETE", `/v1/tokens/${victim.id}`, writer)).status).toBe(403);

    const revoked = await api("DELETE", `/v1/tokens/${victim.id}`, admin);
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toEqual({ revoked: victim.id });
    expect((await api("GET", "/v1/sessions", victim.token)).status).toBe(401);
    expect((await listTokens(admin)).some((x) => x.id === victim.id)).toBe(false);
    expect((await api("DELETE", `/v1/tokens/${victim.id}`, admin)).status).toBe(404);
  });
});

describe("operations", () => {
  test("healthz, Prometheus metrics with appended lines, and the OpenAPI document", async () => {
    expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ ok: true });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const appended = Number(/^sessionvault_lines_appended_total (\d+)/m.exec(metrics)?.[1]);
    const expectedMin = rollouts.reduce((n, r) => n + readFileSync(r.path, "utf8").split("\n").length - 1, 0);
    expect(appended).toBeGreaterThanOrEqual(expectedMin);
    expect(metrics).toMatch(/sessionvault_http_requests_total\{method="POST",route="\/v1\/sessions\/:id\/streams\/:name",status="200"\} \d+/);
    expect(metrics).toContain("sessionvault_http_request_duration_seconds_bucket");

    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/sessions",
        "/v1/sessions/{id}",
        "/v1/sessions/{id}/streams/{name}",
        "/v1/sessions/{id}/actions",
        "/v1/sessions/{id}/legal-hold",
      ]),
    );
    expect(Object.keys(doc.paths["/v1/sessions/{id}/streams/{name}"]!)).toEqual(expect.arrayContaining(["get", "post"]));
  });
});
