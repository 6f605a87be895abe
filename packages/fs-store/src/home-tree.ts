import { createHash } from "node:crypto";
import { lstatSync, readdirSync } from "node:fs";
import { join, sep } from "node:path";
import { isSessionId, type CodexPaths } from "@sessionvault/core/store-api";
import { unreadable } from "./rollout-walk.js";

/**
 * Everything of a Codex home that a sync between two homes looks at, as one
 * digest: the names in each folder it walks (`sessions/` and its
 * `YYYY/MM/DD` folders, each `sessions/<id>/`, `archived_sessions/`) and
 * the inode, size, mtime and ctime of every file in them and of
 * `session_index.jsonl` (the thread names). Any file written, truncated,
 * touched, created, removed or renamed changes it.
 *
 * A sync whose record holds the digests of both homes as it left them
 * settled (mirror-record.ts) has nothing to do when both are still the
 * same: one `lstat` per file and no other work per file, which is what
 * `rsync -a` costs. The walk hashes as it goes, so a home of 10,000
 * sessions costs no memory per file.
 */
export interface HomeTree {
  /** null when a folder could not be read (no permission): such a home is never taken as settled. */
  digest: string | null;
  /** The latest mtime or ctime of any file (ms). */
  newest: number;
}

/** What a walk tells as it goes; a folder is relative to the home ("" for the home itself). */
export interface TreeVisitor {
  /** A file and its stats (-1 each when it is gone; `plain`: a regular file, not a link or a folder). */
  file?(folder: string, name: string, plain: boolean, ino: number, size: number, mtimeMs: number, ctimeMs: number): void;
  /** A folder whose files are told (a day folder, `sessions/<id>/`, `archived_sessions/`), before its files. */
  folder?(folder: string): void;
  /** A folder that cannot be read for lack of permission, skipped. */
  warn?(message: string): void;
}

const YEAR = /^\d{4}$/;
const TWO_DIGITS = /^\d{2}$/;
const NO_THROW = { throwIfNoEntry: false } as const;
/** Stats are hashed 1,024 files at a time. */
const BATCH = 4 * 1024;

/** The tree of a home, with `visit` told of each folder and file found. */
export function homeTree(paths: CodexPaths, visit: TreeVisitor = {}): HomeTree {
  const hash = createHash("sha256");
  const stats = new Float64Array(BATCH);
  let k = 0;
  let newest = 0;
  let skipped = false;

  const file = (dir: string, folder: string, name: string) => {
    // The folders' paths are normalized already: a concatenation is their files' paths (join would normalize each again).
    const st = lstatSync(dir + sep + name, NO_THROW);
    // Gone since the folder was read: -1, a state no later walk can match.
    const ino = st ? st.ino : -1;
    const size = st ? st.size : -1;
    const mtimeMs = st ? st.mtimeMs : -1;
    const ctimeMs = st ? st.ctimeMs : -1;
    const plain = st?.isFile() === true;
    stats[k] = ino;
    stats[k + 1] = size;
    stats[k + 2] = mtimeMs;
    stats[k + 3] = ctimeMs;
    k += 4;
    if (k === BATCH) {
      hash.update(stats);
      k = 0;
    }
    if (mtimeMs > newest) newest = mtimeMs;
    if (ctimeMs > newest) newest = ctimeMs;
    visit.file?.(folder, name, plain, ino, size, mtimeMs, ctimeMs);
  };
  /** A folder's names, hashed with its place; none when it is not there (or not a folder). */
  const names = (dir: string, folder: string): string[] => {
    let found: string[];
    try {
      found = readdirSync(dir);
    } catch (err) {
      // As the store's other walks: a folder it may not read is skipped with a warning (and spoils the digest).
      found = unreadable(dir, err, (message) => {
        skipped = true;
        visit.warn?.(message);
      });
    }
    // NUL and "/" are the two bytes no file name holds.
    hash.update(`${folder}\0${found.join("/")}\0`);
    return found;
  };
  const leaf = (dir: string, folder: string) => {
    const found = names(dir, folder);
    visit.folder?.(folder);
    for (const name of found) file(dir, folder, name);
  };

  file(paths.home, "", "session_index.jsonl");
  for (const y of names(paths.sessions, "sessions")) {
    if (YEAR.test(y)) {
      const yearDir = join(paths.sessions, y);
      for (const m of names(yearDir, join("sessions", y))) {
        if (!TWO_DIGITS.test(m)) continue;
        const monthDir = join(yearDir, m);
        for (const d of names(monthDir, join("sessions", y, m))) if (TWO_DIGITS.test(d)) leaf(join(monthDir, d), join("sessions", y, m, d));
      }
    } else if (isSessionId(y)) {
      leaf(join(paths.sessions, y), join("sessions", y));
    } else {
      // Rollouts of the earliest builds, flat in sessions/.
      file(paths.sessions, "sessions", y);
    }
  }
  leaf(paths.archived, "archived_sessions");
  hash.update(stats.subarray(0, k));
  return { digest: skipped ? null : hash.digest("hex"), newest };
}
