/**
 * Web UI pages over a big Postgres store (issue 15's figure, `pnpm bench`):
 * 100 000 sessions, then the list page with filters (outcome, model,
 * repository, date range) and the usage page, each asked for many times, one
 * after the other, through the whole server (routing, login cookie, the
 * store, rendering) with Fastify's inject, so the time is the server's
 * handling alone. p50 and p95 are printed next to a baseline measured in the
 * same run on a copy of the same rows: the same server with the store's
 * `aggregates` capability hidden, so that core scans the summaries (the list
 * facets read up to 500 of them, the usage page all of them).
 *
 * Rows are made from the sessions the real Codex CLI wrote (fixtures/codex,
 * all three versions): each generated session is one of them — title, facts
 * (model, outcome, turns, tokens, duration, files changed) and summary — under
 * a new id, start time (spread over a year), directory, repository and branch,
 * and inserted with multi-row INSERTs of unnested arrays.
 *
 *   SV_BENCH_UI_SESSIONS   sessions per org (default 100000)
 *   SV_BENCH_UI_REQUESTS   list requests (default 300; the usage page gets a third)
 *   SV_BENCH_UI_BASELINE   usage requests for the baseline (default 5: it reads every summary, ~10 s each);
 *                          the baseline list gets as many requests as the list
 */
process.env.TZ = "UTC";

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { checkedStore, withSessionFacts, type SessionFacts, type SessionSummary } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { PgStore } from "@sessionvault/pg-store";
import { FIXTURES, VERSIONS } from "@sessionvault/testing/codex-fixtures";
import { startPostgres, type TestPostgres } from "@sessionvault/testing/postgres";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import { afterAll, beforeAll, it } from "vitest";
import { buildApp } from "../src/build-app.js";
import { OrgStores } from "../src/org-stores.js";
import { createApiToken } from "../src/tokens.js";

const SESSIONS = Number(process.env.SV_BENCH_UI_SESSIONS ?? 100_000);
const REQUESTS = Number(process.env.SV_BENCH_UI_REQUESTS ?? 300);
const BASELINE_REQUESTS = Number(process.env.SV_BENCH_UI_BASELINE ?? 5);
const SCHEMA = "benchui";
const TARGETS = { list: 50, usage: 300 };

let server: TestPostgres;
let app: FastifyInstance;
let tokens: PgStore;
const stores: PgStore[] = [];
const rows: string[] = [];

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

beforeAll(async () => {
  server = await startPostgres();
  const t0 = performance.now();
  const templates = await fixtureSessions();
  const store = new PgStore({ connectionString: server.url, schema: SCHEMA, org: "bench" });
  await store.migrateToLatest();
  const pool = new pg.Pool({ connectionString: server.url, max: 2 });
  pool.on("error", () => {});
  try {
    await insertSessions(pool, "bench", templates);
    // The baseline org holds the same rows.
    await pool.query(
      `insert into ${SCHEMA}.sessions (org, id, created_at, created_ts, updated_at, updated_ts, cwd, title, archived, source, originator, cli_version, model_provider, git, facts, lines, bytes)
       select 'baseline', id, created_at, created_ts, updated_at, updated_ts, cwd, title, archived, source, originator, cli_version, model_provider, git, facts, lines, bytes
       from ${SCHEMA}.sessions where org = 'bench'`,
    );
    // What autovacuum does soon after a bulk load: statistics, and the visibility map.
    await pool.query(`vacuum analyze ${SCHEMA}.sessions`);
  } finally {
    await pool.end();
  }
  out(`${SESSIONS} sessions per org from ${templates.length} fixture sessions, inserted in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await store.close();

  const open = (org: string) => {
    // Connections stay open through the long baseline series, so their backends' CPU stays counted.
    const driver = new PgStore({ connectionString: server.url, schema: SCHEMA, org, pool: { idleTimeoutMillis: 3_600_000 } });
    stores.push(driver);
    // The baseline: the same store, its grouping hidden, so core scans the summaries.
    if (org === "baseline") Object.defineProperty(driver, "capabilities", { value: { textSearch: true } });
    return checkedStore(driver);
  };
  tokens = new PgStore({ connectionString: server.url, schema: SCHEMA });
  stores.push(tokens);
  app = await buildApp({ stores: new OrgStores(open), tokens, logger: false });
  await app.ready();
}, 30 * 60_000);

afterAll(async () => {
  await app?.close();
  for (const s of stores) await s.close();
  await server?.stop();
  out("");
  out(
    `load average at the end: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(", ")} (on ${availableParallelism()} cores)`,
  );
  out("| page | requests | p50 | p95 | CPU per request | baseline p50 / p95 (same run) | ratio (p95) | target (p95) |");
  out("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) out(r);
  const dir = join(import.meta.dirname, "..", "..", "..", "bench-results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "server-ui-pages.json"), `${JSON.stringify({ sessions: SESSIONS, rows }, null, 2)}\n`);
});

type Template = SessionSummary & SessionFacts;

/** Every session of the three Codex fixture homes, with its facts as a sync would store them. */
async function fixtureSessions(): Promise<Template[]> {
  const out: Template[] = [];
  for (const v of VERSIONS) {
    const home = checkedStore(new FsStore({ root: join(FIXTURES, v) }));
    let cursor: string | null = null;
    do {
      const page = await home.listSessions({ limit: 200, archived: "all", ...(cursor ? { cursor } : {}) });
      out.push(...(await withSessionFacts(home, page.sessions)));
      cursor = page.next_cursor;
    } while (cursor);
    await home.close();
  }
  return out;
}

const YEAR_MS = 365 * 86_400_000;
const END = Date.UTC(2026, 10, 30);

async function insertSessions(pool: pg.Pool, org: string, templates: Template[]): Promise<void> {
  const BATCH = 5000;
  for (let from = 0; from < SESSIONS; from += BATCH) {
    const cols: unknown[][] = Array.from({ length: 14 }, () => []);
    for (let i = from; i < Math.min(SESSIONS, from + BATCH); i++) {
      const t = templates[i % templates.length]!;
      const created = new Date(END - Math.floor((i / SESSIONS) * YEAR_MS)).toISOString();
      const facts: SessionFacts = {
        agent: t.agent,
        model: t.model,
        outcome: t.outcome,
        turns: t.turns,
        tokens: t.tokens,
        duration_ms: t.duration_ms,
        files_changed: t.files_changed,
        children: t.children,
      };
      const git = {
        commit_hash: (i * 2654435761).toString(16).padStart(40, "0").slice(-40),
        branch: i % 3 === 0 ? "main" : `feature-${i % 40}`,
        repository_url: `https://github.com/acme/repo-${i % 50}.git`,
      };
      const values = [
        `${i.toString(16).padStart(8, "0")}-0000-4000-8000-${(i * 7919).toString(16).padStart(12, "0").slice(-12)}`,
        created,
        created,
        `/home/dev/project-${i % 200}`,
        t.title,
        i % 10 === 9,
        t.source,
        t.originator,
        t.cli_version,
        t.model_provider,
        JSON.stringify(git),
        JSON.stringify(facts),
        t.lines,
        t.bytes,
      ];
      for (const [k, v] of values.entries()) cols[k]!.push(v);
    }
    await pool.query(
      `insert into ${SCHEMA}.sessions (org, id, created_at, created_ts, updated_at, updated_ts, cwd, title, archived, source, originator, cli_version, model_provider, git, facts, lines, bytes)
       select $1, id, created, created::timestamptz, created, created::timestamptz, cwd, title, archived, source, originator, cli_version, model_provider, git::jsonb, facts::jsonb, lines, bytes
       from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], $15::bigint[])
         as u(id, created, updated, cwd, title, archived, source, originator, cli_version, model_provider, git, facts, lines, bytes)`,
      [org, ...cols],
    );
  }
}

/** Logs in as the browser does (the form's CSRF cookie and token, then the token) and returns the cookies. */
async function login(org: string): Promise<string> {
  const { token } = await createApiToken(tokens, org, ["read"]);
  const form = await app.inject({ method: "GET", url: "/login" });
  const csrfCookie = form.cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? "";
  const res = await app.inject({
    method: "POST",
    url: "/login",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie, "sec-fetch-site": "same-origin" },
    payload: new URLSearchParams({ token, _csrf: csrf }).toString(),
  });
  const session = res.cookies.find((c) => c.name === "sv_session");
  if (res.statusCode !== 303 || !session) throw new Error(`login failed: ${res.statusCode} ${res.body.slice(0, 200)}`);
  return `sv_session=${session.value}`;
}

let postmaster: string | null | undefined;

/**
 * Clock ticks of CPU used so far by each process of the bench's Postgres: its postmaster (found by port,
 * once) and the backends it forked (Linux /proc; none elsewhere). Unlike the latency, CPU does not grow
 * with what else runs on the machine.
 */
function pgTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  let pids: string[] = [];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  } catch {
    return ticks;
  }
  if (postmaster === undefined) {
    const port = new URL(server.url).port;
    postmaster =
      pids.find((pid) => {
        try {
          const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
          return argv.some((a) => a.endsWith("postgres")) && argv[argv.indexOf("-p") + 1] === port;
        } catch {
          return false;
        }
      }) ?? null;
  }
  if (!postmaster) return ticks;
  for (const pid of pids) {
    try {
      const text = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      if (pid === postmaster || fields[1] === postmaster) ticks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks;
}

interface Timed {
  times: number[];
  /** CPU ms per request: this process (the server; the bench's own share is small) and Postgres. */
  cpu: { node: number; pg: number };
}

/** The server's handling time of each request, in ms, one after the other, and the CPU they used. */
async function timeRequests(cookie: string, urls: string[]): Promise<Timed> {
  const series = { times: [] as number[], cpu: { node: 0, pg: 0 } };
  for (const url of urls) add(series, await timeRequest(cookie, url));
  return average(series);
}

/**
 * Two series asked for in turns (one request of each, then the next): the machine is shared, and its load
 * changes over a run, so taking the two series at the same time keeps that out of their ratio.
 */
async function timeInTurns(a: { cookie: string; urls: string[] }, b: { cookie: string; urls: string[] }): Promise<[Timed, Timed]> {
  const sa = { times: [] as number[], cpu: { node: 0, pg: 0 } };
  const sb = { times: [] as number[], cpu: { node: 0, pg: 0 } };
  for (let i = 0; i < Math.max(a.urls.length, b.urls.length); i++) {
    if (i < a.urls.length) add(sa, await timeRequest(a.cookie, a.urls[i]!));
    if (i < b.urls.length) add(sb, await timeRequest(b.cookie, b.urls[i]!));
  }
  return [average(sa), average(sb)];
}

async function timeRequest(cookie: string, url: string): Promise<{ ms: number; node: number; pg: number }> {
  const pgBefore = pgTicks();
  // Read last before and first after the request, so that reading /proc is not counted.
  const nodeBefore = process.cpuUsage();
  const t = performance.now();
  const res = await app.inject({ method: "GET", url, headers: { cookie } });
  const ms = performance.now() - t;
  const node = process.cpuUsage(nodeBefore);
  const pgAfter = pgTicks();
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  // Per process: a backend that exits between the two readings must not take its ticks off the sum.
  let ticks = 0;
  for (const [pid, n] of pgAfter) ticks += n - (pgBefore.get(pid) ?? 0);
  return { ms, node: (node.user + node.system) / 1000, pg: ticks * 10 };
}

function add(series: Timed, r: { ms: number; node: number; pg: number }): void {
  series.times.push(r.ms);
  series.cpu.node += r.node;
  series.cpu.pg += r.pg;
}

function average(series: Timed): Timed {
  const n = Math.max(1, series.times.length);
  return { times: series.times, cpu: { node: series.cpu.node / n, pg: series.cpu.pg / n } };
}

function percentile(times: number[], p: number): number {
  const s = [...times].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const LIST_URLS = [
  "/",
  "/?outcome=completed",
  "/?outcome=failed",
  "/?model=gpt-5.5",
  "/?repo=acme/repo-7",
  "/?since=2026-03-01&until=2026-04-30",
  "/?outcome=completed&repo=acme/repo-12&since=2026-01-01&until=2026-06-30",
  "/?archived=all&branch=main",
];

function report(page: string, own: Timed, base: Timed, target: number): void {
  const p50 = percentile(own.times, 50);
  const p95 = percentile(own.times, 95);
  const b50 = percentile(base.times, 50);
  const b95 = percentile(base.times, 95);
  const verdict = p95 < target ? "met" : "MISSED";
  const cpu = (c: Timed["cpu"]) => `${(c.node + c.pg).toFixed(1)} ms (node ${c.node.toFixed(1)}, pg ${c.pg.toFixed(1)})`;
  rows.push(
    `| ${page} | ${own.times.length} | ${p50.toFixed(1)} ms | ${p95.toFixed(1)} ms | ${cpu(own.cpu)} | ${b50.toFixed(1)} / ${b95.toFixed(1)} ms, CPU ${cpu(base.cpu)} | ${(b95 / p95).toFixed(1)}× faster | < ${target} ms (${verdict}) |`,
  );
}

it(`list and usage pages over ${SESSIONS} sessions in Postgres`, async () => {
  out(
    `load average before the requests: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(", ")} (on ${availableParallelism()} cores)`,
  );
  const bench = await login("bench");
  const baseline = await login("baseline");
  const listUrls = (n: number) => Array.from({ length: n }, (_, i) => LIST_URLS[i % LIST_URLS.length]!);
  // Warm up both (connections, prepared plans, the JIT), then measure.
  await timeRequests(bench, [...LIST_URLS, "/usage"]);
  await timeRequests(baseline, [...LIST_URLS, "/usage"]);
  const [list, listBase] = await timeInTurns({ cookie: bench, urls: listUrls(REQUESTS) }, { cookie: baseline, urls: listUrls(REQUESTS) });
  report("list, filtered (8 filter sets)", list, listBase, TARGETS.list);
  for (const url of LIST_URLS) {
    const own = list.times.filter((_, i) => LIST_URLS[i % LIST_URLS.length] === url);
    out(`  ${url.padEnd(72)} p50 ${percentile(own, 50).toFixed(1)} ms  p95 ${percentile(own, 95).toFixed(1)} ms`);
  }
  const usage = await timeRequests(
    bench,
    Array.from({ length: Math.ceil(REQUESTS / 3) }, () => "/usage"),
  );
  const usageBase = await timeRequests(
    baseline,
    Array.from({ length: BASELINE_REQUESTS }, () => "/usage"),
  );
  report("usage", usage, usageBase, TARGETS.usage);
});
