import { closeSync, constants, fstatSync, ftruncateSync, openSync, statSync, writeSync } from "node:fs";
import { mkdir, readFile, realpath, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { IoError } from "@sessionvault/core/store-api";

/**
 * An exclusive lock shared by every process that reaches the file — other
 * PID namespaces (containers sharing a volume) and, through the NFS lock
 * manager, other hosts: a POSIX record lock (`fcntl(F_SETLK)`) on a lock
 * file. The kernel holds it for as long as the owner's file descriptor is
 * open and drops it when the owner exits or is killed, so staleness is never
 * guessed from pids (which repeat across namespaces) or from ages.
 *
 * Lock files are named by what they protect (a session id, `tokens`), never
 * by the path of the data file, which moves when a session is archived or
 * trashed. They stay in place between uses; a lock file is only removed by
 * its holder (`discard`), and an acquirer re-checks after locking that the
 * path still names the file it locked, so a removal never lets two owners in.
 *
 * POSIX locks belong to a process, not to a descriptor: two callers in one
 * process would not exclude each other, and closing any descriptor of the
 * file drops the lock. So callers in one process are queued per lock file
 * (by its real path) before the OS lock is asked for, and nothing else in
 * the process opens a lock file while it is held.
 */
export interface LockOptions {
  /** How long to wait for a live holder before giving up (default 30 s). */
  timeoutMs?: number;
}

/** What a holder can do with the lock while it holds it. */
export interface HeldLock {
  /** Removes the lock file on release (the thing it protects is gone for good). */
  discard(): void;
}

const inProcess = new Map<string, Promise<void>>();
/** The native addon, loaded on the first lock: a command that only reads (`list`) never pays for it. */
let osLockModule: Promise<typeof import("os-lock")> | undefined;
const realDirs = new Map<string, string>();
/** This process's lock owner id, written into the files it holds: names the holder in a timeout message. */
const NONCE = randomBytes(8).toString("hex");

/** Runs `fn` while holding the lock file `lockPath` (created with its folder on first use). */
export async function withLock<T>(lockPath: string, fn: (held: HeldLock) => Promise<T>, options: LockOptions = {}): Promise<T> {
  const key = await canonical(lockPath);
  const prev = inProcess.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = prev.then(() => mine);
  inProcess.set(key, tail);
  await prev;
  try {
    const fd = await acquire(key, options.timeoutMs ?? 30_000);
    // The holder's note is written only into a lock held for a while, the only
    // kind a waiter can time out on: a note in every lock file made each one
    // a data block to allocate and write back (~0.2 ms of kernel time a lock).
    const note = setTimeout(() => writeNote(fd), NOTE_AFTER_MS);
    note.unref();
    let discard = false;
    try {
      return await fn({ discard: () => (discard = true) });
    } finally {
      clearTimeout(note);
      // Unlinked before the descriptor closes (which drops the lock): a waiter that
      // locked the old file sees that the path no longer names it and starts over.
      if (discard) await unlink(key).catch(() => {});
      closeSync(fd);
    }
  } finally {
    release();
    if (inProcess.get(key) === tail) inProcess.delete(key);
  }
}

/** The lock file's path through its real folder, so two spellings of one folder share one in-process queue. */
async function canonical(lockPath: string): Promise<string> {
  const dir = dirname(lockPath);
  let real = realDirs.get(dir);
  if (!real) {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      real = await realpath(dir);
    } catch (err) {
      throw new IoError(`cannot create the lock folder ${dir}: ${(err as Error).message}`, { cause: err });
    }
    if (realDirs.size > 1000) realDirs.clear();
    realDirs.set(dir, real);
  }
  return join(real, basename(lockPath));
}

/**
 * The lock file's descriptor, locked. Its open, stats, truncate and write are
 * direct calls: each costs microseconds, and a trip through libuv's thread
 * pool costs more than that (a sync takes a lock per session); only the
 * lock itself goes through the addon's worker.
 */
/** How long a lock is held before its holder writes its note into the lock file. */
const NOTE_AFTER_MS = 100;
let holderNote: string | null = null;

/** Names the holder in a waiter's timeout message; a full disk must not fail the lock, so a failed write is ignored. */
function writeNote(fd: number): void {
  // The host name is read once: it is a system call.
  holderNote ??= `${hostname()} pid ${process.pid} owner ${NONCE}`;
  try {
    writeSync(fd, holderNote, 0);
  } catch {}
}

async function acquire(lockPath: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  for (;;) {
    let fd: number;
    try {
      fd = openSync(lockPath, constants.O_RDWR | constants.O_CREAT, 0o600);
    } catch (err) {
      throw new IoError(`cannot open lock ${lockPath}: ${(err as Error).message}`, { cause: err });
    }
    let locked = false;
    try {
      // Never the blocking F_SETLKW: a waiter would hold one of libuv's few pool threads.
      osLockModule ??= import("os-lock");
      await (await osLockModule).lock(fd, { exclusive: true, immediate: true });
      locked = true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EAGAIN" && code !== "EACCES") {
        closeSync(fd);
        throw new IoError(`cannot lock ${lockPath}: ${(err as Error).message}`, { cause: err });
      }
    }
    const size = locked ? sizeIfNamed(lockPath, fd) : null;
    if (size !== null) {
      // An earlier holder's note must not name it as the holder now.
      if (size > 0) {
        try {
          ftruncateSync(fd, 0);
        } catch {}
      }
      return fd;
    }
    closeSync(fd);
    if (!locked) {
      if (Date.now() > deadline) {
        const holder = (await readFile(lockPath, "utf8").catch(() => "")).trim() || "another process";
        throw new IoError(`${lockPath} is held by ${holder} for more than ${timeoutMs} ms; is another writer stuck?`);
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10);
    }
  }
}

/** The size of the lock file while `path` still names the file `fd` has open (its holder did not remove it meanwhile), else null. */
function sizeIfNamed(path: string, fd: number): number | null {
  try {
    const a = fstatSync(fd);
    const b = statSync(path, { throwIfNoEntry: false });
    return b !== undefined && a.ino === b.ino && a.dev === b.dev ? a.size : null;
  } catch {
    return null;
  }
}
