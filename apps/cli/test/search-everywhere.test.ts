// Codex names rollout files in local time and the fixtures were written in
// UTC: the file names a store writes back must be computed in the same zone.
process.env.TZ = "UTC";

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectActions, readFileLines } from "@sessionvault/core";
import { createApiToken, startServer, type RunningServer } from "@sessionvault/server";
import { FIXTURES, fixtureRollouts } from "@sessionvault/testing/codex-fixtures";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { uniquePrefix } from "@sessionvault/testing/s3-server";
import { sharedPostgres, sharedS3Server } from "@sessionvault/testing/shared-services";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./support/run-cli.ts";

/**
 * A search for a command a session ran finds that session wherever it is
 * kept: the Codex home (scanned), Postgres (its index), S3 (scanned) and the
 * archive server over HTTP, backed by a directory (scanned) and by Postgres
 * (indexed). Sessions of an enveloped and of two bare-line Codex versions,
 * written by the real Codex CLI.
 *
 * What a user types: one word they remember from the command — its longest
 * shell word (split at blanks, quotes and `; & | < > ( )`; options starting
 * with `-` and words under 3 characters left out), and of a path its file
 * name: `does-not-exist` from `ls does-not-exist; exit 3`, `probe.txt` from
 * `echo nope > /tmp/run/outside/probe.txt`. Not the whole command: its
 * quotes, dashes and redirections are search syntax to Postgres (`-x`
 * excludes `x`), and nobody retypes a heredoc.
 */
const VERSIONS = ["0.171.0", "0.20.0", "0.1.2505291658"] as const;
/** Searches per version and store: 3 versions × 13 stays under 40 per store. */
const MAX_SEARCHES = 13;

function wordOf(command: string): string | null {
  const words = command
    .split(/[\s'"`;&|<>()]+/)
    .map((w) => w.split("/").pop()!)
    .filter((w) => w.length >= 3 && !w.startsWith("-"));
  return words.reduce<string | null>((best, w) => (best === null || w.length > best.length ? w : best), null);
}

/**
 * The command words of a version's sessions (actions v1, unredacted), each
 * word once, at most MAX_SEARCHES: first one for each session that ran a
 * command, then the rest in file order.
 */
async function searches(version: string, max = MAX_SEARCHES): Promise<{ word: string; ids: Set<string> }[]> {
  const byWord = new Map<string, Set<string>>();
  for (const r of fixtureRollouts(version)) {
    for await (const a of projectActions(readFileLines(r.path), { sessionId: r.id, redact: false })) {
      if (a.action_type !== "command_execution" || !a.command) continue;
      const word = wordOf(a.command);
      if (word === null) continue;
      const ids = byWord.get(word) ?? new Set<string>();
      ids.add(r.id);
      byWord.set(word, ids);
    }
  }
  const covered = new Set<string>();
  const first: [string, Set<string>][] = [];
  const rest: [string, Set<string>][] = [];
  for (const entry of byWord) {
    if ([...entry[1]].some((id) => !covered.has(id))) first.push(entry);
    else rest.push(entry);
    for (const id of entry[1]) covered.add(id);
  }
  return [...first, ...rest].slice(0, max).map(([word, ids]) => ({ word, ids }));
}

const pg = sharedPostgres();
const s3 = sharedS3Server();
let fsServer: RunningServer;
let pgServer: RunningServer;
let fsToken: string;
let pgToken: string;
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "sv-search-everywhere-"));
  [fsServer, pgServer] = await Promise.all([
    startServer({ store: join(scratch, "data"), port: 0, logger: false }),
    startServer({ store: `${pg.url}?schema=${freshSchema("search_server")}`, port: 0, logger: false }),
  ]);
  fsToken = (await createApiToken(fsServer.tokens, "team", ["read", "write"])).token;
  pgToken = (await createApiToken(pgServer.tokens, "team", ["read", "write"])).token;
});
afterAll(async () => {
  await Promise.all([fsServer?.close(), pgServer?.close()]);
  await rm(scratch, { recursive: true, force: true });
});
const s3Env = () => ({ AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey });
const s3Url = (prefix: string) => `s3://${s3.bucket}/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&force_path_style=true`;

describe.each(VERSIONS)("Codex %s sessions", (version) => {
  it("are found by each command's word in the Codex home, Postgres, S3 and the archive server over fs and over Postgres", async () => {
    const home = join(FIXTURES, version);
    const rollouts = fixtureRollouts(version);
    // The servers serve every version: ids are unique across the fixtures, so each search still names its own sessions.
    const stores: Record<string, { url: string; env: Record<string, string> }> = {
      home: { url: home, env: {} },
      postgres: { url: `${pg.url}?schema=${freshSchema("search")}`, env: {} },
      s3: { url: s3Url(uniquePrefix("search")), env: s3Env() },
      "server over fs": { url: fsServer.url, env: { SESSIONVAULT_TOKEN: fsToken } },
      "server over Postgres": { url: pgServer.url, env: { SESSIONVAULT_TOKEN: pgToken } },
    };
    for (const [name, store] of Object.entries(stores)) {
      if (name === "home") continue;
      const sync = await runCli(["sync", "--from", home, "--to", store.url, "--json"], store.env);
      expect(sync.code, `${name}: ${sync.stderr}`).toBe(0);
      expect(JSON.parse(sync.out), name).toMatchObject({ sessions_scanned: rollouts.length, sessions_sent: rollouts.length, errors: [] });
    }

    const words = await searches(version);
    expect(words.length).toBeGreaterThan(3);
    const searched = new Set(words.flatMap((w) => [...w.ids]));
    const missed: string[] = [];
    for (const { word, ids } of words) {
      for (const [name, store] of Object.entries(stores)) {
        const found = await runCli(["list", "--store", store.url, "--all", "--search", word, "--json", "--limit", "100"], store.env);
        expect(found.code, `${name} ${word}: ${found.stderr}`).toBe(0);
        const got = new Set((JSON.parse(found.out) as { sessions: { id: string }[] }).sessions.map((s) => s.id));
        for (const id of ids) if (!got.has(id)) missed.push(`${name}: "${word}" misses ${id}`);
      }
    }
    expect(missed).toEqual([]);
    // Every session that ran a command was searched for.
    expect(searched.size).toBe(new Set((await searches(version, Infinity)).flatMap((w) => [...w.ids])).size);
  });
});
