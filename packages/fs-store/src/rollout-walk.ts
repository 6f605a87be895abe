import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { IoError } from "@sessionvault/core";
import { parseRolloutName, type CodexPaths, type RolloutName } from "./codex-layout.js";

export interface RolloutFile extends RolloutName {
  path: string;
  archived: boolean;
}

/** Warnings are reported, never thrown: one unreadable folder must not hide the rest. */
export type WalkWarn = (message: string) => void;

async function names(dir: string, warn: WalkWarn): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    if (code === "EACCES" || code === "EPERM") {
      warn(`cannot read ${dir}: permission denied; skipped`);
      return [];
    }
    throw new IoError(`cannot read ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

const desc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

/**
 * Active rollouts newest first, strictly before `before` (a file key). Walks
 * `YYYY/MM/DD` folders in reverse and skips every folder newer than the
 * cursor without reading it, so a page costs O(page + folders touched), not
 * O(all sessions).
 */
export async function* walkActive(paths: CodexPaths, before: string | null, warn: WalkWarn): AsyncGenerator<RolloutFile> {
  const by = before?.slice(0, 4) ?? null;
  const bm = before?.slice(5, 7) ?? null;
  const bd = before?.slice(8, 10) ?? null;
  const years = (await names(paths.sessions, warn)).filter((n) => /^\d{4}$/.test(n)).sort(desc);
  for (const y of years) {
    if (by !== null && y > by) continue;
    const months = (await names(join(paths.sessions, y), warn)).filter((n) => /^\d{2}$/.test(n)).sort(desc);
    for (const m of months) {
      if (by !== null && y === by && m > bm!) continue;
      const days = (await names(join(paths.sessions, y, m), warn)).filter((n) => /^\d{2}$/.test(n)).sort(desc);
      for (const d of days) {
        if (by !== null && y === by && m === bm && d > bd!) continue;
        const dir = join(paths.sessions, y, m, d);
        yield* sortedFiles(dir, await names(dir, warn), before, false);
      }
    }
  }
}

/** Archived rollouts (a flat folder) newest first, strictly before `before`. */
export async function* walkArchived(paths: CodexPaths, before: string | null, warn: WalkWarn): AsyncGenerator<RolloutFile> {
  yield* sortedFiles(paths.archived, await names(paths.archived, warn), before, true);
}

function* sortedFiles(dir: string, entries: string[], before: string | null, archived: boolean): Generator<RolloutFile> {
  const files: RolloutFile[] = [];
  for (const name of entries) {
    const parsed = parseRolloutName(name);
    if (!parsed || (before !== null && parsed.key >= before)) continue;
    files.push({ ...parsed, path: join(dir, name), archived });
  }
  files.sort((a, b) => desc(a.key, b.key));
  yield* files;
}

/** Merges two newest-first walks into one. */
export async function* mergeNewestFirst(a: AsyncGenerator<RolloutFile>, b: AsyncGenerator<RolloutFile>): AsyncGenerator<RolloutFile> {
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value.key >= y.value.key)) {
      yield x.value as RolloutFile;
      x = await a.next();
    } else {
      yield y.value;
      y = await b.next();
    }
  }
}

/** Every rollout file, in no particular order (id lookups, prune). */
export async function* walkAll(paths: CodexPaths, warn: WalkWarn): AsyncGenerator<RolloutFile> {
  yield* walkActive(paths, null, warn);
  yield* walkArchived(paths, null, warn);
}

/** The files of a few day folders (the fast path for UUIDv7 ids). */
export async function* walkDays(paths: CodexPaths, dayDirs: string[], warn: WalkWarn): AsyncGenerator<RolloutFile> {
  for (const dir of dayDirs) yield* sortedFiles(dir, await names(dir, warn), null, false);
}
