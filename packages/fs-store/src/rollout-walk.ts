import { readdirSync, statSync, type BigIntStats } from "node:fs";
import { join, sep } from "node:path";
import { IoError, type CodexPaths } from "@sessionvault/core/store-api";
import { parseStoredName, type StoredName } from "./stored-file-name.js";

/** A session's transcript file: a Codex rollout, or another agent's transcript (stored-file-name.ts). */
export interface RolloutFile extends StoredName {
  path: string;
  archived: boolean;
}

/** Warnings are reported, never thrown: one unreadable folder must not hide the rest. */
export type WalkWarn = (message: string) => void;

/**
 * A folder's names with a direct call: a walk reads hundreds of small
 * folders, and each trip through libuv's thread pool costs more than the
 * read (see stream-file.ts, countPositionFd).
 */
async function names(dir: string, warn: WalkWarn): Promise<string[]> {
  return namesSync(dir, warn);
}

function namesSync(dir: string, warn: WalkWarn): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    return unreadable(dir, err, warn);
  }
}

/** A folder readdir failed on: none (gone, or not a folder), none with a warning (no permission), or an IoError. */
export function unreadable(dir: string, err: unknown, warn: WalkWarn): string[] {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") return [];
  if (code === "EACCES" || code === "EPERM") {
    warn(`cannot read ${dir}: permission denied; skipped`);
    return [];
  }
  throw new IoError(`cannot read ${dir}: ${(err as Error).message}`, { cause: err });
}

const desc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

/** The rollout files of one folder, newest first. */
export type FolderFiles = (dir: string, archived: boolean, warn: WalkWarn) => Promise<RolloutFile[]>;

/** Reads the folder every time. */
export const readFolderFiles: FolderFiles = async (dir, archived, warn) => parseFolder(dir, await names(dir, warn), archived);

function parseFolder(dir: string, entries: string[], archived: boolean): RolloutFile[] {
  const files: RolloutFile[] = [];
  // The folder's path is already normalized: a plain concatenation is its files' paths (join normalizes each again).
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  for (const name of entries) {
    const parsed = parseStoredName(name) as RolloutFile | null;
    if (parsed) {
      parsed.path = prefix + name;
      parsed.archived = archived;
      files.push(parsed);
    }
  }
  return files.sort((a, b) => desc(a.key, b.key));
}

/**
 * Keeps each folder's parsed, sorted file list while the folder is
 * unchanged, so paging through a folder of thousands of rollouts reads and
 * sorts it once, not once per page. A folder's mtime and ctime change with
 * every entry added, removed or renamed; a folder changed less than 2 s
 * before it was read is not kept (its times could still hide a change).
 */
export class FolderFilesCache {
  readonly #entries = new Map<string, { mtimeNs: bigint; ctimeNs: bigint; files: RolloutFile[] }>();
  readonly #max: number;

  constructor(max = 20_000) {
    this.#max = max;
  }

  readonly files: FolderFiles = async (dir, archived, warn) => {
    const readAt = BigInt(Date.now()) * 1_000_000n;
    let st: BigIntStats | null = null;
    try {
      st = statSync(dir, { bigint: true, throwIfNoEntry: false }) ?? null;
    } catch {}
    const hit = this.#entries.get(dir);
    if (st && hit && hit.mtimeNs === st.mtimeNs && hit.ctimeNs === st.ctimeNs) return hit.files;
    this.#entries.delete(dir);
    const files = await readFolderFiles(dir, archived, warn);
    // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
    if (st && (st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs) < readAt - 2_000_000_000n) {
      if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(dir, { mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, files });
    }
    return files;
  };

  clear(): void {
    this.#entries.clear();
  }
}

/**
 * Active rollouts newest first, strictly before `before` (a file key). Walks
 * `YYYY/MM/DD` folders in reverse and skips every folder newer than the
 * cursor without reading it, so a page costs O(page + folders touched), not
 * O(all sessions).
 */
export async function* walkActive(
  paths: CodexPaths,
  before: string | null,
  warn: WalkWarn,
  folder: FolderFiles = readFolderFiles,
): AsyncGenerator<RolloutFile> {
  // The earliest native builds wrote rollouts flat in sessions/; merged by the same key.
  yield* mergeNewestFirst(walkDated(paths, before, warn, folder), filesBefore(await folder(paths.sessions, false, warn), before));
}

async function* walkDated(paths: CodexPaths, before: string | null, warn: WalkWarn, folder: FolderFiles): AsyncGenerator<RolloutFile> {
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
        yield* filesBefore(await folder(dir, false, warn), before);
      }
    }
  }
}

/** Archived rollouts (a flat folder) newest first, strictly before `before`. */
export async function* walkArchived(
  paths: CodexPaths,
  before: string | null,
  warn: WalkWarn,
  folder: FolderFiles = readFolderFiles,
): AsyncGenerator<RolloutFile> {
  yield* filesBefore(await folder(paths.archived, true, warn), before);
}

/** The files (newest first) strictly before `before`, found by binary search. */
function* filesBefore(files: RolloutFile[], before: string | null): Generator<RolloutFile> {
  for (let i = firstBefore(files, before); i < files.length; i++) yield files[i]!;
}

/** Where the files (newest first) strictly before `before` start. */
function firstBefore(files: RolloutFile[], before: string | null): number {
  let lo = 0;
  if (before !== null) {
    let hi = files.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (files[mid]!.key >= before) lo = mid + 1;
      else hi = mid;
    }
  }
  return lo;
}

/** Merges two newest-first walks into one. */
export async function* mergeNewestFirst(a: AsyncIterator<RolloutFile>, b: AsyncIterator<RolloutFile> | Iterator<RolloutFile>): AsyncGenerator<RolloutFile> {
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
export async function* walkAll(paths: CodexPaths, warn: WalkWarn, folder: FolderFiles = readFolderFiles): AsyncGenerator<RolloutFile> {
  yield* walkActive(paths, null, warn, folder);
  yield* walkArchived(paths, null, warn, folder);
}

/** The files of a few day folders (the fast path for UUIDv7 ids). */
export async function* walkDays(_paths: CodexPaths, dayDirs: string[], warn: WalkWarn): AsyncGenerator<RolloutFile> {
  for (const dir of dayDirs) yield* await readFolderFiles(dir, false, warn);
}

/**
 * The walk of `mode`'s rollouts newest first, strictly before `before`, as
 * `walkActive`/`walkArchived` (merged for "all") but synchronous, one
 * generator deep: for a search that decides most files from its index with
 * one stat each, where a trip through the thread pool per folder and an
 * async step per file would cost more than the work itself.
 */
export function* walkSync(paths: CodexPaths, mode: "active" | "archived" | "all", before: string | null, warn: WalkWarn): Generator<RolloutFile> {
  const folder = (dir: string, archived: boolean) => {
    const files = parseFolder(dir, namesSync(dir, warn), archived);
    return files.slice(firstBefore(files, before));
  };
  // The folders that are not dated, merged in as the dated ones come: the flat
  // sessions/ of the earliest builds, and archived_sessions/. On equal keys an
  // active file comes first, as mergeNewestFirst has it.
  const flat = mode === "archived" ? [] : folder(paths.sessions, false);
  const archived = mode === "active" ? [] : folder(paths.archived, true);
  const extra = flat.length === 0 ? archived : archived.length === 0 ? flat : [...mergeSync(flat.values(), archived.values())];
  let i = 0;
  if (mode !== "archived") {
    for (const files of datedFolders(paths, before, warn)) {
      for (const f of files) {
        while (i < extra.length && extra[i]!.key > f.key) yield extra[i++]!;
        yield f;
      }
    }
  }
  while (i < extra.length) yield extra[i++]!;
}

/** The files of each day folder, newest folder first, each newest first and strictly before `before`. */
function* datedFolders(paths: CodexPaths, before: string | null, warn: WalkWarn): Generator<RolloutFile[]> {
  const by = before?.slice(0, 4) ?? null;
  const bm = before?.slice(5, 7) ?? null;
  const bd = before?.slice(8, 10) ?? null;
  for (const y of namesSync(paths.sessions, warn)
    .filter((n) => /^\d{4}$/.test(n))
    .sort(desc)) {
    if (by !== null && y > by) continue;
    for (const m of namesSync(join(paths.sessions, y), warn)
      .filter((n) => /^\d{2}$/.test(n))
      .sort(desc)) {
      if (by !== null && y === by && m > bm!) continue;
      for (const d of namesSync(join(paths.sessions, y, m), warn)
        .filter((n) => /^\d{2}$/.test(n))
        .sort(desc)) {
        if (by !== null && y === by && m === bm && d > bd!) continue;
        const dir = join(paths.sessions, y, m, d);
        const files = parseFolder(dir, namesSync(dir, warn), false);
        yield before === null ? files : files.slice(firstBefore(files, before));
      }
    }
  }
}

function* mergeSync(a: Iterator<RolloutFile>, b: Iterator<RolloutFile>): Generator<RolloutFile> {
  let x = a.next();
  let y = b.next();
  while (!x.done || !y.done) {
    if (y.done || (!x.done && x.value.key >= y.value.key)) {
      yield x.value as RolloutFile;
      x = a.next();
    } else {
      yield y.value;
      y = b.next();
    }
  }
}
