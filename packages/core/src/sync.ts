import type { AgentName } from "./agents/agent-name.js";
import { appendLines } from "./append.js";
import { ConflictError, isSessionvaultError, isStorageFull, NotACodexHomeError, NotFoundError, StoreUnavailableError, type ErrorCode } from "./errors.js";
import { rawStreamsOf, type RawStreams } from "./raw-streams.js";
import { redactSummary } from "./redact-summary.js";
import type { SessionFacts } from "./session-model/session-facts.js";
import { STREAMS, sessionInputOf, type SessionSummary, type StreamInfo } from "./session.js";
import type { SessionPage, SessionStore } from "./store.js";
import { copyStreamBytes } from "./sync-bytes.js";
import { fileMirrorOf, mirrorTargetOf, type MirrorPass, type MirrorProgress } from "./file-mirror.js";
import { SessionSubset } from "./watch/session-subset.js";

/**
 * One-way, incremental sync between any two stores (`sessionvault sync`).
 *
 * Only what the target lacks is sent, computed from stream positions on both
 * sides. Every batch is an append at the target's current position, so an
 * interrupted sync that is run again continues where the target stands:
 * a batch that landed before the interruption is not sent again, and one
 * whose acknowledgement was lost is recognised by `appendLines`.
 */
export interface SyncOptions {
  /** Compute and report what would be sent; write nothing. */
  dryRun?: boolean;
  onProgress?: (progress: SyncProgress) => void;
  /** Stops between batches; the target keeps everything sent so far. */
  signal?: AbortSignal;
  /** Most lines per append (default 10 000; the byte cap usually decides). */
  batchLines?: number;
  /** Most bytes per append, a single bigger line still goes alone (default 4 MiB). */
  batchBytes?: number;
  /** Sessions worked on at once: hides the round trips of both stores (default 4). */
  concurrency?: number;
  /** Only the source's sessions of this agent (a restore into one agent's home from a mixed archive). */
  agent?: AgentName;
  /**
   * Between two stores of files (two Codex homes), first copy new sessions
   * whole and skip unchanged ones by their stats (file-mirror.ts; default
   * true). false: every session is listed and synced by positions.
   */
  fileMirror?: boolean;
}

export interface SyncProgress {
  /** null while the source is still being listed (see `sessions_listed`). */
  sessions_total: number | null;
  /** Sessions listed so far; equals `sessions_total` once the listing is done. */
  sessions_listed: number;
  sessions_scanned: number;
  sessions_sent: number;
  lines_sent: number;
  bytes_sent: number;
  /** The session being worked on. */
  session_id: string | null;
}

export interface SyncError {
  session_id: string;
  message: string;
  /** The error's code (errors.ts); "INTERNAL" for an unexpected one. */
  code: ErrorCode | "INTERNAL";
  /**
   * The target refuses this session as it is (a value it cannot store, a
   * line over its size limit): running the sync again cannot help.
   */
  permanent: boolean;
}

/** Codes that mean the target will refuse the same data again. */
const PERMANENT: ReadonlySet<string> = new Set<ErrorCode>(["INVALID_FIELD", "INVALID_INPUT", "INVALID_ID", "TOO_LARGE"]);

/** The `sync --json` summary (DESIGN.md §11). With dryRun, the counts are what would be sent. */
export interface SyncSummary {
  sessions_scanned: number;
  sessions_sent: number;
  lines_sent: number;
  bytes_sent: number;
  conflicts: number;
  errors: SyncError[];
}

const LIST_PAGE = 500;
/**
 * Sessions a file mirror leaves to the per-session sync are read one by one
 * up to this many; more (a target written by an older sync, which kept no
 * record) are cheaper to find by listing both stores.
 */
const ONE_BY_ONE_MAX = 1000;

export async function syncStores(from: SessionStore, to: SessionStore, options: SyncOptions = {}): Promise<SyncSummary> {
  const batchLines = options.batchLines ?? 10_000;
  const batchBytes = options.batchBytes ?? 4 * 1024 * 1024;
  // Two stores that keep streams as line bytes (two Codex homes) copy bytes: no line is decoded or re-encoded.
  const fromRaw = rawStreamsOf(from);
  const toRaw = rawStreamsOf(to);
  const raw = fromRaw && toRaw ? { from: fromRaw, to: toRaw } : null;
  // Such a target derives a session's facts from its own rollout (facts sent are not kept): neither listing needs them.
  const noFacts = raw ? { facts: false } : {};
  const summary: SyncSummary = { sessions_scanned: 0, sessions_sent: 0, lines_sent: 0, bytes_sent: 0, conflicts: 0, errors: [] };
  let total: number | null = null;
  let listed = 0;
  let current: string | null = null;
  /** Sessions synced without error or conflict (a file mirror records them). */
  const synced = new Set<string>();
  const conflicted = new Set<string>();
  const report = () =>
    options.onProgress?.({
      sessions_total: total,
      sessions_listed: listed,
      sessions_scanned: summary.sessions_scanned,
      sessions_sent: summary.sessions_sent,
      lines_sent: summary.lines_sent,
      bytes_sent: summary.bytes_sent,
      session_id: current,
    });

  // Two homes of files (two Codex homes) first settle what they can file by
  // file: new sessions copied whole, unchanged ones skipped by their stats
  // (file-mirror.ts). The per-session sync below decides the rest.
  const targetSessions = new Map<string, SessionSummary>();
  let mirror: MirrorPass | null = null;
  const fromMirror = options.dryRun || options.fileMirror === false ? null : fileMirrorOf(from);
  /** What the mirror settled counts as listed, scanned and sent. */
  const countMirror = (p: MirrorProgress) => {
    listed = p.sessions_found;
    summary.sessions_scanned = p.sessions_settled;
    summary.sessions_sent = p.sessions_copied;
    summary.lines_sent = p.lines_copied;
    summary.bytes_sent = p.bytes_copied;
  };
  if (fromMirror && fileMirrorOf(to)) {
    mirror = await fromMirror.mirrorFiles(mirrorTargetOf(to), {
      ...(options.agent !== undefined ? { agent: options.agent } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (p) => {
        countMirror(p);
        report();
      },
    });
  }
  if (mirror !== null) {
    countMirror(mirror);
    if (mirror.rest.length <= ONE_BY_ONE_MAX) {
      from = new SessionSubset(from, mirror.rest);
      to = new SessionSubset(to, mirror.rest);
    }
  }
  const leftToSync = mirror === null ? null : new Set(mirror.rest);
  try {
    return await syncListed();
  } finally {
    await mirror?.finish(synced);
  }

  async function syncListed(): Promise<SyncSummary> {
    // What the target already has, in a few listing calls instead of one
    // round trip per session: an unchanged session then costs only the
    // source's positions.
    let cursor: string | null = null;
    try {
      do {
        options.signal?.throwIfAborted();
        const page: SessionPage = await to.listSessions({ archived: "all", limit: LIST_PAGE, cursor, ...noFacts });
        for (const s of page.sessions) targetSessions.set(s.id, s);
        cursor = page.next_cursor;
      } while (cursor !== null);
    } catch (err) {
      // A directory that is not a Codex home yet is an empty target: the
      // first putSession makes it one (`sync --to ./restored-home`).
      if (!(err instanceof NotACodexHomeError)) throw err;
    }
    report();

    // The source is sent a listing page at a time, and the next page is read
    // while one is sent: the first lines go out at once, and listing a big
    // Codex home (reading every rollout's head) overlaps with the target's
    // work. Pages follow a cursor, newest first, so sessions created while we
    // sync sort before it and wait for the next run instead of shifting pages.
    const onlyAgent = options.agent !== undefined ? { agent: options.agent } : {};
    const listSource = (after: string | null) => from.listSessions({ archived: "all", limit: LIST_PAGE, cursor: after, ...noFacts, ...onlyAgent });
    let nextPage: Promise<SessionPage> | null = listSource(null);
    try {
      while (nextPage !== null) {
        options.signal?.throwIfAborted();
        const page: SessionPage = await nextPage;
        nextPage = page.next_cursor === null ? null : listSource(page.next_cursor);
        // After a file mirror, only what it left (the settled ones are counted already).
        const sessions = leftToSync === null ? page.sessions : page.sessions.filter((s) => leftToSync.has(s.id));
        if (leftToSync === null) listed += sessions.length;
        if (nextPage === null) total = listed;
        report();
        await syncPage(sessions);
      }
    } finally {
      // A page read ahead that nobody waits for must not become an unhandled rejection.
      nextPage?.catch(() => {});
    }
    // A source that skipped files it found but could not read (the fs store: EACCES,
    // a link, a folder in a rollout's place) names them: each is an error of its session.
    // Not permanent: the file can be fixed (its permissions, a link put back) and synced by a rerun.
    for (const u of (from as { unreadableSessions?: () => { session_id: string; message: string }[] }).unreadableSessions?.() ?? []) {
      summary.errors.push({ session_id: u.session_id, message: u.message, code: "IO", permanent: false });
    }
    current = null;
    report();
    return summary;
  }

  /** A few sessions at a time; each session's streams stay strictly ordered. */
  async function syncPage(sessions: SessionSummary[]): Promise<void> {
    let next = 0;
    let fatal: { error: unknown } | null = null;
    const worker = async () => {
      while (fatal === null && next < sessions.length) {
        if (options.signal?.aborted) {
          fatal = { error: options.signal.reason };
          return;
        }
        const session = sessions[next++]!;
        current = session.id;
        summary.sessions_scanned++;
        try {
          const sent = await syncSession(from, to, session, targetSessions.get(session.id) ?? null, summary, {
            ...options,
            batchLines,
            batchBytes,
            report,
            raw,
            conflicted,
          });
          if (sent) summary.sessions_sent++;
          if (!conflicted.has(session.id)) synced.add(session.id);
        } catch (err) {
          // Without the store (or with its storage full) nothing else can succeed: stop with its error.
          if (err instanceof StoreUnavailableError || isStorageFull(err) || options.signal?.aborted) {
            fatal ??= { error: err };
            return;
          }
          // Anything else is this session's: report it and go on with the rest.
          const code = isSessionvaultError(err) ? err.code : "INTERNAL";
          summary.errors.push({ session_id: session.id, message: err instanceof Error ? err.message : String(err), code, permanent: PERMANENT.has(code) });
        }
        report();
      }
    };
    const concurrency = Math.max(1, Math.min(options.concurrency ?? 4, sessions.length || 1));
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (fatal !== null) throw (fatal as { error: unknown }).error;
  }
}

interface SessionSyncOptions extends SyncOptions {
  batchLines: number;
  batchBytes: number;
  report: () => void;
  raw: { from: RawStreams; to: RawStreams } | null;
  /** Sessions that met a conflict. */
  conflicted: Set<string>;
}

/** Returns whether anything was (or, dry, would be) sent for this session. */
async function syncSession(
  from: SessionStore,
  to: SessionStore,
  session: SessionSummary,
  listed: SessionSummary | null,
  summary: SyncSummary,
  options: SessionSyncOptions,
): Promise<boolean> {
  const sourceStreams = orderStreams(await from.streamPositions(session.id));
  let targetStreams: StreamInfo[] = [];
  if (listed !== null) {
    if (sourceStreams.every((s) => s.name === STREAMS.rollout || s.lines === 0)) {
      // The listing carries the target's rollout position: nothing else to ask.
      targetStreams = listed.lines > 0 ? [{ name: STREAMS.rollout, lines: listed.lines, bytes: listed.bytes }] : [];
    } else {
      try {
        targetStreams = await to.streamPositions(session.id);
      } catch (err) {
        // Deleted from the target since it was listed: send it whole.
        if (!(err instanceof NotFoundError)) throw err;
        listed = null;
      }
    }
  }
  const targetLines = new Map(targetStreams.map((s) => [s.name, s]));
  const needsPut = listed === null || summaryDiffers(session, listed);
  const plan: { stream: StreamInfo; fromSeq: number; fromBytes: number }[] = [];
  for (const stream of sourceStreams) {
    const have = targetLines.get(stream.name);
    const haveLines = have?.lines ?? 0;
    if (haveLines > stream.lines) {
      // The target holds more than the source: it diverged, never overwrite.
      summary.conflicts++;
      options.conflicted.add(session.id);
    } else if (haveLines < stream.lines) {
      plan.push({ stream, fromSeq: haveLines, fromBytes: have?.bytes ?? 0 });
    }
  }
  // Claude Code and Gemini CLI transcripts are not all append-only (a Gemini CLI `.json` chat is rewritten
  // whole; a session's earlier chat file can grow after a later one): lines past the target's end follow
  // what it holds only if its last line is still the source's line there. Otherwise it is a conflict,
  // never an append of lines that do not follow, and the stored copy is left as it is, summary and
  // facts included (they would describe the other transcript). (Codex only ever appends to a rollout.)
  if (session.agent !== undefined && session.agent !== "codex") {
    let diverged = false;
    for (const p of plan) {
      if (p.fromSeq > 0 && !(await sameLineAt(from, to, session.id, p.stream.name, p.fromSeq - 1))) {
        summary.conflicts++;
        options.conflicted.add(session.id);
        diverged = true;
      }
    }
    if (diverged) return false;
  }
  if (!needsPut && plan.length === 0) return false;

  if (options.dryRun) {
    for (const p of plan) {
      summary.lines_sent += p.stream.lines - p.fromSeq;
      summary.bytes_sent += Math.max(0, p.stream.bytes - p.fromBytes);
    }
    return true;
  }

  // A byte copy sends the summary with its first append (one step on the target); a line copy puts it first.
  let put = needsPut ? sessionInputOf(session) : null;
  if (put && (options.raw === null || plan.length === 0)) {
    await to.putSession(put);
    put = null;
  }
  for (const p of plan) {
    let fromSeq = p.fromSeq;
    // Where the target's lines end, to check the source's line fromSeq starts there; unknown after a conflict.
    let fromBytes: number | null = p.fromBytes;
    for (let attempt = 0; ; attempt++) {
      try {
        if (options.raw) {
          const onBatch = (lines: number, bytes: number) => {
            summary.lines_sent += lines;
            summary.bytes_sent += bytes;
            options.report();
          };
          const limits = { batchLines: options.batchLines, batchBytes: options.batchBytes, signal: options.signal };
          const copied = await copyStreamBytes(options.raw.from, options.raw.to, session.id, p.stream.name, fromSeq, fromBytes, put, limits, onBatch);
          if (copied === "mismatch") {
            // The target's lines are not where the source's are: the line copy decides, as it always did.
            if (put) await to.putSession(put);
            put = null;
            await copyStream(from, to, session.id, p.stream.name, fromSeq, summary, options);
          }
          put = null;
        } else {
          await copyStream(from, to, session.id, p.stream.name, fromSeq, summary, options);
        }
        break;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        // The target is not where we thought (an earlier run was cut after
        // a write we did not see, or the listing is stale). If what it holds
        // is the source's own beginning, carry on from there; otherwise
        // someone else writes this stream: leave it alone.
        const at = err.currentSeq;
        if (attempt >= 2 || at > p.stream.lines || !(await samePrefix(from, to, session.id, p.stream.name, at))) {
          summary.conflicts++;
          options.conflicted.add(session.id);
          break;
        }
        fromSeq = at;
        fromBytes = null;
      }
    }
  }
  return true;
}

/** Whether line `seq` of a stream is the same in both stores. */
async function sameLineAt(from: SessionStore, to: SessionStore, id: string, stream: string, seq: number): Promise<boolean> {
  const first = async (store: SessionStore) => {
    const it = store.readStream(id, stream, { fromSeq: seq })[Symbol.asyncIterator]();
    try {
      const r = await it.next();
      return r.done ? null : r.value;
    } finally {
      await it.return?.();
    }
  };
  const [a, b] = await Promise.all([first(from), first(to)]);
  return a !== null && a === b;
}

/** Whether the first `n` lines of a stream are the same in both stores. */
async function samePrefix(from: SessionStore, to: SessionStore, id: string, stream: string, n: number): Promise<boolean> {
  if (n === 0) return true;
  const theirs = to.readStream(id, stream)[Symbol.asyncIterator]();
  let i = 0;
  for await (const line of from.readStream(id, stream)) {
    if (i >= n) break;
    const other = await theirs.next();
    if (other.done || other.value !== line) return false;
    i++;
  }
  await theirs.return?.();
  return i === n;
}

async function copyStream(
  from: SessionStore,
  to: SessionStore,
  id: string,
  stream: string,
  fromSeq: number,
  summary: SyncSummary,
  options: SessionSyncOptions,
): Promise<void> {
  let pos = fromSeq;
  let batch: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    options.signal?.throwIfAborted();
    const res = await appendLines(to, id, stream, pos, batch);
    pos = res.seq;
    summary.lines_sent += batch.length;
    summary.bytes_sent += bytes;
    batch = [];
    bytes = 0;
    options.report();
  };
  for await (const line of from.readStream(id, stream, { fromSeq })) {
    const size = Buffer.byteLength(line, "utf8") + 1;
    if (batch.length > 0 && (batch.length >= options.batchLines || bytes + size > options.batchBytes)) await flush();
    batch.push(line);
    bytes += size;
  }
  await flush();
}

/** The rollout first: stores that lay a session out from its rollout (fs-store) see it before the side streams. */
function orderStreams(streams: StreamInfo[]): StreamInfo[] {
  return [...streams].sort((a, b) => (a.name === STREAMS.rollout ? -1 : b.name === STREAMS.rollout ? 1 : a.name.localeCompare(b.name)));
}

const SUMMARY_FIELDS = [
  "agent",
  "created_at",
  "cwd",
  "title",
  "archived",
  "source",
  "originator",
  "cli_version",
  "model_provider",
  "parent_id",
  "forked_from_id",
] as const;

/**
 * Whether the target's summary is out of date. A target that shows summaries
 * redacted (the archive server, to a token that is not an admin's) is up to
 * date when it matches the source's redacted summary.
 */
function summaryDiffers(a: SessionSummary, b: SessionSummary): boolean {
  if (!fieldsDiffer(a, b)) return false;
  const redacted = redactSummary(a);
  return redacted === a || fieldsDiffer(redacted, b);
}

function fieldsDiffer(a: SessionSummary, b: SessionSummary): boolean {
  for (const f of SUMMARY_FIELDS) if (a[f] !== b[f]) return true;
  // Facts the source has and the target lacks or holds otherwise are sent; a source without facts leaves the target's alone.
  if (a.facts && (!b.facts || !sameFacts(a.facts, b.facts))) return true;
  const ga = a.git;
  const gb = b.git;
  if (ga === null || gb === null) return ga !== gb;
  return ga.commit_hash !== gb.commit_hash || ga.branch !== gb.branch || ga.repository_url !== gb.repository_url;
}

function sameFacts(a: SessionFacts, b: SessionFacts): boolean {
  const ta = a.tokens;
  const tb = b.tokens;
  return (
    a.agent === b.agent &&
    a.model === b.model &&
    a.outcome === b.outcome &&
    a.turns === b.turns &&
    a.duration_ms === b.duration_ms &&
    a.files_changed === b.files_changed &&
    a.children.length === b.children.length &&
    a.children.every((c, i) => c === b.children[i]) &&
    (ta === null || tb === null
      ? ta === tb
      : ta.input === tb.input && ta.cached_input === tb.cached_input && ta.output === tb.output && ta.reasoning === tb.reasoning)
  );
}
