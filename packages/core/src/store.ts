import type { SessionDetail, SessionInput, SessionSummary } from "./session.js";

/**
 * The store contract (DESIGN.md §6). Implemented by fs-store, s3-store,
 * pg-store and the archive server's HTTP client; checked by the conformance
 * suite in `@sessionvault/core/conformance`.
 *
 * Positions: a stream's position is its number of committed lines. `append`
 * names the position it expects. Each store makes "append at N" atomic with
 * its own primitive, so two writers can never both win. A stream's lines,
 * each followed by "\n", are the stream's exact bytes.
 */
export interface SessionStore {
  /**
   * Creates the session, or updates its summary fields if it exists. Idempotent.
   * It writes no stream lines: a writer then appends the rollout's `session_meta`
   * (built from the same input) as rollout line 0, followed by the first user
   * message, exactly as Codex does. Stores that derive the summary from the
   * rollout head (fs-store) and stores that keep these fields must report the
   * same summary; the conformance suite creates every session this way.
   */
  putSession(input: SessionInput): Promise<SessionSummary>;

  /** A session by full id or unique prefix (≥ 8 chars). NotFoundError / AmbiguousIdError / InvalidIdError. */
  getSession(idOrPrefix: string): Promise<SessionDetail>;

  /** Newest first (by created_at, then id), one page at a time. */
  listSessions(query?: ListQuery): Promise<SessionPage>;

  /**
   * Appends `lines` (no "\n" inside) to `stream` at position `expectedSeq`.
   * Returns the new position. Throws ConflictError (with the current
   * position) when `expectedSeq` is not the current position; use
   * `appendLines()` from core to get idempotent retries.
   */
  append(sessionId: string, stream: string, expectedSeq: number, lines: readonly string[], options?: AppendOptions): Promise<AppendResult>;

  /** The committed lines of a stream from `fromSeq` (default 0), streamed. */
  readStream(sessionId: string, stream: string, options?: { fromSeq?: number }): AsyncIterable<string>;

  /** Positions of every stream of a session (cheap: used by sync to compute what is missing). */
  streamPositions(sessionId: string): Promise<StreamInfo[]>;

  /** Deletes a session and all its streams. LegalHoldError while held. */
  deleteSession(sessionId: string, options?: DeleteOptions): Promise<void>;

  /** Sets or clears a legal hold on one session. */
  setLegalHold(sessionId: string, held: boolean): Promise<void>;

  /** Expires sessions last updated before `olderThan`, skipping held ones. */
  prune(options: PruneOptions): Promise<PruneResult>;

  /** Releases connections, file handles and timers. Safe to call twice. */
  close(): Promise<void>;
}

export type { StreamInfo } from "./session.js";
import type { StreamInfo } from "./session.js";

export interface ListQuery {
  limit?: number;
  /** Opaque, from a previous page's `next_cursor`. */
  cursor?: string | null;
  /** Default "active": archived sessions are left out. */
  archived?: "active" | "archived" | "all";
  /** Exact cwd match. */
  cwd?: string;
  /** Substring of git.repository_url. */
  repo?: string;
  branch?: string;
  model_provider?: string;
  /** ISO dates bounding created_at. */
  since?: string;
  until?: string;
  /** Full-text query over titles, messages and commands (stores that cannot search throw UnsupportedError). */
  q?: string;
}

export interface SessionPage {
  sessions: SessionSummary[];
  next_cursor: string | null;
}

export interface AppendOptions {
  /** Make the lines durable before resolving (fs-store: fsync the file). Stores that are always durable ignore it. */
  durable?: boolean;
}

export interface AppendResult {
  /** The stream's position after the append. */
  seq: number;
}

export interface DeleteOptions {
  /** Who deletes (a user, a token id, or `policy:<name>`), for the deletion audit. */
  actor?: string;
  reason?: string;
}

export interface PruneOptions {
  olderThan: Date;
  dryRun?: boolean;
  actor?: string;
}

export interface PruneResult {
  expired: string[];
  held: string[];
  bytes_freed: number;
  dry_run: boolean;
}

/** Tokens for the archive server, kept in the store it serves (only hashes are stored). */
export interface TokenRecord {
  id: string;
  org: string;
  scopes: TokenScope[];
  /** sha256 hex of the token. */
  hash: string;
  created_at: string;
}

export type TokenScope = "read" | "write" | "admin";

export interface TokenStore {
  saveToken(record: TokenRecord): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
}

/** Options every store factory understands. */
export interface OpenStoreOptions {
  /** Scopes all data to one org (the archive server opens one store per org). */
  org?: string;
}
