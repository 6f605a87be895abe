process.env.TZ = "UTC";

import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileLines, readSessionFacts } from "@sessionvault/core";
import { PgStore } from "@sessionvault/pg-store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES, fixtureRollouts } from "@sessionvault/testing/codex-fixtures";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { sharedPostgres } from "@sessionvault/testing/shared-services";
import { runCli } from "./support/run-cli.js";

const server = sharedPostgres();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-sync-facts-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("sync carries session facts to Postgres", () => {
  it("every synced session's stored facts are those of its rollout; list --json serves them", async () => {
    const version = "0.169.0";
    const home = join(dir, "home");
    await cp(join(FIXTURES, version, "sessions"), join(home, "sessions"), { recursive: true });
    const schema = freshSchema("facts");
    const pgUrl = `${server.url}?schema=${schema}`;
    const env = { XDG_CACHE_HOME: join(dir, "cache") };
    const res = await runCli(["sync", "--from", home, "--to", pgUrl, "--json"], env);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);

    const rollouts = fixtureRollouts(version).filter((r) => !r.archived);
    expect(rollouts.length).toBeGreaterThan(3);
    const pg = new PgStore({ connectionString: server.url, schema });
    try {
      const listed = new Map((await pg.listSessions({ archived: "all", limit: 1000 })).sessions.map((s) => [s.id, s]));
      expect(listed.size).toBe(rollouts.length);
      const expected = new Map<string, unknown>();
      for (const r of rollouts) {
        const facts = await readSessionFacts(readFileLines(r.path), "codex");
        expected.set(r.id, facts);
        // Kept in the row itself: the store answers without reading the rollout.
        expect(listed.get(r.id)?.facts, r.id).toEqual(facts);
        expect((await pg.getSession(r.id)).facts, r.id).toEqual(facts);
      }
      // The facts vary across the fixtures: a store that dropped a field or kept one session's facts for all would show.
      expect(new Set([...expected.values()].map((f) => JSON.stringify(f))).size).toBeGreaterThan(1);

      const list = await runCli(["list", "--store", pgUrl, "--json", "--all", "--limit", "1000"], env);
      expect(list.code).toBe(0);
      const out = JSON.parse(list.out) as { sessions: Record<string, unknown>[] };
      for (const s of out.sessions) {
        const f = expected.get(s.id as string) as Record<string, unknown>;
        for (const k of Object.keys(f)) expect(s[k], `${s.id as string} ${k}`).toEqual(f[k]);
        expect(s).not.toHaveProperty("facts");
      }
    } finally {
      await pg.close();
    }

    // A rerun over the unchanged source sends nothing, facts included.
    const again = await runCli(["sync", "--from", home, "--to", pgUrl, "--json"], env);
    expect(JSON.parse(again.out)).toMatchObject({ sessions_sent: 0, lines_sent: 0 });

    // A target whose facts differ from the source's (a row written by an older reader) is updated, and only it.
    const other = new PgStore({ connectionString: server.url, schema });
    try {
      const victim = await other.getSession(rollouts[0]!.id);
      const { streams: _s, legal_hold: _h, lines: _l, bytes: _b, ...summary } = victim;
      await other.putSession({ ...summary, facts: { ...victim.facts!, turns: victim.facts!.turns + 7, model: "stale-model" } });
      const fixed = await runCli(["sync", "--from", home, "--to", pgUrl, "--json"], env);
      expect(JSON.parse(fixed.out)).toMatchObject({ sessions_sent: 1, lines_sent: 0 });
      expect((await other.getSession(victim.id)).facts).toEqual(victim.facts);
    } finally {
      await other.close();
    }
  });
});
