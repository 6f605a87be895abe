import { readdirSync, readFileSync } from "node:fs";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiToken, startServer, type RunningServer } from "@sessionvault/server";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { uniquePrefix } from "@sessionvault/testing/s3-server";
import { sharedPostgres, sharedS3Server } from "@sessionvault/testing/shared-services";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedSessions, FIXTURES, homeDir, storedBytes, type Agent, type Expected } from "./support/agent-fixtures.ts";
import { runCli } from "./support/run-cli.ts";

/**
 * Claude Code and Gemini CLI sessions are archived like Codex ones: every
 * fixture session of every version (written by the real CLIs) is synced from
 * its home to a store directory, Postgres, S3 and the archive server over
 * HTTP; `cat` of every stream (the transcript and each sub-agent's) from
 * each store gives the home's bytes, `show` names the agent, a rerun sends
 * nothing, and syncing back out of Postgres and S3 into an empty directory
 * gives the same bytes again.
 */
const pg = sharedPostgres();
const s3 = sharedS3Server();
let server: RunningServer;
let token: string;
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "sv-agent-sync-"));
  server = await startServer({ store: join(scratch, "server-data"), port: 0, logger: false });
  token = (await createApiToken(server.tokens, "team", ["read", "write"])).token;
});
afterAll(async () => {
  await server?.close();
  await rm(scratch, { recursive: true, force: true });
});

const s3Env = () => ({ AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey });
const s3Url = (prefix: string) => `s3://${s3.bucket}/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&force_path_style=true`;

interface Summary {
  sessions_scanned: number;
  sessions_sent: number;
  lines_sent: number;
  bytes_sent: number;
  conflicts: number;
  errors: unknown[];
}

async function sync(from: string, to: string, env: Record<string, string>): Promise<Summary> {
  const r = await runCli(["sync", "--from", from, "--to", to, "--json"], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.out) as Summary;
}

/** Every stream of every session, as `cat` prints it from `store`, equals what the home holds. */
async function expectSameStreams(name: string, store: string, env: Record<string, string>, agent: Agent, sessions: Expected[]): Promise<void> {
  for (const s of sessions) {
    const shown = await runCli(["show", s.id, "--store", store, "--json"], env);
    expect(shown.code, `${name} ${s.label}: ${shown.stderr}`).toBe(0);
    const detail = JSON.parse(shown.out) as { agent: string; streams: { name: string }[] };
    expect(detail.agent, `${name} ${s.label}`).toBe(agent);
    const want = ["rollout", ...[...s.subAgents.keys()].map((id) => `sub-agent-${id}`)].sort();
    // A store lists a stream once it has lines; an empty transcript (Claude Code leaves some) has none.
    expect(
      detail.streams
        .map((x) => x.name)
        .filter((n) => n !== "rollout")
        .sort(),
      `${name} ${s.label}`,
    ).toEqual(want.filter((n) => n !== "rollout"));
    const cat = await runCli(["cat", s.id, "--store", store], env);
    expect(cat.code, `${name} ${s.label}: ${cat.stderr}`).toBe(0);
    expect(cat.stdout.equals(storedBytes(s.files)), `${name} ${s.label}: cat is the transcript`).toBe(true);
    for (const [subId, path] of s.subAgents) {
      const sub = await runCli(["cat", s.id, "--stream", `sub-agent-${subId}`, "--store", store], env);
      expect(sub.stdout.equals(storedBytes([path])), `${name} ${s.label}: sub-agent ${subId}`).toBe(true);
    }
  }
}

const CASES = (["claude-code", "gemini-cli"] as const).flatMap((agent) => readdirSync(join(FIXTURES, agent)).map((version) => ({ agent, version })));

describe.each(CASES)("sync of the $agent $version home", ({ agent, version }) => {
  it("to a directory, Postgres, S3 and the archive server keeps every stream byte-exact; reruns send nothing; back out of Postgres and S3 too", async () => {
    const home = homeDir(agent, version);
    const sessions = await expectedSessions(agent, version);
    expect(sessions.length).toBeGreaterThan(10);
    const streams = sessions.reduce((n, s) => n + 1 + s.subAgents.size, 0);
    const lines = sessions.reduce((n, s) => n + countLines(s), 0);
    const tag = `${agent}-${version}`.replace(/[^a-z0-9]/g, "_");
    const targets: Record<string, { url: string; env: Record<string, string> }> = {
      directory: { url: join(scratch, `dir-${tag}`), env: {} },
      postgres: { url: `${pg.url}?schema=${freshSchema("agentsync")}`, env: {} },
      s3: { url: s3Url(uniquePrefix("agent-sync")), env: s3Env() },
      "archive server": { url: server.url, env: { SESSIONVAULT_TOKEN: token } },
    };
    for (const [name, t] of Object.entries(targets)) {
      const first = await sync(home, t.url, t.env);
      expect(first, `${name}: ${streams} streams`).toEqual({
        sessions_scanned: sessions.length,
        sessions_sent: sessions.length,
        lines_sent: lines,
        bytes_sent: expect.any(Number),
        conflicts: 0,
        errors: [],
      });
      expect(await sync(home, t.url, t.env), `${name}: rerun`).toEqual({
        sessions_scanned: sessions.length,
        sessions_sent: 0,
        lines_sent: 0,
        bytes_sent: 0,
        conflicts: 0,
        errors: [],
      });
      const listed = await runCli(["list", "--store", t.url, "--all", "--agent", agent, "--limit", "1000", "--json"], t.env);
      expect(listed.code, listed.stderr).toBe(0);
      const ids = (JSON.parse(listed.out) as { sessions: { id: string; agent: string }[] }).sessions;
      // The archive server holds every version's sessions: ids are unique across the fixtures, so these are found among them.
      expect(ids.filter((x) => sessions.some((s) => s.id === x.id)).length, `${name}: list --agent ${agent}`).toBe(sessions.length);
      expect(new Set(ids.map((x) => x.agent)), name).toEqual(new Set([agent]));
      await expectSameStreams(name, t.url, t.env, agent, sessions);
    }
    for (const name of ["postgres", "s3"] as const) {
      const back = join(scratch, `back-from-${name}-${tag}`);
      const t = targets[name]!;
      expect(await sync(t.url, back, t.env), `back out of ${name}`).toMatchObject({
        sessions_scanned: sessions.length,
        sessions_sent: sessions.length,
        lines_sent: lines,
        errors: [],
      });
      await expectSameStreams(`back out of ${name}`, back, {}, agent, sessions);
      expect(await sync(t.url, back, t.env), `back out of ${name}: rerun`).toMatchObject({ sessions_sent: 0, lines_sent: 0, errors: [] });
    }
  });
});

/** Committed lines of a session's transcript and sub-agent streams, as the store counts them. */
function countLines(s: Expected): number {
  let n = 0;
  for (const files of [s.files, ...[...s.subAgents.values()].map((p) => [p])]) {
    const bytes = storedBytes(files);
    for (const b of bytes) if (b === 10) n++;
  }
  return n;
}

describe("a Gemini CLI chat rewritten after it was synced", () => {
  it("is a conflict on the next sync, never an append of lines that do not follow; the stored copy stays as it was", async () => {
    const project = "0ecfefa5c06a491acac7ce15cf188f1e94ce5c45f2fcebcd3d593f9e43f04b11";
    const home = join(scratch, "gemini-rewritten");
    await cp(join(homeDir("gemini-cli", "0.20.0"), "tmp", project), join(home, "tmp", project), { recursive: true });
    const chats = join(home, "tmp", project, "chats");
    const file = join(chats, readdirSync(chats).find((n) => n.endsWith(".json"))!);
    const before = readFileSync(file);
    const target = join(scratch, "gemini-rewritten-copy");
    expect(await sync(home, target, {})).toMatchObject({ sessions_sent: 1, conflicts: 0, errors: [] });
    const id = (JSON.parse(before.toString("utf8")) as { sessionId: string }).sessionId;
    const stored = (await runCli(["cat", id, "--store", target])).stdout;
    expect(stored.equals(storedBytes([file]))).toBe(true);

    // Gemini CLI 0.2x rewrites the whole document when the chat goes on: lines change in the middle.
    const doc = JSON.parse(before.toString("utf8")) as { lastUpdated: string; messages: unknown[] };
    doc.messages.push({ id: "later", timestamp: "2026-12-02T06:00:00.000Z", type: "user", content: "And one more thing." });
    doc.lastUpdated = "2026-12-02T06:00:00.000Z";
    await writeFile(file, JSON.stringify(doc, null, 2));
    expect(await sync(home, target, {})).toMatchObject({ sessions_sent: 0, lines_sent: 0, conflicts: 1, errors: [] });
    expect((await runCli(["cat", id, "--store", target])).stdout.equals(stored)).toBe(true);
  });
});
