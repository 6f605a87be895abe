import { lstatSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { randomBytes } from "node:crypto";
import {
  keyToDate,
  type CodexPaths,
  assertSessionId,
  assertSlug,
  InvalidInputError,
  IoError,
  isSessionId,
  LegalHoldError,
  NotFoundError,
  parseJsonLine,
  readFileLines,
  STREAM_FILES,
  STREAMS,
  type DeletionAuditRecord,
  type RetentionCandidate,
  type SessionSummary,
  type SoftDeletedSession,
  type StreamInfo,
} from "@sessionvault/core/store-api";
import { withLock, type HeldLock } from "./file-lock.js";
import { appendRecord } from "./stream-file.js";
import type { RolloutFile } from "./rollout-walk.js";

/** What retention needs from the FsStore that owns the home (its lookups and caches). */
export interface FsRetentionHost {
  readonly home: string;
  readonly paths: CodexPaths;
  /** The live rollout of a full id, or null. */
  find(id: string): Promise<RolloutFile | null>;
  /** Every live rollout (active and archived). */
  walk(): AsyncIterable<RolloutFile>;
  /** The session's summary, or null if its file cannot be read. */
  summary(file: RolloutFile): Promise<SessionSummary | null>;
  streams(file: RolloutFile): Promise<StreamInfo[]>;
  /** Drops what the store cached about a rollout that moved or went. */
  forget(file: RolloutFile): void;
  /** Runs `fn` holding the session's lock, the one appends take: every move of a session's files happens under it. */
  locked<T>(id: string, fn: (held: HeldLock) => Promise<T>): Promise<T>;
  lockTimeoutMs?: number | undefined;
}

type Who = { actor: string; policy?: string | undefined; reason?: string | undefined };

/**
 * The trash entry of a soft-deleted session, `trash/<id>/record.json`,
 * written once before anything moves. `state` says which way a move a crash
 * interrupted must be finished: `deleted` (into the trash), `restoring` (back
 * into the home). Rewriting it on every move would cost a flush each (ext4
 * flushes a file renamed over another).
 */
interface TrashRecord {
  id: string;
  state: "deleted" | "restoring";
  deleted_at: string;
  purge_after: string;
  actor: string;
  policy: string | null;
  reason: string | null;
  bytes: number;
  /** The rollout's path relative to the home (`sessions/YYYY/MM/DD/rollout-….jsonl`). */
  rollout: string;
}

const HOLD_MARKER = "legal_hold";
/** Folder dates are local time; this much slack keeps a candidate walk from skipping a session across time zones. */
const DAY_SLACK_MS = 36 * 3600_000;
const CANDIDATE_BATCH = 32;

/**
 * Org-wide retention (core `RetentionStore`) over a Codex home.
 *
 * A Codex home must stay one that Codex itself reads, so a soft delete moves
 * the session out of Codex's view instead of flagging it: the dated rollout
 * and `sessions/<id>/` go to `.sessionvault/trash/<id>/files/` under their
 * relative paths (restore puts them back exactly), next to a `record.json`.
 * Every move is a rename, so a session is either visible or not; the rollout
 * moves first on the way out and last on the way back, so a half-moved
 * session is never visible without its other streams. A purge renames the
 * entry aside before removing it, so a crash mid-purge leaves nothing visible
 * and the next run finishes it. The org hold is `.sessionvault/org-hold`; the
 * deletion audit is `.sessionvault/deletions.jsonl`, one JSON record per
 * line, written before the change it records.
 */
export class FsRetention {
  readonly #host: FsRetentionHost;
  readonly #dir: string;
  readonly #trash: string;

  constructor(host: FsRetentionHost) {
    this.#host = host;
    this.#dir = join(host.home, ".sessionvault");
    this.#trash = join(this.#dir, "trash");
  }

  get auditPath(): string {
    return join(this.#dir, "deletions.jsonl");
  }

  async *retentionCandidates(options: { createdBefore: Date }): AsyncGenerator<RetentionCandidate> {
    const limit = options.createdBefore.getTime();
    let batch: RolloutFile[] = [];
    const flush = async (): Promise<(RetentionCandidate | null)[]> => {
      const out = await Promise.all(batch.map((f) => this.#candidate(f, limit)));
      batch = [];
      return out;
    };
    for await (const file of this.#host.walk()) {
      // The file name's (local) creation time rules most files out without opening them.
      if (keyToDate(file.key).getTime() - DAY_SLACK_MS >= limit) continue;
      batch.push(file);
      // Read concurrently, as listings do: a few round trips per batch, not one per file.
      if (batch.length === CANDIDATE_BATCH) for (const c of await flush()) if (c) yield c;
    }
    for (const c of await flush()) if (c) yield c;
  }

  async #candidate(file: RolloutFile, createdBefore: number): Promise<RetentionCandidate | null> {
    const s = await this.#host.summary(file);
    if (!s || Date.parse(s.created_at) >= createdBefore) return null;
    const [streams, legal_hold, bytes] = await Promise.all([
      this.#host.streams(file),
      exists(join(this.#sessionDir(file.id), HOLD_MARKER)),
      this.#liveBytes(file),
    ]);
    return { id: file.id, created_at: s.created_at, updated_at: s.updated_at, legal_hold, streams, bytes };
  }

  async softDeleteSession(sessionId: string, options: Who & { purgeAfter: Date }): Promise<void> {
    const id = assertSessionId(sessionId);
    await this.#host.locked(id, () => this.#trashLive(id, options, "soft_delete", options.purgeAfter));
  }

  async *softDeletedSessions(): AsyncGenerator<SoftDeletedSession> {
    const orgHeld = await this.orgLegalHold();
    const entries: TrashRecord[] = [];
    for (const name of await readdir(this.#trash).catch(() => [] as string[])) {
      if (name.startsWith(".purge-")) {
        // A purge that crashed after hiding its entry: finish it.
        await rm(join(this.#trash, name), { recursive: true, force: true });
        continue;
      }
      if (!isSessionId(name)) continue;
      const r = await this.#host.locked(name, () => this.#settle(name));
      if (r) entries.push(r);
    }
    entries.sort((a, b) => (a.purge_after < b.purge_after ? -1 : a.purge_after > b.purge_after ? 1 : a.id < b.id ? -1 : 1));
    for (const r of entries) {
      const held = orgHeld || (await exists(this.#trashedHoldMarker(r.id)));
      yield { id: r.id, deleted_at: r.deleted_at, purge_after: r.purge_after, legal_hold: held, bytes: r.bytes };
    }
  }

  async restoreSession(sessionId: string, options: Who): Promise<void> {
    const id = assertSessionId(sessionId);
    await this.#host.locked(id, () => this.#restoreLocked(id, options));
  }

  async #restoreLocked(id: string, options: Who): Promise<void> {
    const r = await this.#settle(id);
    if (!r) throw new NotFoundError(`session ${id} is not soft-deleted`);
    if (await this.#host.find(id)) throw new InvalidInputError(`session ${id} was created again since it was soft-deleted; delete that one first`);
    await this.audit(auditRecord("restore", id, null, options, 0));
    await writeRecord(this.#recordPath(id), { ...r, state: "restoring" });
    await this.#moveBack(id, r);
  }

  /** A soft-deleted session, or a live one (`action` "delete" for a manual delete, which sees only live sessions). */
  async purgeSession(sessionId: string, options: Who, action: "purge" | "delete" = "purge"): Promise<number> {
    const id = assertSessionId(sessionId);
    return this.#host.locked(id, async (held) => {
      const bytes = await this.#purgeLocked(id, options, action);
      // The session is gone for good: so is its lock file.
      held.discard();
      return bytes;
    });
  }

  async #purgeLocked(id: string, options: Who, action: "purge" | "delete"): Promise<number> {
    const trashed = action === "purge" ? await this.#settle(id) : null;
    if (!trashed) {
      // Out of Codex's view first (one rename), then gone; a crash in between leaves a trash entry the next run purges.
      const bytes = await this.#trashLive(id, options, action, null);
      await this.#dropEntry(id);
      return bytes;
    }
    await this.#assertNotHeld(id, this.#trashedHoldMarker(id));
    const bytes = await treeBytes(join(this.#entry(id), "files"));
    await this.audit(auditRecord("purge", id, null, options, bytes));
    await this.#dropEntry(id);
    return bytes;
  }

  async deleteStream(sessionId: string, stream: string, options: Who): Promise<number> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    if (stream === STREAMS.rollout) throw new InvalidInputError("the rollout is the session: delete the session instead");
    return this.#host.locked(id, () => this.#deleteStreamLocked(id, stream, options));
  }

  async #deleteStreamLocked(id: string, stream: string, options: Who): Promise<number> {
    await this.#live(id);
    await this.#assertNotHeld(id, join(this.#sessionDir(id), HOLD_MARKER));
    const path = join(this.#sessionDir(id), STREAM_FILES[stream] ?? `${stream}.jsonl`);
    const st = await lstat(path).catch(() => null);
    if (!st) return 0;
    await this.audit(auditRecord("delete_stream", id, stream, options, st.size));
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw new IoError(`cannot delete ${path}: ${err.message}`, { cause: err });
    });
    return st.size;
  }

  async setOrgLegalHold(held: boolean): Promise<void> {
    await setMarker(join(this.#dir, "org-hold"), held);
  }

  orgLegalHold(): Promise<boolean> {
    return exists(join(this.#dir, "org-hold"));
  }

  /** Sets or clears the hold of a soft-deleted session (so that its purge is blocked). NotFoundError if it is not in the trash. The caller holds the session's lock. */
  async setTrashedLegalHold(sessionId: string, held: boolean): Promise<void> {
    const id = assertSessionId(sessionId);
    if (!(await this.#settle(id))) throw new NotFoundError(`no session ${id} in ${this.#host.home}`);
    await setMarker(this.#trashedHoldMarker(id), held);
  }

  /** Refuses to create a session whose id is in the trash: restore or purge it first. The caller holds the session's lock. */
  async assertNotTrashed(id: string): Promise<void> {
    // Almost every new session has no trash entry: one direct lstat says so (a sync creates thousands).
    if (!lstatSync(this.#entry(id), { throwIfNoEntry: false })) return;
    const r = await this.#settle(id);
    if (r) throw new InvalidInputError(`session ${id} was deleted by retention on ${r.deleted_at} and is purged after ${r.purge_after}; restore it first`);
  }

  async *deletionAudit(options: { since?: Date } = {}): AsyncGenerator<DeletionAuditRecord> {
    if (!(await exists(this.auditPath))) return;
    const since = options.since?.getTime() ?? -Infinity;
    for await (const line of readFileLines(this.auditPath)) {
      let v: Record<string, unknown>;
      try {
        v = parseJsonLine(line.text) as Record<string, unknown>;
      } catch {
        continue; // a torn last line (a crash mid-append) is not a record
      }
      if (typeof v !== "object" || v === null) continue;
      const rec = toAuditRecord(v);
      if (rec && Date.parse(rec.at) >= since) yield rec;
    }
  }

  /**
   * Appends one audit record and makes it durable before the deletion it
   * records happens; under the audit's own lock, so a torn last line is cut
   * before the record is written.
   */
  async audit(record: DeletionAuditRecord): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await withLock(join(this.#dir, "locks", "deletions.lock"), () => appendRecord(this.auditPath, record, { durable: true }), {
      timeoutMs: this.#host.lockTimeoutMs,
    });
  }

  // ---- internals ----------------------------------------------------------

  #sessionDir(id: string): string {
    return join(this.#host.paths.sessions, id);
  }

  #entry(id: string): string {
    return join(this.#trash, id);
  }

  #recordPath(id: string): string {
    return join(this.#entry(id), "record.json");
  }

  #trashedHoldMarker(id: string): string {
    return join(this.#entry(id), "files", relative(this.#host.home, this.#sessionDir(id)), HOLD_MARKER);
  }

  async #live(id: string): Promise<RolloutFile> {
    const file = await this.#host.find(id);
    if (!file) throw new NotFoundError(`no session ${id} in ${this.#host.home}`);
    return file;
  }

  async #assertNotHeld(id: string, marker: string): Promise<void> {
    if ((await exists(marker)) || (await this.orgLegalHold())) throw new LegalHoldError(id);
  }

  /** The rollout plus the files in `sessions/<id>/`. */
  async #liveBytes(file: RolloutFile): Promise<number> {
    return ((await lstat(file.path).catch(() => null))?.size ?? 0) + (await treeBytes(this.#sessionDir(file.id)));
  }

  /**
   * Audits, then moves a live, unheld session into the trash: a soft delete
   * (purged after `purgeAfter`) or the first half of a delete (`purgeAfter`
   * null: due at once). Returns its bytes.
   */
  async #trashLive(id: string, who: Who, action: "soft_delete" | "delete" | "purge", purgeAfter: Date | null): Promise<number> {
    const file = await this.#live(id);
    await this.#assertNotHeld(id, join(this.#sessionDir(id), HOLD_MARKER));
    const bytes = await this.#liveBytes(file);
    const audit = auditRecord(action, id, null, who, bytes);
    await this.audit(audit);
    await this.#moveToTrash(file, {
      id,
      state: "deleted",
      deleted_at: audit.at,
      purge_after: purgeAfter?.toISOString() ?? audit.at,
      actor: audit.actor,
      policy: audit.policy,
      reason: audit.reason,
      bytes,
      rollout: relative(this.#host.home, file.path),
    });
    return bytes;
  }

  async #moveToTrash(file: RolloutFile, record: TrashRecord): Promise<void> {
    await mkdir(this.#entry(record.id), { recursive: true, mode: 0o700 });
    await writeRecord(this.#recordPath(record.id), record);
    this.#host.forget(file);
    await this.#finishMove(record);
  }

  /** Rollout first (the session is hidden from then on), then `sessions/<id>/`; what already moved is skipped. */
  async #finishMove(record: TrashRecord): Promise<void> {
    const files = join(this.#entry(record.id), "files");
    await moveInto(join(this.#host.home, record.rollout), join(files, record.rollout));
    const sdir = relative(this.#host.home, this.#sessionDir(record.id));
    await moveInto(join(this.#host.home, sdir), join(files, sdir));
  }

  /** Session directory first, rollout last: the session becomes visible only once it is whole. */
  async #moveBack(id: string, r: TrashRecord): Promise<void> {
    const files = join(this.#entry(id), "files");
    const sdir = relative(this.#host.home, this.#sessionDir(id));
    await moveInto(join(files, sdir), join(this.#host.home, sdir));
    await moveInto(join(files, r.rollout), join(this.#host.home, r.rollout));
    await rm(this.#entry(id), { recursive: true, force: true });
  }

  /** Hidden by one rename, then removed; a crash in between leaves a `.purge-*` folder the next listing removes. */
  async #dropEntry(id: string): Promise<void> {
    const aside = join(this.#trash, `.purge-${id}-${randomBytes(4).toString("hex")}`);
    await rename(this.#entry(id), aside);
    await rm(aside, { recursive: true, force: true });
  }

  /**
   * The trash record of `id` after finishing any move a crash interrupted,
   * or null when the session is not soft-deleted.
   */
  async #settle(id: string): Promise<TrashRecord | null> {
    let r: TrashRecord;
    try {
      r = JSON.parse(await readFile(this.#recordPath(id), "utf8")) as TrashRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") {
        // An entry without its record: it was being created; nothing of the session moved yet.
        if (await exists(this.#entry(id))) {
          const files = join(this.#entry(id), "files");
          if (!(await exists(files))) await rm(this.#entry(id), { recursive: true, force: true });
        }
        return null;
      }
      throw new IoError(`cannot read the trash record of ${id}: ${(err as Error).message}`, { cause: err });
    }
    if (r.state === "restoring") {
      await this.#moveBack(id, r);
      return null;
    }
    await this.#finishMove(r);
    return r;
  }
}

function auditRecord(action: DeletionAuditRecord["action"], id: string, stream: string | null, who: Who, bytes: number): DeletionAuditRecord {
  return { at: new Date().toISOString(), action, session_id: id, stream, actor: who.actor, policy: who.policy ?? null, reason: who.reason ?? null, bytes };
}

function toAuditRecord(v: Record<string, unknown>): DeletionAuditRecord | null {
  if (typeof v.action === "string" && typeof v.at === "string" && typeof v.session_id === "string") return v as unknown as DeletionAuditRecord;
  // Lines written before retention existed: `{id, deleted_at, actor, reason}` for a delete or a prune.
  if (typeof v.id === "string" && typeof v.deleted_at === "string") {
    return {
      at: v.deleted_at,
      action: "delete",
      session_id: v.id,
      stream: null,
      actor: typeof v.actor === "string" ? v.actor : "unknown",
      policy: null,
      reason: typeof v.reason === "string" ? v.reason : null,
      bytes: 0,
    };
  }
  return null;
}

/**
 * Renames `from` to `to` (creating `to`'s parent). A missing `from` is a move
 * already done. When `to` is a directory that exists (a move interrupted
 * half-way), the entries are moved one by one; an entry both sides have keeps
 * the copy at `to`.
 */
async function moveInto(from: string, to: string): Promise<void> {
  const src = await lstat(from).catch(() => null);
  if (!src) return;
  await mkdir(dirname(to), { recursive: true, mode: 0o700 });
  const dst = await lstat(to).catch(() => null);
  if (!dst) {
    await rename(from, to);
    return;
  }
  if (src.isDirectory() && dst.isDirectory()) {
    for (const name of await readdir(from)) await moveInto(join(from, name), join(to, name));
    await rm(from, { recursive: true, force: true });
  }
}

/** Bytes of the regular files under `dir`; symlinks (the `rollout.jsonl` link) are not followed, so nothing counts twice. */
async function treeBytes(dir: string): Promise<number> {
  let n = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const st = await lstat(join(dir, name)).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) n += await treeBytes(join(dir, name));
    else if (st.isFile()) n += st.size;
  }
  return n;
}

/** A hold is a marker file holding when it was set: created (with its folder) or removed. */
export async function setMarker(path: string, on: boolean): Promise<void> {
  if (on) {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, new Date().toISOString() + "\n", { mode: 0o600 });
  } else {
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}

async function writeRecord(path: string, record: TrashRecord): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, JSON.stringify(record) + "\n", { mode: 0o600 });
  await rename(tmp, path);
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}
