import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AmbiguousIdError,
  assertIdOrPrefix,
  assertSessionId,
  assertSlug,
  ConflictError,
  ForbiddenError,
  InvalidFieldError,
  InvalidIdError,
  InvalidInputError,
  IoError,
  LegalHoldError,
  NotFoundError,
  PartialFailureError,
  readLines,
  SessionvaultError,
  StorageFullError,
  StoreUnavailableError,
  TooLargeError,
  UnauthorizedError,
  UnsupportedError,
  UsageError,
} from "@sessionvault/core";
import type {
  SessionFacts,
  AppendOptions,
  AppendResult,
  DeleteOptions,
  ErrorCode,
  ListQuery,
  RetentionPolicy,
  RetentionReport,
  SearchPage,
  SessionDetail,
  SessionInput,
  SessionStore,
  SessionSummary,
  StreamInfo,
  TokenRecord,
  TokenScope,
} from "@sessionvault/core";

export interface HttpStoreOptions {
  /** The archive server, e.g. `https://archive.internal` (a path prefix is kept). */
  baseUrl: string;
  /** Bearer token; the CLI passes $SESSIONVAULT_TOKEN. */
  token?: string;
  /** Largest POST body per append request (default 4 MiB); bigger batches are split. A single longer line goes alone. */
  maxBatchBytes?: number;
  /** Retries of a request that failed in transit or got a 502/503/504 (default 3). Safe: the server makes a repeated append a no-op. */
  retries?: number;
  fetch?: typeof fetch;
  /** Ask for summaries as stored (`redact=false`), for the CLI's `--no-redact`; the server answers only an admin token. */
  unredacted?: boolean;
}

interface ErrorBody {
  code?: string;
  message?: string;
  current_seq?: number;
  session_id?: string;
  candidates?: string[];
  field?: string;
}

/**
 * The server's error body back into the error class a local store would
 * throw, so callers (sync, appendLines, the CLI's exit codes) cannot tell
 * the difference.
 */
const FROM_WIRE: Record<ErrorCode, (b: ErrorBody, message: string) => SessionvaultError> = {
  NOT_FOUND: (_b, m) => new NotFoundError(m),
  AMBIGUOUS_ID: (b, m) => (b.candidates ? new AmbiguousIdError(b.session_id ?? "", b.candidates) : new SessionvaultError("AMBIGUOUS_ID", m)),
  INVALID_ID: (_b, m) => new InvalidIdError(m),
  INVALID_INPUT: (_b, m) => new InvalidInputError(m),
  INVALID_FIELD: (b, m) =>
    b.field ? new InvalidFieldError(b.field, m.startsWith(`${b.field}: `) ? m.slice(b.field.length + 2) : m) : new InvalidInputError(m),
  CONFLICT: (b, m) => new ConflictError(m, b.current_seq ?? -1),
  LEGAL_HOLD: (b, m) => (b.session_id ? new LegalHoldError(b.session_id) : new SessionvaultError("LEGAL_HOLD", m)),
  NOT_A_CODEX_HOME: (_b, m) => new SessionvaultError("NOT_A_CODEX_HOME", m),
  UNAUTHORIZED: (_b, m) => new UnauthorizedError(`${m} (set SESSIONVAULT_TOKEN to a token from \`sessionvault token create\`)`),
  FORBIDDEN: (_b, m) => new ForbiddenError(m),
  TOO_LARGE: (_b, m) => new TooLargeError(m),
  UNSUPPORTED: (_b, m) => new UnsupportedError(m),
  IO: (_b, m) => new IoError(m),
  STORE_UNAVAILABLE: (_b, m) => new StoreUnavailableError(m),
  STORAGE_FULL: (_b, m) => new StorageFullError(m),
  PARTIAL_FAILURE: (_b, m) => new PartialFailureError(m),
  USAGE: (_b, m) => new UsageError(m),
};

/**
 * The store contract over the archive server's HTTP API (DESIGN.md §11), so
 * `sync --to https://…` works like any other store. Positions travel as
 * `expected_seq`; the server answers a conflict with 409 and the current
 * position, and recognises a retried append that already landed.
 */
export class HttpStore implements SessionStore {
  /** The server answers `q` itself (its store's index, or its own bounded scan). */
  readonly capabilities = { textSearch: true } as const;
  readonly #base: URL;
  readonly #token: string | undefined;
  readonly #maxBatch: number;
  readonly #retries: number;
  readonly #fetch: typeof fetch;
  readonly #unredacted: boolean;

  constructor(options: HttpStoreOptions) {
    const base = new URL(options.baseUrl);
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    base.search = "";
    base.hash = "";
    this.#base = base;
    this.#token = options.token;
    this.#maxBatch = options.maxBatchBytes ?? 4 * 1024 * 1024;
    this.#retries = options.retries ?? 3;
    this.#fetch = options.fetch ?? fetch;
    this.#unredacted = options.unredacted ?? false;
  }

  async putSession(input: SessionInput): Promise<SessionSummary> {
    const id = assertSessionId(input.id);
    const res = await this.#request("PUT", `v1/sessions/${id}`, { json: input });
    return nestFacts((await res.json()) as SessionSummary);
  }

  async getSession(idOrPrefix: string): Promise<SessionDetail> {
    const res = await this.#request("GET", `v1/sessions/${encodeURIComponent(assertIdOrPrefix(idOrPrefix))}${this.#unredacted ? "?redact=false" : ""}`);
    return nestFacts((await res.json()) as SessionDetail & Partial<SessionFacts>);
  }

  /** With `q`, the server's search: the page carries each session's snippet (`SearchPage`). */
  async listSessions(query: ListQuery = {}): Promise<SearchPage> {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== "") sp.set(k, String(v));
    }
    if (this.#unredacted) sp.set("redact", "false");
    const res = await this.#request("GET", `v1/sessions${sp.size ? `?${sp}` : ""}`);
    const page = (await res.json()) as { sessions: (SessionSummary & Partial<SessionFacts>)[]; next_cursor: string | null; snippets?: Record<string, string> };
    return { sessions: page.sessions.map(nestFacts), next_cursor: page.next_cursor, ...(page.snippets ? { snippets: page.snippets } : {}) };
  }

  async append(sessionId: string, stream: string, expectedSeq: number, lines: readonly string[], options?: AppendOptions): Promise<AppendResult> {
    const id = assertSessionId(sessionId);
    const name = assertSlug(stream, "stream name");
    // "\n" frames the request body: a line holding one would arrive as two.
    const bad = lines.findIndex((l) => l.includes("\n"));
    if (bad !== -1) throw new InvalidInputError(`line ${bad} of the batch contains a newline; a stream line cannot`);
    let seq = expectedSeq;
    const durable = options?.durable ?? false;
    for (const batch of batches(lines, this.#maxBatch)) seq = await this.#appendBatch(id, name, seq, batch, durable);
    return { seq };
  }

  /**
   * One append request. A server whose limit is below our batch size answers
   * 413 having stored nothing: the batch is sent again in halves, down to a
   * single line, which, refused, can never be stored there.
   */
  async #appendBatch(id: string, name: string, seq: number, parts: Buffer[], durable: boolean): Promise<number> {
    let res: Response;
    try {
      res = await this.#request("POST", `v1/sessions/${id}/streams/${name}?expected_seq=${seq}${durable ? "&durable=true" : ""}`, {
        body: parts.length === 1 ? parts[0]! : Buffer.concat(parts),
        contentType: "application/x-ndjson",
      });
    } catch (err) {
      if (!(err instanceof TooLargeError)) throw err;
      if (parts.length === 1) {
        throw new TooLargeError(
          `line ${seq} of ${name} is ${parts[0]!.length - 1} bytes, more than ${this.#base.origin} accepts in one request: it can never be stored there`,
        );
      }
      const half = Math.ceil(parts.length / 2);
      const mid = await this.#appendBatch(id, name, seq, parts.slice(0, half), durable);
      return this.#appendBatch(id, name, mid, parts.slice(half), durable);
    }
    return ((await res.json()) as AppendResult).seq;
  }

  async *readStream(sessionId: string, stream: string, options: { fromSeq?: number } = {}): AsyncGenerator<string> {
    const id = assertSessionId(sessionId);
    const name = assertSlug(stream, "stream name");
    const res = await this.#request("GET", `v1/sessions/${id}/streams/${name}?from_seq=${options.fromSeq ?? 0}`);
    if (!res.body) return;
    let torn = false;
    try {
      const bytes = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
      for await (const line of readLines(bytes, {
        onWarning: (w) => {
          if (w.kind === "torn-last-line") torn = true;
        },
      }))
        yield line.text;
    } catch (cause) {
      throw new StoreUnavailableError(`reading ${name} of ${id} from ${this.#base.origin} failed mid-way`, { cause });
    }
    if (torn) throw new StoreUnavailableError(`reading ${name} of ${id} from ${this.#base.origin} ended in the middle of a line`);
  }

  async streamPositions(sessionId: string): Promise<StreamInfo[]> {
    return (await this.getSession(assertSessionId(sessionId))).streams;
  }

  async deleteSession(sessionId: string, _options?: DeleteOptions): Promise<void> {
    // The server records the token as the actor.
    await this.#request("DELETE", `v1/sessions/${assertSessionId(sessionId)}`);
  }

  async setLegalHold(sessionId: string, held: boolean): Promise<void> {
    await this.#request("PUT", `v1/sessions/${assertSessionId(sessionId)}/legal-hold`, { json: { held } });
  }

  /**
   * Retention on the server: it runs core's `applyRetention` over its own
   * store (soft delete, purge after the grace, the deletion audit), exactly
   * as `prune` does against that store directly. The audit's actor is this
   * store's token.
   */
  async applyRetentionRemotely(policy: RetentionPolicy, options: { dryRun?: boolean; actor?: string } = {}): Promise<RetentionReport> {
    const res = await this.#request("POST", "v1/prune", {
      json: {
        policy: policy.name,
        ttl_ms: policy.defaultTtlMs,
        grace_ms: policy.graceMs,
        ...(policy.streamTtlsMs && Object.keys(policy.streamTtlsMs).length ? { stream_ttls_ms: policy.streamTtlsMs } : {}),
        dry_run: options.dryRun ?? false,
      },
    });
    return (await res.json()) as RetentionReport;
  }

  /** A new token in the org of this store's (admin) token; the answer is the only place the secret appears. */
  async createToken(scopes: readonly TokenScope[], org?: string): Promise<{ token: string; id: string; org: string; scopes: TokenScope[] }> {
    // Not retried: a create that reached the server but lost its answer would make a second token.
    const res = await this.#request("POST", "v1/tokens", { json: { scopes, ...(org ? { org } : {}) }, retry: false });
    return (await res.json()) as { token: string; id: string; org: string; scopes: TokenScope[] };
  }

  /** The org's tokens (id, org, scopes, created_at), oldest first. */
  async listOrgTokens(): Promise<Omit<TokenRecord, "hash">[]> {
    const res = await this.#request("GET", "v1/tokens");
    return ((await res.json()) as { tokens: Omit<TokenRecord, "hash">[] }).tokens;
  }

  /** False when the org has no token with this id. */
  async revokeToken(id: string): Promise<boolean> {
    try {
      await this.#request("DELETE", `v1/tokens/${encodeURIComponent(id)}`);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async close(): Promise<void> {}

  async #request(method: string, path: string, init: { json?: unknown; body?: Buffer; contentType?: string; retry?: boolean } = {}): Promise<Response> {
    const url = new URL(path, this.#base);
    const headers: Record<string, string> = { accept: "application/json, application/x-ndjson" };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    let body: string | Buffer | undefined;
    if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.json);
    } else if (init.body) {
      headers["content-type"] = init.contentType ?? "application/octet-stream";
      body = init.body;
    }
    const retries = init.retry === false ? 0 : this.#retries;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.#fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
      } catch (cause) {
        if (attempt < retries) {
          await sleep(100 * 2 ** attempt);
          continue;
        }
        throw new StoreUnavailableError(`cannot reach ${this.#base.origin}: ${(cause as Error).message}`, { cause });
      }
      if (res.ok) return res;
      if ((res.status === 502 || res.status === 503 || res.status === 504) && attempt < retries) {
        await res.body?.cancel();
        await sleep(100 * 2 ** attempt);
        continue;
      }
      throw await errorFrom(res, method, url);
    }
  }
}

async function errorFrom(res: Response, method: string, url: URL): Promise<SessionvaultError> {
  let body: ErrorBody = {};
  try {
    body = (await res.json()) as ErrorBody;
  } catch {
    // Not our server's JSON (a proxy's page, say): fall through with the status.
  }
  const message = body.message ?? `${method} ${url.pathname} answered HTTP ${res.status}`;
  const make = body.code ? FROM_WIRE[body.code as ErrorCode] : undefined;
  if (make) return make(body, message);
  if (res.status === 401) return FROM_WIRE.UNAUTHORIZED(body, `${url.origin}: ${message}`);
  return new StoreUnavailableError(`${url.origin}: ${message}`);
}

/** Splits lines into request bodies of at most `maxBytes`, as the "\n"-terminated lines of each. */
function* batches(lines: readonly string[], maxBytes: number): Generator<Buffer[]> {
  let parts: Buffer[] = [];
  let size = 0;
  for (const line of lines) {
    const b = Buffer.from(line + "\n", "utf8");
    if (parts.length && size + b.length > maxBytes) {
      yield parts;
      parts = [];
      size = 0;
    }
    parts.push(b);
    size += b.length;
  }
  if (parts.length) yield parts;
}

const FACT_FIELDS = ["agent", "model", "outcome", "turns", "tokens", "duration_ms", "files_changed", "children"] as const;

/**
 * The server answers with a session's facts flattened into it (docs/sessions.md); the store interface keeps them apart.
 * `agent` is both a summary field and a fact (the same value); a server from before summaries kept it stored Codex sessions only.
 */
function nestFacts<T extends SessionSummary>(flat: T & Partial<SessionFacts>): T {
  const agent = flat.agent ?? "codex";
  if (flat.outcome === undefined) return { ...flat, agent };
  const out = { ...flat } as Record<string, unknown>;
  const facts: Record<string, unknown> = {};
  for (const k of FACT_FIELDS) {
    facts[k] = (flat as Partial<SessionFacts>)[k];
    delete out[k];
  }
  out.agent = agent;
  out.facts = facts;
  return out as T;
}
