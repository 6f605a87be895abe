import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, and the Codex homes the real Codex CLI wrote (fixtures/codex/<version>). */
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const FIXTURES = join(REPO, "fixtures", "codex");
export const VERSIONS = ["0.39.0", "0.98.0", "0.169.0"] as const;

export interface FixtureRollout {
  id: string;
  path: string;
  archived: boolean;
}

/** Every rollout file of a fixture Codex home, live sessions first, each part in path order. */
export function fixtureRollouts(version: string): FixtureRollout[] {
  const home = join(FIXTURES, version);
  const out: FixtureRollout[] = [];
  const walk = (dir: string, archived: boolean) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(dir, e.name), archived);
      else if (/^rollout-.*\.jsonl$/.test(e.name)) out.push({ id: e.name.slice(-42, -6), path: join(dir, e.name), archived });
    }
  };
  walk(join(home, "sessions"), false);
  walk(join(home, "archived_sessions"), true);
  return out;
}

/** Scenario label -> thread id (the fixture's runs.tsv). */
export function fixtureRuns(version: string): Map<string, string> {
  return new Map(
    readFileSync(join(FIXTURES, version, "runs.tsv"), "utf8")
      .trim()
      .split("\n")
      .map((r) => {
        const c = r.split("\t");
        return [c[0]!, c[3]!] as [string, string];
      }),
  );
}

/** Thread id of one scenario label; throws when the fixture has no such run. */
export function fixtureThread(version: string, label: string): string {
  const id = fixtureRuns(version).get(label);
  if (!id) throw new Error(`no run ${label} in fixtures ${version}`);
  return id;
}
