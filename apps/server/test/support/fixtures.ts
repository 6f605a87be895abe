import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES = join(import.meta.dirname, "../../../../fixtures/codex");

export interface FixtureRollout {
  id: string;
  path: string;
  archived: boolean;
}

/** Every rollout file the real Codex CLI wrote for one fixture version. */
export function fixtureRollouts(version: string): FixtureRollout[] {
  const out: FixtureRollout[] = [];
  for (const dir of ["sessions", "archived_sessions"]) {
    let files: string[];
    try {
      files = readdirSync(join(FIXTURES, version, dir), { recursive: true }).map(String);
    } catch {
      continue;
    }
    for (const f of files) {
      const m = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/.exec(f);
      if (m) out.push({ id: m[1]!, path: join(FIXTURES, version, dir, f), archived: dir === "archived_sessions" });
    }
  }
  return out;
}

/** Thread id of a scenario label (runs.tsv of the fixture). */
export function fixtureThread(version: string, label: string): string {
  const row = readFileSync(join(FIXTURES, version, "runs.tsv"), "utf8")
    .split("\n")
    .map((l) => l.split("\t"))
    .find((r) => r[0] === label);
  if (!row?.[3]) throw new Error(`no run ${label} in fixtures ${version}`);
  return row[3];
}
