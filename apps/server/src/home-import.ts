import { watchSync, type OpenedStore, type SyncSummary, type WatchEvent } from "@sessionvault/core";
import { storeHomeKind } from "@sessionvault/fs-store";
import type { RunningServer } from "./start-server.js";

export interface HomeImportOptions {
  /** The agent homes to import: a Codex home, a Claude Code config dir, a Gemini CLI dir. */
  homes: readonly string[];
  /** The org the sessions go to. */
  org: string;
  /** Opens a home for a pass: `full` over every session (give it a listing cache: a rescan of an unchanged home then costs a stat per rollout), `changed` over a few. */
  open: (home: string, pass: "full" | "changed") => Promise<OpenedStore>;
  /** Seconds between full rescans (default 60). */
  rescanMs?: number;
}

export interface HomeImport {
  /**
   * The first pass over every home, summed, and the homes whose first pass
   * failed (each is retried, backing off up to the rescan interval, while
   * the server runs; the log says why).
   */
  first: Promise<{ summary: SyncSummary; failed: { home: string; message: string }[] }>;
  /** Stops after the append in flight; the server can then close its stores. */
  stop(): Promise<void>;
}

/**
 * Keeps importing local agent homes into an org of the server for as long as
 * it runs (`--quickstart`, `--import DIR`): core's `watchSync`, the same
 * watcher as `sessionvault sync --watch`, writing to the org's store
 * directly. The web UI's live list (a probe of the store) shows each
 * imported session as it lands. Each session imported is a log line.
 */
export function startHomeImport(server: RunningServer, options: HomeImportOptions): HomeImport {
  const log = server.app.log;
  const stop = new AbortController();
  const firsts: SyncSummary[] = [];
  const failed: { home: string; message: string }[] = [];
  let settleFirst!: { resolve: (s: Awaited<HomeImport["first"]>) => void; reject: (e: unknown) => void };
  const first = new Promise<Awaited<HomeImport["first"]>>((resolve, reject) => (settleFirst = { resolve, reject }));
  const firstEnded = () => {
    if (firsts.length + failed.length === options.homes.length) settleFirst.resolve({ summary: sum(firsts), failed });
  };
  const onEvent = (e: WatchEvent) => {
    switch (e.event) {
      case "synced":
        if (e.first) {
          firsts.push(e);
          firstEnded();
        } else if (e.sessions_sent > 0)
          log.info({ home: e.source, agent: e.agent, sessions: e.sessions_sent, lines: e.lines_sent }, "import: rescan sent sessions");
        return;
      case "session":
        log.info({ home: e.source, agent: e.agent, session_id: e.session_id, lines: e.lines_sent, new: e.new }, "import: session updated");
        return;
      case "error":
        log.warn({ home: e.source, session_id: e.session_id }, `import: ${e.message}`);
        return;
      case "warning":
        log.warn({ home: e.source }, `import: ${e.message}`);
        if (e.first) {
          failed.push({ home: e.source, message: e.message });
          firstEnded();
        }
        return;
      case "watching":
        log.info({ home: e.source, agent: e.agent, dir: e.dir }, "import: watching for new and growing sessions");
        return;
    }
  };
  const running = watchSync(
    options.homes.map((home) => ({
      name: home,
      agent: storeHomeKind(home) ?? "codex",
      home,
      open: (pass) => options.open(home, pass),
    })),
    server.orgStore(options.org),
    // One home that cannot be read (yet) must not stop the server nor the other homes.
    { signal: stop.signal, onEvent, retryFirst: true, ...(options.rescanMs !== undefined ? { rescanMs: options.rescanMs } : {}) },
  ).then(
    // Stopped before every home's first pass ended: what was done of it.
    () => settleFirst.resolve({ summary: sum(firsts), failed }),
    (err: unknown) => {
      settleFirst.reject(err);
      if (!stop.signal.aborted) log.error({ err }, "import stopped");
    },
  );
  return {
    first,
    async stop() {
      stop.abort();
      await running;
    },
  };
}

function sum(summaries: SyncSummary[]): SyncSummary {
  const out: SyncSummary = { sessions_scanned: 0, sessions_sent: 0, lines_sent: 0, bytes_sent: 0, conflicts: 0, errors: [] };
  for (const s of summaries) {
    out.sessions_scanned += s.sessions_scanned;
    out.sessions_sent += s.sessions_sent;
    out.lines_sent += s.lines_sent;
    out.bytes_sent += s.bytes_sent;
    out.conflicts += s.conflicts;
    out.errors.push(...s.errors);
  }
  return out;
}
