import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, expect, test } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { HttpStore } from "@sessionvault/http-store";
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
  const created = JSON.parse(c.out()) as { token: string; id: string; org: string; scopes: string[] };
  expect(created).toMatchObject({ org: "acme", scopes: ["read", "write"] });
  expect(created.id).toMatch(/^tok_[0-9a-f]{16}$/);
  expect(created.token).toMatch(/^sv_[A-Za-z0-9_-]{40,}$/);

  for (const e of await readdir(store, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) expect(await readFile(join(e.parentPath, e.name), "utf8")).not.toContain(created.token);
  }

  const abort = new AbortController();
  let url = "";
  const s = context(dir, { LOG_LEVEL: "silent" });
  const running = serve({ store, port: 0, signal: abort.signal, onListening: (u) => (url = u) }, s.ctx);
  await expect.poll(() => url, { timeout: 60_000 }).not.toBe("");
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

test("token list shows every org's tokens (never a secret or hash); token revoke makes a server refuse one and keep the others", async () => {
  const store = join(dir, "data");
  const make = async (org: string, scope: string) => {
    const c = context(dir);
    expect(await main(["token", "create", "--store", store, "--org", org, "--scope", scope, "--json"], c.ctx)).toBe(0);
    return JSON.parse(c.out()) as { token: string; id: string; org: string };
  };
  const acme = await make("acme", "read");
  const acmeAdmin = await make("acme", "admin");
  const globex = await make("globex", "write");

  const listed = context(dir);
  expect(await main(["token", "list", "--store", store, "--json"], listed.ctx)).toBe(0);
  const { tokens } = JSON.parse(listed.out()) as { tokens: { id: string; org: string; scopes: string[]; created_at: string }[] };
  expect(tokens.map((t) => [t.id, t.org, t.scopes])).toEqual([
    [acme.id, "acme", ["read"]],
    [acmeAdmin.id, "acme", ["admin"]],
    [globex.id, "globex", ["write"]],
  ]);
  for (const t of [acme, acmeAdmin, globex]) expect(listed.out()).not.toContain(t.token);
  expect(listed.out()).not.toMatch(/[0-9a-f]{64}/);

  const table = context(dir);
  expect(await main(["token", "list", "--store", store, "--org", "globex"], table.ctx)).toBe(0);
  expect(table.out().split("\n")[0]).toMatch(/^ID\s+ORG\s+SCOPES\s+CREATED$/);
  expect(table.out()).toContain(globex.id);
  expect(table.out()).not.toContain(acme.id);

  const revoked = context(dir);
  expect(await main(["token", "revoke", acme.id, "--store", store], revoked.ctx)).toBe(0);
  expect(revoked.err()).toContain(`revoked token ${acme.id}`);
  const again = context(dir);
  expect(await main(["token", "revoke", acme.id, "--store", store], again.ctx)).toBe(4);
  expect(again.err()).toMatch(/^sessionvault: no token "tok_[0-9a-f]+"/m);

  const abort = new AbortController();
  let url = "";
  const s = context(dir, { LOG_LEVEL: "silent" });
  const running = serve({ store, port: 0, signal: abort.signal, onListening: (u) => (url = u) }, s.ctx);
  await expect.poll(() => url, { timeout: 60_000 }).not.toBe("");
  try {
    const status = async (token: string) => (await fetch(`${url}/v1/sessions`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await status(acme.token)).toBe(401);
    expect(await status(acmeAdmin.token)).toBe(200);
    expect(await status(globex.token)).toBe(200);
  } finally {
    abort.abort();
    await running;
  }
});

test("token list leaves out the server's share links (token records without scopes), which are not API tokens", async () => {
  const store = join(dir, "data");
  const made = context(dir);
  expect(await main(["token", "create", "--store", store, "--org", "acme", "--scope", "read", "--json"], made.ctx)).toBe(0);
  const token = JSON.parse(made.out()) as { id: string };
  // What the server writes for a share link (apps/server/src/share-links.ts).
  const fs = new FsStore({ root: store });
  const share = `shr_01a1fd77-fb41-7ce3-8da8-42a5b87d267a_${Date.now() + 3_600_000}_0123456789abcdef`;
  await fs.saveToken({ id: share, org: "acme", scopes: [], hash: "0".repeat(64), created_at: new Date().toISOString() });
  await fs.close();

  const listed = context(dir);
  expect(await main(["token", "list", "--store", store, "--json"], listed.ctx)).toBe(0);
  expect((JSON.parse(listed.out()) as { tokens: { id: string }[] }).tokens.map((t) => t.id)).toEqual([token.id]);
  const table = context(dir);
  expect(await main(["token", "list", "--store", store], table.ctx)).toBe(0);
  expect(table.out()).not.toContain("shr_");
});

test("token create, list and revoke through the server (--store http://…) with an admin token: its org only, a revoke refused at once", async () => {
  const store = join(dir, "data");
  const boot = context(dir);
  expect(await main(["token", "create", "--store", store, "--org", "acme", "--scope", "admin", "--json"], boot.ctx)).toBe(0);
  const admin = JSON.parse(boot.out()) as { token: string; id: string };
  const other = context(dir);
  expect(await main(["token", "create", "--store", store, "--org", "globex", "--scope", "read", "--json"], other.ctx)).toBe(0);
  const globex = JSON.parse(other.out()) as { token: string; id: string };

  const abort = new AbortController();
  let url = "";
  const s = context(dir, { LOG_LEVEL: "silent" });
  const running = serve({ store, port: 0, signal: abort.signal, onListening: (u) => (url = u) }, s.ctx);
  await expect.poll(() => url, { timeout: 60_000 }).not.toBe("");
  const env = { SESSIONVAULT_TOKEN: admin.token };
  try {
    const made = context(dir, env);
    expect(await main(["token", "create", "--store", url, "--scope", "write", "--json"], made.ctx)).toBe(0);
    const created = JSON.parse(made.out()) as { token: string; id: string; org: string; scopes: string[] };
    expect(created).toMatchObject({ org: "acme", scopes: ["write"] });

    const listed = context(dir, env);
    expect(await main(["token", "list", "--store", url, "--json"], listed.ctx)).toBe(0);
    expect((JSON.parse(listed.out()) as { tokens: { id: string }[] }).tokens.map((x) => x.id)).toEqual([admin.id, created.id]);

    const status = async (token: string) => (await fetch(`${url}/v1/sessions`, { headers: { authorization: `Bearer ${token}` } })).status;
    expect(await status(created.token)).toBe(200);
    const revoke = context(dir, env);
    expect(await main(["token", "revoke", created.id, "--store", url], revoke.ctx)).toBe(0);
    expect(await status(created.token)).toBe(401);

    const foreign = context(dir, env);
    expect(await main(["token", "revoke", globex.id, "--store", url], foreign.ctx)).toBe(4);
    expect(await status(globex.token)).toBe(200);
    const cross = context(dir, env);
    expect(await main(["token", "create", "--store", url, "--org", "globex", "--scope", "read"], cross.ctx)).not.toBe(0);
    expect(cross.err()).toMatch(/^sessionvault: .*cannot create tokens for org "globex"/m);
    const noAdmin = context(dir, { SESSIONVAULT_TOKEN: globex.token });
    expect(await main(["token", "list", "--store", url], noAdmin.ctx)).not.toBe(0);
    expect(noAdmin.err()).toMatch(/^sessionvault: .*admin/m);
  } finally {
    abort.abort();
    await running;
  }
});

test("serve --help explains the command", async () => {
  const c = context(dir);
  expect(await main(["serve", "--help"], c.ctx)).toBe(0);
  expect(c.out()).toContain("--store <url>");
  expect(c.out()).toContain("token create");
  const t = context(dir);
  expect(await main(["token", "create", "--help"], t.ctx)).toBe(0);
  expect(t.out()).toMatch(/--scope <scope\.\.\.>/);
  const r = context(dir);
  expect(await main(["token", "revoke", "--help"], r.ctx)).toBe(0);
  expect(r.out()).toContain("token list");
});
