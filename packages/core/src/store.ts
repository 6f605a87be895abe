import type { AgentName } from "./agents/agent-name.js";
import type { SessionDetail, SessionInput, SessionSummary, StreamInfo } from "./session.js";

/**
 * The store contract (DESIGN.md §6; docs/architecture.md says where it sits). Implemented by fs-store, s3-store,
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

  // Retention (expiry, soft delete, purge, the deletion audit) is not part of this contract:
  // it is core's `applyRetention` over `RetentionStore`, run through `runRetention`.

  /** Releases connections, file handles and timers. Safe to call twice. */
  close(): Promise<void>;
}

export type { StreamInfo } from "./session.js";

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
  /** Sessions of one agent only (`SessionSummary.agent`). */
  agent?: AgentName;
  /** ISO dates bounding created_at. */
  since?: string;
  until?: string;
  /** Full-text query over titles, messages and commands (stores that cannot search throw UnsupportedError). */
  q?: string;
  /**
   * false: the caller does not use `facts` (a sync between two Codex homes,
   * whose target derives facts from its own rollouts), so a store that would
   * read every rollout whole to derive them may leave them out. Others ignore it.
   */
  facts?: boolean;
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

/** Tokens are shared by every org of a store; each record names its org. */
export interface TokenStore {
  /** Saves a token, replacing an earlier record of the same id and hash (a new secret is a new token). */
  saveToken(record: TokenRecord): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  /** Every token of every org, oldest first. */
  listTokens(): Promise<TokenRecord[]>;
  /** Revokes a token: its hash is found no more. False when no token has this id. */
  deleteToken(id: string): Promise<boolean>;
}

/** Options every store factory understands. */
export interface OpenStoreOptions {
  /** Scopes all data to one org (the archive server opens one store per org). */
  org?: string;
}

/**
 * What org-wide retention (core `retention.ts`) needs from a store, beyond
 * `SessionStore`. Every deletion through it writes a `DeletionAuditRecord`;
 * every operation refuses (LegalHoldError) while the session or the org is
 * on legal hold. Implemented by fs-store, s3-store and pg-store; see `applyRetention()`.
 */
export interface RetentionStore {
  /** Live (not soft-deleted) sessions created before `createdBefore`, with their current size. */
  retentionCandidates(options: { createdBefore: Date }): AsyncIterable<RetentionCandidate>;
  /** Hides a session (reads and listings treat it as gone) until it is purged after `purgeAfter`. */
  softDeleteSession(sessionId: string, options: { actor: string; policy?: string; reason?: string; purgeAfter: Date }): Promise<void>;
  /** Soft-deleted sessions, earliest purge first. */
  softDeletedSessions(): AsyncIterable<SoftDeletedSession>;
  /** Brings back a soft-deleted session. */
  restoreSession(sessionId: string, options: { actor: string; reason?: string }): Promise<void>;
  /** Deletes a session for good (soft-deleted or not); returns the bytes freed. */
  purgeSession(sessionId: string, options: { actor: string; policy?: string; reason?: string }): Promise<number>;
  /** Deletes one stream of a live session (a shorter per-stream TTL); returns the bytes freed. */
  deleteStream(sessionId: string, stream: string, options: { actor: string; policy?: string; reason?: string }): Promise<number>;
  /** A hold on the whole org blocks every deletion in it. */
  setOrgLegalHold(held: boolean): Promise<void>;
  orgLegalHold(): Promise<boolean>;
  /** The append-only deletion audit, oldest first. */
  deletionAudit(options?: { since?: Date }): AsyncIterable<DeletionAuditRecord>;
}

export interface RetentionCandidate {
  id: string;
  created_at: string;
  /** The timestamp of the last committed rollout line (the session's age for retention). */
  updated_at: string;
  legal_hold: boolean;
  /** Every stream with its size; `bytes` is what deleting the whole session frees. */
  streams: StreamInfo[];
  bytes: number;
}

export interface SoftDeletedSession {
  id: string;
  deleted_at: string;
  purge_after: string;
  legal_hold: boolean;
  bytes: number;
}

export interface DeletionAuditRecord {
  /** When the deletion happened (ISO-8601 UTC). */
  at: string;
  action: "soft_delete" | "restore" | "purge" | "delete" | "delete_stream";
  session_id: string;
  /** For `delete_stream`. */
  stream: string | null;
  /** A user, a token id, or `policy:<name>`. */
  actor: string;
  /** The retention policy that decided it, when one did. */
  policy: string | null;
  reason: string | null;
  /** Bytes deleted (or hidden, for a soft delete). */
  bytes: number;
}
