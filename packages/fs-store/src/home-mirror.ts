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
  readSync,
  readdirSync,
} from "node:fs";
import { dirname, join, relative, sep } from "node:path";
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
import { homeTree } from "./home-tree.js";
import { extraOf, MirrorRecord, NextRecord, sameSide, type SettledTrees, type SideState } from "./mirror-record.js";
import { parseStoredName } from "./stored-file-name.js";
import type { RolloutFile, WalkWarn } from "./rollout-walk.js";

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
 * - **Unchanged homes.** When the last sync left every session of the
 *   source settled, the record also holds both homes' trees (home-tree.ts):
 *   two homes that still hash to them are settled by one walk each, with
 *   no other work per file. A tree is recorded only as checked: the
 *   source's as this pass walked it (every decision was made from that
 *   walk), the target's walked again at the end and compared, session by
 *   session, with what the record says of it.
 * - **Unchanged sessions.** The record (one file per source and target,
 *   outside both homes; mirror-record.ts) holds, per session, the stats of
 *   its files on both sides (rollout path, inode, size, mtime, ctime; every
 *   file of `sessions/<id>/`; the thread name) as a sync left them identical. A
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

/** See the summary cache: a file changed again within the timestamps' granularity keeps the same stats. */
const RACY_MS = 2000;
const COPY_CHUNK = 1024 * 1024;
const SIDECARS_IN_FLIGHT = 8;

/** A session's files on one side as found now. */
interface Found extends SideState {
  /** The latest mtime or ctime among the session's files (ms). */
  newest: number;
}

export async function mirrorHome(source: MirrorSide, target: MirrorSide, recordPath: string | null, options: MirrorOptions): Promise<MirrorPass> {
  const startedAt = Date.now();
  const progress: MirrorProgress = { sessions_found: 0, sessions_settled: 0, sessions_copied: 0, lines_copied: 0, bytes_copied: 0 };
  const rest: string[] = [];
  /** Sessions left to the sync whose source was stable when found: recorded after the sync if it is still the same. */
  const pending = new Map<string, { file: RolloutFile; state: SideState }>();
  const done = () => ({ ...progress, rest, finish: (synced: ReadonlySet<string>) => finish(synced) });
  if (!(await source.checkHome(false))) return done();

  // Both homes still as a sync left every session of the source settled:
  // nothing to do, found with one lstat per file and no other work per file.
  const trees = recordPath === null ? null : MirrorRecord.loadTrees(recordPath, source.home, target.home);
  if (
    trees !== null &&
    trees.agent === (options.agent ?? null) &&
    homeTree(source.paths).digest === trees.source &&
    homeTree(target.paths).digest === trees.target
  ) {
    progress.sessions_found = trees.sessions;
    progress.sessions_settled = trees.sessions;
    return { ...progress, rest, finish: async () => {} };
  }

  // Otherwise each session is decided by its files' stats on both sides, from one walk of each home.
  // The thread names are read after the walks: a tree vouches for the session_index.jsonl it
  // stat-ed, so the names a session is recorded with must be that file's, or newer.
  const sourceFiles = treeFiles(source);
  const targetFiles = treeFiles(target);
  const [sourceNames, targetNames] = await Promise.all([source.threadNames(), target.threadNames()]);
  sourceFiles.name(sourceNames);
  targetFiles.name(targetNames);
  const record = MirrorRecord.load(recordPath, source.home, target.home);
  const next = new NextRecord(record);

  let targetReady = false;
  const madeDirs = new Set<string>();
  const buf = Buffer.allocUnsafe(COPY_CHUNK);
  const buf2 = Buffer.allocUnsafe(COPY_CHUNK);
  const copied: RolloutFile[] = [];
  const inFlight = new Set<Promise<void>>();
  try {
    for (const { file: f, state: src, twice } of sourceFiles.newestFirst()) {
      if (options.agent !== undefined && f.agent !== options.agent) continue;
      options.signal?.throwIfAborted();
      progress.sessions_found++;
      // Two rollouts of one id in the source, or one that is not a plain file: the sync decides (and reports).
      if (src === null || twice) {
        leave(f, null);
        continue;
      }
      const stable = src.newest < startedAt - RACY_MS;
      const found = targetFiles.rollouts.get(f.id);
      if (found !== undefined) {
        const t = found.file;
        const tgt = found.twice ? null : found.state;
        const was = record.indexOf(src.rel);
        if (tgt !== null && was !== -1 && record.matches(was, src, tgt)) {
          next.keep(was);
          progress.sessions_settled++;
          continue;
        }
        // Not recorded (a target an older version filled, a run killed before it wrote its
        // record): a plain rollout that is the same file on both sides is settled by comparing
        // bytes, far cheaper than the per-session sync's listing of both homes.
        if (tgt !== null && was === -1 && plainOnBothSides(f, src, tgt) && src.size === tgt.size && sameBytes(f.path, t.path, buf, buf2)) {
          if (stable) next.add(src, tgt);
          progress.sessions_settled++;
          continue;
        }
        leave(f, stable ? src : null);
        continue;
      }
      // Only a Codex rollout as Codex writes it is copied whole; a thread name
      // (the summary's title) and side streams are the sync's to carry over.
      const plain = f.agent === "codex" && !f.compressed && !sourceFiles.dirs.has(f.id) && !targetFiles.dirs.has(f.id) && !targetNames.has(f.id);
      if (!plain || !(await target.mayCreate(f.id))) {
        leave(f, stable ? src : null);
        continue;
      }
      if (!targetReady) {
        await target.checkHome(true);
        targetReady = true;
      }
      const path = join(target.home, src.rel);
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
        settle(f, file, false, src, stable);
        continue;
      }
      // The thread name is the summary's title, which the rollout does not say: it goes
      // into the copy's sidecar, as the sync's putSession would put it. A few at a time
      // (each is a handful of calls through the thread pool) while the copies go on.
      const job = putSidecar(f, file, out.whole!, src, stable).finally(() => inFlight.delete(job));
      inFlight.add(job);
      if (inFlight.size >= SIDECARS_IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    // The sync looks the rest up by id next: the store knows where they are.
    // (Not an id found twice: which of its files the walk met first says nothing; the store's own lookup finds both.)
    source.remember(
      rest.flatMap((id) => {
        const r = sourceFiles.rollouts.get(id)!;
        return r.twice ? [] : [r.file];
      }),
      false,
    );
  } finally {
    // A job that failed is the sync's error; the others are waited for before the store hears of the copies.
    await Promise.allSettled(inFlight);
    target.remember(copied, true);
  }
  return done();

  /** A Codex rollout, not compressed, at the same place on both sides, with nothing else to the session (no side streams, sidecar or thread name). */
  function plainOnBothSides(f: RolloutFile, src: SideState, tgt: SideState): boolean {
    // The same path relative to the home is the same file name: the target's is a plain Codex rollout too.
    return f.agent === "codex" && !f.compressed && src.rel === tgt.rel && src.extra === "" && tgt.extra === "";
  }

  /** Leaves a session to the sync; with its source's stats (when stable), to be recorded after it. */
  function leave(f: RolloutFile, state: SideState | null): void {
    rest.push(f.id);
    if (state !== null) pending.set(f.id, { file: f, state });
  }

  /** A session copied (`file`, the target's rollout): settled, and recorded with the copy's stats when its source is stable. */
  function settle(f: RolloutFile, file: RolloutFile, withDir: boolean, src: SideState, stable: boolean): void {
    const copy = sideState(target, file, withDir, targetNames.get(f.id));
    if (copy === null) {
      leave(f, stable ? src : null);
      return;
    }
    progress.sessions_copied++;
    progress.sessions_settled++;
    if (stable) next.add(src, copy);
    options.onProgress?.({ ...progress });
  }

  async function putSidecar(f: RolloutFile, file: RolloutFile, whole: Buffer, src: SideState, stable: boolean): Promise<void> {
    const summary = await source.summaryOf(f, whole);
    if (summary === null) {
      leave(f, stable ? src : null);
      return;
    }
    await target.putSummary(file, normaliseSessionInput(sessionInputOf(summary)));
    settle(f, file, true, src, stable);
  }

  async function finish(synced: ReadonlySet<string>): Promise<void> {
    if (recordPath === null) return;
    const [sourceNamesNow, targetNamesNow] = await Promise.all([source.threadNames(), target.threadNames()]);
    for (const [id, p] of pending) {
      if (!synced.has(id)) continue;
      const src = sideState(source, p.file, hasDir(source, id), sourceNamesNow.get(id));
      if (src === null || !sameSide(src, p.state)) continue;
      const t = await target.locate(id);
      const tgt = t === null ? null : sideState(target, t, hasDir(target, id), targetNamesNow.get(id));
      if (tgt !== null) next.add(src, tgt);
    }
    const made = next.build();
    // Every session of the source recorded: the two homes' trees, if they are still what the record says.
    const settled = made.size === progress.sessions_found ? await settledTrees(made) : null;
    // A rerun over unchanged homes writes nothing.
    if (!next.changed && sameTrees(settled, record.tree)) return;
    made.save(recordPath, source.home, target.home, settled);
  }

  /**
   * The trees of both homes, when every session of the source is in `made`
   * as this pass found its files and as the target's are now (null
   * otherwise): what the next run may take as settled without comparing
   * sessions. The source is as walked at the start: every decision was
   * made from that walk, and a session found changed since is not in
   * `made`. The source must not have changed within RACY_MS of that walk,
   * as for each session's record.
   */
  async function settledTrees(made: MirrorRecord): Promise<SettledTrees | null> {
    if (sourceFiles.tree.digest === null || sourceFiles.tree.newest >= startedAt - RACY_MS) return null;
    const now = treeFiles(target);
    now.name(await target.threadNames());
    if (now.tree.digest === null) return null;
    let sessions = 0;
    for (const [id, f] of sourceFiles.rollouts) {
      if (options.agent !== undefined && f.file.agent !== options.agent) continue;
      const t = now.rollouts.get(id);
      const i = f.state === null ? -1 : made.indexOf(f.state.rel);
      if (i === -1 || f.twice || t === undefined || t.twice || t.state === null || !made.matches(i, f.state!, t.state)) return null;
      sessions++;
    }
    return { source: sourceFiles.tree.digest, target: now.tree.digest, sessions, agent: options.agent ?? null };
  }
}

function sameTrees(a: SettledTrees | null, b: SettledTrees | null): boolean {
  return a === b || (a !== null && b !== null && a.source === b.source && a.target === b.target && a.sessions === b.sessions && a.agent === b.agent);
}

type DirFile = [name: string, ino: number, size: number, mtimeMs: number, ctimeMs: number];

interface TreeRollout {
  file: RolloutFile;
  /** null when the rollout is not a plain file (a link). */
  state: Found | null;
  /** Another rollout of the same id was found (the sync reports such a home). */
  twice: boolean;
}

/**
 * A home walked once (home-tree.ts): its tree, its rollouts by id with
 * their stats, and the files of each `sessions/<id>/` folder.
 */
function treeFiles(side: MirrorSide) {
  const rollouts = new Map<string, TreeRollout>();
  const dirs = new Map<string, DirFile[]>();
  const sessions = `sessions${sep}`;
  const base = side.paths.sessions.slice(0, -"sessions".length);
  const sidecarOf = (folder: string) => (folder.startsWith(sessions) && isSessionId(folder.slice(sessions.length)) ? folder.slice(sessions.length) : null);
  const tree = homeTree(side.paths, {
    warn: side.warn,
    folder: (folder) => {
      const id = sidecarOf(folder);
      if (id !== null) dirs.set(id, []);
    },
    file: (folder, name, plain, ino, size, mtimeMs, ctimeMs) => {
      if (folder === "") return;
      const id = sidecarOf(folder);
      if (id !== null) {
        dirs.get(id)!.push([name, ino, size, mtimeMs, ctimeMs]);
        return;
      }
      const parsed = parseStoredName(name) as RolloutFile | null;
      if (parsed === null) return;
      const was = rollouts.get(parsed.id);
      if (was) {
        was.twice = true;
        return;
      }
      const rel = folder + sep + name;
      parsed.path = base + rel;
      parsed.archived = folder === "archived_sessions";
      const state = plain ? { rel, ino, size, mtimeMs, ctimeMs, extra: "", newest: Math.max(mtimeMs, ctimeMs) } : null;
      rollouts.set(parsed.id, { file: parsed, state, twice: false });
    },
  });
  for (const [id, r] of rollouts) {
    const files = dirs.get(id);
    if (r.state !== null && files) for (const f of files) r.state.newest = Math.max(r.state.newest, f[3], f[4]);
  }
  return {
    tree,
    rollouts,
    dirs,
    /** Completes each session's stats with its folder's files and its thread name. */
    name: (threadNames: Map<string, string>) => {
      for (const [id, r] of rollouts) if (r.state !== null) r.state.extra = extraOf(dirs.get(id) ?? [], threadNames.get(id));
    },
    /** Newest first, as the sync sends: a pass cut short has sent the sessions most likely wanted. */
    newestFirst: () => [...rollouts.values()].sort((a, b) => (a.file.key < b.file.key ? 1 : a.file.key > b.file.key ? -1 : 0)),
  };
}

function hasDir(side: MirrorSide, id: string): boolean {
  return lstatSync(join(side.paths.sessions, id), { throwIfNoEntry: false }) !== undefined;
}

/** A path under the home, relative to it (the walk gives normalized paths). */
function homeRelative(side: MirrorSide, path: string): string {
  const base = side.paths.sessions.slice(0, -"sessions".length);
  return path.startsWith(base) ? path.slice(base.length) : relative(side.home, path);
}

const NO_THROW = { throwIfNoEntry: false } as const;

/**
 * A session's files on one side as stats: the rollout (its path relative to
 * the home, so a move counts), each file of `sessions/<id>/`, and the thread
 * name. null when the rollout is not a plain file (a link, gone).
 */
function sideState(side: MirrorSide, f: RolloutFile, withDir: boolean, threadName: string | undefined): Found | null {
  const st = lstatSync(f.path, NO_THROW);
  if (!st?.isFile()) return null;
  let newest = Math.max(st.mtimeMs, st.ctimeMs);
  const dirFiles: DirFile[] = [];
  if (withDir) {
    const dir = join(side.paths.sessions, f.id);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return null;
    }
    for (const name of names) {
      const e = lstatSync(join(dir, name), NO_THROW);
      if (!e) return null;
      dirFiles.push([name, e.ino, e.size, e.mtimeMs, e.ctimeMs]);
      newest = Math.max(newest, e.mtimeMs, e.ctimeMs);
    }
  }
  return {
    rel: homeRelative(side, f.path),
    ino: st.ino,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    extra: extraOf(dirFiles, threadName),
    newest,
  };
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
