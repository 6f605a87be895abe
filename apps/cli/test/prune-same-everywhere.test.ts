import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { checkedStore, createApiToken, DAY_MS, sessionHeadLines, type AgentName, type CheckedStore, type SessionInput } from "@sessionvault/core";
import { claudeCodeLines, geminiCliLines } from "@sessionvault/core/conformance";
import { FsStore } from "@sessionvault/fs-store";
import { HttpStore } from "@sessionvault/http-store";
import { PgStore } from "@sessionvault/pg-store";
import { S3Store } from "@sessionvault/s3-store";
import { startServer, type RunningServer } from "@sessionvault/server";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { startPostgres, type TestPostgres } from "@sessionvault/testing/postgres";
import { startS3Server, uniquePrefix, type TestS3Server } from "@sessionvault/testing/s3-server";
import { runCli } from "./support/run-cli.js";

/**
 * One `prune` over the same data on every store — a Codex home, S3, Postgres
 * and the archive server over HTTP — leaves the same sessions, the same
 * audit actions and the same trash (soft-deleted sessions), and prints the
 * same report. Before, Postgres hard-deleted at once (audit `delete`, no
 * trash) where the others soft-deleted.
 */
let pg: TestPostgres;
let s3: TestS3Server;
let server: RunningServer;
const dirs: string[] = [];

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3Server()]);
  const dir = await mkdtemp(join(tmpdir(), "sv-prune-http-"));
  dirs.push(dir);
  server = await startServer({ store: dir, port: 0, logger: false });
});
afterAll(async () => {
  await server?.close();
  await Promise.all([pg?.stop(), s3?.stop()]);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

interface Target {
  /** `--store` for the CLI. */
  url: string;
  env: Record<string, string>;
  /** Seeds and inspects the data (for the server: its own store of the org, where its audit and trash are). */
  direct: CheckedStore;
  /** What the CLI talks to, for seeding (the server itself over HTTP, else the store). */
  writer: CheckedStore;
}

async function targets(): Promise<Record<string, Target>> {
  const home = await mkdtemp(join(tmpdir(), "sv-prune-same-"));
  dirs.push(home);
  const prefix = uniquePrefix("prune-same");
  const schema = freshSchema("prunesame");
  const pgUrl = new URL(pg.url);
  pgUrl.searchParams.set("schema", schema);
  const s3Direct = checkedStore(
    new S3Store({ bucket: s3.bucket, prefix, endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true }),
  );
  const pgDirect = checkedStore(new PgStore({ connectionString: pg.url, schema }));
  const fsDirect = checkedStore(new FsStore({ root: home }));
  const org = `prune-${prefix.slice(-8).replace(/[^a-z0-9]/g, "x")}`;
  const { token } = await createApiToken(server.tokens, org, ["admin"]);
  return {
    "Codex home": { url: home, env: {}, direct: fsDirect, writer: fsDirect },
    s3: {
      url: `s3://${s3.bucket}/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&force_path_style=true`,
      env: { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey },
      direct: s3Direct,
      writer: s3Direct,
    },
    postgres: { url: pgUrl.href, env: {}, direct: pgDirect, writer: pgDirect },
    "archive server": {
      url: server.url,
      env: { SESSIONVAULT_TOKEN: token },
      direct: checkedStore(server.orgStore(org)),
      writer: checkedStore(new HttpStore({ baseUrl: server.url, token })),
    },
  };
}

const AGES = { old: 400, held: 400, idle: 40, recent: 10, fresh: 1 } as const;
const IDS: Record<keyof typeof AGES, string> = {
  old: "0aa00001-0000-7000-8000-000000000001",
  held: "0aa00002-0000-7000-8000-000000000002",
  idle: "0aa00003-0000-7000-8000-000000000003",
  recent: "0aa00004-0000-7000-8000-000000000004",
  fresh: "0aa00005-0000-7000-8000-000000000005",
};

/** Sessions another agent wrote are kept and expired like Codex ones (a directory keeps them as `<agent>-…jsonl`). */
const AGENT_OF: Partial<Record<keyof typeof AGES, AgentName>> = { idle: "claude-code", recent: "gemini-cli" };

async function seed(store: CheckedStore): Promise<void> {
  for (const [name, ageDays] of Object.entries(AGES) as [keyof typeof AGES, number][]) {
    const at = new Date(Date.now() - ageDays * DAY_MS).toISOString();
    const agent = AGENT_OF[name] ?? "codex";
    const input: SessionInput = {
      id: IDS[name],
      agent,
      created_at: at,
      cwd: "/w",
      title: name,
      archived: false,
      source: "cli",
      originator: "t",
      cli_version: "0.169.0",
      model_provider: null,
      git: null,
      parent_id: null,
      forked_from_id: null,
    };
    await store.putSession(input);
    const lines =
      agent === "claude-code" ? claudeCodeLines(input.id, at, name) : agent === "gemini-cli" ? geminiCliLines(input.id, at, name) : sessionHeadLines(input);
    await store.append(input.id, "rollout", 0, lines);
    await store.append(input.id, "raw-api", 0, ['{"direction":"response","status":200}']);
  }
  await store.setLegalHold(IDS.held, true);
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

test("prune --older-than 30d --grace 7d --stream-ttl raw-api=7d: the same sessions, audit actions and trash on every store", async () => {
  const all = await targets();
  const outcome: Record<string, unknown> = {};
  try {
    for (const [name, t] of Object.entries(all)) {
      await seed(t.writer);
      const res = await runCli(["prune", "--store", t.url, "--older-than", "30d", "--grace", "7d", "--stream-ttl", "raw-api=7d", "--json"], {
        ...t.env,
        USER: "alice",
      });
      expect(res.stderr, name).toBe("");
      expect(res.code, name).toBe(0);
      const report = JSON.parse(res.out) as {
        expired: string[];
        held: string[];
        purged: string[];
        streams_expired: { session_id: string; stream: string }[];
        dry_run: boolean;
      };
      const page = (await t.direct.listSessions({ archived: "all" })).sessions;
      const listed = page.map((s) => s.id).sort();
      const agents = Object.fromEntries(page.map((s) => [s.id, s.agent]));
      const audit = (await collect(t.direct.deletionAudit())).map((r) => [r.action, r.session_id, r.stream, r.policy]);
      const trash = (await collect(t.direct.softDeletedSessions())).map((s) => s.id).sort();
      const rawApiLeft = await Promise.all(
        [IDS.recent, IDS.fresh].map(async (id) => (await t.direct.streamPositions(id)).find((p) => p.name === "raw-api")?.lines ?? 0),
      );
      outcome[name] = {
        report: {
          expired: [...report.expired].sort(),
          held: report.held,
          purged: report.purged,
          streams: report.streams_expired.map((s) => [s.session_id, s.stream]).sort(),
          dry_run: report.dry_run,
        },
        listed,
        agents,
        audit,
        trash,
        rawApiLeft,
      };
    }
    const expected = {
      report: { expired: [IDS.old, IDS.idle], held: [IDS.held], purged: [], streams: [[IDS.recent, "raw-api"]], dry_run: false },
      listed: [IDS.held, IDS.recent, IDS.fresh].sort(),
      agents: { [IDS.held]: "codex", [IDS.recent]: "gemini-cli", [IDS.fresh]: "codex" },
      trash: [IDS.old, IDS.idle],
      rawApiLeft: [0, 1],
    };
    for (const [name, got] of Object.entries(outcome)) expect(got, name).toMatchObject(expected);
    // The audit, record for record (order within one run is the store's walk order).
    const audits = Object.values(outcome).map((o) => [...(o as { audit: unknown[][] }).audit].map((r) => JSON.stringify(r)).sort());
    expect(audits[0]).toEqual(
      [
        ["soft_delete", IDS.old, null, "cli-prune"],
        ["soft_delete", IDS.idle, null, "cli-prune"],
        ["delete_stream", IDS.recent, "raw-api", "cli-prune"],
      ]
        .map((r) => JSON.stringify(r))
        .sort(),
    );
    for (const a of audits) expect(a).toEqual(audits[0]);
  } finally {
    for (const t of Object.values(all)) {
      await t.writer.close();
      await t.direct.close();
    }
  }
});
