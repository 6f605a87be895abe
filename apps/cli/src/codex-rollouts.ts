import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { AmbiguousIdError, IoError, parseJsonLine, readFileLines } from "@sessionvault/core";

/**
 * Finding rollouts the way `codex resume <id>` does: by the id at the end of
 * the file name, anywhere under `sessions/` (the date directories do not
 * matter to Codex 0.169). Archived rollouts are found too, but Codex refuses
 * to resume them until they are unarchived.
 */
export interface RolloutLocation {
  id: string;
  path: string;
  archived: boolean;
}

const ROLLOUT_NAME = /^rollout-.*-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl(?:\.zst)?$/;

export function rolloutIdOf(name: string): string | null {
  return ROLLOUT_NAME.exec(name)?.[1] ?? null;
}

/** Every rollout of a Codex home (active first, then archived). */
export async function* walkRollouts(home: string): AsyncGenerator<RolloutLocation> {
  async function* walk(dir: string, depth: number, archived: boolean): AsyncGenerator<RolloutLocation> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return;
      throw new IoError(`cannot read ${dir}: ${(err as Error).message}`, { cause: err });
    }
    for (const e of entries) {
      if (e.isDirectory() && depth > 0) yield* walk(join(dir, e.name), depth - 1, archived);
      else if (e.isFile() || e.isSymbolicLink()) {
        const id = rolloutIdOf(e.name);
        if (id) yield { id, path: join(dir, e.name), archived };
      }
    }
  }
  yield* walk(join(home, "sessions"), 3, false);
  yield* walk(join(home, "archived_sessions"), 0, true);
}

/** The rollout of a session by full id or unique prefix; an active rollout wins over an archived copy. */
export async function findRollout(home: string, idOrPrefix: string): Promise<RolloutLocation | null> {
  const want = idOrPrefix.toLowerCase();
  const hits = new Map<string, RolloutLocation>();
  for await (const r of walkRollouts(home)) {
    if (!r.id.startsWith(want)) continue;
    const seen = hits.get(r.id);
    if (!seen || (seen.archived && !r.archived)) hits.set(r.id, r);
  }
  if (hits.size > 1) throw new AmbiguousIdError(idOrPrefix, [...hits.keys()]);
  return hits.values().next().value ?? null;
}

export interface RolloutHeadInfo {
  id: string;
  cwd: string | null;
  /** A sub-agent's or other child thread's rollout (never what a slot should point at). */
  child: boolean;
}

/** The session_meta of a rollout's first line, or null while it is not written yet. */
export async function readRolloutHead(path: string): Promise<RolloutHeadInfo | null> {
  try {
    for await (const line of readFileLines(path)) {
      const doc = parseJsonLine(line.text) as { type?: unknown; payload?: Record<string, unknown> } | undefined;
      if (doc?.type !== "session_meta" || !doc.payload || typeof doc.payload.id !== "string") return null;
      const p = doc.payload;
      const source = p.source as Record<string, unknown> | string | undefined;
      const child = typeof p.parent_thread_id === "string" || (typeof source === "object" && source !== null && "subagent" in source);
      return { id: p.id as string, cwd: typeof p.cwd === "string" ? p.cwd : null, child };
    }
  } catch {
    // Being written or vanished: the caller looks again later.
  }
  return null;
}

export async function mtimeMs(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}
