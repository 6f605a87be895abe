import type { SessionInput } from "../session.js";

/**
 * Rollout lines shaped like the ones the real Codex CLI writes (0.98 layout,
 * see fixtures/codex/0.98.0), for writers that create Codex-compatible
 * sessions and for the conformance suite. A `session_meta` first, then a real
 * user message, is what makes Codex (and fs-store) treat a file as a visible
 * session.
 */

/** The `session_meta` line Codex writes as rollout line 0 for `input`. */
export function sessionMetaLine(input: SessionInput): string {
  const payload: Record<string, unknown> = {
    id: input.id,
    timestamp: input.created_at,
  };
  if (input.forked_from_id) payload.forked_from_id = input.forked_from_id;
  if (input.cwd !== null) payload.cwd = input.cwd;
  if (input.originator !== null) payload.originator = input.originator;
  if (input.cli_version !== null) payload.cli_version = input.cli_version;
  if (input.source === "subagent" && input.parent_id) {
    payload.source = { subagent: { thread_spawn: { parent_thread_id: input.parent_id, depth: 1 } } };
    payload.parent_thread_id = input.parent_id;
  } else if (input.source !== null) {
    payload.source = input.source;
  }
  if (input.model_provider !== null) payload.model_provider = input.model_provider;
  payload.base_instructions = { text: "You are Codex, a coding agent." };
  if (input.git) {
    const git: Record<string, string> = {};
    if (input.git.commit_hash !== null) git.commit_hash = input.git.commit_hash;
    if (input.git.branch !== null) git.branch = input.git.branch;
    if (input.git.repository_url !== null) git.repository_url = input.git.repository_url;
    payload.git = git;
  }
  return JSON.stringify({ timestamp: input.created_at, type: "session_meta", payload });
}

/**
 * The two lines Codex writes for one real user message: the model-facing
 * `response_item` and the UI-facing `event_msg`.
 */
export function userMessageLines(text: string, timestamp: string): string[] {
  return [
    JSON.stringify({
      timestamp,
      type: "response_item",
      payload: { type: "message", role: "user", content: [{ type: "input_text", text }] },
    }),
    JSON.stringify({
      timestamp,
      type: "event_msg",
      payload: { type: "user_message", message: text, images: [], local_images: [], text_elements: [] },
    }),
  ];
}

/** An assistant reply as Codex persists it. */
export function agentMessageLines(text: string, timestamp: string): string[] {
  return [
    JSON.stringify({
      timestamp,
      type: "response_item",
      payload: { type: "message", role: "assistant", content: [{ type: "output_text", text }] },
    }),
    JSON.stringify({ timestamp, type: "event_msg", payload: { type: "agent_message", message: text } }),
  ];
}

/**
 * The head of a new session's rollout: `session_meta`, then the first user
 * message, whose text is the session's title (`input.title`, or "hello").
 */
export function sessionHeadLines(input: SessionInput): string[] {
  return [sessionMetaLine(input), ...userMessageLines(input.title ?? "hello", input.created_at)];
}
