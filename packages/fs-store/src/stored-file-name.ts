import { localStamp, rolloutFileName, type AgentName, type RolloutName } from "@sessionvault/core/store-api";

/**
 * File names of the transcripts an fs store keeps in its Codex layout
 * (README "Other agents' sessions"). A Codex rollout is
 * `rollout-<local time>-<id>.jsonl`, as Codex names it; another agent's
 * transcript sits in the same dated folders (or `archived_sessions/`) as
 * `<agent>-<local time>-<id>.jsonl`. Codex lists only files named
 * `rollout-…`, so it never takes those for its own, and the store finds,
 * pages, archives, locks and expires every session the same way.
 */
export interface StoredName extends RolloutName {
  agent: AgentName;
}

const OTHER_AGENT = /^(claude-code|gemini-cli)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/;

/** Codex's rollout name (as core's parseRolloutName reads it), tested without captures: a walk parses every name of a home. */
const CODEX_ROLLOUT = /^rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jsonl(?:\.zst)?$/;

export function parseStoredName(name: string): StoredName | null {
  // rollout-<19-char time>-<36-char id>.jsonl: the key is the time and the id.
  if (CODEX_ROLLOUT.test(name)) return { id: name.slice(28, 64), key: name.slice(8, 64), compressed: name.length > 70, agent: "codex" };
  const m = OTHER_AGENT.exec(name);
  if (!m) return null;
  return { id: m[3]!, key: `${m[2]}-${m[3]}`, compressed: false, agent: m[1] as AgentName };
}

/** The file name of a session created at `created` (local time, as Codex names its files). */
export function storedFileName(agent: AgentName, id: string, created: Date): string {
  return agent === "codex" ? rolloutFileName(id, created) : `${agent}-${localStamp(created)}-${id}.jsonl`;
}
