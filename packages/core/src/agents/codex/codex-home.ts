import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { AmbiguousIdError, IoError } from "../../errors.js";

/**
 * The layout of a Codex home (DESIGN.md §4), the one place that knows it:
 * dated rollouts under `sessions/YYYY/MM/DD/`, the earliest native builds'
 * flat `sessions/rollout-*.jsonl`, archived ones flat in
 * `archived_sessions/` (possibly `.jsonl.zst`), and sessionvault's
 * per-session directory `sessions/<id>/` for the other streams.
 */
export interface CodexPaths {
  home: string;
  sessions: string;
  archived: string;
  sessionIndex: string;
}

export function codexPaths(home: string): CodexPaths {
  return {
    home,
    sessions: join(home, "sessions"),
    archived: join(home, "archived_sessions"),
    sessionIndex: join(home, "session_index.jsonl"),
  };
}

const ROLLOUT_NAME = /^rollout-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl(\.zst)?$/;

export interface RolloutName {
  id: string;
  /**
   * `YYYY-MM-DDThh-mm-ss-<id>`: fixed width, so comparing keys as strings
   * orders files by their (local) creation second, then by id. It is also
   * the listing cursor.
   */
  key: string;
  compressed: boolean;
}

export function parseRolloutName(name: string): RolloutName | null {
  const m = ROLLOUT_NAME.exec(name);
  if (!m) return null;
  return { id: m[7]!, key: name.slice("rollout-".length, "rollout-".length + 19 + 1 + 36), compressed: m[8] !== undefined };
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Codex names files and day folders in local time. */
export function rolloutFileName(id: string, created: Date): string {
  return `rollout-${localStamp(created)}-${id}.jsonl`;
}

export function localStamp(d: Date): string {
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}-${pad(d.getMinutes())}-${pad(d.getSeconds())}`;
}

export function dayDir(paths: CodexPaths, created: Date): string {
  return join(paths.sessions, pad(created.getFullYear(), 4), pad(created.getMonth() + 1), pad(created.getDate()));
}

/** The creation time a file name encodes (local time, second precision). */
export function keyToDate(key: string): Date {
  const [date, time] = key.slice(0, 19).split("T") as [string, string];
  const [y, mo, d] = date.split("-").map(Number) as [number, number, number];
  const [h, mi, s] = time.split("-").map(Number) as [number, number, number];
  return new Date(y, mo - 1, d, h, mi, s);
}

/**
 * UUIDv7 ids (what Codex mints) start with their creation time in ms; a
 * prefix of 8+ hex digits pins it to about a minute. Null for other ids.
 */
export function uuidV7Time(id: string): Date | null {
  if (id.length < 36 || id[14] !== "7") return null;
  const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The session id a rollout file name ends with, or null for any other file. */
export function rolloutIdOf(name: string): string | null {
  return parseRolloutName(name)?.id ?? null;
}

export interface RolloutLocation {
  id: string;
  path: string;
  archived: boolean;
}

/** Every rollout of a Codex home: dated and flat ones under `sessions/`, then archived ones. */
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
      if (e.isDirectory() && depth > 0 && /^\d+$/.test(e.name)) yield* walk(join(dir, e.name), depth - 1, archived);
      else if (e.isFile() || e.isSymbolicLink()) {
        const id = rolloutIdOf(e.name);
        if (id) yield { id, path: join(dir, e.name), archived };
      }
    }
  }
  const paths = codexPaths(home);
  yield* walk(paths.sessions, 3, false);
  yield* walk(paths.archived, 0, true);
}

/**
 * The rollout of a session by full id or unique prefix, as `codex resume`
 * finds it; an active rollout wins over an archived copy.
 */
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
