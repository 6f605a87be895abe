import { sql, type Kysely, type Migration, type MigrationProvider } from "kysely";

/** Our own migration bookkeeping tables, so we never collide with an app's kysely migrations in the same schema. */
export const MIGRATION_TABLE = "sessionvault_migration";
export const MIGRATION_LOCK_TABLE = "sessionvault_migration_lock";

/**
 * Migrations are code, keyed by name in apply order. A released migration is
 * never edited: a schema change is a new entry.
 */
export function migrations(schema: string): Record<string, Migration> {
  const t = (name: string) => sql.table(`${schema}.${name}`);
  return {
    "0001_initial": {
      async up(db: Kysely<unknown>) {
        // Session ids and stream names are ASCII; the C collation makes
        // `id LIKE 'prefix%'` use the primary key (prefix lookups).
        await sql`
          create table ${t("sessions")} (
            org text collate "C" not null,
            id text collate "C" not null,
            created_at text not null,
            created_ts timestamptz not null,
            updated_at text not null,
            updated_ts timestamptz not null,
            cwd text,
            title text,
            archived boolean not null default false,
            source text,
            originator text,
            cli_version text,
            model_provider text,
            git jsonb,
            parent_id text,
            forked_from_id text,
            lines bigint not null default 0,
            bytes bigint not null default 0,
            legal_hold boolean not null default false,
            title_tsv tsvector generated always as (to_tsvector('simple', coalesce(title, ''))) stored,
            primary key (org, id)
          )`.execute(db);
        // Newest-first pages scan these backwards; the (created_ts, id) row
        // comparison of the cursor is an index bound.
        await sql`create index sessions_newest on ${t("sessions")} (org, created_ts, id)`.execute(db);
        await sql`create index sessions_active_newest on ${t("sessions")} (org, created_ts, id) where not archived`.execute(db);
        await sql`create index sessions_cwd on ${t("sessions")} (org, cwd, created_ts, id)`.execute(db);
        await sql`create index sessions_repo on ${t("sessions")} (org, (git->>'repository_url'))`.execute(db);
        await sql`create index sessions_updated on ${t("sessions")} (org, updated_ts)`.execute(db);
        await sql`create index sessions_title_tsv on ${t("sessions")} using gin (title_tsv)`.execute(db);

        // One row per stream: its position. "append at N" is a conditional
        // update of this row (plus the lines primary key as a backstop).
        await sql`
          create table ${t("streams")} (
            org text collate "C" not null,
            session_id text collate "C" not null,
            name text collate "C" not null,
            lines bigint not null,
            bytes bigint not null,
            primary key (org, session_id, name),
            foreign key (org, session_id) references ${t("sessions")} (org, id) on delete cascade
          )`.execute(db);

        // The exact line text, plus what queries need. No foreign key: a
        // per-row check would cost as much as the insert; deletes go through
        // the store, which removes lines explicitly.
        await sql`
          create table ${t("lines")} (
            org text collate "C" not null,
            session_id text collate "C" not null,
            stream text collate "C" not null,
            seq integer not null,
            text text not null,
            type text,
            payload_type text,
            timestamp text,
            meta jsonb,
            tsv tsvector,
            primary key (org, session_id, stream, seq)
          )`.execute(db);
        await sql`create index lines_tsv on ${t("lines")} using gin (tsv) where tsv is not null`.execute(db);
        // lz4 is much cheaper than the default pglz for big JSON lines; not
        // every server is built with it, so it is best effort. (A DO body
        // cannot take parameters; `schema` is a validated identifier.)
        await sql`
          do $$ begin
            execute format('alter table %I.lines alter column text set compression lz4', ${sql.lit(schema)});
          exception when others then null;
          end $$`.execute(db);

        await sql`
          create table ${t("tokens")} (
            id text primary key,
            org text not null,
            scopes text[] not null,
            hash text not null unique,
            created_at text not null
          )`.execute(db);

        // Deletion audit: who deleted what, when and why (compliance).
        await sql`
          create table ${t("deletions")} (
            org text not null,
            session_id text not null,
            deleted_at timestamptz not null default now(),
            actor text,
            reason text,
            lines bigint not null,
            bytes bigint not null
          )`.execute(db);
      },
      async down(db: Kysely<unknown>) {
        for (const name of ["deletions", "tokens", "lines", "streams", "sessions"]) {
          await sql`drop table if exists ${t(name)}`.execute(db);
        }
      },
    },
    // Org-wide retention (core RetentionStore): soft delete with a purge
    // date, org holds, and a richer audit (action, stream, policy, order).
    "0002_retention": {
      async up(db: Kysely<unknown>) {
        await sql`alter table ${t("sessions")} add column deleted_at timestamptz, add column purge_after timestamptz`.execute(db);
        await sql`create index sessions_soft_deleted on ${t("sessions")} (org, purge_after) where deleted_at is not null`.execute(db);
        await sql`
          alter table ${t("deletions")}
            add column seq bigserial,
            add column action text not null default 'delete',
            add column stream text,
            add column policy text`.execute(db);
        await sql`create index deletions_order on ${t("deletions")} (org, seq)`.execute(db);
        await sql`create table ${t("org_holds")} (org text primary key, held_at timestamptz not null default now())`.execute(db);
      },
      async down(db: Kysely<unknown>) {
        await sql`drop table if exists ${t("org_holds")}`.execute(db);
        await sql`alter table ${t("deletions")} drop column seq, drop column action, drop column stream, drop column policy`.execute(db);
        await sql`alter table ${t("sessions")} drop column deleted_at, drop column purge_after`.execute(db);
      },
    },
    // Session facts (agent, model, outcome, turns, tokens, …) kept with the
    // summary so a listing never reads rollouts; null on rows written
    // before, which readers then compute from the rollout.
    "0003_session_facts": {
      async up(db: Kysely<unknown>) {
        await sql`alter table ${t("sessions")} add column facts jsonb`.execute(db);
      },
      async down(db: Kysely<unknown>) {
        await sql`alter table ${t("sessions")} drop column if exists facts`.execute(db);
      },
    },
    // Lines indexed before a path's segments were (SEARCH_VECTOR in
    // pg-store.ts) get them from the path lexemes they already hold, so a
    // file name finds older sessions too. Only rows with a path are rewritten.
    "0004_path_segments": {
      async up(db: Kysely<unknown>) {
        await sql`
          update ${t("lines")}
          set tsv = tsv || to_tsvector('simple', translate(array_to_string(
            array(select lexeme from unnest(tsvector_to_array(tsv)) as lexeme where position('/' in lexeme) > 0), ' '), '/', ' '))
          where tsv is not null and position('/' in tsv::text) > 0`.execute(db);
      },
      async down() {
        // The added segments only widen what a search finds; nothing to undo.
      },
    },
    // The list facets and the usage page group sessions by their facts
    // (pg-store's facetGroups, usageGroups). Kept as plain columns and in
    // one covering index, those reads are index-only scans instead of
    // reading and parsing every row's facts JSON (100 000 sessions: the
    // heap is ~800 bytes a row, the index entry ~150); the sums add up
    // bigints, which Postgres does much faster than numerics. Sessions stored
    // without facts get their own small index: core reads their rollouts.
    "0006_fact_columns": {
      async up(db: Kysely<unknown>) {
        await sql`
          alter table ${t("sessions")}
            add column fact_outcome text generated always as (facts->>'outcome') stored,
            add column fact_model text generated always as (facts->>'model') stored,
            add column fact_agent text generated always as (facts->>'agent') stored,
            add column fact_tokens_input bigint generated always as ((facts->'tokens'->>'input')::numeric::bigint) stored,
            add column fact_tokens_output bigint generated always as ((facts->'tokens'->>'output')::numeric::bigint) stored,
            add column fact_duration_ms bigint generated always as ((facts->>'duration_ms')::numeric::bigint) stored,
            add column fact_files_changed bigint generated always as ((facts->>'files_changed')::numeric::bigint) stored,
            add column repository_url text generated always as (git->>'repository_url') stored,
            add column branch text generated always as (git->>'branch') stored,
            add column created_day text generated always as (left(created_at, 10)) stored`.execute(db);
        await sql`
          create index sessions_facts on ${t("sessions")} (org, created_ts, id)
            include (archived, fact_outcome, fact_model, fact_agent, repository_url, branch, cwd, created_day,
                     fact_tokens_input, fact_tokens_output, fact_duration_ms, fact_files_changed)
            where deleted_at is null and facts is not null`.execute(db);
        // "Show the failures": a rare outcome would otherwise walk the whole covering index for its newest matches.
        await sql`
          create index sessions_outcome on ${t("sessions")} (org, fact_outcome, created_ts, id)
            where deleted_at is null and facts is not null`.execute(db);
        await sql`create index sessions_without_facts on ${t("sessions")} (org, created_ts, id) where deleted_at is null and facts is null`.execute(db);
        // The repository filter is a substring match (LIKE '%…%'), which no b-tree serves: a trigram index
        // does, where the pg_trgm extension is available (a trusted extension, in contrib). Best effort, as
        // lz4 is: without it the filter scans the covering index. (A DO body takes no parameters; `schema`
        // is a validated identifier.)
        await sql`
          do $$ begin
            create extension if not exists pg_trgm;
            execute format('create index sessions_repo_trgm on %I.sessions using gin (repository_url gin_trgm_ops)', ${sql.lit(schema)});
          exception when others then null;
          end $$`.execute(db);
      },
      async down(db: Kysely<unknown>) {
        await sql`drop index if exists ${sql.table(`${schema}.sessions_repo_trgm`)}`.execute(db);
        await sql`drop index if exists ${sql.table(`${schema}.sessions_without_facts`)}`.execute(db);
        await sql`drop index if exists ${sql.table(`${schema}.sessions_outcome`)}`.execute(db);
        await sql`drop index if exists ${sql.table(`${schema}.sessions_facts`)}`.execute(db);
        await sql`
          alter table ${t("sessions")}
            drop column fact_outcome, drop column fact_model, drop column fact_agent, drop column fact_tokens_input,
            drop column fact_tokens_output, drop column fact_duration_ms, drop column fact_files_changed,
            drop column repository_url, drop column branch, drop column created_day`.execute(db);
      },
    },
    // The agent that wrote each session's rollout (codex, claude-code,
    // gemini-cli), so every view reads it with that agent's reader; rows
    // written before other agents were stored are Codex sessions. (After
    // 0006: a migration named before the last one applied is refused.)
    "0007_session_agent": {
      async up(db: Kysely<unknown>) {
        await sql`alter table ${t("sessions")} add column agent text not null default 'codex'`.execute(db);
      },
      async down(db: Kysely<unknown>) {
        await sql`alter table ${t("sessions")} drop column if exists agent`.execute(db);
      },
    },
  };
}

export function migrationProvider(schema: string): MigrationProvider {
  return { getMigrations: async () => migrations(schema) };
}
