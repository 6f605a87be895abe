import { afterAll, beforeAll, expect, test } from "vitest";
import { startServer } from "../src/start-server.js";
import { startTestServer, type TestServer } from "./support/server.js";
import { uiLogin, uiLogout } from "@sessionvault/testing/ui-login";

let t: TestServer;
let writer: string;
let cookie: string;
const id = "0f0f0f0f-0000-7000-8000-0000000000e1";
const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`;

beforeAll(async () => {
  t = await startTestServer();
  writer = await t.token("acme", ["write"]);
  const h = { authorization: `Bearer ${writer}` };
  await fetch(`${t.url}/v1/sessions/${id}`, {
    method: "PUT",
    headers: { ...h, "content-type": "application/json" },
    body: JSON.stringify({ created_at: "2026-01-01T00:00:00.000Z", title: evil, cwd: `/tmp/${evil}` }),
  });
  const lines = [
    {
      timestamp: "2026-01-01T00:00:00.000Z",
      type: "session_meta",
      payload: { id, timestamp: "2026-01-01T00:00:00.000Z", cwd: "/w", originator: "t", cli_version: "0" },
    },
    { timestamp: "2026-01-01T00:00:00.100Z", type: "event_msg", payload: { type: "task_started", turn_id: "t1" } },
    { timestamp: "2026-01-01T00:00:00.200Z", type: "response_item", payload: { type: "message", role: "user", content: [{ type: "input_text", text: evil }] } },
    {
      timestamp: "2026-01-01T00:00:01.000Z",
      type: "response_item",
      payload: { type: "function_call", name: "shell", arguments: JSON.stringify({ command: ["bash", "-lc", `echo '${evil}'`] }), call_id: "c1" },
    },
    {
      timestamp: "2026-01-01T00:00:02.000Z",
      type: "response_item",
      payload: { type: "function_call_output", call_id: "c1", output: JSON.stringify({ output: `${evil}\n`, metadata: { exit_code: 0 } }) },
    },
  ].map((l) => JSON.stringify(l) + "\n");
  const post = await fetch(`${t.url}/v1/sessions/${id}/streams/rollout?expected_seq=0`, {
    method: "POST",
    headers: { ...h, "content-type": "application/x-ndjson" },
    body: lines.join(""),
  });
  expect(post.status).toBe(200);
  const reader = await t.token("acme", ["read"]);
  const login = await uiLogin(t.url, reader);
  expect(login.status).toBe(303);
  const setCookie = login.setCookie;
  expect(setCookie).toMatch(/HttpOnly/i);
  expect(setCookie).toMatch(/SameSite=Strict/i);
  expect(setCookie).not.toContain(reader);
  cookie = login.cookie;
});

afterAll(async () => {
  await t?.stop();
});

test("pages escape session content and carry a strict CSP", async () => {
  for (const path of ["/", `/sessions/${id}`]) {
    const res = await fetch(`${t.url}${path}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const page = await res.text();
    expect(page).not.toContain("<script>alert");
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  }
});

test("without a login every page redirects to /login; a logout ends the cookie session", async () => {
  for (const path of ["/", `/sessions/${id}`, `/sessions/${id}/download/rollout`]) {
    const res = await fetch(`${t.url}${path}`, { redirect: "manual" });
    expect(res.status, path).toBe(303);
    expect(res.headers.get("location")).toBe("/login");
  }
  const forged = await fetch(`${t.url}/`, { redirect: "manual", headers: { cookie: "sv_session=forged" } });
  expect(forged.status).toBe(303);

  const extra = await t.token("acme", ["read"]);
  const mine = (await uiLogin(t.url, extra)).cookie;
  expect((await fetch(`${t.url}/`, { redirect: "manual", headers: { cookie: mine } })).status).toBe(200);
  expect(await uiLogout(t.url, mine)).toBe(303);
  expect((await fetch(`${t.url}/`, { redirect: "manual", headers: { cookie: mine } })).status).toBe(303);
});

test("the rollout download is byte-exact and the other org cannot download it", async () => {
  const dl = await fetch(`${t.url}/sessions/${id}/download/rollout`, { headers: { cookie } });
  expect(dl.headers.get("content-disposition")).toBe(`attachment; filename="rollout-${id}.jsonl"`);
  const api = await fetch(`${t.url}/v1/sessions/${id}/streams/rollout`, { headers: { authorization: `Bearer ${writer}` } });
  expect(Buffer.from(await dl.arrayBuffer()).equals(Buffer.from(await api.arrayBuffer()))).toBe(true);

  const other = await t.token("globex", ["admin"]);
  const theirs = (await uiLogin(t.url, other)).session;
  expect((await fetch(`${t.url}/sessions/${id}/download/rollout`, { headers: { cookie: theirs } })).status).toBe(404);
  expect((await fetch(`${t.url}/sessions/${id}`, { headers: { cookie: theirs } })).status).toBe(404);
});

test("a login cookie is signed: a second server over the same store takes it only with the same secret, and a changed cookie is refused", async () => {
  const secret = "a-shared-secret-of-at-least-32-characters!";
  const one = await startTestServer({ uiSecret: secret });
  const same = await startServer({ store: one.dir, port: 0, logger: false, uiSecret: [`${secret}-new-one-signs`, secret] });
  const other = await startServer({ store: one.dir, port: 0, logger: false, uiSecret: "some-other-secret-also-32-characters-long" });
  try {
    const reader = await one.token("acme", ["read"]);
    const login = await uiLogin(one.url, reader);
    const setCookie = login.setCookie;
    expect(setCookie).not.toContain(reader);
    expect(setCookie).toMatch(/Max-Age=43200/);
    const mine = login.session;
    const page = (url: string, cookie: string) => fetch(`${url}/`, { redirect: "manual", headers: { cookie } }).then((r) => r.status);
    expect(await page(one.url, mine)).toBe(200);
    // Verified by an old secret of a rotation list.
    expect(await page(same.url, mine)).toBe(200);
    expect(await page(other.url, mine)).toBe(303);
    // Any change to the value breaks the signature, even one that keeps its shape.
    const value = decodeURIComponent(mine.slice(mine.indexOf("=") + 1));
    const changed = value.replace(/^v1\.(.)/, (_m, c: string) => `v1.${c === "a" ? "b" : "a"}`);
    expect(changed).not.toBe(value);
    expect(await page(one.url, `sv_session=${encodeURIComponent(changed)}`)).toBe(303);
    // A logout ends it on the server that took the logout.
    expect(await uiLogout(one.url, login.cookie)).toBe(303);
    expect(await page(one.url, mine)).toBe(303);
  } finally {
    await same.close();
    await other.close();
    await one.stop();
  }
});

test("a web UI secret shorter than 32 characters is refused at start", async () => {
  await expect(startTestServer({ uiSecret: "short" })).rejects.toThrow(/at least 32 characters/);
});
