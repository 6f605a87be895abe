import { randomBytes } from "node:crypto";
import { link, mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { InvalidInputError, IoError, UnsupportedError } from "./errors.js";
import { assertSessionId, assertSlug } from "./ids.js";

/**
 * Session state (DESIGN.md §3): named slots (`pane-2`, `ci-job-17`) that tell
 * a supervisor which session to resume after it or its agent was killed.
 *
 * File format: `{"version": 1, "slots": {"<slot>": SlotRecord, …}}`.
 *
 * Crash safety: every write goes to a temp file in the same directory, which
 * is fsynced, renamed over the state file, and then the directory is fsynced,
 * so a kill at any point leaves the old state or the new one.
 *
 * Several processes: every read-modify-write runs under a lock file and
 * re-reads the state file under that lock, so concurrent writers of
 * different slots never lose each other's updates. Readers take no lock:
 * renames are atomic, so they see one complete version or the next.
 */

export interface SlotRecord {
  session_id: string;
  /** The agent that owns the session, e.g. "codex". */
  agent: string;
  cwd: string;
  /** ISO-8601 UTC, set on every write. */
  updated_at: string;
  [key: string]: unknown;
}

export type SlotInput = Omit<SlotRecord, "updated_at"> & { updated_at?: string };

export interface SlotEntry {
  slot: string;
  record: SlotRecord;
}

export interface SessionStateOptions {
  /** How long a writer waits for the lock before giving up (default 10 s). */
  lockTimeoutMs?: number;
  /**
   * A lock older than this is taken over even if its holder looks alive
   * (pid reuse, another host). Holders keep the lock for milliseconds, so the
   * default of 10 s is generous.
   */
  staleLockMs?: number;
  /**
   * Receives reports that must not go unnoticed but do not stop the caller: a
   * corrupt state file that was set aside, a stale lock that was removed.
   * Without it a corrupt state file is set aside and then raised as an error.
   */
  onWarning?: (message: string) => void;
}

export const STATE_FILE_VERSION = 1;

/** A state file larger than this is not something sessionvault wrote. */
const MAX_STATE_BYTES = 32 * 1024 * 1024;

interface LockInfo {
  pid: number;
  host: string;
  nonce: string;
  acquired_at: string;
}

type Slots = Map<string, SlotRecord>;

export class SessionStateFile {
  readonly path: string;
  readonly #lockPath: string;
  readonly #lockTimeoutMs: number;
  readonly #staleLockMs: number;
  readonly #onWarning: ((message: string) => void) | undefined;
  readonly #host = hostname();

  constructor(path: string, options: SessionStateOptions = {}) {
    this.path = path;
    this.#lockPath = `${path}.lock`;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.#staleLockMs = options.staleLockMs ?? 10_000;
    this.#onWarning = options.onWarning;
  }

  async get(slot: string): Promise<SlotRecord | null> {
    assertSlug(slot, "slot name");
    const slots = await this.#load();
    return slots.get(slot) ?? null;
  }

  /** All slots, sorted by name. */
  async list(): Promise<SlotEntry[]> {
    const slots = await this.#load();
    return [...slots.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([slot, record]) => ({ slot, record }));
  }

  /** Writes one slot; other slots, including ones written meanwhile by other processes, are kept. */
  async set(slot: string, input: SlotInput): Promise<SlotRecord> {
    assertSlug(slot, "slot name");
    const record = normalizeRecord(input);
    await this.#update((slots) => {
      slots.set(slot, record);
    });
    return record;
  }

  /** Removes a slot; returns whether it existed. */
  async clear(slot: string): Promise<boolean> {
    assertSlug(slot, "slot name");
    let existed = false;
    await this.#update((slots) => {
      existed = slots.delete(slot);
    });
    return existed;
  }

  /**
   * Reads always go to the file (it is small): other processes write it, and
   * a supervisor restarted after a crash must see what was written before.
   */
  async #load(): Promise<Slots> {
    const read = await this.#readFile();
    if (read.kind === "ok") return read.slots;
    // Setting the file aside must happen under the lock: a writer may have
    // replaced it with a good version since we read it.
    return this.#withLock(() => this.#readOrSetAside());
  }

  async #update(mutate: (slots: Slots) => void): Promise<void> {
    await this.#withLock(async () => {
      const slots = await this.#readOrSetAside();
      mutate(slots);
      await this.#writeAtomic(slots);
      await this.#removeLeftovers();
    });
  }

  /** Under the lock: the current state, setting a corrupt file aside (and reporting it). */
  async #readOrSetAside(): Promise<Slots> {
    const read = await this.#readFile();
    if (read.kind === "ok") return read.slots;
    const aside = `${this.path}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    try {
      await rename(this.path, aside);
    } catch (cause) {
      throw new IoError(`state file ${this.path} is corrupt (${read.reason}) and could not be moved aside: ${(cause as Error).message}`, { cause });
    }
    await fsyncDir(dirname(this.path));
    const message = `state file ${this.path} is corrupt (${read.reason}); moved it to ${aside} and started with an empty state`;
    if (!this.#onWarning) throw new InvalidInputError(message);
    this.#onWarning(message);
    return new Map();
  }

  async #readFile(): Promise<{ kind: "ok"; slots: Slots } | { kind: "corrupt"; reason: string }> {
    let bytes: Buffer;
    try {
      const st = await stat(this.path);
      if (st.size > MAX_STATE_BYTES) return { kind: "corrupt", reason: `${st.size} bytes, more than a state file can hold` };
      bytes = await readFile(this.path);
    } catch (err) {
      if (errno(err) === "ENOENT") return { kind: "ok", slots: new Map() };
      throw new IoError(`cannot read state file ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      return { kind: "corrupt", reason: "not valid UTF-8" };
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return { kind: "corrupt", reason: `not valid JSON: ${(err as Error).message}` };
    }
    if (!isObject(doc)) return { kind: "corrupt", reason: "not a JSON object" };
    if (typeof doc.version === "number" && doc.version > STATE_FILE_VERSION) {
      // Written by a newer sessionvault: refuse, but never move it aside.
      throw new UnsupportedError(`state file ${this.path} has version ${doc.version}; this sessionvault understands version ${STATE_FILE_VERSION}`);
    }
    if (doc.version !== STATE_FILE_VERSION) return { kind: "corrupt", reason: `missing or invalid "version"` };
    if (!isObject(doc.slots)) return { kind: "corrupt", reason: `missing or invalid "slots"` };
    const slots: Slots = new Map();
    for (const [slot, record] of Object.entries(doc.slots)) {
      const problem = recordProblem(slot, record);
      if (problem) return { kind: "corrupt", reason: `slot ${JSON.stringify(slot)}: ${problem}` };
      slots.set(slot, record as SlotRecord);
    }
    return { kind: "ok", slots };
  }

  async #writeAtomic(slots: Slots): Promise<void> {
    const dir = dirname(this.path);
    const doc = { version: STATE_FILE_VERSION, slots: Object.fromEntries([...slots.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
    const tmp = `${this.path}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
    try {
      const fh = await open(tmp, "wx", 0o600);
      try {
        await fh.writeFile(JSON.stringify(doc, null, 2) + "\n");
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw new IoError(`cannot write state file ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    await fsyncDir(dir);
  }

  async #withLock<T>(fn: () => Promise<T>): Promise<T> {
    const nonce = await this.#acquire();
    try {
      return await fn();
    } finally {
      await this.#release(nonce);
    }
  }

  /**
   * The lock is `<state>.lock`, holding the owner's pid, host and a nonce.
   * It is created by hard-linking a fully written temp file, so the lock
   * never exists without its content (an exclusive create followed by a
   * write could leave an empty lock behind when killed in between).
   */
  async #acquire(): Promise<string> {
    const dir = dirname(this.path);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new IoError(`cannot create the state directory ${dir}: ${(err as Error).message}`, { cause: err });
    }
    const info: LockInfo = { pid: process.pid, host: this.#host, nonce: randomBytes(8).toString("hex"), acquired_at: new Date().toISOString() };
    const tmp = `${this.#lockPath}.${process.pid}.${info.nonce}`;
    try {
      await writeNew(tmp, JSON.stringify(info));
    } catch (err) {
      throw new IoError(`cannot create the lock for state file ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    const deadline = Date.now() + this.#lockTimeoutMs;
    let delay = 1;
    try {
      for (;;) {
        try {
          await link(tmp, this.#lockPath);
          return info.nonce;
        } catch (err) {
          if (errno(err) === "ENOENT") {
            // Our temp file was swept as a leftover while we waited very long; write it again.
            await writeNew(tmp, JSON.stringify(info)).catch(() => {});
            continue;
          }
          if (errno(err) !== "EEXIST") throw new IoError(`cannot lock state file ${this.path}: ${(err as Error).message}`, { cause: err });
        }
        const holder = await readLock(this.#lockPath);
        if (holder && this.#isStale(holder)) {
          await this.#breakStaleLock(holder);
          continue;
        }
        if (Date.now() > deadline) {
          const who = holder?.info ? `pid ${holder.info.pid} on ${holder.info.host}` : "another process";
          throw new IoError(`timed out after ${this.#lockTimeoutMs} ms waiting for the lock ${this.#lockPath} (held by ${who})`);
        }
        await sleep(delay + Math.random() * delay);
        delay = Math.min(delay * 2, 25);
      }
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  #isStale(holder: { info: LockInfo | null; mtimeMs: number }): boolean {
    if (Date.now() - holder.mtimeMs > this.#staleLockMs) return true;
    const info = holder.info;
    if (!info || info.host !== this.#host) return false;
    return !processAlive(info.pid);
  }

  /**
   * Moves the stale lock aside and checks that what was moved is the lock
   * judged stale; if a live process took the lock in between, its lock is
   * put back. Leftover temp files of the dead holder are removed too.
   */
  async #breakStaleLock(holder: { info: LockInfo | null; raw: string }): Promise<void> {
    const aside = `${this.#lockPath}.stale-${process.pid}-${randomBytes(6).toString("hex")}`;
    try {
      await rename(this.#lockPath, aside);
    } catch (err) {
      if (errno(err) === "ENOENT") return;
      throw new IoError(`cannot remove the stale lock ${this.#lockPath}: ${(err as Error).message}`, { cause: err });
    }
    const moved = await readLock(aside);
    if (moved && moved.raw !== holder.raw) {
      await link(aside, this.#lockPath).catch(() => {});
      await unlink(aside).catch(() => {});
      return;
    }
    await unlink(aside).catch(() => {});
    const pid = holder.info?.pid;
    this.#onWarning?.(`removed a stale lock on ${this.path}${pid ? ` left by pid ${pid}` : ""}`);
    if (pid && holder.info?.host === this.#host) await this.#removeLeftovers(pid);
  }

  /**
   * Removes temp and lock files that killed writers left behind: those of a
   * holder just found dead, and any older than `staleLockMs` (no live writer
   * keeps one that long; the age rule also covers other hosts' files).
   */
  async #removeLeftovers(deadPid?: number): Promise<void> {
    const dir = dirname(this.path);
    const base = basename(this.path);
    const pattern = new RegExp(`^${escapeRegExp(base)}\\.(?:tmp-(\\d+)-|lock\\.(\\d+)\\.|lock\\.stale-(\\d+)-)[0-9a-f]+$`);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    const now = Date.now();
    for (const name of names) {
      const m = pattern.exec(name);
      if (!m) continue;
      const pid = Number(m[1] ?? m[2] ?? m[3]);
      const path = join(dir, name);
      try {
        if (pid !== deadPid && now - (await stat(path)).mtimeMs <= this.#staleLockMs) continue;
        await unlink(path);
      } catch {
        // Gone already, or not ours to remove: either way nothing to do.
      }
    }
  }

  async #release(nonce: string): Promise<void> {
    const holder = await readLock(this.#lockPath);
    if (holder?.info?.nonce !== nonce) {
      this.#onWarning?.(`the lock on ${this.path} was taken over while this process held it (held longer than ${this.#staleLockMs} ms?)`);
      return;
    }
    await unlink(this.#lockPath).catch(() => {});
  }
}

function normalizeRecord(input: SlotInput): SlotRecord {
  if (!isObject(input)) throw new InvalidInputError("a slot record must be an object");
  if (typeof input.session_id !== "string") throw new InvalidInputError("a slot record needs a session_id");
  assertSessionId(input.session_id);
  if (typeof input.agent !== "string" || input.agent === "") throw new InvalidInputError("a slot record needs a non-empty agent");
  if (typeof input.cwd !== "string") throw new InvalidInputError("a slot record needs a cwd");
  const record = { ...input, updated_at: new Date().toISOString() } as SlotRecord;
  // Only JSON can round-trip through the file; fail here rather than store something else.
  try {
    JSON.stringify(record);
  } catch (cause) {
    throw new InvalidInputError(`a slot record must be plain JSON: ${(cause as Error).message}`, { cause });
  }
  return record;
}

function recordProblem(slot: string, record: unknown): string | null {
  try {
    assertSlug(slot, "slot name");
  } catch (err) {
    return (err as Error).message;
  }
  if (!isObject(record)) return "not an object";
  for (const key of ["session_id", "agent", "cwd", "updated_at"] as const) {
    if (typeof record[key] !== "string") return `missing or invalid "${key}"`;
  }
  return null;
}

async function readLock(path: string): Promise<{ info: LockInfo | null; raw: string; mtimeMs: number } | null> {
  try {
    const [raw, st] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    let info: LockInfo | null = null;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (isObject(parsed) && typeof parsed.pid === "number" && typeof parsed.host === "string" && typeof parsed.nonce === "string") {
        info = parsed as unknown as LockInfo;
      }
    } catch {
      // Not written by sessionvault; it becomes stale by age.
    }
    return { info, raw, mtimeMs: st.mtimeMs };
  } catch (err) {
    if (errno(err) === "ENOENT") return null;
    throw new IoError(`cannot read the lock ${path}: ${(err as Error).message}`, { cause: err });
  }
}

async function writeNew(path: string, content: string): Promise<void> {
  const fh = await open(path, "wx", 0o600);
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
}

/** Makes a rename durable. Some filesystems cannot fsync a directory; that is not an error there. */
async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch (err) {
    const code = errno(err);
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM" && code !== "EBADF") {
      throw new IoError(`cannot fsync directory ${dir}: ${(err as Error).message}`, { cause: err });
    }
  } finally {
    await fh?.close();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === "EPERM";
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
