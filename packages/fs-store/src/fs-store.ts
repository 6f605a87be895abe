import { lstat, mkdir, open, readdir, readFile, rename, stat, symlink, unlink, writeFile } from "node:fs/promises";
import {
  closeSync,
  constants as fsConstants,
  ftruncateSync,
  readFileSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
  writeSync,
  type BigIntStats,
  type Dirent,
  type Stats,
} from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import {
  codexPaths,
  dayDir,
  keyToDate,
  localStamp,
  uuidV7Time,
  type CodexPaths,
  assertIdOrPrefix,
  assertSessionId,
  assertSlug,
  AmbiguousIdError,
  InvalidInputError,
  IoError,
  isSessionId,
  NotACodexHomeError,
  NotFoundError,
  openFileBytes,
  readLines,
  readSessionFacts,
  type SessionFacts,
  STREAM_FILES,
  summarizeRollout,
  lineTimestamp,
  UnsupportedError,
  ConflictError,
  agentLineTime,
  readingOptions,
  summaryReading,
  type AgentName,
  type AgentReaderOptions,
  type AppendOptions,
  type AppendResult,
  type BytePrefilter,
  agentLineSearchText,
  LINE_SEARCH_TEXT_VERSION,
  type FileMirror,
  type MirrorOptions,
  type MirrorPass,
  type RawAppendOptions,
  type RawStreams,
  type RolloutScanEntry,
  type RolloutScanSource,
  type DeleteOptions,
  type DeletionAuditRecord,
  type LineWarning,
  type ListQuery,
  type RetentionCandidate,
  type RetentionStore,
  type RolloutHead,
  type SessionDetail,
  type SessionInput,
  type SessionPage,
  type SessionStore,
  type SessionSummary,
  type SoftDeletedSession,
  type StreamInfo,
  type TokenRecord,
  type TokenStore,
} from "@sessionvault/core/store-api";
import { FolderFilesCache, mergeNewestFirst, walkActive, walkAll, walkArchived, walkDays, walkSync, type RolloutFile } from "./rollout-walk.js";
import { withLock, type HeldLock } from "./file-lock.js";
import {
  appendAt,
  appendBytesAt,
  assertStoreFile,
  filePosition,
  lastLineHead,
  PositionCache,
  positionOf,
  readCommittedBytes,
  readFileLineBatches,
  readSmallFile,
  type FilePosition,
} from "./stream-file.js";
import { SessionIndex } from "./session-index.js";
import { SummaryCache, type CachedRolloutFacts } from "./summary-cache.js";
import { SearchIndex } from "./search-index.js";
import { TokenFile } from "./token-file.js";
import { FsRetention, setMarker } from "./retention.js";
import { decodeCursor, encodeCursor } from "./list-cursor.js";
import { testRolloutFile, testRolloutFiles } from "./rollout-scan.js";
import { parseStoredName, storedFileName } from "./stored-file-name.js";
import { mirrorHome, type MirrorSide } from "./home-mirror.js";
import { mirrorRecordPath } from "./mirror-record.js";

export interface FsStoreOptions {
  /** A Codex home (`$CODEX_HOME`, `~/.codex`) or a directory to become one. */
  root: string;
  /** Keeps this org's sessions in `<root>/orgs/<org>/`, itself a Codex home layout. */
  org?: string;
  /** How many lines of a rollout's head are read for its summary (default 200, as Codex). */
  headLines?: number;
  /** Receives one message per skipped input: an unreadable file or folder, a garbage line in a head. */
  onWarning?: (message: string) => void;
  /** How long an append waits for another live writer's lock on the same file (default 30 s). */
  lockTimeoutMs?: number;
  /**
   * A file where listings keep what they read from each rollout (line
   * count, head, last timestamp), so the next process lists unchanged files
   * with one stat each (a re-sync of a big home). Off by default: reading
   * then writes nothing anywhere. Apps put it in the user's cache directory,
   * outside the Codex home.
   */
  summaryCache?: string;
  /**
   * For a writer that owns the home while it runs (a sync into a backup
   * directory): how long one walk of every folder answers "is this id
   * anywhere?", its day folders and archived_sessions included. Without it
   * (0, the default), each new session reads its id's day folders and
   * archived_sessions, then walks the whole home: 40 ms a session at
   * 10,000. A session another process puts meanwhile is not seen for that
   * long (the rollout's own name is still created exclusively).
   */
  reuseWalkMs?: number;
  /**
   * A file for the search index of this home (SQLite FTS5): `list --search`
   * then reads only the rollouts that changed since it last saw them (see
   * search-index.ts). Off by default; apps put it in the user's cache directory.
   */
  searchIndex?: string;
  /**
   * A folder where a sync from this home into another Codex home keeps its
   * record (`mirrorFiles`, home-mirror.ts): the stats of the files it left
   * identical on both sides, one file per target, so a rerun skips
   * unchanged sessions with a `stat` each side. Off by default; apps put it
   * in the user's cache directory.
   */
  mirrorRecords?: string;
}

/** Files sessionvault keeps in `sessions/<id>/` besides the streams. */
const SIDECAR = "session.json";
const HOLD_MARKER = "legal_hold";
const ROLLOUT_LINK = "rollout.jsonl";
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
/** Folder dates are local time; this much slack keeps `since` from cutting a walk short across time zones. */
const DAY_SLACK_MS = 36 * 3600_000;
/**
 * How long what a listing counted answers `streamPositions` (see #listedAlone):
 * a sync asks right after listing a page. Lines appended meanwhile, or a
 * side stream started, are sent by the next run, as if they had come just
 * after the listing; every append is still checked at the target's position.
 */
const LISTED_FRESH_MS = 1000;
/** Names Codex keeps in a home that has no sessions yet. */
const CODEX_HOME_MARKERS = [
  "sessions",
  "archived_sessions",
  "session_index.jsonl",
  "config.toml",
  "auth.json",
  "history.jsonl",
  "log",
  ".sessionvault",
  "orgs",
];

interface HeadCacheEntry {
  head: RolloutHead | null;
  /** For a file with no visible head yet: the size it had, so it is read again once it grows. */
  size: number;
}

/**
 * A SessionStore over a Codex home. Codex's own files are read as they are
 * and never rewritten; sessionvault adds only `sessions/<id>/` (other
 * streams, a summary sidecar, the legal-hold marker) and `.sessionvault/`.
 */
/** Stores that can hand out a stream's committed bytes as stored (see `FsStore#readStreamBytes`). */
export type RawStreamSource = Pick<RawStreams, "readStreamBytes">;

/** A rollout a listing found but could not read (permissions, a link, a folder in its place). */
export interface UnreadableSession {
  session_id: string;
  path: string;
  /** Says what is wrong, naming the path. */
  message: string;
}

export class FsStore implements SessionStore, TokenStore, RawStreams, FileMirror, RetentionStore, RolloutScanSource {
  readonly root: string;
  /** The Codex home this store serves (`root`, or `root/orgs/<org>`). */
  readonly home: string;
  readonly #paths: CodexPaths;
  readonly #options: FsStoreOptions;
  readonly #positions = new PositionCache();
  readonly #heads = new Map<string, HeadCacheEntry>();
  /** Facts per rollout path, for the size they were read at (a process without a summary cache reads each file once). */
  readonly #facts = new Map<string, { facts: SessionFacts; size: number; lastTs: string | null }>();
  /** Where each id's rollout was last seen, so repeated lookups skip the walk (checked with a stat before use). */
  readonly #known = new Map<string, RolloutFile>();
  /**
   * Sessions a listing just counted and found without a `sessions/<id>/`
   * folder (no stream but the rollout), by id, with when: `streamPositions`
   * right after (a sync asks for every session it lists) answers from them
   * instead of a stat and a read of the folder. Consumed on use; trusted for
   * LISTED_FRESH_MS only.
   */
  readonly #listedAlone = new Map<string, { path: string; at: number; writes: number }>();
  /** Writes this store began (puts, appends, moves, deletes): what a listing counted before one is not trusted after it. */
  #writes = 0;
  readonly #index: SessionIndex;
  readonly #tokens: TokenFile;
  readonly #summaryCache: SummaryCache | null;
  /** Listing pages walk the same big folders again: their sorted contents are kept while unchanged. */
  readonly #folders = new FolderFilesCache();
  /** Rollouts that listings found but could not read, by path. */
  readonly #unreadable = new Map<string, UnreadableSession>();
  /** Every rollout of the last walk of the whole home, and when it was taken (see #findExact). */
  #allFiles: { at: number; files: Map<string, RolloutFile> } | null = null;
  #homeChecked = false;
  #retentionImpl: FsRetention | null = null;

  constructor(options: FsStoreOptions) {
    this.#options = options;
    this.root = options.root;
    this.home = options.org ? join(options.root, "orgs", assertSlug(options.org, "org name")) : options.root;
    this.#paths = codexPaths(this.home);
    this.#index = new SessionIndex(this.#paths.sessionIndex);
    this.#tokens = new TokenFile(join(options.root, ".sessionvault", "tokens.jsonl"), join(options.root, ".sessionvault", "locks", "tokens.lock"), {
      timeoutMs: options.lockTimeoutMs,
    });
    this.#summaryCache = options.summaryCache ? new SummaryCache(options.summaryCache, options.headLines ?? 200) : null;
  }

  /** How the summary cache answered this store's lookups so far (null without one): a hit read no rollout. */
  get summaryCacheStats(): { hits: number; misses: number } | null {
    return this.#summaryCache ? { ...this.#summaryCache.stats } : null;
  }

  // ---- sessions ---------------------------------------------------------

  async putSession(input: SessionInput): Promise<SessionSummary> {
    const id = assertSessionId(input.id);
    const created = new Date(input.created_at);
    if (Number.isNaN(created.getTime())) throw new InvalidInputError(`created_at ${JSON.stringify(input.created_at)} is not a date`);
    await this.#checkHome(true);
    // Creating, moving (archive/unarchive) and re-linking the rollout happen under the
    // lock appends take, so an append never writes to a path that is being renamed.
    const { file } = await this.#locked(id, () => this.#putLocked(id, created, input));
    return (await this.#summarize(file, await this.#index.names(), true))!;
  }

  /** Creates or updates the session's rollout file and sidecar; the caller holds the session's lock. */
  /**
   * Creates or updates the session's rollout file and sidecar; the caller
   * holds the session's lock. `initial`: the first lines of a rollout this
   * call creates, written into the new file (a sync's copy: no second open);
   * `wrote` says whether they were.
   */
  async #putLocked(id: string, created: Date, input: SessionInput, initial?: { buf: Buffer; lines: number }): Promise<{ file: RolloutFile; wrote: boolean }> {
    const agent = input.agent ?? "codex";
    let file = await this.#findExact(id);
    let wrote = false;
    if (!file) {
      await this.#retention.assertNotTrashed(id);
      const name = storedFileName(agent, id, created);
      const dir = input.archived ? this.#paths.archived : dayDir(this.#paths, created);
      const path = join(dir, name);
      // Direct calls: a new file's create, write and close cost microseconds each, less than a trip
      // through the thread pool (see stream-file.ts, countPositionFd).
      const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
      const create = () => openSync(path, flags, 0o600);
      let fd: number | null;
      try {
        try {
          fd = create();
        } catch (err) {
          // The folder usually exists: it is made only when the create says it is missing.
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          fd = create();
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new IoError(`cannot create ${path}: ${(err as Error).message}`, { cause: err });
        fd = null;
      }
      if (fd !== null) {
        try {
          if (initial && initial.lines > 0) {
            writeNewFile(fd, path, initial.buf);
            this.#positions.set(path, {
              seq: initial.lines,
              committed: initial.buf.length,
              size: initial.buf.length,
              lastLineStart: initial.buf.lastIndexOf(10, initial.buf.length - 2) + 1,
            });
            wrote = true;
          }
        } finally {
          closeSync(fd);
        }
      }
      file = this.#remember({ ...parseStoredName(name)!, path, archived: input.archived });
      this.#allFiles?.files.set(id, file);
    } else if (file.archived !== input.archived || file.agent !== agent) {
      file = await this.#move(file, input.archived, agent);
    }
    const sdir = this.#sessionDir(id);
    // A rollout just written whose head says all the summary says (a copy of a
    // Codex session) needs no sidecar: the session is laid out as Codex lays
    // it out, and its listing reads no sidecar.
    if (wrote && initial && (await this.#headSays(file, initial.buf, input)) && !lstatSync(sdir, { throwIfNoEntry: false })) return { file, wrote };
    // A folder this call makes is empty and real: nothing to check or sweep, and the link needs no temp name.
    const made = await mkdir(sdir, { mode: 0o700 }).then(
      () => true,
      async (err: NodeJS.ErrnoException) => {
        if (err.code === "EEXIST") return false;
        if (err.code !== "ENOENT") throw err;
        await mkdir(sdir, { recursive: true, mode: 0o700 });
        return false;
      },
    );
    if (!made) {
      await assertRealDir(sdir);
      await sweepTempFiles(sdir);
    }
    // A Codex home's facts are what its rollout says: facts a writer sends are not kept beside it.
    const { facts: _computedHere, ...sidecar } = input;
    await atomicWrite(join(sdir, SIDECAR), JSON.stringify(sidecar) + "\n");
    await this.#linkRollout(file, made);
    return { file, wrote };
  }

  /** Whether the summary of a rollout whose first bytes are `buf`, with no sidecar, is `input`. */
  async #headSays(file: RolloutFile, buf: Buffer, input: SessionInput): Promise<boolean> {
    // Another agent's transcript has no Codex head: its summary is the sidecar.
    if (file.agent !== "codex") return false;
    const head = await summarizeRollout(readLines(slices(buf)), { maxHeadLines: this.#options.headLines });
    if (head === null || (await this.#index.names()).has(file.id)) return false;
    const g = head.git;
    const h = input.git;
    return (
      Date.parse(head.created_at) === Date.parse(input.created_at) &&
      head.cwd === input.cwd &&
      head.title === input.title &&
      head.source === input.source &&
      head.originator === input.originator &&
      head.cli_version === input.cli_version &&
      head.model_provider === input.model_provider &&
      head.parent_id === input.parent_id &&
      head.forked_from_id === input.forked_from_id &&
      (g === null || h === null ? g === h : g.commit_hash === h.commit_hash && g.branch === h.branch && g.repository_url === h.repository_url)
    );
  }

  async getSession(idOrPrefix: string): Promise<SessionDetail> {
    const file = await this.#locate(idOrPrefix);
    const summary = (await this.#summarize(file, await this.#index.names(), true))!;
    const streams = await this.#streams(file);
    const held = await exists(join(this.#sessionDir(file.id), HOLD_MARKER));
    return { ...summary, streams, legal_hold: held };
  }

  async listSessions(query: ListQuery = {}): Promise<SessionPage> {
    if (query.q !== undefined && query.q !== "") throw new UnsupportedError("fs-store cannot search sessions (q); use a postgres store or the archive server");
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${limit}`);
    const { walk, since, until, mode } = this.#listWalk(query);
    if (!(await this.#checkHome(false))) return { sessions: [], next_cursor: null };
    const names = await this.#index.names();
    const writesBefore = this.#writes;
    // Most rollouts have no sessions/<id>/ folder: one read of sessions/ spares a failed sidecar open per session.
    const sessionDirs = await readdir(this.#paths.sessions).then(
      (n) => new Set(n),
      () => undefined,
    );
    const sessions: SessionSummary[] = [];
    let lastKey: string | null = null;
    let more = false;
    let exhausted = false;
    const next = async (): Promise<RolloutFile | null> => {
      const n = await walk.next();
      if (n.done || (since && keyToDate(n.value.key).getTime() < since.getTime() - DAY_SLACK_MS)) return null;
      return n.value;
    };
    try {
      // Summaries of a batch are read concurrently: a page costs a few round trips, not one per session.
      while (sessions.length < limit && !exhausted) {
        const batch: RolloutFile[] = [];
        const want = Math.min(32, Math.max(8, limit - sessions.length));
        while (batch.length < want) {
          const f = await next();
          if (!f) {
            exhausted = true;
            break;
          }
          batch.push(f);
        }
        const summaries = await Promise.all(batch.map((f) => this.#summarizeForList(f, names, false, sessionDirs, undefined, query.facts !== false)));
        for (let i = 0; i < batch.length; i++) {
          const s = summaries[i];
          if (!s || !matches(s, query, since, until)) continue;
          if (sessions.length === limit) {
            more = true;
            break;
          }
          sessions.push(s);
          this.#remember(batch[i]!);
          if (sessionDirs && !sessionDirs.has(s.id)) this.#rememberListed(s.id, batch[i]!.path, writesBefore);
          lastKey = batch[i]!.key;
        }
      }
      if (!more && !exhausted) more = (await next()) !== null;
    } finally {
      await walk.return(undefined);
    }
    // The end of a listing is the natural moment to keep what it read; a
    // walk over every rollout also forgets files that are gone.
    if (this.#summaryCache && !more) await this.#summaryCache.save(mode === "all" && !since && !until);
    return { sessions, next_cursor: more && lastKey ? encodeCursor(lastKey) : null };
  }

  /**
   * The rollouts that listings of this store skipped because they could not
   * be read (EACCES, a symbolic link, a folder named like a rollout, …), one
   * per file, until a later listing reads it. `sync` reports each as an
   * error of its session instead of passing over it in silence.
   */
  unreadableSessions(): UnreadableSession[] {
    return [...this.#unreadable.values()];
  }

  /** The walk a listing of `query` follows, newest first from its cursor (home already checked). */
  #listWalk(query: Omit<ListQuery, "q">) {
    let before = query.cursor ? decodeCursor(query.cursor) : null;
    const since = query.since ? parseDate(query.since, "since") : null;
    const until = query.until ? parseDate(query.until, "until") : null;
    if (until) {
      // Start the walk at `until` (plus time-zone slack) instead of skipping every newer session.
      const untilKey = `${localStamp(new Date(until.getTime() + DAY_SLACK_MS))}-ffffffff-ffff-ffff-ffff-ffffffffffff`;
      if (before === null || untilKey < before) before = untilKey;
    }
    const warn = this.#warn;
    const mode = query.archived ?? "active";
    const walk =
      mode === "active"
        ? walkActive(this.#paths, before, warn, this.#folders.files)
        : mode === "archived"
          ? walkArchived(this.#paths, before, warn, this.#folders.files)
          : mergeNewestFirst(walkActive(this.#paths, before, warn, this.#folders.files), walkArchived(this.#paths, before, warn, this.#folders.files));
    return { walk, since, until, mode, before };
  }

  /**
   * What `list --search` reads over a Codex home (see RolloutScanSource):
   * every rollout's bytes are tested, several files in flight, and only the
   * files that pass (or whose thread name, sidecar or id does) are summarized.
   * With a search index that knows the home, see #scanIndexed.
   */
  async *scanRollouts(query: Omit<ListQuery, "q">, maybe: BytePrefilter): AsyncGenerator<RolloutScanEntry> {
    const { walk, since, until, mode, before } = this.#listWalk(query);
    if (!(await this.#checkHome(false))) return;
    const names = await this.#index.names();
    const sessionDirs = await readdir(this.#paths.sessions).then(
      (n) => new Set(n),
      () => undefined,
    );
    const index = await this.#openSearchIndex();
    // The index gives the summaries of the files it knows; the listing cache is not needed then.
    const summarize = async (f: RolloutFile, whole: Buffer | null): Promise<Found | null> => {
      const s = await this.#summarizeForList(f, names, false, sessionDirs, whole, true, index === null);
      if (!s || !matches(s, query, since, until)) return null;
      this.#remember(f);
      // The bytes just tested are the lines to search: a passing file is read once.
      return { summary: s, lines: whole ? committedLines(whole) : this.readStream(f.id, "rollout") };
    };
    // Whether a session's fields kept outside its rollout (id, thread name, sidecar) may hold the needle.
    const passesOutside = async (id: string): Promise<boolean> => {
      if (maybe.testText(id)) return true;
      const name = names.get(id);
      if (name !== undefined && maybe.testText(name)) return true;
      return sessionDirs?.has(id) === true && maybe.testText(await readFile(join(this.#sessionDir(id), SIDECAR), "utf8").catch(() => ""));
    };
    const scan: IndexedScan = { query, maybe, since, until, names, sessionDirs, summarize, passesOutside };
    if (index && index.size > 0) {
      await walk.return(undefined);
      yield* this.#scanIndexed(index, scan, mode, before);
      return;
    }
    const files: AsyncIterator<RolloutFile> = {
      next: async () => {
        const n = await walk.next();
        if (n.done || (since && keyToDate(n.value.key).getTime() < since.getTime() - DAY_SLACK_MS)) return { done: true, value: undefined };
        return n;
      },
    };
    // An index that knows nothing yet (the first search over this home) records every file read.
    const stale: RolloutFile[] = [];
    const record = index
      ? (f: RolloutFile) => {
          if (!f.compressed) stale.push(f);
          return null;
        }
      : undefined;
    try {
      for await (const tested of testRolloutFiles(files, maybe, summarize, record)) {
        const f = tested.file;
        let found = tested.result;
        if (found === null && (await passesOutside(f.id))) found = await summarize(f, null);
        yield { summary: found?.summary ?? null, lines: found?.lines ?? [], cursor: encodeCursor(f.key), bytes: tested.bytes };
      }
    } finally {
      await walk.return(undefined);
      if (index) await this.#indexFiles(index, stale);
    }
  }

  /**
   * The search over a home its index knows: the folders are walked and each
   * rollout stat-ed synchronously, and one the index knows as it is now is
   * decided, summarized and matched from what the index kept — no read, no
   * async step. Only the rollouts that changed (or are new) are read, one
   * after the other, then recorded; runs of sessions that cannot match are
   * handed out as one entry. When the walk went over the whole home, rows
   * of rollouts that are gone are dropped.
   */
  async *#scanIndexed(index: SearchIndex, scan: IndexedScan, mode: "active" | "archived" | "all", before: string | null): AsyncGenerator<RolloutScanEntry> {
    const { query, maybe, since, names, sessionDirs } = scan;
    const hits = index.matching(maybe.needle);
    const stale: RolloutFile[] = [];
    // Only a walk over every rollout can tell which are gone.
    const whole = mode === "all" && !query.cursor && !since && !query.until;
    if (whole) index.noteSeen();
    const sinceMs = since ? since.getTime() - DAY_SLACK_MS : null;
    let skipped = 0;
    let lastKey = "";
    const skippedRun = (): RolloutScanEntry => {
      const key = lastKey;
      const entry = { summary: null, lines: [], bytes: 0, sessions: skipped, cursor: "" };
      skipped = 0;
      // Made only for the entry the search stops at.
      return Object.defineProperty(entry, "cursor", { get: () => encodeCursor(key) });
    };
    let walked = false;
    try {
      let n = 0;
      for (const f of walkSync(this.#paths, mode, before, this.#warn)) {
        if (sinceMs !== null && keyToDate(f.key).getTime() < sinceMs) break;
        // A server answering other requests meanwhile is not held for the whole walk.
        if (++n % 4096 === 0) await new Promise(setImmediate);
        const id = f.compressed ? null : this.#indexedRow(index, f, stale);
        // An id is lower-case hex: the search's own test of it is this substring test.
        if (id !== null && id !== undefined && !hits.has(id) && !f.id.includes(maybe.needle) && !sessionDirs?.has(f.id)) {
          const name = names.get(f.id);
          if (name === undefined || !maybe.testText(name)) {
            skipped++;
            lastKey = f.key;
            if (skipped >= SKIPPED_RUN) yield skippedRun();
            continue;
          }
        }
        if (skipped > 0) yield skippedRun();
        let found: Found | null = null;
        let bytes = 0;
        if (id === undefined) {
          // Gone since its folder was read.
        } else if (id !== null && (hits.has(id) || (await scan.passesOutside(f.id)))) found = await this.#foundInIndex(index, id, f, scan);
        else if (id === null) {
          const tested = await testRolloutFile(f, maybe, scan.summarize);
          found = tested.result;
          bytes = tested.bytes;
          if (found === null && (await scan.passesOutside(f.id))) found = await scan.summarize(f, null);
        }
        yield {
          summary: found?.summary ?? null,
          lines: found?.lines ?? [],
          ...(found?.texts ? { texts: found.texts } : {}),
          cursor: encodeCursor(f.key),
          bytes,
        };
      }
      if (skipped > 0) yield skippedRun();
      walked = true;
    } finally {
      // A walk over every rollout of the home knows which ones are gone (before
      // the new rows, which it did not ask the index about, are added).
      if (walked && whole) index.dropUnseen();
      await this.#indexFiles(index, stale);
    }
  }

  /**
   * The index row of a rollout as it is now (one stat), null when the file
   * is to be read (unknown, changed — then noted in `stale` — compressed or
   * unreadable), undefined when it is gone.
   */
  #indexedRow(index: SearchIndex, f: RolloutFile, stale: RolloutFile[]): number | null | undefined {
    let st: Stats | undefined;
    try {
      // A direct call (microseconds) instead of a trip through the thread pool, which costs more than the stat itself.
      st = statSync(f.path, { throwIfNoEntry: false });
    } catch {
      // Unreadable: the read says why, and reports it.
      return null;
    }
    if (st === undefined) return undefined;
    const key = this.#homeKey(f.path);
    const id = st.isFile() ? index.fresh(key, st) : null;
    if (id === null) stale.push(f);
    return id;
  }

  /** A session the index may match, summarized from its row (the file read instead when the row cannot be). */
  async #foundInIndex(index: SearchIndex, id: number, f: RolloutFile, scan: IndexedScan): Promise<Found | null> {
    const row = index.entry(id);
    if (!row) return scan.summarize(f, null);
    const { pos, head, lastTs, facts } = row.facts;
    this.#positions.set(f.path, pos);
    const s = await this.#summaryOf(f, scan.names, false, pos, head, lastTs, facts, scan.sessionDirs);
    if (!s || !matches(s, scan.query, scan.since, scan.until)) return null;
    this.#remember(f);
    // Another agent's transcript is matched by its reader over the whole file.
    return row.texts ? { summary: s, lines: [], texts: row.texts } : { summary: s, lines: this.readStream(f.id, "rollout") };
  }

  #searchIndex: Promise<SearchIndex | null> | null = null;

  #openSearchIndex(): Promise<SearchIndex | null> {
    const path = this.#options.searchIndex;
    if (!path) return Promise.resolve(null);
    this.#searchIndex ??= SearchIndex.open(path, `head ${this.#options.headLines ?? 200}, line text ${LINE_SEARCH_TEXT_VERSION}`);
    return this.#searchIndex;
  }

  /** A file's path relative to the home (as the caches key it), without `path.relative`'s cost for the usual case. */
  #homeKey(path: string): string {
    this.#homePrefix ??= join(this.home, "x").slice(0, -1);
    return path.startsWith(this.#homePrefix) ? path.slice(this.#homePrefix.length) : relative(this.home, path);
  }

  #homePrefix: string | null = null;

  /**
   * Records in the index rollouts it did not know (as they are now): what
   * their summary is made of, and the search text the search can match in
   * them from the rollout alone — the head's title, directory and
   * repository, and each line's text as its agent's reader gives it. Names,
   * sidecars and ids are tested on their own at every search.
   */
  async #indexFiles(index: SearchIndex, files: RolloutFile[]): Promise<void> {
    for (const f of files) {
      const readAt = Date.now();
      // Taken before the read: a change during the read makes the row stale, not wrong.
      const st = await stat(f.path).catch(() => null);
      if (st === null || !st.isFile()) continue;
      try {
        const small = await readSmallFile(f.path);
        const facts = await this.#readRollout(f, small, true, false);
        const texts: string[] = [];
        const add = (line: string) => {
          const t = agentLineSearchText(f.agent, line);
          if (t) texts.push(t);
        };
        // The lines the search reads: the committed lines of the bytes read, or of the file streamed.
        if (small) for (const line of committedLines(small)) add(line);
        else for await (const batch of readFileLineBatches(f.path)) for (const line of batch) add(line.text);
        const h = facts.head;
        const search = [h?.title, h?.cwd, h?.git?.repository_url, h?.git?.branch, ...texts].filter((v) => v).join("\n");
        // Another agent's transcript is matched through its reader over the whole transcript, not line by line.
        index.record(this.#homeKey(f.path), st, search, facts, f.agent === "codex" ? texts : null, readAt);
      } catch {
        // Unreadable or gone: it is read (and reported) at the next search.
      }
      // Written as it goes: memory stays flat in the number of rollouts.
      if (index.pendingCount >= 500) index.flush();
    }
    index.flush();
  }

  // ---- streams ----------------------------------------------------------

  async append(sessionId: string, stream: string, expectedSeq: number, lines: readonly string[], options: AppendOptions = {}): Promise<AppendResult> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    await this.#locate(id);
    // The rollout is looked up again under the lock: an archive or a soft delete
    // may have moved it while this append waited.
    return this.#locked(id, async () => this.#appendLocked(id, await this.#locate(id), stream, expectedSeq, lines, options));
  }

  async #appendLocked(
    id: string,
    file: RolloutFile,
    stream: string,
    expectedSeq: number,
    lines: readonly string[],
    options: AppendOptions,
  ): Promise<AppendResult> {
    if (stream === "rollout") {
      if (file.compressed) throw new UnsupportedError(`session ${id} is archived compressed (${file.path}); it cannot be appended to`);
      return appendAt(file.path, expectedSeq, lines, this.#positions, { durable: options.durable });
    }
    const path = this.#streamPath(id, stream);
    if (expectedSeq !== 0 && !(await exists(path))) {
      throw new ConflictError(`append at position ${expectedSeq} refused: stream ${stream} is empty`, 0);
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await assertRealDir(dirname(path));
    return appendAt(path, expectedSeq, lines, this.#positions, { durable: options.durable, create: true });
  }

  async *readStream(sessionId: string, stream: string, options: { fromSeq?: number } = {}): AsyncGenerator<string> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    const fromSeq = options.fromSeq ?? 0;
    // Where a listing just saw the rollout, opening it is the check that it
    // is still there (no stat first); if it moved since, it is looked up.
    const known = stream === "rollout" ? this.#known.get(id) : undefined;
    let path = known ? known.path : await this.#streamFileOf(id, stream);
    for (let retry = known !== undefined; ; retry = false) {
      let yielded = false;
      try {
        // Lines are taken a chunk at a time: one async step per chunk, not per line.
        // The size its listing counted spares an fstat (a file that grew since is still read to its end).
        const sizeHint = this.#positions.get(path)?.size;
        await assertStoreFile(path);
        for await (const batch of readFileLineBatches(path, { onWarning: this.#options.onWarning, sizeHint })) {
          for (const line of batch) {
            if (line.lineNo > fromSeq) {
              yielded = true;
              yield line.text;
            }
          }
        }
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT" || yielded) throw err;
        // A side stream nobody wrote yet is empty.
        if (stream !== "rollout") return;
        if (!retry) throw new NotFoundError(`no session ${id} in ${this.home}`, { cause: err });
        this.#known.delete(id);
        path = await this.#streamFileOf(id, stream);
      }
    }
  }

  /** The file a stream lives in (its session must exist; the file need not). */
  async #streamFileOf(id: string, stream: string): Promise<string> {
    const file = await this.#locate(id);
    return stream === "rollout" ? file.path : this.#streamPath(id, stream);
  }

  async streamPositions(sessionId: string): Promise<StreamInfo[]> {
    const id = assertSessionId(sessionId);
    // A listing of this process counted it a moment ago and found no folder beside it: its rollout is its only stream.
    const listed = this.#listedAlone.get(id);
    if (listed) {
      this.#listedAlone.delete(id);
      const pos = this.#positions.get(listed.path);
      if (pos && listed.writes === this.#writes && Date.now() - listed.at < LISTED_FRESH_MS) return [{ name: "rollout", lines: pos.seq, bytes: pos.committed }];
    }
    // Where a listing just saw it: one stat of the rollout says both that it is still there and how long it is.
    const known = this.#known.get(id);
    const pos = known ? await filePosition(known.path, this.#positions) : null;
    if (known && pos) return this.#streams(known, pos);
    return this.#streams(await this.#locate(id));
  }

  /**
   * A stream's committed bytes exactly as stored (a torn tail left out, a
   * `.zst` rollout decompressed), for tools that copy bytes rather than lines:
   * unlike `readStream`, lines that are not valid UTF-8 come through as they are.
   */
  async *readStreamBytes(sessionId: string, stream: string): AsyncGenerator<Uint8Array> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    // Where a listing just saw the rollout, opening it is the check that it is still there.
    const known = stream === "rollout" ? this.#known.get(id) : undefined;
    const file = known ?? (await this.#locate(id));
    const path = stream === "rollout" ? file.path : this.#streamPath(id, stream);
    if (file.compressed && stream === "rollout") {
      const pos = await filePosition(path, this.#positions);
      if (!pos) return;
      let left = pos.committed;
      for await (const chunk of openFileBytes(path)) {
        if (left <= 0) break;
        const part = chunk.byteLength > left ? chunk.subarray(0, left) : chunk;
        left -= part.byteLength;
        yield part;
      }
      return;
    }
    let found = false;
    for await (const chunk of readCommittedBytes(path, this.#positions)) {
      found = true;
      yield chunk;
    }
    // Moved since the listing saw it (archived, say): looked up again.
    if (!found && known && stream === "rollout" && !(await exists(path))) {
      this.#known.delete(id);
      yield* this.readStreamBytes(id, stream);
    }
  }

  /**
   * RawStreams: `bytes` (whole lines, counted by the caller) appended at
   * `expectedSeq` with one write; with `put`, the session is created or
   * updated first under the same lock (a sync's new session: one lock, one
   * lookup, no summary read back).
   */
  async appendBytes(sessionId: string, stream: string, expectedSeq: number, bytes: Uint8Array, options: RawAppendOptions): Promise<AppendResult> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const put = options.put;
    if (put) {
      if (put.id !== id) throw new InvalidInputError(`put names session ${put.id}, not ${id}`);
      const created = new Date(put.created_at);
      if (Number.isNaN(created.getTime())) throw new InvalidInputError(`created_at ${JSON.stringify(put.created_at)} is not a date`);
      await this.#checkHome(true);
      const initial = stream === "rollout" && expectedSeq === 0 ? { buf, lines: options.lines } : undefined;
      return this.#locked(id, async () => {
        const { file, wrote } = await this.#putLocked(id, created, put, initial);
        if (wrote) return { seq: options.lines };
        return this.#appendBytesLocked(id, file, stream, expectedSeq, buf, options);
      });
    }
    await this.#locate(id);
    return this.#locked(id, async () => this.#appendBytesLocked(id, await this.#locate(id), stream, expectedSeq, buf, options));
  }

  async #appendBytesLocked(id: string, file: RolloutFile, stream: string, expectedSeq: number, buf: Buffer, options: RawAppendOptions): Promise<AppendResult> {
    if (stream === "rollout") {
      if (file.compressed) throw new UnsupportedError(`session ${id} is archived compressed (${file.path}); it cannot be appended to`);
      return appendBytesAt(file.path, expectedSeq, buf, options.lines, this.#positions, { durable: options.durable });
    }
    const path = this.#streamPath(id, stream);
    if (expectedSeq !== 0 && !(await exists(path))) {
      throw new ConflictError(`append at position ${expectedSeq} refused: stream ${stream} is empty`, 0);
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await assertRealDir(dirname(path));
    return appendBytesAt(path, expectedSeq, buf, options.lines, this.#positions, { durable: options.durable, create: true });
  }

  /** The file that holds a stream: the dated rollout, or a file in `sessions/<id>/`. For tools that copy bytes. */
  async streamFile(sessionId: string, stream: string): Promise<string | null> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    const file = await this.#locate(id);
    if (stream === "rollout") return file.path;
    const path = this.#streamPath(id, stream);
    return (await exists(path)) ? path : null;
  }

  // ---- deletion and retention ---------------------------------------------

  async deleteSession(sessionId: string, options: DeleteOptions = {}): Promise<void> {
    const id = assertSessionId(sessionId);
    await this.#locate(id);
    await this.#retention.purgeSession(id, { actor: options.actor ?? "unknown", reason: options.reason }, "delete");
  }

  async setLegalHold(sessionId: string, held: boolean): Promise<void> {
    const id = assertSessionId(sessionId);
    if (!(await this.#checkHome(false))) throw new NotFoundError(`no session ${id} in ${this.home}`);
    await this.#locked(id, async () => {
      // A soft-deleted session can be held too, which blocks its purge.
      if (!(await this.#findExact(id))) return this.#retention.setTrashedLegalHold(id, held);
      await setMarker(join(this.#sessionDir(id), HOLD_MARKER), held);
    });
  }

  // ---- RetentionStore: soft delete into .sessionvault/trash/ (see retention.ts) ----

  retentionCandidates(options: { createdBefore: Date }): AsyncIterable<RetentionCandidate> {
    return this.#retention.retentionCandidates(options);
  }

  softDeleteSession(sessionId: string, options: { actor: string; policy?: string; reason?: string; purgeAfter: Date }): Promise<void> {
    return this.#retention.softDeleteSession(sessionId, options);
  }

  softDeletedSessions(): AsyncIterable<SoftDeletedSession> {
    return this.#retention.softDeletedSessions();
  }

  restoreSession(sessionId: string, options: { actor: string; reason?: string }): Promise<void> {
    return this.#retention.restoreSession(sessionId, options);
  }

  purgeSession(sessionId: string, options: { actor: string; policy?: string; reason?: string }): Promise<number> {
    return this.#retention.purgeSession(sessionId, options);
  }

  deleteStream(sessionId: string, stream: string, options: { actor: string; policy?: string; reason?: string }): Promise<number> {
    return this.#retention.deleteStream(sessionId, stream, options);
  }

  setOrgLegalHold(held: boolean): Promise<void> {
    return this.#retention.setOrgLegalHold(held);
  }

  orgLegalHold(): Promise<boolean> {
    return this.#retention.orgLegalHold();
  }

  deletionAudit(options?: { since?: Date }): AsyncIterable<DeletionAuditRecord> {
    return this.#retention.deletionAudit(options);
  }

  // ---- tokens -------------------------------------------------------------

  async saveToken(record: TokenRecord): Promise<void> {
    await this.#tokens.save(record);
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    return this.#tokens.findByHash(hash);
  }

  listTokens(): Promise<TokenRecord[]> {
    return this.#tokens.list();
  }

  deleteToken(id: string): Promise<boolean> {
    return this.#tokens.delete(id);
  }

  // ---- FileMirror (core/src/file-mirror.ts) -----------------------------------

  /** The file-level pass of a sync into another Codex home (home-mirror.ts); null for any other target. */
  async mirrorFiles(target: unknown, options: MirrorOptions): Promise<MirrorPass | null> {
    if (!(target instanceof FsStore) || resolve(target.home) === resolve(this.home)) return null;
    const dir = this.#options.mirrorRecords;
    return mirrorHome(this.#mirrorSide(), target.#mirrorSide(), dir ? mirrorRecordPath(dir, this.home, target.home) : null, options);
  }

  #mirrorSide(): MirrorSide {
    return {
      home: this.home,
      paths: this.#paths,
      warn: this.#warn,
      checkHome: (forWrite) => this.#checkHome(forWrite),
      threadNames: () => this.#index.names(),
      mayCreate: (id) =>
        this.#retention.assertNotTrashed(id).then(
          () => true,
          () => false,
        ),
      locate: (id) => this.#findExact(id),
      summaryOf: async (file, whole) => this.#summarize(file, await this.#index.names(), false, undefined, whole, false, false),
      putSummary: async (file, input) => {
        this.#remember(file);
        await this.#locked(file.id, () => this.#putLocked(file.id, new Date(input.created_at), input));
      },
      remember: (files, wrote) => {
        for (const f of files) {
          this.#remember(f);
          this.#allFiles?.files.set(f.id, f);
        }
        // What a listing counted before these files were written is not trusted after (see #listedAlone).
        if (wrote && files.length > 0) this.#writes++;
      },
    };
  }

  async close(): Promise<void> {
    await this.#summaryCache?.save(false);
    (await this.#searchIndex)?.close();
    this.#searchIndex = null;
    this.#folders.clear();
    this.#heads.clear();
    this.#known.clear();
  }

  // ---- internals ------------------------------------------------------------

  readonly #warn = (message: string): void => {
    this.#options.onWarning?.(message);
  };

  get #retention(): FsRetention {
    this.#retentionImpl ??= new FsRetention({
      home: this.home,
      paths: this.#paths,
      find: (id) => this.#findExact(id),
      // Remembers where each file is, so the lookups by id that retention makes next skip a walk.
      walk: () => {
        const remember = (f: RolloutFile) => this.#remember(f);
        const all = walkAll(this.#paths, this.#warn);
        return (async function* () {
          for await (const f of all) yield remember(f);
        })();
      },
      summary: async (file) => this.#summarizeForList(file, await this.#index.names(), true),
      streams: (file) => this.#streams(file),
      locked: (id, fn) => this.#locked(id, fn),
      lockTimeoutMs: this.#options.lockTimeoutMs,
      forget: (file) => {
        this.#forgetPath(file.path);
        this.#known.delete(file.id);
      },
    });
    return this.#retentionImpl;
  }

  /**
   * Runs `fn` holding the session's lock (`.sessionvault/locks/<id>.lock` in
   * the home): every append to any of its streams and every create, rename or
   * removal of its files. Keyed by id, not by path, because archiving and
   * retention move the files.
   */
  #locked<T>(id: string, fn: (held: HeldLock) => Promise<T>): Promise<T> {
    // A write of this process, begun or ended while a listing ran, is never hidden behind what it counted (see #listedAlone).
    this.#writes++;
    return withLock(join(this.home, ".sessionvault", "locks", `${id}.lock`), fn, { timeoutMs: this.#options.lockTimeoutMs }).finally(() => {
      this.#writes++;
    });
  }

  /** Drops what the store knows of a rollout file that moved or went. */
  #forgetPath(path: string): void {
    this.#allFiles = null;
    this.#positions.delete(path);
    this.#heads.delete(path);
    this.#summaryCache?.delete(relative(this.home, path));
  }

  #sessionDir(id: string): string {
    return join(this.#paths.sessions, id);
  }

  #streamPath(id: string, stream: string): string {
    return join(this.#sessionDir(id), STREAM_FILES[stream] ?? `${stream}.jsonl`);
  }

  /**
   * Refuses a directory that is not a Codex home, before anything is read or
   * written there. A missing or empty directory is a new, empty home (reads
   * give nothing, the first write creates it); a missing root is an error
   * for reads, since it is almost always a mistyped path.
   */
  async #checkHome(forWrite: boolean): Promise<boolean> {
    if (this.#homeChecked) return true;
    let entries: string[];
    try {
      // A direct call: every command's first step, and a trip through the thread pool costs more.
      entries = readdirSync(this.home);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        if (forWrite) {
          await mkdir(this.home, { recursive: true, mode: 0o700 });
          this.#homeChecked = true;
          return true;
        }
        if (this.home !== this.root) return false; // an org with no data yet
        throw new NotACodexHomeError(this.home, { cause: err });
      }
      if (code === "ENOTDIR") throw new NotACodexHomeError(this.home, { cause: err });
      throw new IoError(`cannot read ${this.home}: ${(err as Error).message}`, { cause: err });
    }
    // A `~/.codex` the real CLI made before its first session (it holds only `tmp/`) is an empty Codex home.
    if (entries.length > 0 && !entries.some((e) => CODEX_HOME_MARKERS.includes(e)) && basename(resolve(this.home)) !== ".codex")
      throw new NotACodexHomeError(this.home);
    this.#homeChecked = true;
    return true;
  }

  /** A session by full id or unique prefix. */
  async #locate(idOrPrefix: string): Promise<RolloutFile> {
    const prefix = assertIdOrPrefix(idOrPrefix);
    if (!(await this.#checkHome(false))) throw new NotFoundError(`no session matches ${JSON.stringify(idOrPrefix)}`);
    if (isSessionId(prefix)) {
      const f = await this.#findExact(prefix);
      if (f) return f;
      throw new NotFoundError(`no session ${prefix} in ${this.home}`);
    }
    const found = new Map<string, RolloutFile>();
    for await (const f of walkAll(this.#paths, this.#warn)) {
      this.#remember(f);
      if (f.id.startsWith(prefix) && !found.has(f.id)) found.set(f.id, f);
    }
    if (found.size === 0) throw new NotFoundError(`no session matches ${JSON.stringify(idOrPrefix)} in ${this.home}`);
    if (found.size > 1) throw new AmbiguousIdError(idOrPrefix, [...found.keys()]);
    return found.values().next().value!;
  }

  /** The rollout of a full id, or null. Tries the last known place, then the day folders a UUIDv7 id points at, then walks everything. */
  async #findExact(id: string): Promise<RolloutFile | null> {
    const known = this.#known.get(id);
    if (known && (await exists(known.path))) return known;
    this.#known.delete(id);
    const reuseMs = this.#options.reuseWalkMs ?? 0;
    // A writer that owns the home (see FsStoreOptions.reuseWalkMs) asks its recent walk first, for the day folders too.
    const recent = reuseMs > 0 && this.#allFiles !== null && Date.now() - this.#allFiles.at < reuseMs;
    const t = recent ? null : uuidV7Time(id);
    if (t) {
      const days = [-1, 0, 1].map((d) => dayDir(this.#paths, new Date(t.getTime() + d * 86400_000)));
      for await (const f of walkDays(this.#paths, [...new Set(days)], this.#warn)) if (f.id === id) return this.#remember(f);
    }
    if (!recent) for (const f of await this.#folders.files(this.#paths.archived, true, this.#warn)) if (f.id === id) return this.#remember(f);
    // A file named by another time (an import's created_at, a rename) is only
    // found by walking every folder. With `reuseWalkMs` that walk is kept for
    // a while (see FsStoreOptions).
    for (let fresh = false; ; fresh = true) {
      const now = Date.now();
      if (fresh || this.#allFiles === null || now - this.#allFiles.at >= reuseMs) {
        const files = new Map<string, RolloutFile>();
        for await (const f of walkAll(this.#paths, this.#warn, this.#folders.files)) if (!files.has(f.id)) files.set(f.id, f);
        this.#allFiles = { at: now, files };
        fresh = true;
      }
      const found = this.#allFiles.files.get(id);
      if (!found) return null;
      if (await exists(found.path)) return this.#remember(found);
      // Moved since that walk: walk again.
      if (fresh) return null;
    }
  }

  #rememberListed(id: string, path: string, writes: number): void {
    if (this.#listedAlone.size >= 10_000) this.#listedAlone.delete(this.#listedAlone.keys().next().value!);
    this.#listedAlone.set(id, { path, at: Date.now(), writes });
  }

  #remember(f: RolloutFile): RolloutFile {
    if (this.#known.size >= 500_000) this.#known.clear();
    this.#known.set(f.id, f);
    return f;
  }

  /**
   * Like #summarize, but a file that cannot be read is skipped, reported
   * (onWarning) and remembered (`unreadableSessions`): one bad file must not
   * hide the rest, nor go unnoticed.
   */
  async #summarizeForList(
    file: RolloutFile,
    names: Map<string, string>,
    includeHidden = false,
    sessionDirs?: Set<string>,
    whole?: Buffer | null,
    withFacts = true,
    useCache = true,
  ): Promise<SessionSummary | null> {
    try {
      const s = await this.#summarize(file, names, includeHidden, sessionDirs, whole, withFacts, useCache);
      this.#unreadable.delete(file.path);
      return s;
    } catch (err) {
      if (err instanceof NotFoundError) return null; // deleted while we listed
      const errno = (err as NodeJS.ErrnoException).code ?? (err as { cause?: NodeJS.ErrnoException }).cause?.code;
      if (err instanceof IoError || (typeof errno === "string" && errno.startsWith("E"))) {
        const message = err instanceof IoError ? err.message : `cannot read ${file.path}: ${errno}`;
        this.#warn(`${message}; skipped`);
        if (this.#unreadable.size < 100_000) this.#unreadable.set(file.path, { session_id: file.id, path: file.path, message });
        return null;
      }
      throw err;
    }
  }

  /**
   * Summary = what the rollout's head says (as Codex reads it), gaps filled
   * from the putSession sidecar, title from session_index.jsonl, else the
   * sidecar, else the head.
   * Null for a file Codex would not list (no visible head and no sidecar),
   * unless `includeHidden`. `sessionDirs`: the names in sessions/ when the
   * caller just read them (a session without a folder has no sidecar).
   * `whole`: the file's bytes when the caller just read all of them.
   */
  async #summarize(
    file: RolloutFile,
    names: Map<string, string>,
    includeHidden: boolean,
    sessionDirs?: Set<string>,
    whole?: Buffer | null,
    withFacts = true,
    useCache = true,
  ): Promise<SessionSummary | null> {
    const { pos, head, lastTs, facts } = await this.#readRollout(file, whole, withFacts, useCache);
    return this.#summaryOf(file, names, includeHidden, pos, head, lastTs, facts, sessionDirs);
  }

  /**
   * What a rollout's summary is made of: its position, head, last
   * timestamp and (`withFacts`) session facts, from the summary cache while
   * the file is unchanged, else read (`whole`: its bytes, when the caller
   * just read all of them).
   */
  async #readRollout(file: RolloutFile, whole: Buffer | null | undefined, withFacts: boolean, useCache: boolean): Promise<CachedRolloutFacts> {
    let pos: FilePosition | null;
    let head: RolloutHead | null;
    let lastTs: string | null;
    // null: not asked for, so not read (`ListQuery.facts`).
    let facts: SessionFacts | null;
    const cache = useCache ? this.#summaryCache : null;
    const key = relative(this.home, file.path);
    let st: BigIntStats | null = null;
    const readAt = Date.now();
    if (cache) {
      await cache.load();
      // A direct call: a listing of an unchanged home is a stat per rollout (see stream-file.ts, countPositionFd).
      try {
        st = statSync(file.path, { bigint: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`session ${file.id} was removed while it was read`);
        throw new IoError(`cannot read ${file.path}: ${(err as Error).message}`, { cause: err });
      }
      const hit = cache.get(key, st, withFacts);
      if (hit) {
        this.#positions.set(file.path, hit.pos);
        return hit;
      }
    }
    const small = whole ?? (st !== null && st.size > 1024n * 1024n ? null : readSmallFile(file.path));
    if (small) {
      pos = positionOf(small);
      this.#positions.set(file.path, pos);
      head = await this.#head(file, pos, small);
      lastTs = timestampOf(pos.seq > 0 ? small.subarray(pos.lastLineStart, Math.min(pos.committed, pos.lastLineStart + 256)).toString("utf8") : null);
      if (!lastTs && pos.seq > 1) lastTs = lastTimestampBefore(small.subarray(Math.max(0, pos.lastLineStart - TAIL_SCAN), pos.lastLineStart));
      // Another agent's transcript is read whole anyway: its last timed record is its updated_at (see #factsOf).
      if (file.agent !== "codex") {
        const read = await this.#factsOf(file, pos, small);
        facts = read.facts;
        lastTs = read.lastTs;
      } else facts = withFacts ? (await this.#factsOf(file, pos, small)).facts : null;
    } else {
      pos = await filePosition(file.path, this.#positions);
      if (!pos) throw new NotFoundError(`session ${file.id} was removed while it was read`);
      head = await this.#head(file, pos, null);
      lastTs = timestampOf(await lastLineHead(file.path, pos));
      if (!lastTs && pos.seq > 1 && !file.path.endsWith(".zst"))
        lastTs = lastTimestampBefore(await readRange(file.path, Math.max(0, pos.lastLineStart - TAIL_SCAN), pos.lastLineStart));
      // Another agent's transcript is read whole anyway: its last timed record is its updated_at (see #factsOf).
      if (file.agent !== "codex") {
        const read = await this.#factsOf(file, pos, null);
        facts = read.facts;
        lastTs = read.lastTs;
      } else facts = withFacts ? (await this.#factsOf(file, pos, null)).facts : null;
    }
    if (cache && st) cache.set(key, st, { pos, head, lastTs, facts }, readAt);
    return { pos, head, lastTs, facts };
  }

  /** What another agent's reader needs besides the lines: the summary put with it says (the sidecar), see `summaryReading`. */
  async #readingOptions(file: RolloutFile): Promise<Pick<AgentReaderOptions, "skipUuids" | "cwd">> {
    if (file.agent === "codex") return {};
    const sidecar = await readSidecar(join(this.#sessionDir(file.id), SIDECAR));
    const reading = await summaryReading(this, { agent: file.agent, cwd: sidecar?.cwd ?? null, forked_from_id: sidecar?.forked_from_id ?? null });
    return readingOptions(reading);
  }

  /**
   * The facts of the rollout's committed lines (one streaming pass over the
   * file, or the bytes already read); for another agent's transcript also
   * the time of its last timed line, read in the same pass (its records keep
   * their time deep in the line, past the head a Codex rollout is timed by).
   */
  async #factsOf(file: RolloutFile, pos: FilePosition, whole: Buffer | null): Promise<{ facts: SessionFacts; lastTs: string | null }> {
    const known = this.#facts.get(file.path);
    if (known && known.size === pos.size) return known;
    const bytes: AsyncIterable<Uint8Array> = whole ? oneChunk(whole.subarray(0, pos.committed)) : committedBytes(file.path, pos.committed);
    let lastTs: string | null = null;
    const agent = file.agent;
    const lines =
      agent === "codex"
        ? readLines(bytes)
        : (async function* () {
            for await (const l of readLines(bytes)) {
              lastTs = agentLineTime(agent, l.text) ?? lastTs;
              yield l;
            }
          })();
    const facts = await readSessionFacts(lines, agent, await this.#readingOptions(file));
    if (this.#facts.size > 50_000) this.#facts.clear();
    const out = { facts, size: pos.size, lastTs };
    this.#facts.set(file.path, out);
    return out;
  }

  async #summaryOf(
    file: RolloutFile,
    names: Map<string, string>,
    includeHidden: boolean,
    pos: FilePosition,
    head: RolloutHead | null,
    lastTs: string | null,
    facts: SessionFacts | null,
    sessionDirs?: Set<string>,
  ): Promise<SessionSummary | null> {
    const sidecar = sessionDirs && !sessionDirs.has(file.id) ? null : await readSidecar(join(this.#sessionDir(file.id), SIDECAR));
    if (!head && !sidecar && !includeHidden) return null;
    const created = head?.created_at ?? sidecar?.created_at ?? keyToDate(file.key).toISOString();
    let updated = lastTs ?? sidecar?.updated_at ?? null;
    if (!updated) updated = sidecar ? created : ((await stat(file.path).catch(() => null))?.mtime.toISOString() ?? created);
    const pick = <K extends keyof RolloutHead & keyof SessionInput>(k: K) => (head?.[k] ?? sidecar?.[k] ?? null) as SessionSummary[K];
    return {
      id: file.id,
      agent: file.agent,
      created_at: created,
      updated_at: updated,
      cwd: pick("cwd"),
      // A title put explicitly (a thread name a sync carried over) names the
      // session like Codex's own thread names do; the head's first message only
      // stands in for a name. Otherwise a synced copy never matches its source.
      title: names.get(file.id) ?? sidecar?.title ?? head?.title ?? null,
      archived: file.archived,
      source: pick("source"),
      originator: pick("originator"),
      cli_version: pick("cli_version"),
      model_provider: pick("model_provider"),
      git: pick("git"),
      parent_id: pick("parent_id"),
      forked_from_id: pick("forked_from_id"),
      lines: pos.seq,
      bytes: pos.committed,
      ...(facts ? { facts } : {}),
    };
  }

  async #head(file: RolloutFile, pos: FilePosition, whole: Buffer | null): Promise<RolloutHead | null> {
    // Another agent's transcript has no Codex head: its summary is the one put (the sidecar).
    if (file.agent !== "codex") return null;
    const cached = this.#heads.get(file.path);
    if (cached && (cached.head || cached.size === pos.size)) return cached.head;
    const warn = this.#options.onWarning;
    const onWarning = warn ? (w: LineWarning) => warn(`${file.path}: ${w.message}`) : undefined;
    const bytes: AsyncIterable<Uint8Array> = whole ? slices(whole) : openFileBytes(file.path, { highWaterMark: 64 * 1024 });
    const head = await summarizeRollout(readLines(bytes, { onWarning }), { maxHeadLines: this.#options.headLines, onWarning });
    if (this.#heads.size > 50_000) this.#heads.clear();
    this.#heads.set(file.path, { head, size: pos.size });
    return head;
  }

  async #streams(file: RolloutFile, rolloutPos?: FilePosition): Promise<StreamInfo[]> {
    const rollout = rolloutPos ?? (await filePosition(file.path, this.#positions));
    const out: StreamInfo[] = [{ name: "rollout", lines: rollout?.seq ?? 0, bytes: rollout?.committed ?? 0 }];
    const dir = this.#sessionDir(file.id);
    // Only regular files are streams: a link or a folder in there is not followed.
    let dirents: Dirent[] = [];
    try {
      dirents = readdirSync(dir, { withFileTypes: true });
    } catch {}
    const entries = dirents.filter((e) => e.isFile()).map((e) => e.name);
    const byFile = new Map(Object.entries(STREAM_FILES).map(([name, f]) => [f, name]));
    for (const entry of entries.sort()) {
      if (entry === ROLLOUT_LINK) continue;
      const name = byFile.get(entry) ?? (entry.endsWith(".jsonl") ? entry.slice(0, -6) : null);
      if (!name) continue;
      const pos = await filePosition(join(dir, entry), this.#positions);
      if (pos) out.push({ name, lines: pos.seq, bytes: pos.committed });
    }
    return out;
  }

  /**
   * Archives or unarchives: moves the rollout between the dated folders and
   * archived_sessions/. A put that names another agent renames the file to
   * that agent's name (the agent is a summary field on every store).
   */
  async #move(file: RolloutFile, archived: boolean, agent: AgentName): Promise<RolloutFile> {
    if (agent !== file.agent && file.compressed)
      throw new UnsupportedError(`session ${file.id} is archived compressed (${file.path}); its agent cannot change`);
    const name = agent === file.agent ? file.path.slice(dirname(file.path).length + 1) : storedFileName(agent, file.id, keyToDate(file.key));
    const dir = archived ? this.#paths.archived : dayDir(this.#paths, keyToDate(file.key));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, name);
    await rename(file.path, path);
    this.#forgetPath(file.path);
    this.#facts.delete(file.path);
    return this.#remember({ ...file, ...parseStoredName(name)!, path, archived });
  }

  /** `sessions/<id>/rollout.jsonl` → the dated file, so the session directory shows every stream. */
  async #linkRollout(file: RolloutFile, freshDir = false): Promise<void> {
    const link = join(this.#sessionDir(file.id), ROLLOUT_LINK);
    // In a folder just made there is nothing to replace: one symlink, itself atomic.
    if (freshDir) {
      const made = await symlink(relative(dirname(link), file.path), link).then(
        () => true,
        () => false,
      );
      if (made) return;
    }
    const tmp = `${link}.${randomBytes(4).toString("hex")}.tmp`;
    await symlink(relative(dirname(link), file.path), tmp);
    await rename(tmp, link);
  }
}

function matches(s: SessionSummary, q: ListQuery, since: Date | null, until: Date | null): boolean {
  if (q.cwd !== undefined && s.cwd !== q.cwd) return false;
  if (q.agent !== undefined && s.agent !== q.agent) return false;
  if (q.repo !== undefined && !(s.git?.repository_url ?? "").includes(q.repo)) return false;
  if (q.branch !== undefined && s.git?.branch !== q.branch) return false;
  if (q.model_provider !== undefined && s.model_provider !== q.model_provider) return false;
  const t = Date.parse(s.created_at);
  if (since && t < since.getTime()) return false;
  if (until && t > until.getTime()) return false;
  return true;
}

function parseDate(value: string, what: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new InvalidInputError(`${what} ${JSON.stringify(value)} is not a date`);
  return d;
}

/** A direct call: a stat costs less than its trip through the thread pool. */
async function exists(path: string): Promise<boolean> {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

/** A direct call: a listing reads one per session that has a folder (a trip through the thread pool costs more). */
async function readSidecar(path: string): Promise<SessionInput | null> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as SessionInput;
  } catch {
    return null;
  }
}

/**
 * Refuses a session folder that is a symbolic link: the store writes only
 * inside its own tree and never follows a link out of it.
 */
async function assertRealDir(dir: string): Promise<void> {
  const st = await lstat(dir).catch(() => null);
  if (st && !st.isDirectory())
    throw new IoError(`${dir} is ${st.isSymbolicLink() ? "a symbolic link" : "not a folder"}; sessionvault does not follow links inside the store`);
}

/** Temp files of `atomicWrite` and `#linkRollout`. */
const TEMP_FILE = /^(?:session\.json|rollout\.jsonl)\.[0-9a-f]{8}\.tmp$/;

/**
 * Removes the temp files that writers killed between write and rename left
 * in a session folder. Called under the session's lock, which every writer
 * of these files holds: none of them can belong to a live writer.
 */
async function sweepTempFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (TEMP_FILE.test(name)) await unlink(join(dir, name)).catch(() => {});
  }
}

/** The first bytes of a file just created; a failed write leaves it empty, as if nothing had been appended. */
function writeNewFile(fd: number, path: string, buf: Buffer): void {
  let written = 0;
  try {
    while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written, written);
  } catch (err) {
    try {
      ftruncateSync(fd, 0);
    } catch {}
    throw new IoError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Write-then-rename, so a reader never sees half a file. */
async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

/** `updated_at` = the timestamp of the last committed line. */
function timestampOf(text: string | null): string | null {
  return text ? lineTimestamp(text) : null;
}

/** The complete lines of a rollout read whole, decoded one at a time (a torn last line is left out, as readStream does). */
/** Sessions an indexed search hands out as one entry when none of them can match. */
const SKIPPED_RUN = 256;

/** What both ways of a search scan share. */
interface IndexedScan {
  query: Omit<ListQuery, "q">;
  maybe: BytePrefilter;
  since: Date | null;
  until: Date | null;
  names: Map<string, string>;
  sessionDirs: Set<string> | undefined;
  summarize: (f: RolloutFile, whole: Buffer | null) => Promise<Found | null>;
  passesOutside: (id: string) => Promise<boolean>;
}

/** A session a search scan found that may match, with what its match is taken over. */
interface Found {
  summary: SessionSummary;
  lines: AsyncIterable<string> | Iterable<string>;
  /** Its lines' search texts, from the search index. */
  texts?: readonly string[];
}

function* committedLines(buf: Buffer): Generator<string> {
  let start = 0;
  for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
    yield buf.toString("utf8", start, nl);
    start = nl + 1;
  }
}

/** How far back before the last line `updated_at` is looked for when that line has no timestamp (`{"record_type":"state"}`, say). */
const TAIL_SCAN = 16 * 1024;

/**
 * The timestamp of the last line in `buf` that has one (the lines before a
 * rollout's last line), so that `updated_at` is the last timestamped line's
 * on every store (the conformance suite checks it). The first, possibly cut,
 * line of `buf` is skipped.
 */
function lastTimestampBefore(buf: Buffer): string | null {
  let end = buf.length;
  while (end > 0) {
    const nl = buf.lastIndexOf(10, end - 2);
    if (nl === -1) return null;
    const ts = timestampOf(buf.subarray(nl + 1, Math.min(end, nl + 1 + 256)).toString("utf8"));
    if (ts) return ts;
    end = nl + 1;
  }
  return null;
}

async function readRange(path: string, from: number, to: number): Promise<Buffer> {
  const fh = await open(path, "r").catch(() => null);
  if (!fh) return Buffer.alloc(0);
  try {
    const buf = Buffer.alloc(Math.max(0, to - from));
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * A buffer in 64 KiB slices, for readers that stop early (a rollout's head):
 * the line reader decodes a whole chunk at once, so one chunk of a whole
 * rollout decoded every line of it to read the first few.
 */
async function* slices(buf: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < buf.length; at += 64 * 1024) yield buf.subarray(at, Math.min(buf.length, at + 64 * 1024));
}

async function* oneChunk(buf: Buffer): AsyncGenerator<Uint8Array> {
  yield buf;
}

/** A file's first `committed` bytes (the complete lines a listing counted; a line being written is left out). */
async function* committedBytes(path: string, committed: number): AsyncGenerator<Uint8Array> {
  let left = committed;
  for await (const chunk of openFileBytes(path)) {
    if (left <= 0) return;
    const part = chunk.byteLength > left ? chunk.subarray(0, left) : chunk;
    left -= part.byteLength;
    yield part;
  }
}
