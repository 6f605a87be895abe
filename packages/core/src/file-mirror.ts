import type { AgentName } from "./agents/agent-name.js";
import type { SessionStore } from "./store.js";

/**
 * Stores whose sessions are files in one layout (two Codex homes: a backup
 * directory, a restore). Before the per-session sync, the source settles
 * what it can file by file, the way `rsync` would, and leaves the rest to
 * the sync (docs/sync.md, "Between two Codex homes"):
 *
 * - a session the target does not have at all is copied as its file, whole
 *   lines only, into the same place relative to the home;
 * - a session whose files on both sides have exactly the stats they had
 *   when a sync last left them identical (a record kept by the source,
 *   outside both homes) is unchanged: nothing is read;
 * - anything else (a session that grew, one the target holds in part,
 *   side streams, a thread name to carry, another agent's transcript) is
 *   left to the per-session sync, which decides by stream positions.
 *
 * The driver only moves bytes and compares stats; what a position means and
 * how a changed session is brought up to date stay in core.
 */
export interface FileMirror {
  /**
   * Starts a pass into `target` (a driver, not the checked layer); null when
   * it is not a store of the same layout, and the sync goes on as usual.
   */
  mirrorFiles(target: unknown, options: MirrorOptions): Promise<MirrorPass | null>;
}

export interface MirrorOptions {
  /** Only this agent's sessions (the rest are neither copied nor left to the sync). */
  agent?: AgentName;
  signal?: AbortSignal;
  /** Called after each copied session, with the pass's counts so far. */
  onProgress?: (progress: MirrorProgress) => void;
}

export interface MirrorProgress {
  /** Sessions the pass found in the source (settled, copied and left to the sync). */
  sessions_found: number;
  /** Of those, settled: unchanged, or copied. */
  sessions_settled: number;
  sessions_copied: number;
  lines_copied: number;
  bytes_copied: number;
}

export interface MirrorPass extends MirrorProgress {
  /** The sessions left to the per-session sync. */
  rest: string[];
  /**
   * Ends the pass once the per-session sync is done: `synced` are those of
   * `rest` that it left identical (no error, no conflict), recorded with the
   * rest of the pass so the next run skips them while they stay unchanged.
   */
  finish(synced: ReadonlySet<string>): Promise<void>;
}

/** The driver behind the checked layer (or the store itself): a mirror pass reads and writes files through it. */
export function mirrorTargetOf(store: SessionStore): unknown {
  return (store as { driver?: unknown }).driver ?? store;
}

/** The driver behind `store` when it can mirror files. */
export function fileMirrorOf(store: SessionStore): FileMirror | null {
  const driver = mirrorTargetOf(store) as Partial<FileMirror>;
  return typeof driver.mirrorFiles === "function" ? (driver as FileMirror) : null;
}
