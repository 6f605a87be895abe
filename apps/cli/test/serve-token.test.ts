import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, expect, test } from "vitest";
import { HttpStore } from "../src/stores/http-store.js";
import { serve } from "../src/commands/serve.js";
import { tokenCreate } from "../src/commands/token.js";
import { main } from "../src/main.js";
import type { CliContext } from "../src/io.js";

function context(cwd: string, env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  const ctx: CliContext = { stdout, stderr, env: { HOME: cwd, ...env }, cwd } as CliContext;
  return { ctx, out: () => out, err: () => err };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-serve-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("token create --json prints the token once; only its hash lands in the store; serve accepts it", async () => {
  const store = join(dir, "data");
  const c = context(dir);
  await tokenCreate({ store, org: "acme", scope: ["read,write"], json: true }, c.ctx);
  const created = JSON.parse(c.out()) as { token: string; org: string; scopes: string[] };
  expect(created).toMatchObject({ org: "acme", scopes: ["read", "write"] });
  expect(created.token).toMatch(/^sv_[A-Za-z0-9_-]{40,}$/);

  for (const e of await readdir(store, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) expect(await readFile(join(e.parentPath, e.name), "utf8")).not.toContain(created.token);
  }

  const abort = new AbortController();
  let url = "";
  const s = context(dir, { LOG_LEVEL: "silent" });
  const running = serve({ store, port: 0, signal: abort.signal, onListening: (u) => (url = u) }, s.ctx);
  await expect.poll(() => url, { timeout: 10_000 }).not.toBe("");
  expect(s.err()).toContain(`serving ${store} at ${url}`);
  try {
    const page = await new HttpStore({ baseUrl: url, token: created.token }).listSessions();
    expect(page).toEqual({ sessions: [], next_cursor: null });
    const denied = await fetch(`${url}/v1/sessions`);
    expect(denied.status).toBe(401);
  } finally {
    abort.abort();
    await running;
  }
  // Stopped: nothing listens any more.
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
});

test("token create: plain output is just the token; bad scopes and orgs are clear usage errors", async () => {
  const store = join(dir, "data");
  const c = context(dir);
  expect(await main(["token", "create", "--store", store, "--org", "acme", "--scope", "read"], c.ctx)).toBe(0);
  expect(c.out()).toMatch(/^sv_\S+\n$/);
  expect(c.err()).toContain('org "acme"');

  const bad = context(dir);
  expect(await main(["token", "create", "--store", store, "--org", "acme", "--scope", "root"], bad.ctx)).not.toBe(0);
  expect(bad.err()).toMatch(/^sessionvault: unknown scope "root"/m);

  const badOrg = context(dir);
  expect(await main(["token", "create", "--store", store, "--org", "../etc", "--scope", "read"], badOrg.ctx)).toBe(2);
  expect(badOrg.err()).toMatch(/^sessionvault: invalid org/m);
});

test("serve --help explains the command", async () => {
  const c = context(dir);
  expect(await main(["serve", "--help"], c.ctx)).toBe(0);
  expect(c.out()).toContain("--store <url>");
  expect(c.out()).toContain("token create");
  const t = context(dir);
  expect(await main(["token", "create", "--help"], t.ctx)).toBe(0);
  expect(t.out()).toMatch(/--scope <scope\.\.\.>/);
});
