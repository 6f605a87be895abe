import { AGENTS, UsageError, type AgentName } from "@sessionvault/core/store-api";

/** `--agent NAME` of `list` and `sync`: one of the agents sessionvault reads, else a usage error. */
export function parseAgentOption(value: string | undefined): AgentName | null {
  if (value === undefined) return null;
  if (!(AGENTS as readonly string[]).includes(value)) throw new UsageError(`--agent must be one of ${AGENTS.join(", ")}, got ${JSON.stringify(value)}`);
  return value as AgentName;
}
