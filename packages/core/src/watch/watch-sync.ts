import { setTimeout as sleep } from "node:timers/promises";
import type { AgentName } from "../agents/agent-readers.js";
import { changedSession, sessionsRoot } from "../agents/home-changes.js";
import type { SessionStore } from "../store.js";
import { syncStores, type SyncError, type SyncProgress, type SyncSummary } from "../sync.js";
import { HomeWatcher } from "./home-watcher.js";
import { SentTally, type SessionSent } from "./sent-tally.js";
import { SessionSubset } from "./session-subset.js";

/**
 * Continuous sync (`sessionvault sync --watch`, the archive server's import;
 * docs/sync.md "Watching"): one full sync, then, for as long as it runs, the
 * sessions whose files change are synced within seconds. It is the same
 * position-based `syncStores`, over the changed sessions only, so stopping
 * at any point and running again loses and duplicates nothing.
 */
export interface WatchSource {
  /** For messages: the home's path or the store's URL. */
  name: string;
  /** Whose layout `home` has (which session a changed file belongs to). */
  agent: AgentName;
  /** The folder the agent writes its sessions in; null for a store without local files, which is only rescanned. */
  home: string | null;
  /**
   * Opens the source as it is now; each pass opens it anew and closes it
   * (an agent home's store reads the home's layout once). `full` is a pass
   * over every session, `changed` one over a few.
   */
  open(pass: "full" | "changed"): Promise<SessionStore>;
}

export interface WatchSyncOptions {
  /** Stops the watch: the append in flight finishes, nothing after it starts. */
  signal: AbortSignal;
  onEvent: (event: WatchEvent) => void;
  /** A burst of changes is over after this long without one (default 250 ms). */
  quietMs?: number;
  /** A session written without pause is still synced this often (default 2 s). */
  maxDelayMs?: number;
  /** Every so often, a full pass catches changes the watch missed (default 60 s; at least 20 times the last full pass). */
  rescanMs?: number;
  /** The first pass's progress (a terminal's progress bar). */
  onFirstProgress?: (source: WatchSource, progress: SyncProgress) => void;
  /**
   * A source whose first pass fails is reported (a `warning` with `first`)
   * and retried like a later pass, instead of stopping every source: the
   * archive server's import, where one home that cannot be read must not
   * stop the server nor the other homes. Without it (`sync --watch`) the
   * command stops with that error.
   */
  retryFirst?: boolean;
}

interface SourceOf {
  source: string;
  agent: AgentName;
}

/** One line each of `sync --watch --json`. */
export type WatchEvent =
  /** A full pass ended: the first one, then each rescan. */
  | (SourceOf & { event: "synced"; first: boolean } & SyncSummary)
  | (SourceOf & { event: "watching"; dir: string | null; rescan_s: number })
  /** A session received lines (or a new summary). */
  | (SourceOf & { event: "session"; at: string } & SessionSent)
  /** A session that could not be synced; the others were. */
  | (SourceOf & { event: "error" } & SyncError)
  /** The watch cannot watch (rescans go on), or a pass failed and is retried (`first`: the first pass, with `retryFirst`). */
  | (SourceOf & { event: "warning"; message: string; first?: true });

export interface WatchTotals {
  sessions_sent: number;
  lines_sent: number;
  bytes_sent: number;
  errors: number;
}

const RETRY_FIRST_MS = 2_000;

/**
 * Runs until `signal` aborts, then resolves once every source's pass in
 * flight has stopped. The first pass of each source fails like `syncStores`
 * (a target that cannot be reached is a reason to stop at once); a later pass
 * that fails is reported and retried, backing off up to `rescanMs`.
 */
export async function watchSync(sources: readonly WatchSource[], target: SessionStore, options: WatchSyncOptions): Promise<WatchTotals> {
  const totals: WatchTotals = { sessions_sent: 0, lines_sent: 0, bytes_sent: 0, errors: 0 };
  const quietMs = options.quietMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 2_000;
  const rescanMs = options.rescanMs ?? 60_000;
  // One source that cannot start (its first pass failed) stops the others.
  const stopAll = new AbortController();
  const signal = stopAll.signal;
  const onAbort = () => stopAll.abort(options.signal.reason);
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener("abort", onAbort, { once: true });

  const watchOne = async (source: WatchSource): Promise<void> => {
    const of: SourceOf = { source: source.name, agent: source.agent };
    const tally = new SentTally(target);
    const watcher = source.home === null ? null : new HomeWatcher(sessionsRoot(source.agent, source.home));
    let warned = false;
    /** Said once each time watching stops (or could not start). */
    const warnUnwatched = () => {
      if (!watcher || watcher.watching || warned) return;
      warned = true;
      options.onEvent({
        event: "warning",
        ...of,
        message: `cannot watch ${watcher.root} (${watcher.failure?.message ?? "unknown"}): rescanning every ${rescanMs / 1000} s`,
      });
    };
    /** One pass; returns false when it was stopped by the signal. */
    const pass = async (kind: "full" | "changed", ids: Set<string>, first: boolean): Promise<boolean> => {
      const from = await source.open(kind);
      let summary: SyncSummary | null = null;
      try {
        summary = await syncStores(kind === "full" ? from : new SessionSubset(from, ids), kind === "full" ? tally : new SessionSubset(tally, ids), {
          signal,
          ...(first && options.onFirstProgress ? { onProgress: (p: SyncProgress) => options.onFirstProgress!(source, p) } : {}),
        });
      } catch (err) {
        if (!signal.aborted) throw err;
      } finally {
        await from.close();
        // What landed is reported even when the pass was cut short.
        const at = new Date().toISOString();
        for (const s of tally.take()) {
          totals.sessions_sent++;
          totals.lines_sent += s.lines_sent;
          totals.bytes_sent += s.bytes_sent;
          if (!first) options.onEvent({ event: "session", ...of, at, ...s });
        }
      }
      if (summary === null) return false;
      for (const e of summary.errors) {
        totals.errors++;
        options.onEvent({ event: "error", ...of, ...e });
      }
      if (kind === "full") options.onEvent({ event: "synced", ...of, first, ...summary });
      return true;
    };

    // Watching starts before the first pass: what changes during it is a pending change, not a lost one.
    watcher?.start();
    try {
      const pending = new Set<string>();
      let rescanAt = Date.now() + rescanMs;
      let rescanNow = false;
      let retryMs = 0;
      let retryAt = 0;
      try {
        if (!(await pass("full", new Set(), true))) return;
      } catch (err) {
        if (!options.retryFirst || signal.aborted) throw err;
        // Watched all the same: a later full pass (the retry) takes what changes meanwhile.
        rescanNow = true;
        retryMs = RETRY_FIRST_MS;
        retryAt = Date.now() + retryMs;
        options.onEvent({ event: "warning", ...of, first: true, message: `sync failed, retrying in ${retryMs / 1000} s: ${(err as Error).message}` });
      }
      options.onEvent({ event: "watching", ...of, dir: watcher?.root ?? null, rescan_s: rescanMs / 1000 });
      warnUnwatched();
      while (!signal.aborted) {
        const now = Date.now();
        if (now >= rescanAt) rescanNow = true;
        if (now >= retryAt && (rescanNow || pending.size > 0)) {
          const kind = rescanNow ? "full" : "changed";
          const ids = new Set(pending);
          pending.clear();
          rescanNow = false;
          const started = Date.now();
          try {
            if (!(await pass(kind, ids, false))) return;
            retryMs = 0;
          } catch (err) {
            if (signal.aborted) return;
            for (const id of ids) pending.add(id);
            if (kind === "full") rescanNow = true;
            retryMs = Math.min(rescanMs, retryMs === 0 ? RETRY_FIRST_MS : retryMs * 2);
            retryAt = Date.now() + retryMs;
            options.onEvent({ event: "warning", ...of, message: `sync failed, retrying in ${Math.round(retryMs / 1000)} s: ${(err as Error).message}` });
          }
          if (kind === "full") {
            // A home whose full pass is slow (a big one whose listing cache is cold or missing: every transcript is read)
            // is rescanned less often, so the safety net never takes more than about 5% of the time.
            rescanAt = Date.now() + Math.max(rescanMs, (Date.now() - started) * 20);
            // A watch that failed (its folder was missing, no watches were left) is tried again at each rescan.
            if (watcher && !watcher.watching && watcher.start()) {
              warned = false;
              options.onEvent({ event: "watching", ...of, dir: watcher.root, rescan_s: rescanMs / 1000 });
            }
          }
          continue;
        }
        // Wait for a change, the next rescan or retry, or the signal.
        const wakeAt = retryAt > now ? Math.min(retryAt, rescanAt) : rescanAt;
        await Promise.race([watcher?.watching ? watcher.changed() : new Promise<void>(() => {}), pause(wakeAt - now, signal)]);
        warnUnwatched();
        // Changes made while the last pass ran are still to take: they count as much as new ones.
        if (!watcher?.hasChanges) continue;
        // A burst (an agent writing a turn) settles before its sessions are synced once.
        const burst = Date.now();
        for (let last = watcher.events; !signal.aborted; last = watcher.events) {
          await pause(Math.min(quietMs, burst + maxDelayMs - Date.now()), signal);
          if (watcher.events === last || Date.now() - burst >= maxDelayMs) break;
        }
        for (const path of watcher.take()) {
          if (path === "") {
            rescanNow = true;
            continue;
          }
          const session = await changedSession(source.agent, source.home!, path);
          if (session === "rescan") rescanNow = true;
          else if (session !== null) pending.add(session);
        }
      }
    } finally {
      watcher?.close();
    }
  };

  const ended = await Promise.allSettled(
    sources.map((s) =>
      watchOne(s).catch((err: unknown) => {
        stopAll.abort(err);
        throw err;
      }),
    ),
  );
  options.signal.removeEventListener("abort", onAbort);
  const failed = ended.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return totals;
}

/** Waits `ms`, or less if the signal aborts first; never rejects. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  await sleep(ms, undefined, { signal }).catch(() => {});
}
