import type { RolloutLine } from "./rollout-line.js";

/**
 * Decides whether a rollout line reaches the disk. The writer queue applies
 * it (`filter` option): lines it rejects are dropped before they are queued.
 */
export type PersistenceFilter = (line: RolloutLine) => boolean;

/**
 * `event_msg` kinds that Codex streams to its UI but never writes to a
 * rollout, in any version or history mode we know of: token-by-token deltas,
 * "begin" events whose "end" (or `item_completed`) carries the result,
 * approval prompts (the decision is recorded elsewhere) and replies to UI
 * queries. Everything else is kept.
 *
 * The list is deliberately a deny-list. Codex's own policy is an allow-list
 * that grew with every release (0.39 kept user/agent messages, reasoning,
 * token counts and `turn_aborted`; later versions added `context_compacted`,
 * `task_started`/`task_complete`, `item_completed`, `thread_settings_applied`,
 * and, with extended history, `exec_command_end`, `patch_apply_end`,
 * `error`, `web_search_*` and more). Mirroring one version's allow-list would
 * silently drop what another version — or the next one — persists, so an
 * unknown kind is kept: a few extra lines cost bytes, a dropped one is lost.
 */
export const TRANSIENT_EVENT_KINDS: ReadonlySet<string> = new Set([
  // Streaming deltas.
  "agent_message_delta",
  "agent_message_content_delta",
  "agent_reasoning_delta",
  "agent_reasoning_raw_content_delta",
  "agent_reasoning_section_break",
  "reasoning_content_delta",
  "reasoning_raw_content_delta",
  "exec_command_output_delta",
  "plan_delta",
  "terminal_interaction",
  "raw_response_item",
  // Begin events: the matching end / item_completed holds the outcome.
  "exec_command_begin",
  "patch_apply_begin",
  "item_started",
  // Approval prompts and UI plumbing.
  "exec_approval_request",
  "apply_patch_approval_request",
  "session_configured",
  "background_event",
  "stream_error",
  "turn_diff",
  "plan_update",
  "get_history_entry_response",
  "mcp_list_tools_response",
  "mcp_startup_update",
  "mcp_startup_complete",
  "list_custom_prompts_response",
  "list_skills_response",
  "skills_update_available",
  "deprecation_notice",
  "undo_started",
  "shutdown_complete",
]);

/** Codex's persistence policy as a filter: keeps every line except transient UI events. */
export const codexPersistencePolicy: PersistenceFilter = (line) => {
  if (line.type !== "event_msg") return true;
  const kind = (line.payload as { type?: unknown }).type;
  return typeof kind !== "string" || !TRANSIENT_EVENT_KINDS.has(kind);
};
