import { join } from "node:path";
import { checkedStore, sessionFacets, sessionUsage, syncStores, withSessionFacts } from "@sessionvault/core";
import type { CheckedStore, FacetQuery, SessionFacts, SessionSummary } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { PgStore } from "@sessionvault/pg-store";
import { FIXTURES, VERSIONS } from "@sessionvault/testing/codex-fixtures";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { sharedPostgres } from "@sessionvault/testing/shared-services";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Facet counts and usage sums grouped by Postgres must be exactly what core's
// scan of the summaries gives, on the sessions the real Codex CLI wrote: the
// scan over the same Postgres store, and over the fixture homes themselves.
const server = sharedPostgres();
const schema = freshSchema("agg");
let pgStore: CheckedStore;
const homes: CheckedStore[] = [];
/** A day after the newest fixture session, so that the "started" windows split the fixtures. */
let now: number;
let withoutFacts: string[];

beforeAll(async () => {
  pgStore = checkedStore(new PgStore({ connectionString: server.url, schema }));
  for (const v of VERSIONS) {
    const home = checkedStore(new FsStore({ root: join(FIXTURES, v) }));
    homes.push(home);
    const r = await syncStores(home, pgStore);
    expect(r.errors).toEqual([]);
  }
  const db = new pg.Pool({ connectionString: server.url });
  try {
    // Rows written before Postgres kept facts (migration 0003) have none: core reads their rollouts.
    const cleared = await db.query<{ id: string }>(
      `update ${schema}.sessions set facts = null where id in (select id from ${schema}.sessions order by id limit 4) returning id`,
    );
    withoutFacts = cleared.rows.map((r) => r.id);
    // A repository URL holding a password: its facet value and usage key are redacted, and merge with the plain URL.
    await db.query(
      `update ${schema}.sessions set git = jsonb_build_object('repository_url', 'https://bob:hunter2secretpass@example.com/acme/app.git', 'branch', 'main', 'commit_hash', null)
       where id in (select id from ${schema}.sessions order by id desc limit 2)`,
    );
    const newest = await db.query<{ t: Date }>(`select max(created_ts) as t from ${schema}.sessions`);
    now = newest.rows[0]!.t.getTime() + 86_400_000;
  } finally {
    await db.end();
  }
}, 120_000);

afterAll(async () => {
  await pgStore?.close();
  for (const h of homes) await h.close();
});

/** Every session of the store with its facts (read from the rollout where none are stored). */
async function allOf(store: CheckedStore): Promise<(SessionSummary & SessionFacts)[]> {
  const out: (SessionSummary & SessionFacts)[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listSessions({ limit: 200, archived: "all", ...(cursor ? { cursor } : {}) });
    out.push(...(await withSessionFacts(store, page.sessions)));
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

describe("facets and usage grouped by Postgres", () => {
  it("the store states the capability, and some sessions are stored without facts", () => {
    expect(pgStore.capabilities.aggregates).toBe(true);
    expect(homes[0]!.capabilities.aggregates).toBe(false);
    expect(withoutFacts).toHaveLength(4);
  });

  it("equal core's scan of the same store for every filter the list page offers", async () => {
    const all = await allOf(pgStore);
    expect(all.length).toBeGreaterThan(20);
    const someModel = all.find((s) => s.model)!.model!;
    const someCwd = all.find((s) => s.cwd)!.cwd!;
    const mid = [...all].sort((a, b) => a.created_at.localeCompare(b.created_at))[Math.floor(all.length / 2)]!.created_at;
    const queries: FacetQuery[] = [
      {},
      { archived: "all" },
      { archived: "archived" },
      { outcome: "completed" },
      { outcome: "failed", archived: "all" },
      { model: someModel },
      { cwd: someCwd },
      { repo: "example.com" },
      { branch: "main" },
      { since: mid },
      { until: mid, archived: "all" },
      { since: "2020-01-01T00:00:00.000Z", until: mid, outcome: "completed", model: someModel },
      { q: "hello" },
    ];
    for (const query of queries) {
      const grouped = await pgStore.sessionFacets(query, { newest: 10, now });
      const scanned = await sessionFacets(pgStore, null, query, { newest: 10, now });
      expect(grouped, JSON.stringify(query)).toEqual(scanned);
    }
    const everything = await pgStore.sessionFacets({ archived: "all" }, { now });
    expect(everything.total).toBe(all.length);
    expect(everything.truncated).toBe(false);
    // Each facet counts every session with a value; sessions without facts are counted too.
    expect(everything.facets.outcome.reduce((n, c) => n + c.count, 0)).toBe(all.length);
    expect(everything.started.map((s) => s.count)).toEqual(expect.arrayContaining([all.length]));
    // A request's work is bounded: past the window, the counts say they cover the newest matches only.
    const windowed = await pgStore.sessionFacets({ archived: "all" }, { now, window: 3 });
    expect(windowed.truncated).toBe(true);
    // The newest 3 with stored facts, and those stored without (core reads theirs).
    expect(windowed.total).toBe(3 + withoutFacts.length);
  });

  it("redact a password in a repository URL before it is a facet value or a usage key", async () => {
    const facets = await pgStore.sessionFacets({ archived: "all" }, { now });
    const repos = facets.facets.repo.map((r) => r.value);
    expect(repos.some((r) => r.includes("example.com/acme/app"))).toBe(true);
    expect(JSON.stringify(facets)).not.toContain("hunter2secretpass");
    const usage = await pgStore.sessionUsage();
    expect(usage.byRepo.some((r) => r.key.includes("example.com/acme/app"))).toBe(true);
    expect(JSON.stringify(usage)).not.toContain("hunter2secretpass");
  });

  it("equal the scan of the fixture homes the sessions came from", async () => {
    const fromHomes = await Promise.all(homes.map((h) => h.sessionFacets({ archived: "all" }, { newest: 0, now })));
    const grouped = await pgStore.sessionFacets({ archived: "all" }, { newest: 0, now });
    const facetsOfHomes = fromHomes.map((f) => f.facets);
    for (const key of ["outcome", "model", "agent", "cwd"] as const) {
      const merged = new Map<string, number>();
      for (const f of facetsOfHomes) for (const c of f[key]) merged.set(c.value, (merged.get(c.value) ?? 0) + c.count);
      expect(new Map(grouped.facets[key].map((c) => [c.value, c.count])), key).toEqual(merged);
    }
    expect(grouped.total).toBe(fromHomes.reduce((n, f) => n + f.total, 0));
  });

  it("usage equals core's sums over the same store's summaries", async () => {
    const grouped = await pgStore.sessionUsage();
    const scanned = await sessionUsage(pgStore, null);
    expect(grouped).toEqual(scanned);
    expect(grouped.totals.sessions).toBe((await allOf(pgStore)).length);
    expect(grouped.totals.tokens_input).toBeGreaterThan(0);
    expect(grouped.byDay.reduce((n, r) => n + r.sessions, 0)).toBe(grouped.totals.sessions);
  });
});
