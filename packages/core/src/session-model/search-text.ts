import type { SessionEvent } from "./session-event.js";

/**
 * What a search finds a session by, from one model event: what the user and
 * the agent said, the commands run, the tools called with their input, the
 * files changed. Null for everything else (reasoning, outputs, bookkeeping).
 * The Postgres index and the scan of a plain directory both use this, so
 * they find the same sessions.
 */
export function searchTextOf(e: SessionEvent): string | null {
  switch (e.type) {
    case "message":
      return e.text;
    case "command":
      return e.command ?? (e.argv ? e.argv.join(" ") : null);
    case "tool_call":
      return [e.command, e.input].filter((t): t is string => t !== null && t !== "").join("\n") || null;
    case "file_change":
      return e.paths.length ? e.paths.join("\n") : null;
    default:
      return null;
  }
}
