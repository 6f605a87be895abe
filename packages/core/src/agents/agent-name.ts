/**
 * The agents whose transcripts can be read and stored; a new agent is one
 * folder beside this file plus one entry here. Kept apart from the readers
 * so that checking a summary's `agent` loads no reader.
 */
export const AGENTS = ["codex", "claude-code", "gemini-cli"] as const;
export type AgentName = (typeof AGENTS)[number];

export function isAgentName(value: unknown): value is AgentName {
  return typeof value === "string" && (AGENTS as readonly string[]).includes(value);
}
