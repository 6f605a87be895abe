import type { AgentName, SessionFacts } from "@sessionvault/core";
import type { ColumnType, Generated } from "kysely";

/** Row types of the tables created by migrations.ts, for kysely's type checking. */
export interface SessionsTable {
  org: string;
  id: string;
  created_at: string;
  created_ts: Date;
  updated_at: string;
  updated_ts: Date;
  cwd: string | null;
  title: string | null;
  archived: boolean;
  source: string | null;
  originator: string | null;
  cli_version: string | null;
  model_provider: string | null;
  git: ColumnType<GitJson | null, string | null, string | null>;
  parent_id: string | null;
  forked_from_id: string | null;
  /** Migration 0007; 'codex' on rows written before. */
  agent: ColumnType<AgentName, AgentName | undefined, AgentName>;
  /** SessionFacts as JSON; null on rows written before facts were kept. */
  facts: ColumnType<SessionFacts | null, string | null | undefined, string | null>;
  // bigint columns come back as strings from pg.
  lines: ColumnType<string, number | undefined, number>;
  bytes: ColumnType<string, number | undefined, number>;
  legal_hold: Generated<boolean>;
  title_tsv: ColumnType<unknown, never, never>;
  /** Set while soft-deleted: every read treats the session as gone until it is restored or purged. */
  deleted_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  purge_after: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Generated from `facts` and `git` (migration 0006), for the facet and usage groupings. */
  fact_outcome: ColumnType<string | null, never, never>;
  fact_model: ColumnType<string | null, never, never>;
  fact_agent: ColumnType<string | null, never, never>;
  fact_tokens_input: ColumnType<string | null, never, never>;
  fact_tokens_output: ColumnType<string | null, never, never>;
  fact_duration_ms: ColumnType<string | null, never, never>;
  fact_files_changed: ColumnType<string | null, never, never>;
  repository_url: ColumnType<string | null, never, never>;
  branch: ColumnType<string | null, never, never>;
  created_day: ColumnType<string, never, never>;
}

export interface GitJson {
  commit_hash: string | null;
  branch: string | null;
  repository_url: string | null;
}

export interface StreamsTable {
  org: string;
  session_id: string;
  name: string;
  lines: ColumnType<string, number, number>;
  bytes: ColumnType<string, number, number>;
}

export interface LinesTable {
  org: string;
  session_id: string;
  stream: string;
  seq: number;
  text: string;
  type: string | null;
  payload_type: string | null;
  timestamp: string | null;
  meta: unknown;
  tsv: unknown;
}

export interface TokensTable {
  id: string;
  org: string;
  scopes: string[];
  hash: string;
  created_at: string;
}

export interface DeletionsTable {
  seq: Generated<string>;
  org: string;
  session_id: string;
  deleted_at: Generated<Date>;
  action: "soft_delete" | "restore" | "purge" | "delete" | "delete_stream";
  stream: string | null;
  actor: string | null;
  policy: string | null;
  reason: string | null;
  lines: number;
  bytes: number;
}

export interface OrgHoldsTable {
  org: string;
  held_at: Generated<Date>;
}

export interface Database {
  sessions: SessionsTable;
  streams: StreamsTable;
  lines: LinesTable;
  tokens: TokensTable;
  deletions: DeletionsTable;
  org_holds: OrgHoldsTable;
}
