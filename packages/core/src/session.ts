import type { AgentName } from "./agents/agent-name.js";
import type { SessionFacts } from "./session-model/session-facts.js";

/**
 * The session model (DESIGN.md §3). Field names are snake_case because they
 * are the wire format too: the CLI's `--json`, the server's JSON bodies and
 * the stores' columns all use exactly these names.
 */

export interface GitInfo {
  commit_hash: string | null;
  branch: string | null;
  repository_url: string | null;
}

export interface SessionSummary {
  /** Codex thread id (a UUID); another agent's session id. */
  id: string;
  /**
   * The agent that wrote the rollout stream, so every view reads it with
   * that agent's reader (`codex` for sessions stored before stores kept it).
   */
  agent: AgentName;
  /** ISO-8601 UTC with milliseconds, from the first session_meta. */
  created_at: string;
  /** ISO-8601 UTC: the timestamp of the last committed rollout line. */
  updated_at: string;
  cwd: string | null;
  /** The thread name from session_index.jsonl, else the first real user message (truncated). */
  title: string | null;
  archived: boolean;
  /** "cli", "exec", "vscode", "subagent", … (a structured source is reduced to its kind). */
  source: string | null;
  originator: string | null;
  cli_version: string | null;
  model_provider: string | null;
  git: GitInfo | null;
  /** Sub-agent parent (parent_thread_id) or fork origin (forked_from_id). */
  parent_id: string | null;
  forked_from_id: string | null;
  /** Committed lines and bytes of the rollout stream. */
  lines: number;
  bytes: number;
  /**
   * What the whole rollout amounts to, as the store keeps it so a listing
   * never reads rollouts; absent or null from a store that has none for
   * this session (a row written before facts were kept): read the rollout then.
   */
  facts?: SessionFacts | null;
}

export interface StreamInfo {
  name: string;
  lines: number;
  bytes: number;
}

export interface SessionDetail extends SessionSummary {
  streams: StreamInfo[];
  legal_hold: boolean;
}

/** The streams every session may own (DESIGN.md §3); other slugs are allowed. */
export const STREAMS = {
  rollout: "rollout",
  debugLog: "debug-log",
  rawApi: "raw-api",
  metaEvents: "meta-events",
} as const;

/** File names inside `<home>/sessions/<id>/` for the well-known streams. */
export const STREAM_FILES: Record<string, string> = {
  rollout: "rollout.jsonl",
  "debug-log": "session.log",
  "raw-api": "session_oai_raw.log",
  "meta-events": "session_meta.log",
};

/** Fields a writer supplies when it creates or updates a session; counts are derived by the store. */
export type SessionInput = Omit<SessionSummary, "lines" | "bytes" | "updated_at" | "agent"> & {
  updated_at?: string;
  /** Missing means `codex`: every writer before other agents were stored wrote Codex rollouts. */
  agent?: AgentName;
};

/** The writable fields of a summary, in wire order (what `putSession` takes back). */
export function sessionInputOf(s: SessionSummary): SessionInput & { updated_at: string; agent: AgentName } {
  return {
    id: s.id,
    agent: s.agent,
    created_at: s.created_at,
    updated_at: s.updated_at,
    cwd: s.cwd,
    title: s.title,
    archived: s.archived,
    source: s.source,
    originator: s.originator,
    cli_version: s.cli_version,
    model_provider: s.model_provider,
    git: s.git,
    parent_id: s.parent_id,
    forked_from_id: s.forked_from_id,
    ...(s.facts ? { facts: s.facts } : {}),
  };
}

export function emptySummary(id: string, createdAt: string): SessionSummary {
  return {
    id,
    agent: "codex",
    created_at: createdAt,
    updated_at: createdAt,
    cwd: null,
    title: null,
    archived: false,
    source: null,
    originator: null,
    cli_version: null,
    model_provider: null,
    git: null,
    parent_id: null,
    forked_from_id: null,
    lines: 0,
    bytes: 0,
  };
}
