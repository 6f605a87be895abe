import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  constants as fsConstants,
  copyFileSync,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  type Stats,
} from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import {
  IoError,
  isSessionId,
  isStorageFull,
  normaliseSessionInput,
  sessionInputOf,
  type SessionInput,
  type SessionSummary,
  type CodexPaths,
  type MirrorOptions,
  type MirrorPass,
  type MirrorProgress,
} from "@sessionvault/core/store-api";
import { walkSync, type RolloutFile, type WalkWarn } from "./rollout-walk.js";

/**
 * The file-level pass of a sync between two Codex homes (core's
 * `FileMirror`, docs/sync.md): what `rsync -a` would do, kept exactly as safe
 * as the per-session sync that handles everything else.
 *
 * - **New sessions.** A rollout whose id the target does not hold anywhere
 *   is copied to the same path relative to the home, created exclusively
 *   (`COPYFILE_EXCL`: a concurrent writer that created it first wins, and
 *   the session is left to the per-session sync). The copy is the kernel's
 *   (`copy_file_range`); only committed lines are kept: a torn last line
 *   (Codex mid-write) is cut off the copy. A kill mid-copy leaves the
 *   beginning of the rollout, which the next run finds unrecorded and
 *   completes by positions, as it completes a cut append.
 * - **Unchanged sessions.** The record (one JSON file per source and target,
 *   outside both homes) holds, per session, the stats of its files on both
 *   sides (rollout path, inode, size, mtime, ctime; every file of
 *   `sessions/<id>/`; the thread name) as a sync left them identical. A
 *   session whose stats are all still those is skipped without reading a
 *   byte; any write, truncate, rename or `touch` changes one of them. A
 *   source file changed less than 2 s before it was read is not recorded
 *   (its times could still hide a change), as for the listing cache.
 * - **Unrecorded sessions** on both sides (a target an older version
 *   filled, a run killed before its record) that are plain rollouts at the
 *   same place are settled by comparing their bytes.
 * - **The rest** (grown, cut, present in part, side streams, another
 *   agent's transcript, compressed, a thread name to carry as the summary)
 *   goes to the per-session sync, and is recorded after it only if it
 *   ended without error or conflict and its source did not change meanwhile.
 */

/** What a pass needs of one FsStore; the store keeps its private state. */
export interface MirrorSide {
  home: string;
  paths: CodexPaths;
  warn: WalkWarn;
  /** false: there is no home yet (an org without data); with forWrite, the home is made. */
  checkHome(forWrite: boolean): Promise<boolean>;
  threadNames(): Promise<Map<string, string>>;
  /** Whether a session with this id may be created here (it is not in the trash). */
  mayCreate(id: string): Promise<boolean>;
  /** The rollout of an id, or null (after the per-session sync, which may have made it). */
  locate(id: string): Promise<RolloutFile | null>;
  /** A rollout's summary from its committed bytes `whole` (null: not a session yet). */
  summaryOf(file: RolloutFile, whole: Buffer): Promise<SessionSummary | null>;
  /** Puts a summary for a rollout that is in place, as `putSession` does (the sidecar, under the session's lock). */
  putSummary(file: RolloutFile, input: SessionInput): Promise<void>;
  /** Tells the store of rollouts the pass found or wrote: its lookups by id and its walks must see them. */
  remember(files: readonly RolloutFile[], wrote: boolean): void;
}

/** Where the record of a source and target pair is kept, in the source's record folder. */
export function mirrorRecordPath(dir: string, source: string, target: string): string {
  const key = (home: string) => createHash("sha256").update(resolve(home)).digest("hex").slice(0, 16);
  return join(dir, `fs-mirror-${key(source)}-${key(target)}.json`);
}

const FORMAT = "sessionvault-fs-mirror-1";
/** See the summary cache: a file changed again within the timestamps' granularity keeps the same stats. */
const RACY_MS = 2000;
const COPY_CHUNK = 1024 * 1024;
const SIDECARS_IN_FLIGHT = 8;

/** A session's stats on the source and on the target, as a sync left them identical. */
type Pair = readonly [source: string, target: string];

interface Sig {
  sig: string;
  /** The latest mtime or ctime among the session's files (ms). */
  newest: number;
  /** The rollout's size. */
  size: number;
}

export async function mirrorHome(source: MirrorSide, target: MirrorSide, recordPath: string | null, options: MirrorOptions): Promise<MirrorPass> {
  const startedAt = Date.now();
  const progress: MirrorProgress = { sessions_found: 0, sessions_settled: 0, sessions_copied: 0, lines_copied: 0, bytes_copied: 0 };
  const rest: string[] = [];
  const next = new Map<string, Pair>();
  /** Sessions left to the sync whose source was stable when found: recorded after the sync if it is still the same. */
  const pending = new Map<string, { file: RolloutFile; sig: string }>();
  const done = () => ({ ...progress, rest, finish: (synced: ReadonlySet<string>) => finish(synced) });
  if (!(await source.checkHome(false))) return done();

  const sourceFiles = filesById(source);
  const targetFiles = filesById(target);
  const sourceDirs = sessionDirs(source);
  const targetDirs = sessionDirs(target);
  const [sourceNames, targetNames] = await Promise.all([source.threadNames(), target.threadNames()]);
  const record = loadRecord(recordPath, source.home, target.home);

  let targetReady = false;
  const madeDirs = new Set<string>();
  const buf = Buffer.allocUnsafe(COPY_CHUNK);
  const buf2 = Buffer.allocUnsafe(COPY_CHUNK);
  const copied: RolloutFile[] = [];
  const inFlight = new Set<Promise<void>>();
  try {
    for (const f of sourceFiles.files.values()) {
      if (options.agent !== undefined && f.agent !== options.agent) continue;
      options.signal?.throwIfAborted();
      progress.sessions_found++;
      const src = sideSig(source, f, sourceDirs.has(f.id), sourceNames.get(f.id));
      // Two rollouts of one id in the source, or one that is not a plain file: the sync decides (and reports).
      if (src === null || sourceFiles.twice.has(f.id)) {
        leave(f, null);
        continue;
      }
      const stable = src.newest < startedAt - RACY_MS;
      const t = targetFiles.files.get(f.id);
      if (t !== undefined) {
        const tgt = targetFiles.twice.has(f.id) ? null : sideSig(target, t, targetDirs.has(f.id), targetNames.get(f.id));
        const was = record.get(f.id);
        if (tgt !== null && was !== undefined && was[0] === src.sig && was[1] === tgt.sig) {
          next.set(f.id, was);
          progress.sessions_settled++;
          continue;
        }
        // Not recorded (a target an older version filled, a run killed before it wrote its
        // record): a plain rollout that is the same file on both sides is settled by comparing
        // bytes, far cheaper than the per-session sync's listing of both homes.
        if (tgt !== null && was === undefined && plainOnBothSides(f, t) && src.size === tgt.size && sameBytes(f.path, t.path, buf, buf2)) {
          if (stable) next.set(f.id, [src.sig, tgt.sig]);
          progress.sessions_settled++;
          continue;
        }
        leave(f, stable ? src.sig : null);
        continue;
      }
      // Only a Codex rollout as Codex writes it is copied whole; a thread name
      // (the summary's title) and side streams are the sync's to carry over.
      const plain = f.agent === "codex" && !f.compressed && !sourceDirs.has(f.id) && !targetDirs.has(f.id) && !targetNames.has(f.id);
      if (!plain || !(await target.mayCreate(f.id))) {
        leave(f, stable ? src.sig : null);
        continue;
      }
      if (!targetReady) {
        await target.checkHome(true);
        targetReady = true;
      }
      const path = join(target.home, homeRelative(source, f.path));
      const named = sourceNames.has(f.id);
      const out = copyRollout(f.path, path, madeDirs, buf, named);
      if (out === null) {
        // Created meanwhile by another writer, or unreadable: the sync decides (and reports).
        leave(f, null);
        continue;
      }
      const file: RolloutFile = { ...f, path };
      copied.push(file);
      progress.lines_copied += out.lines;
      progress.bytes_copied += out.bytes;
      if (!named) {
        settle(f, file, false, src.sig, stable);
        continue;
      }
      // The thread name is the summary's title, which the rollout does not say: it goes
      // into the copy's sidecar, as the sync's putSession would put it. A few at a time
      // (each is a handful of calls through the thread pool) while the copies go on.
      const job = putSidecar(f, file, out.whole!, src.sig, stable).finally(() => inFlight.delete(job));
      inFlight.add(job);
      if (inFlight.size >= SIDECARS_IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    // The sync looks the rest up by id next: the store knows where they are.
    source.remember(
      rest.map((id) => sourceFiles.files.get(id)!),
      false,
    );
  } finally {
    // A job that failed is the sync's error; the others are waited for before the store hears of the copies.
    await Promise.allSettled(inFlight);
    target.remember(copied, true);
  }
  return done();

  /** A Codex rollout, not compressed, at the same place on both sides, with nothing else to the session (no side streams, sidecar or thread name). */
  function plainOnBothSides(f: RolloutFile, t: RolloutFile): boolean {
    return (
      f.agent === "codex" &&
      t.agent === "codex" &&
      !f.compressed &&
      !t.compressed &&
      !sourceDirs.has(f.id) &&
      !targetDirs.has(f.id) &&
      !sourceNames.has(f.id) &&
      !targetNames.has(f.id) &&
      homeRelative(source, f.path) === homeRelative(target, t.path)
    );
  }

  /** Leaves a session to the sync; with its source's stats (when stable), to be recorded after it. */
  function leave(f: RolloutFile, sourceSig: string | null): void {
    rest.push(f.id);
    if (sourceSig !== null) pending.set(f.id, { file: f, sig: sourceSig });
  }

  /** A session copied (`file`, the target's rollout): settled, and recorded with the copy's stats when its source is stable. */
  function settle(f: RolloutFile, file: RolloutFile, withDir: boolean, sourceSig: string, stable: boolean): void {
    const copy = sideSig(target, file, withDir, targetNames.get(f.id));
    if (copy === null) {
      leave(f, stable ? sourceSig : null);
      return;
    }
    progress.sessions_copied++;
    progress.sessions_settled++;
    if (stable) next.set(f.id, [sourceSig, copy.sig]);
    options.onProgress?.({ ...progress });
  }

  async function putSidecar(f: RolloutFile, file: RolloutFile, whole: Buffer, sourceSig: string, stable: boolean): Promise<void> {
    const summary = await source.summaryOf(f, whole);
    if (summary === null) {
      leave(f, stable ? sourceSig : null);
      return;
    }
    await target.putSummary(file, normaliseSessionInput(sessionInputOf(summary)));
    settle(f, file, true, sourceSig, stable);
  }

  async function finish(synced: ReadonlySet<string>): Promise<void> {
    if (recordPath === null) return;
    const [sourceNamesNow, targetNamesNow] = await Promise.all([source.threadNames(), target.threadNames()]);
    for (const [id, p] of pending) {
      if (!synced.has(id)) continue;
      const src = sideSig(source, p.file, hasDir(source, id), sourceNamesNow.get(id));
      if (src === null || src.sig !== p.sig) continue;
      const t = await target.locate(id);
      const tgt = t === null ? null : sideSig(target, t, hasDir(target, id), targetNamesNow.get(id));
      if (tgt !== null) next.set(id, [src.sig, tgt.sig]);
    }
    // An unchanged record is not written again (a rerun over an unchanged home writes nothing).
    if (next.size === record.size && [...next].every(([id, pair]) => record.get(id) === pair)) return;
    saveRecord(recordPath, source.home, target.home, next);
  }
}

/** Every rollout of a home by id (an id found twice is noted: the sync reports such a home). */
function filesById(side: MirrorSide): { files: Map<string, RolloutFile>; twice: Set<string> } {
  const files = new Map<string, RolloutFile>();
  const twice = new Set<string>();
  for (const f of walkSync(side.paths, "all", null, side.warn)) {
    if (files.has(f.id)) twice.add(f.id);
    else files.set(f.id, f);
  }
  return { files, twice };
}

/** The ids that have a `sessions/<id>/` folder (side streams, a sidecar): one read of `sessions/`. */
function sessionDirs(side: MirrorSide): Set<string> {
  try {
    return new Set(readdirSync(side.paths.sessions).filter(isSessionId));
  } catch {
    return new Set();
  }
}

function hasDir(side: MirrorSide, id: string): boolean {
  return lstatSync(join(side.paths.sessions, id), { throwIfNoEntry: false }) !== undefined;
}

/** A path under the home, relative to it (the walk gives normalized paths). */
function homeRelative(side: MirrorSide, path: string): string {
  const base = side.paths.sessions.slice(0, -"sessions".length);
  return path.startsWith(base) ? path.slice(base.length) : relative(side.home, path);
}

/**
 * Where a rollout is, in few characters (the record holds one per side and
 * session): its folder relative to the home, its agent and the time in its
 * name (the rest of the name is the session's id), and whether it is compressed.
 */
function place(side: MirrorSide, f: RolloutFile): string {
  const rel = homeRelative(side, f.path);
  return `${rel.slice(0, rel.lastIndexOf(sep) + 1)}${f.agent}:${f.key.slice(0, 19)}${f.compressed ? ".zst" : ""}`;
}

const NO_THROW = { throwIfNoEntry: false } as const;
const statSig = (st: Stats) => `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;

/**
 * A session's files on one side as stats: the rollout (its path relative to
 * the home, so a move counts), each file of `sessions/<id>/`, and the thread
 * name. null when the rollout is not a plain file (a link, gone).
 */
function sideSig(side: MirrorSide, f: RolloutFile, withDir: boolean, threadName: string | undefined): Sig | null {
  const st = lstatSync(f.path, NO_THROW);
  if (!st?.isFile()) return null;
  let sig = `${place(side, f)}:${statSig(st)}`;
  let newest = Math.max(st.mtimeMs, st.ctimeMs);
  if (withDir) {
    const dir = join(side.paths.sessions, f.id);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return null;
    }
    for (const name of names) {
      const e = lstatSync(join(dir, name), NO_THROW);
      if (!e) return null;
      sig += `|${name}:${statSig(e)}`;
      newest = Math.max(newest, e.mtimeMs, e.ctimeMs);
    }
  }
  return { sig: `${sig}#${threadName ?? ""}`, newest, size: st.size };
}

/** Whether two files hold the same bytes (their sizes are known to be equal); false when either cannot be read. */
function sameBytes(a: string, b: string, bufA: Buffer, bufB: Buffer): boolean {
  let fa: number | null = null;
  let fb: number | null = null;
  try {
    fa = openSync(a, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    fb = openSync(b, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    for (let pos = 0; ; ) {
      const n = readSync(fa, bufA, 0, bufA.length, pos);
      const m = readSync(fb, bufB, 0, n === 0 ? 1 : n, pos);
      if (n !== m) return false;
      if (n === 0) return true;
      if (!bufA.subarray(0, n).equals(bufB.subarray(0, n))) return false;
      pos += n;
    }
  } catch {
    return false;
  } finally {
    if (fa !== null) closeSync(fa);
    if (fb !== null) closeSync(fb);
  }
}

/**
 * Copies a rollout to a new file `to` and keeps its committed lines only.
 * Returns what the copy holds; null when it was not copied
 * (the file exists already, or the source cannot be read): the sync decides.
 */
function copyRollout(
  from: string,
  to: string,
  madeDirs: Set<string>,
  buf: Buffer,
  keep: boolean,
): { lines: number; bytes: number; whole: Buffer | null } | null {
  const dir = dirname(to);
  if (!madeDirs.has(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    madeDirs.add(dir);
  }
  try {
    copyFileSync(from, to, fsConstants.COPYFILE_EXCL);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return null;
    // A copy that failed part way (a full disk) is already taken back: libuv removes the file it made.
    // A full target stops the sync; anything else (a source that cannot be read) is that session's, for the sync to report.
    if (isStorageFull(err)) throw new IoError(`cannot copy ${from} to ${to}: ${(err as Error).message}`, { cause: err });
    return null;
  }
  const fd = openSync(to, fsConstants.O_RDWR | fsConstants.O_NOFOLLOW);
  try {
    // Count the lines of what was copied, and find where the last one ends
    // (`keep`: into a buffer of its own, for the caller to read the summary from).
    let lines = 0;
    let committed = 0;
    const whole = keep ? Buffer.allocUnsafe(fstatSync(fd).size) : null;
    for (let pos = 0; ; ) {
      const into = whole ?? buf;
      const at = whole ? pos : 0;
      const n = readSync(fd, into, at, into.length - at, pos);
      if (n === 0) break;
      for (let nl = into.indexOf(10, at); nl !== -1 && nl < at + n; nl = into.indexOf(10, nl + 1)) {
        lines++;
        committed = pos + (nl - at) + 1;
      }
      pos += n;
      if (whole && pos === whole.length) break;
    }
    const stat = fstatSync(fd);
    // Codex was writing its last line: that line is not committed yet, and comes with a later sync.
    if (stat.size !== committed) ftruncateSync(fd, committed);
    // A store's rollouts are private to their owner, whatever mode the source had.
    if ((stat.mode & 0o777) !== 0o600) fchmodSync(fd, 0o600);
    return { lines, bytes: committed, whole: whole?.subarray(0, committed) ?? null };
  } finally {
    closeSync(fd);
  }
}

function loadRecord(path: string | null, source: string, target: string): Map<string, Pair> {
  if (path === null) return new Map();
  try {
    const v = JSON.parse(readFileSync(path, "utf8")) as { format?: unknown; source?: unknown; target?: unknown; sessions?: unknown };
    // A record of another format or of other homes (a hash collision, a moved cache) is no record.
    if (v.format !== FORMAT || v.source !== resolve(source) || v.target !== resolve(target) || typeof v.sessions !== "object" || v.sessions === null)
      return new Map();
    const pairs = new Map<string, Pair>();
    for (const [id, p] of Object.entries(v.sessions as Record<string, unknown>))
      if (Array.isArray(p) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string") pairs.set(id, p as unknown as Pair);
    return pairs;
  } catch {
    // Missing or corrupt: every session present on both sides is checked by the sync.
    return new Map();
  }
}

/** Write-then-rename: a record is whole or absent. One that cannot be written is no record (the next run checks more). */
function saveRecord(path: string, source: string, target: string, sessions: Map<string, Pair>): void {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, JSON.stringify({ format: FORMAT, source: resolve(source), target: resolve(target), sessions: Object.fromEntries(sessions) }), {
      mode: 0o600,
    });
    renameSync(tmp, path);
  } catch {
    rmSync(tmp, { force: true });
  }
}
