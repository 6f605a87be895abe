import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { createApiToken, startServer, type RunningServer } from "@sessionvault/server";
import { sessionHeadLines } from "@sessionvault/core/conformance";
import { syncStores, type SessionInput } from "@sessionvault/core";
import { uiLogin } from "@sessionvault/testing/ui-login";
import { runCli } from "./support/run-cli.js";

// A session whose summary fields hold secrets: every CLI, API and web UI output of it
// must leave them out (one redaction pass for the whole summary), and only an explicit
// --no-redact (an admin's redact=false over HTTP) shows them.

const SK = "sk-proj-Q7vX2mN9pL4kR8sT1wY6zB3cD5fG0hJ2";
const AKIA = "AKIAIOSFODNN7EXAMPLE";
const URL_PASSWORD = "hunter2-Correct-Horse";
const GHP = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
const SECRETS = { "sk-proj key": SK, "AWS key id": AKIA, "URL password": URL_PASSWORD, "GitHub token": GHP };

const ID = "01a1fd77-5062-78c3-9c88-31a6914d7299";
const INPUT: SessionInput = {
  id: ID,
  created_at: "2026-11-21T09:00:00.000Z",
  cwd: `/srv/deploy/${AKIA}/app`,
  title: `rotate ${SK} before Friday`,
  archived: false,
  source: "exec",
  originator: "codex_exec",
  cli_version: "0.169.0",
  model_provider: "openai",
  git: {
    commit_hash: "3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39",
    branch: `fix/${GHP}`,
    repository_url: `https://deploy:${URL_PASSWORD}@git.example.com/org/repo.git`,
  },
  parent_id: null,
  forked_from_id: null,
};

let home: string;
let server: RunningServer;
let serverDir: string;
const tokens: Record<"read" | "admin", string> = { read: "", admin: "" };

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "sv-secrets-home-"));
  const fs = new FsStore({ root: home });
  await fs.putSession(INPUT);
  await fs.append(ID, "rollout", 0, sessionHeadLines(INPUT));
  serverDir = await mkdtemp(join(tmpdir(), "sv-secrets-server-"));
  server = await startServer({ store: serverDir, port: 0, logger: false });
  try {
    expect((await syncStores(fs, server.orgStore("acme"))).errors).toEqual([]);
  } finally {
    await fs.close();
  }
  tokens.read = (await createApiToken(server.tokens, "acme", ["read"])).token;
  tokens.admin = (await createApiToken(server.tokens, "acme", ["admin"])).token;
});
afterAll(async () => {
  await server?.close();
  for (const d of [home, serverDir]) if (d) await rm(d, { recursive: true, force: true });
});

/** Output name -> what it printed, for every output checked. */
const checked = new Map<string, string>();

function expectNoSecrets(name: string, text: string): void {
  checked.set(name, text);
  for (const [what, secret] of Object.entries(SECRETS)) expect(text, `${what} in ${name}`).not.toContain(secret);
  expect(text, name).toContain("[REDACTED]");
}

function expectAllSecrets(name: string, text: string): void {
  for (const [what, secret] of Object.entries(SECRETS)) expect(text, `${what} in ${name}`).toContain(secret);
}

describe("secrets in a session's summary (title, cwd, branch, repository URL)", () => {
  it("are absent from list, list --json, show, show --json and export --format markdown, on a Codex home and over HTTP", async () => {
    for (const [where, store, env] of [
      ["Codex home", home, {}],
      ["archive server", server.url, { SESSIONVAULT_TOKEN: tokens.read }],
    ] as const) {
      for (const args of [["list"], ["list", "--json"], ["show", ID], ["show", ID, "--json"], ["export", ID, "--format", "markdown"]]) {
        const res = await runCli([...args, "--store", store], env);
        expect(res.code, `${args.join(" ")} (${where})`).toBe(0);
        expectNoSecrets(`${args.join(" ")} (${where})`, res.out);
      }
    }
  });

  it("are shown by --no-redact (the flag reaches every one of those outputs)", async () => {
    for (const args of [
      ["list", "--json"],
      ["show", ID],
      ["show", ID, "--json"],
      ["export", ID, "--format", "markdown"],
    ]) {
      const res = await runCli([...args, "--no-redact", "--store", home]);
      expect(res.code).toBe(0);
      expectAllSecrets(args.join(" "), res.out);
    }
    // The table cuts the title to 72 characters: the key is in it whole.
    expect((await runCli(["list", "--no-redact", "--store", home])).out).toContain(SK);
  });

  it("are shown by list and show --no-redact over HTTP to an admin token (the CLI asks redact=false); a read token gets a clear refusal", async () => {
    for (const args of [
      ["list", "--json"],
      ["show", ID, "--json"],
    ]) {
      const res = await runCli([...args, "--no-redact", "--store", server.url], { SESSIONVAULT_TOKEN: tokens.admin });
      expect(res.code, args.join(" ")).toBe(0);
      expectAllSecrets(`${args.join(" ")} --no-redact (archive server, admin token)`, res.out);
      const refused = await runCli([...args, "--no-redact", "--store", server.url], { SESSIONVAULT_TOKEN: tokens.read });
      expect(refused.code, args.join(" ")).not.toBe(0);
      expect(refused.stderr).toMatch(/^sessionvault: /);
    }
  });

  it("are absent from GET /v1/sessions and /v1/sessions/{id}; an admin token may ask redact=false, a read token may not", async () => {
    const get = (path: string, token: string) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    for (const path of ["/v1/sessions", `/v1/sessions/${ID}`, `/v1/sessions/${ID.slice(0, 13)}`, "/v1/sessions?q=rotate"]) {
      for (const who of ["read", "admin"] as const) {
        const res = await get(path, tokens[who]);
        expect(res.status).toBe(200);
        expectNoSecrets(`GET ${path} (${who} token)`, await res.text());
      }
    }
    const raw = await get(`/v1/sessions/${ID}?redact=false`, tokens.admin);
    expect(raw.status).toBe(200);
    expectAllSecrets("GET /v1/sessions/{id}?redact=false (admin)", await raw.text());
    expectAllSecrets("GET /v1/sessions?redact=false (admin)", await (await get("/v1/sessions?redact=false", tokens.admin)).text());
    expect((await get(`/v1/sessions/${ID}?redact=false`, tokens.read)).status).toBe(403);
    expect((await get("/v1/sessions?redact=false", tokens.read)).status).toBe(403);
  });

  it("are absent from the web UI's list and session page (the repository URL too)", async () => {
    const login = await uiLogin(server.url, tokens.read);
    expect(login.status).toBe(303);
    const cookie = login.cookie;
    for (const path of ["/", `/sessions/${ID}`, "/?q=rotate"]) {
      const res = await fetch(`${server.url}${path}`, { headers: { cookie } });
      expect(res.status).toBe(200);
      const page = await res.text();
      expect(page).toContain("git.example.com");
      expectNoSecrets(`UI ${path}`, page);
    }
  });

  it("are absent from a markdown export written to a file", async () => {
    const out = join(home, "t.md");
    expect((await runCli(["export", ID, "--format", "markdown", "-o", out, "--store", home])).code).toBe(0);
    expectNoSecrets("export --format markdown -o FILE", await readFile(out, "utf8"));
  });

  it("do not make sync send a summary again to a server that shows it redacted", async () => {
    const { token } = await createApiToken(server.tokens, "sync-org", ["write"]);
    const sync = async () => {
      const res = await runCli(["sync", "--from", home, "--to", server.url, "--json"], { SESSIONVAULT_TOKEN: token });
      expect(res.code, res.stderr).toBe(0);
      return JSON.parse(res.out) as { sessions_sent: number; lines_sent: number };
    };
    expect(await sync()).toMatchObject({ sessions_sent: 1 });
    expect(await sync()).toMatchObject({ sessions_sent: 0, lines_sent: 0 });
  });

  afterAll(() => {
    // For the record: which outputs were checked for every secret.
    console.log(`outputs checked for ${Object.keys(SECRETS).length} secrets (${Object.keys(SECRETS).join(", ")}): ${[...checked.keys()].join("; ")}`);
  });
});
