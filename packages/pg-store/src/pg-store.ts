import { Kysely, Migrator, PostgresDialect, sql, type Compilable, type Selectable } from "kysely";
import { createHash } from "node:crypto";
import pg from "pg";
import {
  agentLineSearchText,
  agentLineTime,
  indexableSearchText,
  lineFacts,
  lineTimestamp,
  AmbiguousIdError,
  ConflictError,
  InvalidInputError,
  LegalHoldError,
  NotFoundError,
  STREAMS,
  StoreUnavailableError,
  assertIdOrPrefix,
  assertStorableFilters,
  assertStorableSummary,
  assertSessionId,
  assertSlug,
  isSessionId,
  linesToUtf8,
  type AgentName,
  type AppendResult,
  type DeleteOptions,
  type ListQuery,
  type SessionDetail,
  type SessionInput,
  type SessionPage,
  type SessionStore,
  type SessionSummary,
  type StreamInfo,
  type TokenRecord,
  type TokenScope,
  type TokenStore,
  type RetentionStore,
  type RetentionCandidate,
  type SoftDeletedSession,
  type DeletionAuditRecord,
  type AggregatingDriver,
  type DriverFacets,
  type DriverUsage,
  type FacetQuery,
  type GroupCount,
  type UsageGroup,
} from "@sessionvault/core";

import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, migrationProvider } from "./migrations.js";
import { describeConnection, pgCode, translatePgError } from "./pg-errors.js";
import type { Database, DeletionsTable, GitJson, SessionsTable, TokensTable } from "./tables.js";

export interface PgPoolOptions {
  /** Most connections the pool opens (default 10). */
  max?: number;
  /** Close a connection idle this long (default 10 000 ms). */
  idleTimeoutMillis?: number;
  /** Give up connecting after this long (default 10 000 ms); the error is a StoreUnavailableError. */
  connectionTimeoutMillis?: number;
  /** Server-side statement_timeout for every statement (default: none). */
  statementTimeoutMillis?: number;
  /** application_name shown in pg_stat_activity (default "sessionvault"). */
  applicationName?: string;
}

export interface PgStoreOptions {
  /** `postgres://user:password@host:port/db`; libpq-style query parameters are passed to pg. */
  connectionString: string;
  /** Schema holding the tables (created if missing). Default "public". */
  schema?: string;
  /** Scopes every query to one org; sessions of other orgs are invisible. Default: the unnamed org. */
  org?: string;
  /** Pool options, or a pg.Pool to share (then `close()` leaves it open). */
  pool?: PgPoolOptions | pg.Pool;
  /** Run migrations before the first query (default true). */
  migrate?: boolean;
  /** Lines per page when reading a stream (default 500). */
  readPageLines?: number;
}

type SessionRow = Selectable<SessionsTable>;
/** What a SessionSummary is made of; named, so that a prepared statement returning them keeps its result type when a migration adds a column. */
const SUMMARY_COLUMNS = [
  "id",
  "agent",
  "created_at",
  "updated_at",
  "cwd",
  "title",
  "archived",
  "source",
  "originator",
  "cli_version",
  "model_provider",
  "git",
  "parent_id",
  "forked_from_id",
  "facts",
  "lines",
  "bytes",
] as const;
type SummaryRow = Pick<SessionRow, (typeof SUMMARY_COLUMNS)[number]>;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const MAX_LIST_LIMIT = 1000;
const DEFAULT_LIST_LIMIT = 50;
const RETENTION_PAGE = 500;
/**
 * A line's words for full-text search. Postgres's parser keeps a path
 * (`/tmp/run/outside/probe.txt`) as one token, so a search for the file name
 * `probe.txt` would miss it while the scan of a directory (a substring test)
 * finds it; the path's segments are indexed as well as the whole path.
 */
const SEARCH_VECTOR = "to_tsvector('simple', f.search) || to_tsvector('simple', translate(f.search, '/', ' '))";

/**
 * The Postgres store (DESIGN.md §6). "append at N" is one statement: a
 * conditional update of the stream's position row, and the insert of the
 * lines keyed by (org, session, stream, seq) — two writers can never both win
 * and a batch costs one round trip.
 */
export class PgStore implements SessionStore, TokenStore, RetentionStore, AggregatingDriver {
  /** Postgres answers `ListQuery.q` with its own text index, and groups facet counts and usage sums itself (`facetGroups`, `usageGroups`). */
  readonly capabilities = { textSearch: true, aggregates: true } as const;
  readonly #db: Kysely<Database>;
  readonly #schema: string;
  readonly #org: string;
  readonly #where: string;
  readonly #ownsPool: boolean;
  readonly #pool: pg.Pool;
  readonly #migrate: boolean;
  readonly #pageLines: number;
  /** The four forms of the append statement (rollout or not, first or not), built once. */
  readonly #appendSqls = new Map<string, string>();
  /** The agent of each session this store put or looked up (see #agentOf). */
  readonly #agents = new Map<string, AgentName>();
  /** Sessions this store created, and at how many it next analyzes the table (see #keepPlansRight). */
  #created = 0;
  #analyzeAt = 64;
  #ready: Promise<void> | null = null;
  #closed = false;

  constructor(options: PgStoreOptions) {
    const schema = options.schema ?? "public";
    if (!SCHEMA_NAME.test(schema) || schema.startsWith("pg_")) {
      throw new InvalidInputError(`invalid postgres schema name ${JSON.stringify(schema)}: use lower-case letters, digits and '_' (not starting with pg_)`);
    }
    this.#schema = schema;
    this.#org = options.org === undefined ? "" : assertSlug(options.org, "org");
    this.#where = describeConnection(options.connectionString);
    this.#migrate = options.migrate ?? true;
    this.#pageLines = options.readPageLines ?? 500;
    if (options.pool instanceof pg.Pool) {
      this.#pool = options.pool;
      this.#ownsPool = false;
    } else {
      const p = options.pool ?? {};
      this.#pool = new pg.Pool({
        connectionString: options.connectionString,
        max: p.max ?? 10,
        idleTimeoutMillis: p.idleTimeoutMillis ?? 10_000,
        connectionTimeoutMillis: p.connectionTimeoutMillis ?? 10_000,
        application_name: p.applicationName ?? "sessionvault",
        ...(p.statementTimeoutMillis ? { statement_timeout: p.statementTimeoutMillis } : {}),
      });
      this.#ownsPool = true;
    }
    // An idle connection dropped by the server (restart, failover) must not
    // crash the process; the next query reports it instead (DESIGN.md §9).
    this.#pool.on("error", () => {});
    // A connection that dies while checked out (between two statements)
    // emits "error" with no listener of the pool's attached: that would be
    // an uncaught exception. The statement itself fails and is translated.
    this.#pool.on("connect", (client) => {
      client.on("error", () => {});
    });
    this.#db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: this.#pool }) }).withSchema(schema);
  }

  /** Applies pending migrations (done lazily before the first query unless `migrate: false`). */
  migrateToLatest(): Promise<void> {
    if (!this.#ready) {
      this.#ready = this.#runMigrations().catch((err) => {
        this.#ready = null;
        throw translatePgError(err, this.#where);
      });
    }
    return this.#ready;
  }

  async #runMigrations(): Promise<void> {
    const migrator = new Migrator({
      db: this.#db,
      provider: migrationProvider(this.#schema),
      migrationTableName: MIGRATION_TABLE,
      migrationLockTableName: MIGRATION_LOCK_TABLE,
      migrationTableSchema: this.#schema,
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  }

  async #run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailableError("the postgres store is closed");
    if (this.#migrate) await this.migrateToLatest();
    try {
      return await fn();
    } catch (err) {
      throw translatePgError(err, this.#where);
    }
  }

  /**
   * Runs a built query as a named prepared statement (named by its SQL
   * text): a statement run once per session, as putSession is in a sync, is
   * then parsed and planned once per connection instead of every time.
   */
  async #prepared<R>(query: Compilable<R>): Promise<pg.QueryResult<R & pg.QueryResultRow>> {
    const { sql: text, parameters } = query.compile();
    return this.#pool.query<R & pg.QueryResultRow>({ name: statementName(text), text, values: parameters as unknown[] });
  }

  #t(name: string) {
    return sql.table(`${this.#schema}.${name}`);
  }

  async putSession(input: SessionInput): Promise<SessionSummary> {
    const id = assertSessionId(input.id);
    assertStorableSummary(input);
    const createdTs = parseTime(input.created_at, "created_at");
    const updatedAt = input.updated_at ?? null;
    const updatedTs = updatedAt === null ? null : parseTime(updatedAt, "updated_at");
    const git = input.git ? JSON.stringify(normalizeGit(input.git)) : null;
    // Facts left out of the input keep what the row has (a writer that does not compute them).
    const facts = input.facts === undefined ? undefined : input.facts === null ? null : JSON.stringify(input.facts);
    return this.#run(async () => {
      const fields = {
        created_at: input.created_at,
        created_ts: createdTs,
        cwd: input.cwd ?? null,
        title: input.title ?? null,
        archived: input.archived ?? false,
        source: input.source ?? null,
        originator: input.originator ?? null,
        cli_version: input.cli_version ?? null,
        model_provider: input.model_provider ?? null,
        git,
        parent_id: input.parent_id ?? null,
        forked_from_id: input.forked_from_id ?? null,
        agent: input.agent ?? "codex",
        ...(facts !== undefined ? { facts } : {}),
      };
      const query = this.#db
        .insertInto("sessions")
        .values({ org: this.#org, id, ...fields, updated_at: updatedAt ?? input.created_at, updated_ts: updatedTs ?? createdTs })
        .onConflict((oc) =>
          oc
            .columns(["org", "id"])
            .doUpdateSet((eb) => ({
              ...fields,
              updated_at: updatedAt === null ? eb.ref("sessions.updated_at") : updatedAt,
              updated_ts: updatedTs === null ? eb.ref("sessions.updated_ts") : updatedTs,
            }))
            // A soft-deleted session stays hidden: only restoreSession brings it back.
            .where("sessions.deleted_at", "is", null),
        )
        .returning(SUMMARY_COLUMNS)
        // xmax is 0 on a row version that an insert created (not the conflict update).
        .returning(sql<boolean>`xmax = 0`.as("created"));
      const row = (await this.#prepared(query)).rows[0];
      if (!row) throw new NotFoundError(`session ${id} is soft-deleted (restore it first)`);
      this.#rememberAgent(id, row.agent);
      if (row.created && ++this.#created === this.#analyzeAt) await this.#keepPlansRight();
      return toSummary(row);
    });
  }

  /**
   * Postgres plans a prepared statement (the append is one, per connection)
   * once, from the table's statistics. On a fresh sessions table that grows
   * fast, before autovacuum first analyzes it (a minute or more later), the
   * planner cannot tell the primary key from an index that merely starts with
   * `org`; a cached plan that then walks every session of the org for each
   * append (and each foreign-key check) makes a bulk sync quadratic: 50 M
   * index entries read to sync 10 000 sessions. So the store analyzes the
   * table itself as it creates sessions: at 64, 256, 1024, … (cheap on a
   * table this size); the new statistics make every connection re-plan.
   * Without the right to analyze, or while someone else vacuums the table,
   * it leaves this to autovacuum.
   */
  async #keepPlansRight(): Promise<void> {
    this.#analyzeAt *= 4;
    // skip_locked: never wait behind a VACUUM someone is running on the table.
    await sql`analyze (skip_locked) ${sql.table(`${this.#schema}.sessions`)}`.execute(this.#db).catch(() => {});
  }

  async getSession(idOrPrefix: string): Promise<SessionDetail> {
    const v = assertIdOrPrefix(idOrPrefix);
    return this.#run(async () => {
      const row = await this.#findSession(v);
      return { ...toSummary(row), streams: row.streams, legal_hold: row.legal_hold };
    });
  }

  /** The session row and its streams in one round trip (sync calls this once per session). */
  async #findSession(v: string): Promise<SessionRow & { streams: StreamInfo[] }> {
    let q = this.#db.selectFrom("sessions").selectAll().select(this.#streamsJson().as("streams")).where("org", "=", this.#org).where("deleted_at", "is", null);
    // Prefix characters are validated hex and '-', so LIKE needs no escaping.
    q = isSessionId(v) ? q.where("id", "=", v) : q.where("id", "like", `${v}%`).orderBy("id").limit(6);
    const rows = await q.execute();
    if (rows.length === 0) throw new NotFoundError(`session ${v} not found`);
    if (rows.length > 1)
      throw new AmbiguousIdError(
        v,
        rows.map((r) => r.id),
      );
    return rows[0]!;
  }

  async listSessions(query: ListQuery = {}): Promise<SessionPage> {
    const limit = query.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
      throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
    assertStorableFilters(query);
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    const since = query.since ? parseTime(query.since, "since") : null;
    const until = query.until ? parseTime(query.until, "until") : null;
    return this.#run(async () => {
      // The summary and the cursor's key only: not the search vector or the columns generated for grouping.
      let q = this.#matching(query, since, until).select([...SUMMARY_COLUMNS, "created_ts"]);
      if (cursor) q = q.where(sql<boolean>`(created_ts, id) < (${cursor.ts}::timestamptz, ${cursor.id})`);
      const rows = await q
        .orderBy("created_ts", "desc")
        .orderBy("id", "desc")
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        sessions: page.map(toSummary),
        next_cursor: rows.length > limit && last ? encodeCursor(last.created_ts, last.id) : null,
      };
    });
  }

  /** The sessions a list query (without its page) matches, plus fact filters where given. */
  #matching(query: FacetQuery, since: Date | null, until: Date | null) {
    let q = this.#db.selectFrom("sessions").where("org", "=", this.#org).where("deleted_at", "is", null);
    const archived = query.archived ?? "active";
    if (archived === "active") q = q.where("archived", "=", false);
    else if (archived === "archived") q = q.where("archived", "=", true);
    if (query.cwd !== undefined) q = q.where("cwd", "=", query.cwd);
    if (query.repo) q = q.where("repository_url", "like", `%${escapeLike(query.repo)}%`);
    if (query.branch) q = q.where("branch", "=", query.branch);
    if (query.model_provider) q = q.where("model_provider", "=", query.model_provider);
    if (since) q = q.where("created_ts", ">=", since);
    if (until) q = q.where("created_ts", "<=", until);
    if (query.q && query.q.trim() !== "") {
      const tsq = sql`websearch_to_tsquery('simple', ${query.q})`;
      // Postgres plans the EXISTS as an alternative subplan: a hashed set
      // from the GIN index when the word is rare, a per-session probe in
      // newest-first order (stopping at the page) when it is common.
      q = q.where(
        sql<boolean>`(title_tsv @@ ${tsq} or exists (
          select 1 from ${this.#t("lines")} l where l.org = ${this.#org} and l.session_id = ${sql.ref("sessions.id")} and l.tsv @@ ${tsq}))`,
      );
    }
    if (query.outcome) q = q.where("fact_outcome", "=", query.outcome);
    if (query.model) q = q.where("fact_model", "=", query.model);
    // The summary's agent; the facts' (the same, checked on put) where there are facts, so the covering index serves it.
    if (query.agent) {
      const agent = query.agent;
      q = q.where((eb) => eb.or([eb("fact_agent", "=", agent), eb.and([eb("facts", "is", null), eb("agent", "=", agent as AgentName)])]));
    }
    return q;
  }

  /**
   * The list facets of the newest `window` matches in one index-only scan
   * (migration 0006's covering index): a GROUP BY of grouping sets, one per
   * facet field, plus the whole set for the "started since" counts. Rows
   * without stored facts are handed back for core to read.
   */
  async facetGroups(
    query: FacetQuery,
    options: { startedSince: readonly string[]; newest: number; window: number; withoutFactsLimit: number },
  ): Promise<DriverFacets> {
    assertStorableFilters(query);
    const since = query.since ? parseTime(query.since, "since") : null;
    const until = query.until ? parseTime(query.until, "until") : null;
    const started = options.startedSince.map((d) => parseTime(d, "startedSince"));
    return this.#run(async () => {
      const withFacts = () => this.#matching(query, since, until).where("facts", "is not", null).orderBy("created_ts", "desc").orderBy("id", "desc");
      // One row past the window says whether there are more matches; the counts leave it out.
      const window = withFacts()
        .select([
          "fact_outcome as outcome",
          "fact_model as model",
          "fact_agent as agent",
          "repository_url",
          "branch",
          "cwd",
          "created_ts",
          sql<number>`row_number() over (order by created_ts desc, id desc)`.as("rn"),
        ])
        .limit(options.window + 1);
      const inWindow = sql`rn <= ${options.window}`;
      const grouped = this.#db
        .selectFrom(window.as("w"))
        .select([
          "outcome",
          "model",
          "agent",
          "repository_url",
          "branch",
          "cwd",
          // One bit per field of the set (outcome the highest), set for each field the row does not group by.
          sql<number>`grouping(outcome, model, agent, repository_url, branch, cwd)`.as("g"),
          sql<string>`count(*) filter (where ${inWindow})`.as("n"),
          sql<string>`count(*)`.as("all"),
          sql<string[]>`array[${sql.join(started.map((d) => sql`count(*) filter (where ${inWindow} and created_ts >= ${d})`))}]::bigint[]`.as("started"),
        ])
        .groupBy(sql`grouping sets ((outcome), (model), (agent), (repository_url), (branch), (cwd), ())`)
        .execute();
      const newest = options.newest > 0 ? withFacts().select(SUMMARY_COLUMNS).limit(options.newest).execute() : Promise.resolve([]);
      // Fact filters cannot be tested on rows without facts: core tests them after reading their facts.
      const { outcome: _o, model: _m, agent: _a, ...listQuery } = query;
      const without = this.#matching(listQuery, since, until)
        .where("facts", "is", null)
        .select(SUMMARY_COLUMNS)
        .orderBy("created_ts", "desc")
        .orderBy("id", "desc")
        .limit(options.withoutFactsLimit)
        .execute();
      const [rows, newestRows, withoutRows] = await Promise.all([grouped, newest, without]);
      const fields = ["outcome", "model", "agent", "repository_url", "branch", "cwd"] as const;
      const groups = Object.fromEntries(fields.map((f) => [f, [] as GroupCount[]])) as DriverFacets["groups"];
      let startedCounts = started.map(() => 0);
      let truncated = false;
      for (const r of rows) {
        const g = Number(r.g);
        if (g === 0b111111) {
          startedCounts = r.started.map(Number);
          truncated = Number(r.all) > options.window;
          continue;
        }
        // A group of the row past the window only.
        if (Number(r.n) === 0) continue;
        const field = fields[fields.findIndex((_, k) => (g & (1 << (fields.length - 1 - k))) === 0)]!;
        groups[field].push({ value: r[field], count: Number(r.n) });
      }
      return {
        groups,
        started: startedCounts,
        truncated,
        newest: newestRows.map(toSummary),
        withoutFacts: withoutRows.map(toSummary),
      };
    });
  }

  /** Usage sums of every session (archived too) in one index-only scan: grouping sets per day, model, repository and outcome, and the totals. */
  async usageGroups(options: { withoutFactsLimit: number }): Promise<DriverUsage> {
    return this.#run(async () => {
      const live = () => this.#db.selectFrom("sessions").where("org", "=", this.#org).where("deleted_at", "is", null);
      const grouped = live()
        .where("facts", "is not", null)
        .select([
          "created_day as day",
          "fact_model as model",
          "repository_url",
          "fact_outcome as outcome",
          sql<number>`grouping(created_day, fact_model, repository_url, fact_outcome)`.as("g"),
          sql<string>`count(*)`.as("n"),
          sql<string>`coalesce(sum(fact_tokens_input), 0)`.as("tokens_input"),
          sql<string>`coalesce(sum(fact_tokens_output), 0)`.as("tokens_output"),
          sql<string>`coalesce(sum(fact_duration_ms), 0)`.as("duration_ms"),
          sql<string>`coalesce(sum(fact_files_changed), 0)`.as("files_changed"),
        ])
        .groupBy(sql`grouping sets ((created_day), (fact_model), (repository_url), (fact_outcome), ())`)
        .execute();
      const without = live()
        .where("facts", "is", null)
        .select(SUMMARY_COLUMNS)
        .orderBy("created_ts", "desc")
        .orderBy("id", "desc")
        .limit(options.withoutFactsLimit)
        .execute();
      const [rows, withoutRows] = await Promise.all([grouped, without]);
      const fields = ["day", "model", "repository_url", "outcome"] as const;
      const groups = Object.fromEntries(fields.map((f) => [f, [] as UsageGroup[]])) as DriverUsage["groups"];
      const totals = { sessions: 0, tokens_input: 0, tokens_output: 0, duration_ms: 0, files_changed: 0 };
      for (const r of rows) {
        const g = Number(r.g);
        if (g === 0b1111) {
          Object.assign(totals, {
            sessions: Number(r.n),
            tokens_input: Number(r.tokens_input),
            tokens_output: Number(r.tokens_output),
            duration_ms: Number(r.duration_ms),
            files_changed: Number(r.files_changed),
          });
          continue;
        }
        const field = fields[fields.findIndex((_, k) => (g & (1 << (fields.length - 1 - k))) === 0)]!;
        groups[field].push({
          value: r[field],
          sessions: Number(r.n),
          tokens: Number(r.tokens_input) + Number(r.tokens_output),
          duration_ms: Number(r.duration_ms),
        });
      }
      return { totals, groups, withoutFacts: withoutRows.map(toSummary) };
    });
  }

  async append(sessionId: string, stream: string, expectedSeq: number, lines: readonly string[]): Promise<AppendResult> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    if (!Number.isSafeInteger(expectedSeq) || expectedSeq < 0) throw new InvalidInputError(`invalid expected position ${expectedSeq}`);
    let bytes = 0;
    for (const line of lines) {
      if (line.includes("\n")) throw new InvalidInputError("a line must not contain a newline");
      // Postgres text cannot hold NUL, and lone surrogates would be silently
      // replaced on the wire: refuse rather than store something else.
      if (line.includes("\u0000")) throw new InvalidInputError("a line must not contain a NUL character (not storable in postgres)");
      if (!(line as unknown as { isWellFormed(): boolean }).isWellFormed()) throw new InvalidInputError("a line must be valid Unicode (lone surrogate)");
      bytes += Buffer.byteLength(line) + 1;
    }
    return this.#run(async () => {
      if (lines.length === 0) {
        const current = await this.#position(id, stream);
        if (current !== expectedSeq) throw conflict(id, stream, expectedSeq, current);
        return { seq: expectedSeq };
      }
      return this.#appendBatch(id, stream, expectedSeq, lines, bytes);
    });
  }

  async #appendBatch(id: string, stream: string, expected: number, lines: readonly string[], bytes: number): Promise<AppendResult> {
    const n = lines.length;
    const isRollout = stream === STREAMS.rollout;
    const types: (string | null)[] = [];
    const payloadTypes: (string | null)[] = [];
    const stamps: (string | null)[] = [];
    const metas: (string | null)[] = [];
    const search: (string | null)[] = [];
    let lastTs: string | null = null;
    if (isRollout) {
      let agent: AgentName | undefined;
      for (const line of lines) {
        let f = lineFacts(line);
        let ts: string | null = null;
        // Not a Codex envelope: another agent's line is indexed through that agent's reader, and timed by its records.
        if (f.type === null) {
          agent ??= await this.#agentOf(id);
          if (agent !== "codex") {
            ts = agentLineTime(agent, line);
            f = { type: null, payload_type: null, timestamp: ts, meta: null, search: indexableSearchText(agentLineSearchText(agent, line)) };
          }
        }
        types.push(f.type);
        payloadTypes.push(f.payload_type);
        stamps.push(f.timestamp);
        metas.push(f.meta);
        search.push(f.search);
        lastTs = ts ?? lineTimestamp(line) ?? lastTs;
      }
    }
    // The lines travel as ONE parameter of UTF-8 bytes, split server-side: no
    // per-line array escaping of big JSON, and a constant number of parameters
    // (a Buffer goes in binary format, which for text is the bytes).
    const values: unknown[] = [this.#org, id, stream, n, bytes, expected, linesToUtf8(lines, bytes)];
    if (isRollout) values.push(types, payloadTypes, stamps, metas, search, lastTs);
    try {
      // A named statement: parsed and planned once per connection, not once per batch.
      const text = this.#appendSql(isRollout, expected === 0);
      const result = await this.#pool.query<{ seq: string | null }>({ name: statementName(text), text, values });
      const seq = result.rows[0]?.seq;
      if (seq !== null && seq !== undefined) return { seq: Number(seq) };
    } catch (err) {
      const code = pgCode(err);
      if (code === "23503") throw new NotFoundError(`session ${id} not found`, { cause: err });
      // The lines key is the backstop: a row already at one of these positions.
      if (code !== "23505") throw err;
    }
    const current = await this.#position(id, stream);
    throw conflict(id, stream, expected, current);
  }

  /**
   * The append statement. $1 org, $2 session, $3 stream, $4 line count,
   * $5 bytes, $6 expected position, $7 the lines joined by "\n"; for the
   * rollout also $8-$12 the line facts and $13 the last timestamp. It
   * advances the stream's row only if it is still at $6 (inserting it when
   * $6 is 0), and inserts the lines only if that succeeded.
   */
  #appendSql(isRollout: boolean, first: boolean): string {
    const form = `${isRollout}${first}`;
    let text = this.#appendSqls.get(form);
    if (text === undefined) {
      text = this.#buildAppendSql(isRollout, first);
      this.#appendSqls.set(form, text);
    }
    return text;
  }

  #buildAppendSql(isRollout: boolean, first: boolean): string {
    const q = (name: string) => `"${this.#schema}"."${name}"`;
    // Soft-deleted sessions take no lines (they read as gone).
    const live = `exists (select 1 from ${q("sessions")} ss where ss.org = $1::text and ss.id = $2::text and ss.deleted_at is null)`;
    const pos = first
      ? `insert into ${q("streams")} as s (org, session_id, name, lines, bytes)
           select $1::text, $2::text, $3::text, $4::bigint, $5::bigint where ${live} and $6::bigint = 0
           on conflict (org, session_id, name) do update
             set lines = s.lines + excluded.lines, bytes = s.bytes + excluded.bytes
             where s.lines = 0
           returning s.lines`
      : `update ${q("streams")} set lines = lines + $4::bigint, bytes = bytes + $5::bigint
           where org = $1::text and session_id = $2::text and name = $3::text and lines = $6::bigint and ${live}
           returning lines`;
    const facts = isRollout
      ? `left join unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
           with ordinality as f(type, payload_type, ts, meta, search, i) on f.i = t.i`
      : `left join (select null::text as type, null::text as payload_type, null::text as ts, null::text as meta, null::text as search) f on true`;
    const sessionUpdate = isRollout
      ? `update ${q("sessions")}
           set lines = lines + $4::bigint, bytes = bytes + $5::bigint,
               updated_at = coalesce($13::text, updated_at),
               updated_ts = coalesce($13::text::timestamptz, updated_ts)
           where org = $1::text and id = $2::text and exists (select 1 from pos)
           returning 1`
      : `select 1`;
    return `with pos as (${pos}),
      ins as (
        insert into ${q("lines")} (org, session_id, stream, seq, text, type, payload_type, timestamp, meta, tsv)
        select $1::text, $2::text, $3::text, ($6::bigint + t.i - 1)::int, t.text, f.type, f.payload_type, f.ts, f.meta::jsonb,
               case when f.search is null then null else ${SEARCH_VECTOR} end
        from string_to_table($7::text, E'\\n') with ordinality as t(text, i)
        ${facts}
        where t.i <= $4::bigint and exists (select 1 from pos)
        returning 1
      ),
      sess as (${sessionUpdate})
      select (select lines from pos) as seq`;
  }

  /**
   * The agent of a session, for indexing its rollout lines: what this store
   * last put or read for it, else one query (a lone look-up per batch that
   * holds lines Codex did not write; Codex's own lines never need it).
   */
  async #agentOf(id: string): Promise<AgentName> {
    const known = this.#agents.get(id);
    if (known !== undefined) return known;
    const row = await this.#db.selectFrom("sessions").select("agent").where("org", "=", this.#org).where("id", "=", id).executeTakeFirst();
    return this.#rememberAgent(id, row?.agent ?? "codex");
  }

  #rememberAgent(id: string, agent: AgentName): AgentName {
    if (this.#agents.size >= 10_000) this.#agents.clear();
    this.#agents.set(id, agent);
    return agent;
  }

  /** A stream's position; NotFoundError when the session does not exist. */
  async #position(id: string, stream: string): Promise<number> {
    const row = await this.#db
      .selectFrom("sessions")
      .leftJoin("streams", (j) => j.onRef("streams.org", "=", "sessions.org").onRef("streams.session_id", "=", "sessions.id").on("streams.name", "=", stream))
      .select("streams.lines")
      .where("sessions.org", "=", this.#org)
      .where("sessions.id", "=", id)
      .where("sessions.deleted_at", "is", null)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`session ${id} not found`);
    return row.lines === null ? 0 : Number(row.lines);
  }

  readStream(sessionId: string, stream: string, options: { fromSeq?: number } = {}): AsyncIterable<string> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    const from = options.fromSeq ?? 0;
    if (!Number.isSafeInteger(from) || from < 0) throw new InvalidInputError(`invalid position ${from}`);
    return this.#readPages(id, stream, from);
  }

  async *#readPages(id: string, stream: string, from: number): AsyncGenerator<string> {
    // Pages keep memory bounded: a rollout is never loaded whole.
    await this.#run(() => this.#position(id, stream));
    let seq = from;
    for (;;) {
      const rows = await this.#run(() =>
        this.#db
          .selectFrom("lines")
          .select(["seq", "text"])
          .where("org", "=", this.#org)
          .where("session_id", "=", id)
          .where("stream", "=", stream)
          .where("seq", ">=", seq)
          .orderBy("seq")
          .limit(this.#pageLines)
          .execute(),
      );
      for (const r of rows) yield r.text;
      if (rows.length < this.#pageLines) return;
      seq = rows[rows.length - 1]!.seq + 1;
    }
  }

  async streamPositions(sessionId: string): Promise<StreamInfo[]> {
    const id = assertSessionId(sessionId);
    return this.#run(async () => {
      const rows = await this.#db
        .selectFrom("sessions")
        .leftJoin("streams", (j) => j.onRef("streams.org", "=", "sessions.org").onRef("streams.session_id", "=", "sessions.id"))
        .select(["streams.name", "streams.lines", "streams.bytes"])
        .where("sessions.org", "=", this.#org)
        .where("sessions.id", "=", id)
        .where("sessions.deleted_at", "is", null)
        .orderBy("streams.name")
        .execute();
      if (rows.length === 0) throw new NotFoundError(`session ${id} not found`);
      return rows.filter((r) => r.name !== null).map((r) => ({ name: r.name!, lines: Number(r.lines), bytes: Number(r.bytes) }));
    });
  }

  async deleteSession(sessionId: string, options: DeleteOptions = {}): Promise<void> {
    const id = assertSessionId(sessionId);
    return this.#run(async () => {
      await this.#delete(id, options);
    });
  }

  /**
   * Hard-deletes a session in one transaction, with its audit record.
   * `includeSoftDeleted` is for purges; a plain delete sees only live sessions.
   */
  async #delete(
    id: string,
    options: {
      actor?: string | undefined;
      reason?: string | undefined;
      policy?: string | undefined;
      action?: "delete" | "purge";
      includeSoftDeleted?: boolean;
    },
  ): Promise<{ bytes: number }> {
    return this.#db.transaction().execute(async (tx) => {
      await this.#lockUnheld(tx, id, options.includeSoftDeleted ?? false);
      const totals = await this.#streamTotals(tx, id);
      await tx.deleteFrom("lines").where("org", "=", this.#org).where("session_id", "=", id).execute();
      await tx.deleteFrom("sessions").where("org", "=", this.#org).where("id", "=", id).execute();
      await this.#audit(tx, id, options.action ?? "delete", null, options, totals);
      return { bytes: totals.bytes };
    });
  }

  /**
   * Locks the session's row for the rest of the transaction, before anything
   * of it is deleted: NotFoundError when there is none (only live sessions
   * unless `includeSoftDeleted`), LegalHoldError while it or the org is held.
   */
  async #lockUnheld(tx: Kysely<Database>, id: string, includeSoftDeleted: boolean): Promise<void> {
    let q = tx.selectFrom("sessions").select(["legal_hold"]).where("org", "=", this.#org).where("id", "=", id);
    if (!includeSoftDeleted) q = q.where("deleted_at", "is", null);
    const row = await q.forUpdate().executeTakeFirst();
    if (!row) throw new NotFoundError(`session ${id} not found`);
    if (row.legal_hold || (await this.#orgHeld(tx))) throw new LegalHoldError(id);
  }

  async #orgHeld(db: Kysely<Database> = this.#db): Promise<boolean> {
    const row = await db.selectFrom("org_holds").select("org").where("org", "=", this.#org).executeTakeFirst();
    return row !== undefined;
  }

  async setLegalHold(sessionId: string, held: boolean): Promise<void> {
    const id = assertSessionId(sessionId);
    return this.#run(async () => {
      // A soft-deleted session can be held too (that keeps it from the purge).
      const r = await this.#db.updateTable("sessions").set({ legal_hold: held }).where("org", "=", this.#org).where("id", "=", id).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw new NotFoundError(`session ${id} not found`);
    });
  }

  // ---- RetentionStore (org-wide retention, core applyRetention) ----

  async *retentionCandidates(options: { createdBefore: Date }): AsyncIterable<RetentionCandidate> {
    const rows = this.#pages((last: { created_ts: Date; id: string } | null) => {
      let q = this.#db
        .selectFrom("sessions")
        .selectAll()
        .select(this.#streamsJson().as("streams"))
        .where("org", "=", this.#org)
        .where("deleted_at", "is", null)
        .where("created_ts", "<", options.createdBefore);
      if (last) q = q.where(sql<boolean>`(created_ts, id) > (${last.created_ts}, ${last.id})`);
      return q.orderBy("created_ts").orderBy("id").limit(RETENTION_PAGE).execute();
    });
    for await (const r of rows) {
      const streams = r.streams as StreamInfo[];
      yield {
        id: r.id,
        created_at: r.created_at,
        updated_at: r.updated_at,
        legal_hold: r.legal_hold,
        streams,
        bytes: streams.reduce((n, st) => n + Number(st.bytes), 0),
      };
    }
  }

  async softDeleteSession(sessionId: string, options: { actor: string; policy?: string; reason?: string; purgeAfter: Date }): Promise<void> {
    const id = assertSessionId(sessionId);
    await this.#run(() =>
      this.#db.transaction().execute(async (tx) => {
        await this.#lockUnheld(tx, id, false);
        await tx
          .updateTable("sessions")
          .set({ deleted_at: new Date(), purge_after: options.purgeAfter })
          .where("org", "=", this.#org)
          .where("id", "=", id)
          .execute();
        await this.#audit(tx, id, "soft_delete", null, options, await this.#streamTotals(tx, id));
      }),
    );
  }

  async *softDeletedSessions(): AsyncIterable<SoftDeletedSession> {
    const rows = this.#pages((last: { purge_after: Date | null; id: string } | null) => {
      let q = this.#db
        .selectFrom("sessions")
        .select(["id", "deleted_at", "purge_after", "legal_hold", this.#bytesOf().as("bytes")])
        .where("org", "=", this.#org)
        .where("deleted_at", "is not", null);
      if (last) q = q.where(sql<boolean>`(purge_after, id) > (${last.purge_after}, ${last.id})`);
      return q.orderBy("purge_after").orderBy("id").limit(RETENTION_PAGE).execute();
    });
    for await (const r of rows)
      yield { id: r.id, deleted_at: r.deleted_at!.toISOString(), purge_after: r.purge_after!.toISOString(), legal_hold: r.legal_hold, bytes: Number(r.bytes) };
  }

  async restoreSession(sessionId: string, options: { actor: string; reason?: string }): Promise<void> {
    const id = assertSessionId(sessionId);
    await this.#run(() =>
      this.#db.transaction().execute(async (tx) => {
        const r = await tx
          .updateTable("sessions")
          .set({ deleted_at: null, purge_after: null })
          .where("org", "=", this.#org)
          .where("id", "=", id)
          .where("deleted_at", "is not", null)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) throw new NotFoundError(`session ${id} is not soft-deleted`);
        // A restore deletes nothing: its record counts 0 bytes, as in every store.
        await this.#audit(tx, id, "restore", null, options, { lines: 0, bytes: 0 });
      }),
    );
  }

  async purgeSession(sessionId: string, options: { actor: string; policy?: string; reason?: string }): Promise<number> {
    const id = assertSessionId(sessionId);
    const { bytes } = await this.#run(() => this.#delete(id, { ...options, action: "purge", includeSoftDeleted: true }));
    return bytes;
  }

  async deleteStream(sessionId: string, stream: string, options: { actor: string; policy?: string; reason?: string }): Promise<number> {
    const id = assertSessionId(sessionId);
    assertSlug(stream, "stream name");
    if (stream === STREAMS.rollout) throw new InvalidInputError("the rollout is the session: delete the session instead");
    return this.#run(() =>
      this.#db.transaction().execute(async (tx) => {
        await this.#lockUnheld(tx, id, false);
        const gone = await tx
          .deleteFrom("streams")
          .where("org", "=", this.#org)
          .where("session_id", "=", id)
          .where("name", "=", stream)
          .returning(["lines", "bytes"])
          .executeTakeFirst();
        if (!gone) return 0;
        await tx.deleteFrom("lines").where("org", "=", this.#org).where("session_id", "=", id).where("stream", "=", stream).execute();
        await this.#audit(tx, id, "delete_stream", stream, options, { lines: Number(gone.lines), bytes: Number(gone.bytes) });
        return Number(gone.bytes);
      }),
    );
  }

  async setOrgLegalHold(held: boolean): Promise<void> {
    await this.#run(async () => {
      if (held)
        await this.#db
          .insertInto("org_holds")
          .values({ org: this.#org })
          .onConflict((oc) => oc.column("org").doNothing())
          .execute();
      else await this.#db.deleteFrom("org_holds").where("org", "=", this.#org).execute();
    });
  }

  orgLegalHold(): Promise<boolean> {
    return this.#run(() => this.#orgHeld());
  }

  async *deletionAudit(options: { since?: Date } = {}): AsyncIterable<DeletionAuditRecord> {
    const rows = this.#pages((last: { seq: string } | null) => {
      let q = this.#db
        .selectFrom("deletions")
        .selectAll()
        .where("org", "=", this.#org)
        .where(sql<boolean>`seq > ${last?.seq ?? "0"}::bigint`);
      if (options.since) q = q.where("deleted_at", ">=", options.since);
      return q.orderBy("seq").limit(RETENTION_PAGE).execute();
    });
    for await (const r of rows) {
      yield {
        at: r.deleted_at.toISOString(),
        action: r.action,
        session_id: r.session_id,
        stream: r.stream,
        actor: r.actor ?? "unknown",
        policy: r.policy,
        reason: r.reason,
        bytes: Number(r.bytes),
      };
    }
  }

  /**
   * Rows in keyset pages of RETENTION_PAGE: `page` reads the page after the
   * last row of the one before (null first). Keysets, not offsets, because
   * callers delete rows while they iterate.
   */
  async *#pages<R>(page: (last: R | null) => Promise<R[]>): AsyncGenerator<R> {
    let last: R | null = null;
    for (;;) {
      const after: R | null = last;
      const rows: R[] = await this.#run(() => page(after));
      yield* rows;
      if (rows.length < RETENTION_PAGE) return;
      last = rows[rows.length - 1]!;
    }
  }

  /** What a session's streams hold in all, for the audit of a deletion. */
  async #streamTotals(tx: Kysely<Database>, id: string): Promise<{ lines: number; bytes: number }> {
    const t = await tx
      .selectFrom("streams")
      .select([sql<string>`coalesce(sum(lines), 0)`.as("lines"), sql<string>`coalesce(sum(bytes), 0)`.as("bytes")])
      .where("org", "=", this.#org)
      .where("session_id", "=", id)
      .executeTakeFirstOrThrow();
    return { lines: Number(t.lines), bytes: Number(t.bytes) };
  }

  /** The audit record of a deletion (or a restore), in the deletion's transaction. */
  async #audit(
    tx: Kysely<Database>,
    id: string,
    action: DeletionsTable["action"],
    stream: string | null,
    options: { actor?: string | undefined; policy?: string | undefined; reason?: string | undefined },
    counts: { lines: number; bytes: number },
  ): Promise<void> {
    await tx
      .insertInto("deletions")
      .values({
        org: this.#org,
        session_id: id,
        action,
        stream,
        actor: options.actor ?? null,
        policy: options.policy ?? null,
        reason: options.reason ?? null,
        lines: counts.lines,
        bytes: counts.bytes,
      })
      .execute();
  }

  #streamsJson() {
    return sql<StreamInfo[]>`coalesce((
      select json_agg(json_build_object('name', st.name, 'lines', st.lines, 'bytes', st.bytes) order by st.name)
      from ${this.#t("streams")} st where st.org = sessions.org and st.session_id = sessions.id), '[]'::json)`;
  }

  #bytesOf() {
    return sql<string>`(select coalesce(sum(bytes), 0) from ${this.#t("streams")} st where st.org = sessions.org and st.session_id = sessions.id)`;
  }

  saveToken(record: TokenRecord): Promise<void> {
    return this.#run(async () => {
      await this.#db
        .insertInto("tokens")
        .values({ id: record.id, org: record.org, scopes: record.scopes, hash: record.hash, created_at: record.created_at })
        .onConflict((oc) => oc.column("id").doUpdateSet({ org: record.org, scopes: record.scopes, hash: record.hash, created_at: record.created_at }))
        .execute();
    });
  }

  findTokenByHash(hash: string): Promise<TokenRecord | null> {
    return this.#run(async () => {
      const row = await this.#db.selectFrom("tokens").selectAll().where("hash", "=", hash).executeTakeFirst();
      return row ? toTokenRecord(row) : null;
    });
  }

  listTokens(): Promise<TokenRecord[]> {
    return this.#run(async () => (await this.#db.selectFrom("tokens").selectAll().orderBy("created_at").orderBy("id").execute()).map(toTokenRecord));
  }

  deleteToken(id: string): Promise<boolean> {
    return this.#run(async () => (await this.#db.deleteFrom("tokens").where("id", "=", id).executeTakeFirst()).numDeletedRows > 0n);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsPool) await this.#db.destroy();
  }
}

function toSummary(r: SummaryRow): SessionSummary {
  return {
    id: r.id,
    agent: r.agent,
    created_at: r.created_at,
    updated_at: r.updated_at,
    cwd: r.cwd,
    title: r.title,
    archived: r.archived,
    source: r.source,
    originator: r.originator,
    cli_version: r.cli_version,
    model_provider: r.model_provider,
    git: r.git ? normalizeGit(r.git) : null,
    parent_id: r.parent_id,
    forked_from_id: r.forked_from_id,
    lines: Number(r.lines),
    bytes: Number(r.bytes),
    facts: r.facts,
  };
}

function normalizeGit(g: Partial<GitJson>): GitJson {
  return { commit_hash: g.commit_hash ?? null, branch: g.branch ?? null, repository_url: g.repository_url ?? null };
}

function parseTime(value: string, what: string): Date {
  const d = new Date(value);
  if (typeof value !== "string" || Number.isNaN(d.getTime()))
    throw new InvalidInputError(`invalid ${what} ${JSON.stringify(value)}: expected an ISO-8601 date`);
  return d;
}

function conflict(id: string, stream: string, expected: number, current: number): ConflictError {
  return new ConflictError(`stream ${stream} of session ${id} is at position ${current}, not ${expected}`, current);
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function encodeCursor(ts: Date, id: string): string {
  return Buffer.from(JSON.stringify([ts.toISOString(), id])).toString("base64url");
}

function decodeCursor(cursor: string): { ts: string; id: string } {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && typeof v[0] === "string" && !Number.isNaN(Date.parse(v[0])) && typeof v[1] === "string" && isSessionId(v[1])) {
      return { ts: v[0], id: v[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidInputError("invalid list cursor");
}

/** Prepared statements are per connection and named; naming one by its SQL text (schema included) gives each text one name. */
function statementName(text: string): string {
  return `sv_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
}

function toTokenRecord(row: TokensTable): TokenRecord {
  return { id: row.id, org: row.org, scopes: row.scopes as TokenScope[], hash: row.hash, created_at: row.created_at };
}
