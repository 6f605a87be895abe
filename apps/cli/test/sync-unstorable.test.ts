import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { PgStore } from "@sessionvault/pg-store";
import { createApiToken, startServer, type RunningServer } from "@sessionvault/server";
import { conformanceId, sessionHeadLines } from "@sessionvault/core/conformance";
import type { SessionInput } from "@sessionvault/core";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { startPostgres, type TestPostgres } from "@sessionvault/testing/postgres";
import { EXIT_CODES } from "../src/exit-codes.js";
import { runCli } from "./support/run-cli.js";

// Summaries with values Postgres cannot store (valid JSON, valid in a Codex home): a NUL in the
// title or the cwd, a lone surrogate in the repository URL. Each must be refused with a 400
// naming the field, reported by `sync` for that session, and the other sessions synced.

let pg: TestPostgres;
const dirs: string[] = [];
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function input(title: string, overrides: Partial<SessionInput> = {}): SessionInput {
  return {
    id: conformanceId(),
    created_at: "2026-05-01T10:00:00.000Z",
    cwd: "/work",
    title,
    archived: false,
    source: "exec",
    originator: "codex_exec",
    cli_version: "0.169.0",
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
    ...overrides,
  };
}

/** A Codex home with two good sessions and the bad ones given. */
async function homeWith(bad: SessionInput[]): Promise<{ home: string; good: SessionInput[] }> {
  const home = await mkdtemp(join(tmpdir(), "sv-unstorable-"));
  dirs.push(home);
  const fs = new FsStore({ root: home });
  const good = [input("first good session"), input("second good session")];
  try {
    for (const s of [...good, ...bad]) {
      await fs.putSession(s);
      await fs.append(s.id, "rollout", 0, sessionHeadLines(s));
    }
  } finally {
    await fs.close();
  }
  return { home, good };
}

interface SyncJson {
  sessions_scanned: number;
  sessions_sent: number;
  errors: { session_id: string; message: string; code: string; permanent: boolean }[];
}

describe("sync of summaries that Postgres cannot store", () => {
  const nulTitle = input("deploy\u0000now");
  const nulCwd = input("nul in cwd", { cwd: "/work/\u0000x" });
  const loneSurrogate = input("lone surrogate", { git: { commit_hash: null, branch: "main", repository_url: "https://example.com/\ud800.git" } });

  it("to Postgres: each bad session is named with its field, the others are synced, exit PARTIAL_FAILURE", async () => {
    const { home, good } = await homeWith([nulTitle, nulCwd, loneSurrogate]);
    const schema = freshSchema("nul");
    const res = await runCli(["sync", "--from", home, "--to", `${pg.url}?schema=${schema}`, "--json"]);
    expect(res.code).toBe(EXIT_CODES.PARTIAL_FAILURE);
    expect(res.code).not.toBe(EXIT_CODES.STORE_UNAVAILABLE);
    const summary = JSON.parse(res.out) as SyncJson;
    expect(summary.sessions_scanned).toBe(5);
    const byId = new Map(summary.errors.map((e) => [e.session_id, e]));
    expect(byId.size).toBe(3);
    expect(byId.get(nulTitle.id)).toMatchObject({ code: "INVALID_FIELD", permanent: true, message: expect.stringMatching(/^title: .*NUL/) });
    expect(byId.get(nulCwd.id)).toMatchObject({ code: "INVALID_FIELD", message: expect.stringMatching(/^cwd: .*NUL/) });
    expect(byId.get(loneSurrogate.id)).toMatchObject({ code: "INVALID_FIELD", message: expect.stringMatching(/^git\.repository_url: .*surrogate/) });
    expect(res.stderr).toContain("can never be stored");
    expect(res.stderr).not.toContain("rerun to retry");
    const store = new PgStore({ connectionString: pg.url, schema });
    try {
      for (const s of good) expect((await store.getSession(s.id)).lines).toBe(sessionHeadLines(s).length);
      const listed = await store.listSessions({ archived: "all" });
      expect(listed.sessions.map((s) => s.id).sort()).toEqual(good.map((s) => s.id).sort());
    } finally {
      await store.close();
    }
  });

  describe("over HTTP to the archive server (serving Postgres)", () => {
    let server: RunningServer;
    let token: string;
    beforeAll(async () => {
      server = await startServer({ store: `${pg.url}?schema=${freshSchema("nulhttp")}`, port: 0, logger: false });
      token = (await createApiToken(server.tokens, "acme", ["write"])).token;
    });
    afterAll(async () => {
      await server?.close();
    });

    it("PUT with a NUL title is a 400 naming the field; GET ?cwd=%00 is a 400 naming the filter", async () => {
      const auth = { authorization: `Bearer ${token}` };
      const put = await fetch(`${server.url}/v1/sessions/${nulTitle.id}`, {
        method: "PUT",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(nulTitle),
      });
      expect(put.status).toBe(400);
      expect(await put.json()).toMatchObject({ code: "INVALID_FIELD", field: "title", message: expect.stringContaining("NUL") });
      for (const [filter, field] of [
        ["cwd=%00", "cwd"],
        ["q=a%00b", "q"],
        ["repo=%00", "repo"],
        ["branch=x%00", "branch"],
      ] as const) {
        const get = await fetch(`${server.url}/v1/sessions?${filter}`, { headers: auth });
        expect(get.status, filter).toBe(400);
        expect(await get.json()).toMatchObject({ code: "INVALID_FIELD", field });
      }
    });

    it("sync reports the bad sessions by id with the reason, sends the rest, and exits PARTIAL_FAILURE (not STORE_UNAVAILABLE)", async () => {
      const { home, good } = await homeWith([nulTitle, nulCwd]);
      const res = await runCli(["sync", "--from", home, "--to", server.url], { SESSIONVAULT_TOKEN: token });
      expect(res.code).toBe(EXIT_CODES.PARTIAL_FAILURE);
      expect(res.stderr).toContain(`sessionvault: session ${nulTitle.id}: title: contains a NUL character`);
      expect(res.stderr).toContain(`sessionvault: session ${nulCwd.id}: cwd: contains a NUL character`);
      expect(res.stderr).toMatch(/2 session\(s\) could not be synced, the others were: 2 can never be stored/);
      expect(res.out).toMatch(/^sent 2 of 4 sessions/);
      const list = await fetch(`${server.url}/v1/sessions?archived=all`, { headers: { authorization: `Bearer ${token}` } });
      const ids = ((await list.json()) as { sessions: { id: string }[] }).sessions.map((s) => s.id);
      expect(ids.sort()).toEqual(good.map((s) => s.id).sort());
    });
  });
});
