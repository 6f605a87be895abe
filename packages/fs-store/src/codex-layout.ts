import { join } from "node:path";

/**
 * Paths of a Codex home (DESIGN.md §4): dated rollouts under
 * `sessions/YYYY/MM/DD/`, archived ones flat in `archived_sessions/`, and
 * sessionvault's per-session directory `sessions/<id>/` for the other streams.
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
