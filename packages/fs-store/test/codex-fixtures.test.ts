import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionSummary } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { snapshotTree } from "@sessionvault/testing/tree-snapshot";

/** The real Codex homes in fixtures/codex, read in place: nothing may be modified. */
const FIXTURES = fileURLToPath(new URL("../../../fixtures/codex/", import.meta.url));
const VERSIONS = ["0.39.0", "0.98.0", "0.169.0"];

function rolloutFiles(home: string): Map<string, { path: string; archived: boolean }> {
  const out = new Map<string, { path: string; archived: boolean }>();
  const walk = (dir: string, archived: boolean) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(dir, e.name), archived);
      else if (e.name.startsWith("rollout-")) out.set(e.name.slice(-42, -6), { path: join(dir, e.name), archived });
    }
  };
  walk(join(home, "sessions"), false);
  walk(join(home, "archived_sessions"), true);
  return out;
}

function runIds(home: string): Map<string, string> {
  return new Map(
    readFileSync(join(home, "runs.tsv"), "utf8")
      .trim()
      .split("\n")
      .map((r) => {
        const c = r.split("\t");
        return [c[0]!, c[3]!];
      }),
  );
}

async function listAll(store: FsStore, archived: "active" | "archived" | "all", limit = 4): Promise<SessionSummary[]> {
  const all: SessionSummary[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listSessions({ archived, limit, cursor });
    all.push(...page.sessions);
    cursor = page.next_cursor;
  } while (cursor);
  return all;
}

for (const version of VERSIONS) {
  describe(`fs-store over the real Codex ${version} home`, () => {
    const home = join(FIXTURES, version);
    const files = rolloutFiles(home);
    let before: Record<string, string>;
    const warnings: string[] = [];
    const store = new FsStore({ root: home, onWarning: (m) => warnings.push(m) });

    beforeAll(async () => {
      before = await snapshotTree(home);
    });
    afterAll(async () => {
      await store.close();
      // Reading never writes: not a byte, not an mtime, no lock or sidecar left behind.
      expect(await snapshotTree(home)).toEqual(before);
    });

    it("lists every session exactly once, newest first, across pages", async () => {
      const listed = await listAll(store, "all");
      expect(listed.map((s) => s.id).sort()).toEqual([...files.keys()].sort());
      const keys = listed.map((s) => s.created_at);
      for (let i = 1; i < keys.length; i++) expect(Date.parse(keys[i]!)).toBeLessThanOrEqual(Date.parse(keys[i - 1]!) + 999);
      expect(warnings).toEqual([]);
    });

    it("gives each session's counts, version and archived flag", async () => {
      for (const [id, f] of files) {
        const s = await store.getSession(id);
        const bytes = readFileSync(f.path);
        expect(s.bytes).toBe(bytes.length);
        expect(s.lines).toBe(bytes.toString("utf8").split("\n").length - 1);
        expect(s.archived).toBe(f.archived);
        expect(s.cli_version).toBe(version);
        expect(s.title).toBeTruthy();
        expect(s.streams).toEqual([{ name: "rollout", lines: s.lines, bytes: s.bytes }]);
        expect(Date.parse(s.updated_at)).toBeGreaterThanOrEqual(Date.parse(s.created_at));
      }
    });

    it("reads every rollout byte-exact", async () => {
      for (const [id, f] of files) {
        let text = "";
        for await (const line of store.readStream(id, "rollout")) text += line + "\n";
        expect(Buffer.from(text, "utf8").equals(readFileSync(f.path)), f.path).toBe(true);
      }
    });

    it("finds sessions by unique prefix", async () => {
      for (const id of files.keys()) expect((await store.getSession(id.slice(0, 18))).id).toBe(id);
    });

    it("shows resumed, sub-agent, forked and archived sessions as such", async () => {
      const runs = runIds(home);
      const resumed = await store.getSession(runs.get("05-multi-turn1")!);
      expect(runs.get("07-multi-turn3")).toBe(resumed.id);
      let turns = 0;
      for await (const l of store.readStream(resumed.id, "rollout")) if (/"type":"(user_message|task_started)"/.test(l)) turns++;
      expect(turns).toBeGreaterThanOrEqual(3);
      if (runs.has("12-subagent")) {
        const parent = runs.get("12-subagent")!;
        const children = (await listAll(store, "all")).filter((s) => s.source === "subagent");
        expect(children.map((c) => c.parent_id)).toEqual([parent]);
      }
      if (runs.has("08-fork")) {
        expect((await store.getSession(runs.get("08-fork")!)).forked_from_id).toBe(runs.get("05-multi-turn1"));
      }
      if (runs.has("17-archived")) {
        const id = runs.get("17-archived")!;
        expect((await store.listSessions({ limit: 100 })).sessions.map((s) => s.id)).not.toContain(id);
        expect((await store.listSessions({ archived: "archived" })).sessions.map((s) => s.id)).toEqual([id]);
        expect((await store.getSession(id)).archived).toBe(true);
      }
    });

    it("filters by cwd", async () => {
      const [first] = (await store.listSessions({ limit: 1 })).sessions;
      const same = await listAll(store, "all");
      const expected = same.filter((s) => s.cwd === first!.cwd).map((s) => s.id);
      expect((await store.listSessions({ cwd: first!.cwd!, archived: "all", limit: 100 })).sessions.map((s) => s.id)).toEqual(expected);
      expect(statSync(home).isDirectory()).toBe(true);
    });
  });
}
