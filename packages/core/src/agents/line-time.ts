import type { AgentName } from "./agent-name.js";
import { lineTimestamp } from "./codex/line-timestamp.js";

/**
 * Claude Code stamps every record (`timestamp`, after its message); Gemini
 * CLI its chat (`startTime`, `lastUpdated`) and messages (`timestamp`).
 * Inside a JSON string a quote is escaped, so only keys of the record match.
 */
const AGENT_TIME = /"(?:timestamp|startTime|lastUpdated)"\s*:\s*"(\d{4}-\d{2}-\d{2}T[^"\\]{1,30})"/g;

/**
 * The time of one transcript line of `agent`, for a session's `updated_at`
 * (and so for retention), the same in every store: a Codex line's envelope
 * timestamp (`lineTimestamp`, unchanged); for another agent the latest time
 * its record holds. Null for a line without one.
 */
export function agentLineTime(agent: AgentName, text: string): string | null {
  if (agent === "codex") return lineTimestamp(text);
  let last: number | null = null;
  for (const m of text.matchAll(AGENT_TIME)) {
    const t = Date.parse(m[1]!);
    if (!Number.isNaN(t) && (last === null || t > last)) last = t;
  }
  return last === null ? null : new Date(last).toISOString();
}
