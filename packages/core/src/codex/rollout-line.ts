/**
 * Codex rollout lines (DESIGN.md §4). Known kinds are typed; every type is
 * open (`[key: string]: unknown`) because each Codex version adds fields,
 * and unknown kinds and fields must survive untouched. We never re-serialise
 * a line: the stored text is the source of truth, these types only read it.
 */
export interface RolloutLine<K extends string = string, P = Record<string, unknown>> {
  timestamp: string;
  type: K;
  payload: P;
  ordinal?: number;
  [key: string]: unknown;
}

export interface SessionMetaPayload {
  id: string;
  timestamp?: string;
  cwd?: string;
  originator?: string;
  cli_version?: string;
  source?: string | { subagent?: { thread_spawn?: { parent_thread_id?: string; depth?: number } } | string; [key: string]: unknown };
  model_provider?: string;
  parent_thread_id?: string;
  forked_from_id?: string;
  thread_source?: string;
  agent_nickname?: string;
  instructions?: string;
  base_instructions?: unknown;
  [key: string]: unknown;
}

/** 0.39–0.98 write `git` next to `meta` in the payload; newer ones may nest. */
export interface SessionMetaLinePayload extends SessionMetaPayload {
  git?: { commit_hash?: string; branch?: string; repository_url?: string; [key: string]: unknown };
}

export interface ResponseItemPayload {
  type: string; // message | reasoning | function_call | function_call_output | custom_tool_call | custom_tool_call_output | local_shell_call | web_search_call | …
  [key: string]: unknown;
}

export interface EventMsgPayload {
  type: string; // task_started | task_complete | turn_aborted | user_message | agent_message | exec_command_end | patch_apply_end | item_completed | token_count | …
  [key: string]: unknown;
}

export type SessionMetaLine = RolloutLine<"session_meta", SessionMetaLinePayload>;
export type ResponseItemLine = RolloutLine<"response_item", ResponseItemPayload>;
export type EventMsgLine = RolloutLine<"event_msg", EventMsgPayload>;
export type TurnContextLine = RolloutLine<"turn_context", Record<string, unknown>>;
export type CompactedLine = RolloutLine<"compacted", Record<string, unknown>>;

export const KNOWN_KINDS = ["session_meta", "response_item", "event_msg", "turn_context", "compacted", "world_state", "token_usage_record"] as const;

/** True when `value` has the rollout envelope (`type` string and object `payload`). */
export function isRolloutLine(value: unknown): value is RolloutLine {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.type === "string" && typeof v.payload === "object" && v.payload !== null;
}
