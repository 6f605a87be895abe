import { isSessionId } from "../ids.js";

/**
 * The session (Codex thread) a model request belongs to, from its headers.
 *
 * Real Codex sends its own thread id as `thread-id` and inside the JSON of
 * `x-codex-turn-metadata` (0.169), or as `session_id` / `conversation_id`
 * (0.39–0.98). 0.169's `session-id` header and the body's `prompt_cache_key`
 * name the ROOT session, so a sub-agent's requests would be filed under its
 * parent: they are deliberately not used.
 *
 * Claude Code (2.1.x) sends `x-claude-code-session-id`; its sub-agents send
 * their parent's id there (and their own in `x-claude-code-agent-id`), which
 * is right for Claude Code: a sub-agent's transcript lives in its parent's
 * session folder, and so do its exchanges. Older Claude Code builds send no
 * session header; their session is found by the transcript they create.
 */
export function sessionIdFromHeaders(headers: Record<string, string | string[] | undefined>): string | null {
  const get = (name: string): string | undefined => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const candidates = [
    get("x-claude-code-session-id"),
    get("thread-id"),
    turnMetadataThreadId(get("x-codex-turn-metadata")),
    get("session_id"),
    get("conversation_id"),
  ];
  for (const c of candidates) {
    const id = c?.trim().toLowerCase();
    if (id && isSessionId(id)) return id;
  }
  return null;
}

function turnMetadataThreadId(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const meta = JSON.parse(value) as unknown;
    if (meta && typeof meta === "object" && typeof (meta as { thread_id?: unknown }).thread_id === "string") {
      return (meta as { thread_id: string }).thread_id;
    }
  } catch {
    // A malformed header is simply not an id carrier.
  }
  return undefined;
}
