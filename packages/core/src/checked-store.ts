import { assertIdOrPrefix, assertSessionId, assertSlug } from "./ids.js";
import { AGENTS, isAgentName } from "./agents/agent-name.js";
import { InvalidFieldError, InvalidInputError, UnsupportedError } from "./errors.js";
import type { RawAppendOptions, RawStreams } from "./raw-streams.js";
import type { RetentionPolicy, RetentionReport } from "./retention.js";
import { searchSessions } from "./search-scan.js";
import {
  sessionFacets,
  sessionUsage,
  type AggregatingDriver,
  type FacetOptions,
  type FacetQuery,
  type FactFilters,
  type SessionFacets,
  type Usage,
} from "./session-aggregates.js";
import { isoTime, normaliseSessionInput } from "./session-input.js";
import type { SessionDetail, SessionInput, SessionSummary, StreamInfo } from "./session.js";
import { driverCapabilities, type DriverCapabilities, type RemoteRetention, type StoreCapabilities } from "./store-capabilities.js";
import type {
  AppendOptions,
  AppendResult,
  DeleteOptions,
  DeletionAuditRecord,
  ListQuery,
  RetentionCandidate,
  RetentionStore,
  SessionPage,
  SessionStore,
  SoftDeletedSession,
  TokenRecord,
  TokenStore,
} from "./store.js";

/** `list --limit` and `ListQuery.limit`: the default page and the largest one. Above the maximum is an InvalidInputError on every store. */
export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 1000;

const ARCHIVED = new Set(["active", "archived", "all"]);

/**
 * The layer every store is opened through (docs/architecture.md). It checks
 * and normalises what callers pass — session ids and prefixes, stream names,
 * positions, list limits and dates, summary fields — once, so a driver
 * only moves bytes and makes "append at N" atomic. It states the driver's
 * capabilities and supplies core's fallbacks: a text query on a store
 * without an index is answered by scanning the rollouts.
 */
export class CheckedStore implements SessionStore, RetentionStore, TokenStore, RemoteRetention, RawStreams {
  readonly driver: SessionStore & DriverCapabilities;
  readonly capabilities: StoreCapabilities;
  #closed: Promise<void> | null = null;

  constructor(driver: SessionStore & DriverCapabilities) {
    this.driver = driver;
    this.capabilities = driverCapabilities(driver);
  }

  async putSession(input: SessionInput): Promise<SessionSummary> {
    return this.driver.putSession(normaliseSessionInput(input));
  }

  async getSession(idOrPrefix: string): Promise<SessionDetail> {
    return this.driver.getSession(assertIdOrPrefix(idOrPrefix));
  }

  async listSessions(query: ListQuery = {}): Promise<SessionPage> {
    const q = checkedQuery(query);
    if (q.q !== undefined && !this.capabilities.textSearch) return searchSessions(this, q);
    return this.driver.listSessions(q);
  }

  /** The list facets of a query's matches: grouped by the driver when it states `aggregates`, else core's scan of the summaries. */
  async sessionFacets(query: FacetQuery, options?: FacetOptions): Promise<SessionFacets> {
    const { outcome, model, agent, ...listQuery } = query;
    const { limit: _limit, cursor: _cursor, ...checked } = checkedQuery({ ...listQuery, limit: 1 });
    const facts: FactFilters = {};
    for (const [key, value] of [
      ["outcome", outcome],
      ["model", model],
      ["agent", agent],
    ] as const) {
      if (value === undefined || value === "") continue;
      if (typeof value !== "string") throw new InvalidInputError(`${key} must be a string`);
      facts[key] = value;
    }
    return sessionFacets(this, this.#aggregating(), { ...checked, ...facts }, options);
  }

  /** The usage sums of every session (archived too), grouped by the driver when it can. */
  async sessionUsage(): Promise<Usage> {
    return sessionUsage(this, this.#aggregating());
  }

  #aggregating(): AggregatingDriver | null {
    return this.capabilities.aggregates ? (this.driver as unknown as AggregatingDriver) : null;
  }

  async append(sessionId: string, stream: string, expectedSeq: number, lines: readonly string[], options?: AppendOptions): Promise<AppendResult> {
    const id = assertSessionId(sessionId);
    const name = assertSlug(stream, "stream name");
    position(expectedSeq, "expected position");
    if (!Array.isArray(lines)) throw new InvalidInputError("lines must be an array of strings");
    for (let i = 0; i < lines.length; i++) {
      if (typeof lines[i] !== "string") throw new InvalidInputError(`line ${i} of the batch is not a string`);
      if (lines[i]!.includes("\n")) throw new InvalidInputError(`line ${i} of the batch contains a newline; a stream line cannot`);
    }
    return this.driver.append(id, name, expectedSeq, lines, options);
  }

  readStream(sessionId: string, stream: string, options: { fromSeq?: number } = {}): AsyncIterable<string> {
    try {
      const id = assertSessionId(sessionId);
      const name = assertSlug(stream, "stream name");
      if (options.fromSeq !== undefined) position(options.fromSeq, "fromSeq");
      return this.driver.readStream(id, name, options);
    } catch (err) {
      // Bad input fails the iteration, as a store's own error would.
      return failing(err);
    }
  }

  async streamPositions(sessionId: string): Promise<StreamInfo[]> {
    return this.driver.streamPositions(assertSessionId(sessionId));
  }

  async deleteSession(sessionId: string, options?: DeleteOptions): Promise<void> {
    return this.driver.deleteSession(assertSessionId(sessionId), options);
  }

  async setLegalHold(sessionId: string, held: boolean): Promise<void> {
    if (typeof held !== "boolean") throw new InvalidInputError("a legal hold is set with true or false");
    return this.driver.setLegalHold(assertSessionId(sessionId), held);
  }

  /** Closes the driver once; later calls wait for the same close. */
  close(): Promise<void> {
    this.#closed ??= this.driver.close();
    return this.#closed;
  }

  // RetentionStore, where the driver has it (`isRetentionStore`).

  retentionCandidates(options: { createdBefore: Date }): AsyncIterable<RetentionCandidate> {
    return this.#retention().retentionCandidates({ createdBefore: date(options.createdBefore, "createdBefore") });
  }

  async softDeleteSession(sessionId: string, options: { actor: string; policy?: string; reason?: string; purgeAfter: Date }): Promise<void> {
    return this.#retention().softDeleteSession(assertSessionId(sessionId), { ...options, purgeAfter: date(options.purgeAfter, "purgeAfter") });
  }

  softDeletedSessions(): AsyncIterable<SoftDeletedSession> {
    return this.#retention().softDeletedSessions();
  }

  async restoreSession(sessionId: string, options: { actor: string; reason?: string }): Promise<void> {
    return this.#retention().restoreSession(assertSessionId(sessionId), options);
  }

  async purgeSession(sessionId: string, options: { actor: string; policy?: string; reason?: string }): Promise<number> {
    return this.#retention().purgeSession(assertSessionId(sessionId), options);
  }

  async deleteStream(sessionId: string, stream: string, options: { actor: string; policy?: string; reason?: string }): Promise<number> {
    return this.#retention().deleteStream(assertSessionId(sessionId), assertSlug(stream, "stream name"), options);
  }

  async setOrgLegalHold(held: boolean): Promise<void> {
    return this.#retention().setOrgLegalHold(held);
  }

  async orgLegalHold(): Promise<boolean> {
    return this.#retention().orgLegalHold();
  }

  deletionAudit(options?: { since?: Date }): AsyncIterable<DeletionAuditRecord> {
    return this.#retention().deletionAudit(options?.since ? { since: date(options.since, "since") } : options);
  }

  // TokenStore, where the driver has it (`isTokenStore`).

  async saveToken(record: TokenRecord): Promise<void> {
    assertSlug(record.org, "org");
    return this.#tokens().saveToken(record);
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    return this.#tokens().findTokenByHash(hash);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return this.#tokens().listTokens();
  }

  async deleteToken(id: string): Promise<boolean> {
    return this.#tokens().deleteToken(id);
  }

  // RawStreams, where the driver keeps streams as line bytes (`isRawStreams`).

  readStreamBytes(sessionId: string, stream: string): AsyncIterable<Uint8Array> {
    try {
      return this.#raw().readStreamBytes(assertSessionId(sessionId), assertSlug(stream, "stream name"));
    } catch (err) {
      return failing(err);
    }
  }

  async appendBytes(sessionId: string, stream: string, expectedSeq: number, bytes: Uint8Array, options: RawAppendOptions): Promise<AppendResult> {
    const raw = this.#raw();
    const id = assertSessionId(sessionId);
    const name = assertSlug(stream, "stream name");
    position(expectedSeq, "expected position");
    if (!(bytes instanceof Uint8Array)) throw new InvalidInputError("bytes must be a Uint8Array");
    // The driver trusts the count to move its position: a batch must be exactly that many whole lines.
    let lines = 0;
    for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lines++;
    if (lines !== options.lines || (bytes.length > 0 && bytes[bytes.length - 1] !== 10))
      throw new InvalidInputError(`a byte batch must be ${options.lines} whole lines, each ended by "\\n"`);
    const put = options.put ? normaliseSessionInput(options.put) : undefined;
    if (put && put.id !== id) throw new InvalidInputError(`put names session ${put.id}, not ${id}`);
    return raw.appendBytes(id, name, expectedSeq, bytes, { ...options, put });
  }

  // RemoteRetention, where the driver is a server (`isRemoteRetention`).

  async applyRetentionRemotely(policy: RetentionPolicy, options: { dryRun?: boolean; actor?: string }): Promise<RetentionReport> {
    if (!this.capabilities.remoteRetention) throw new UnsupportedError("this store does not apply retention remotely");
    return (this.driver as unknown as RemoteRetention).applyRetentionRemotely(policy, options);
  }

  #retention(): RetentionStore {
    if (!this.capabilities.retention) throw new UnsupportedError("this store has no retention operations (soft delete, purge, deletion audit)");
    return this.driver as unknown as RetentionStore;
  }

  #raw(): RawStreams {
    if (!this.capabilities.rawStreams) throw new UnsupportedError("this store does not hand out or take streams as bytes");
    return this.driver as unknown as RawStreams;
  }

  #tokens(): TokenStore {
    if (!this.capabilities.tokens) throw new UnsupportedError("this store cannot keep API tokens");
    return this.driver as unknown as TokenStore;
  }
}

/** Opens a driver through the checked layer (a checked store is returned as it is). */
export function checkedStore(driver: SessionStore | CheckedStore): CheckedStore {
  return driver instanceof CheckedStore ? driver : new CheckedStore(driver);
}

/** A list query with every field checked: limit 1..MAX_LIST_LIMIT (default DEFAULT_LIST_LIMIT), dates ISO, an empty `q` dropped. */
export function checkedQuery(query: ListQuery): ListQuery {
  const limit = query.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${JSON.stringify(query.limit)}`);
  }
  const out: ListQuery = { ...query, limit };
  if (out.archived !== undefined && !ARCHIVED.has(out.archived))
    throw new InvalidInputError(`archived must be active, archived or all, got ${JSON.stringify(out.archived)}`);
  if (out.cursor === undefined || out.cursor === "") out.cursor = null;
  if (out.cursor !== null && typeof out.cursor !== "string") throw new InvalidInputError("cursor must be a string");
  for (const key of ["since", "until"] as const) if (out[key] !== undefined) out[key] = isoTime(out[key], key);
  for (const key of ["cwd", "repo", "branch", "model_provider", "q"] as const) {
    if (out[key] !== undefined && typeof out[key] !== "string") throw new InvalidInputError(`${key} must be a string`);
  }
  if (out.agent !== undefined && !isAgentName(out.agent))
    throw new InvalidFieldError("agent", `must be one of ${AGENTS.join(", ")}, got ${JSON.stringify(out.agent)}`);
  if (out.q !== undefined && out.q.trim() === "") delete out.q;
  if (out.facts !== undefined && typeof out.facts !== "boolean") throw new InvalidInputError("facts must be true or false");
  return out;
}

/** An iterable whose first `next()` rejects with `err`. */
function failing(err: unknown): AsyncIterable<never> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }) };
}

function position(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidInputError(`${what} must be a whole number ≥ 0, got ${JSON.stringify(value)}`);
}

function date(value: Date, what: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new InvalidInputError(`${what} must be a valid date`);
  return value;
}
