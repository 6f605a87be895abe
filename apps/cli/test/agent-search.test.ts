import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectActions, readFileLines } from "@sessionvault/core";
import { createApiToken, startServer, type RunningServer } from "@sessionvault/server";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { uniquePrefix } from "@sessionvault/testing/s3-server";
import { sharedPostgres, sharedS3Server } from "@sessionvault/testing/shared-services";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedSessions, homeDir, type Agent, type Expected } from "./support/agent-fixtures.ts";
import { runCli } from "./support/run-cli.ts";

/**
 * A search for a command a Claude Code or Gemini CLI session ran finds that
 * session wherever it is kept: its home (scanned with the agent's reader), a
 * directory and S3 (scanned), Postgres (its index of each line's search
 * text, read through the agent's reader) and the archive server over HTTP
 * backed by a directory and by Postgres. The word searched is the longest
 * word of the command (its file name for a path), as in search-everywhere.
 */
const CASES: { agent: Agent; version: string }[] = [
  { agent: "claude-code", version: "2.1.332" },
  { agent: "claude-code", version: "2.0.77" },
  { agent: "gemini-cli", version: "0.61.0" },
  { agent: "gemini-cli", version: "0.20.0" },
];

function wordOf(command: string): string | null {
  const words = command
    .split(/[\s'"`;&|<>()]+/)
    .map((w) => w.split("/").pop()!)
    .filter((w) => w.length >= 3 && !w.startsWith("-") && /^[\w.-]+$/.test(w));
  return words.reduce<string | null>((best, w) => (best === null || w.length > best.length ? w : best), null);
}

/** Each command word of the sessions (actions v1 read with the agent's reader), with the sessions that ran it. */
async function searches(agent: Agent, sessions: Expected[]): Promise<{ word: string; ids: Set<string> }[]> {
  const byWord = new Map<string, Set<string>>();
  for (const s of sessions) {
    async function* lines() {
      for (const f of s.files) for await (const l of readFileLines(f)) yield l.text;
    }
    for await (const a of projectActions(lines(), { sessionId: s.id, redact: false, agent })) {
      if (a.action_type !== "command_execution" || !a.command) continue;
      const word = wordOf(a.command);
      if (word === null) continue;
      const ids = byWord.get(word) ?? new Set<string>();
      ids.add(s.id);
      byWord.set(word, ids);
    }
  }
  return [...byWord].slice(0, 12).map(([word, ids]) => ({ word, ids }));
}

const pg = sharedPostgres();
const s3 = sharedS3Server();
let fsServer: RunningServer;
let pgServer: RunningServer;
let fsToken: string;
let pgToken: string;
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "sv-agent-search-"));
  [fsServer, pgServer] = await Promise.all([
    startServer({ store: join(scratch, "server-data"), port: 0, logger: false }),
    startServer({ store: `${pg.url}?schema=${freshSchema("agent_search_server")}`, port: 0, logger: false }),
  ]);
  fsToken = (await createApiToken(fsServer.tokens, "team", ["read", "write"])).token;
  pgToken = (await createApiToken(pgServer.tokens, "team", ["read", "write"])).token;
});
afterAll(async () => {
  await Promise.all([fsServer?.close(), pgServer?.close()]);
  await rm(scratch, { recursive: true, force: true });
});

describe.each(CASES)("$agent $version sessions", ({ agent, version }) => {
  it("are found by each command's word in their home, a directory, Postgres, S3 and the archive server over a directory and over Postgres", async () => {
    const home = homeDir(agent, version);
    const sessions = await expectedSessions(agent, version);
    const stores: Record<string, { url: string; env: Record<string, string> }> = {
      home: { url: home, env: {} },
      // With a cache directory, a search over a directory keeps its SQLite index there: the searches after
      // the first decide recorded transcripts by what the index holds for them.
      directory: { url: join(scratch, `dir-${agent}-${version}`), env: { XDG_CACHE_HOME: join(scratch, `cache-${agent}-${version}`) } },
      postgres: { url: `${pg.url}?schema=${freshSchema("agentsearch")}`, env: {} },
      s3: {
        url: `s3://${s3.bucket}/${uniquePrefix("agent-search")}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&force_path_style=true`,
        env: { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey },
      },
      "server over a directory": { url: fsServer.url, env: { SESSIONVAULT_TOKEN: fsToken } },
      "server over Postgres": { url: pgServer.url, env: { SESSIONVAULT_TOKEN: pgToken } },
    };
    for (const [name, store] of Object.entries(stores)) {
      if (name === "home") continue;
      const sync = await runCli(["sync", "--from", home, "--to", store.url, "--json"], store.env);
      expect(sync.code, `${name}: ${sync.stderr}`).toBe(0);
      expect(JSON.parse(sync.out), name).toMatchObject({ sessions_scanned: sessions.length, errors: [] });
    }
    const words = await searches(agent, sessions);
    expect(words.length).toBeGreaterThan(2);
    const missed: string[] = [];
    for (const { word, ids } of words) {
      for (const [name, store] of Object.entries(stores)) {
        const found = await runCli(["list", "--store", store.url, "--all", "--search", word, "--json", "--limit", "100"], store.env);
        expect(found.code, `${name} ${word}: ${found.stderr}`).toBe(0);
        const got = (JSON.parse(found.out) as { sessions: { id: string; agent: string }[] }).sessions;
        for (const id of ids) if (!got.some((s) => s.id === id)) missed.push(`${name}: "${word}" misses ${id}`);
        for (const s of got.filter((x) => ids.has(x.id))) expect(s.agent, `${name} ${word}`).toBe(agent);
      }
    }
    expect(missed).toEqual([]);
  });
});
