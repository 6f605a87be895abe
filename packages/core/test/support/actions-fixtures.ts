import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ActionV1 } from "../../src/actions/action-v1.js";
import { projectActions } from "../../src/actions/project-actions.js";
import { readFileLines } from "../../src/jsonl-reader.js";

export const FIXTURES = fileURLToPath(new URL("../../../../fixtures/codex/", import.meta.url));
export const GOLDEN = fileURLToPath(new URL("../golden/", import.meta.url));

/** Every rollout file Codex wrote in the fixtures (sessions/ and archived_sessions/), with its version. */
export function allFixtureRollouts(): { version: string; path: string; id: string }[] {
  const out: { version: string; path: string; id: string }[] = [];
  for (const version of readdirSync(FIXTURES).sort()) {
    for (const sub of ["sessions", "archived_sessions"]) {
      const dir = join(FIXTURES, version, sub);
      for (const path of walk(dir)) {
        const m = /-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/.exec(path);
        if (m) out.push({ version, path, id: m[1]! });
      }
    }
  }
  return out;
}

export function rolloutOf(version: string, threadId: string): string {
  const hit = allFixtureRollouts().find((r) => r.version === version && r.id === threadId);
  if (!hit) throw new Error(`no rollout for ${threadId} in fixtures/codex/${version}`);
  return hit.path;
}

export async function project(path: string, sessionId: string, options: { redact?: boolean } = {}): Promise<ActionV1[]> {
  const out: ActionV1[] = [];
  for await (const a of projectActions(readFileLines(path), { sessionId, ...options })) out.push(a);
  return out;
}

function walk(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (e.endsWith(".jsonl")) out.push(p);
  }
  return out;
}
