import { link, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { IoError } from "@sessionvault/core";

/**
 * An exclusive lock on one stream file, shared by every process on the host:
 * `<file>.lock` created with O_EXCL holding the owner's pid. Only the lock
 * holder reads the position and writes, so "append at N" has exactly one
 * winner even across processes.
 *
 * A writer killed while holding the lock leaves the file behind; the next
 * writer sees that the pid is gone and takes the lock over. Within one
 * process appends to a file are queued first (see `withFileLock`), so a lock
 * carrying our own pid is always a leftover from a dead process that had the
 * same pid.
 */
export interface LockOptions {
  /** How long to wait for a live holder before giving up (default 30 s). */
  timeoutMs?: number;
}

const inProcess = new Map<string, Promise<void>>();
/** An empty lock file (a crash between create and write) counts as stale after this. */
const EMPTY_LOCK_STALE_MS = 2_000;

export async function withFileLock<T>(file: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const prev = inProcess.get(file) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => mine);
  inProcess.set(file, tail);
  await prev;
  try {
    const lockPath = `${file}.lock`;
    await acquire(lockPath, options.timeoutMs ?? 30_000);
    try {
      return await fn();
    } finally {
      await unlink(lockPath).catch(() => {});
    }
  } finally {
    release();
    if (inProcess.get(file) === tail) inProcess.delete(file);
  }
}

async function acquire(lockPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (;;) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: "wx", mode: 0o600 });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new IoError(`cannot create lock ${lockPath}: ${(err as Error).message}`, { cause: err });
      }
    }
    const holder = await readHolder(lockPath);
    if (holder !== "gone" && (await isStale(lockPath, holder))) {
      await takeOver(lockPath, holder);
      continue;
    }
    if (Date.now() > deadline) {
      throw new IoError(`${lockPath} is held by process ${holder} for more than ${timeoutMs} ms; is another writer stuck?`);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 50);
  }
}

async function readHolder(lockPath: string): Promise<string | "gone"> {
  try {
    return (await readFile(lockPath, "utf8")).trim();
  } catch {
    return "gone";
  }
}

async function isStale(lockPath: string, holder: string): Promise<boolean> {
  if (holder === "") {
    const st = await stat(lockPath).catch(() => null);
    return st !== null && Date.now() - st.mtimeMs > EMPTY_LOCK_STALE_MS;
  }
  const pid = Number(holder);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  // Our own pid: this process queues its appends per file, so it is a dead process's leftover.
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Removes a stale lock without ever removing a live one: the lock is renamed
 * away first (atomic), and if what we moved is not the stale lock we saw
 * (another writer took it over and re-created it meanwhile), it is put back.
 */
async function takeOver(lockPath: string, staleHolder: string): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = await readHolder(aside);
  if (moved !== staleHolder && moved !== "gone") {
    await link(aside, lockPath).catch(() => {});
  }
  await unlink(aside).catch(() => {});
}
