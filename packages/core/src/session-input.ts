import { assertSessionId } from "./ids.js";
import { AGENTS, isAgentName, type AgentName } from "./agents/agent-name.js";
import { InvalidFieldError, InvalidInputError } from "./errors.js";
import type { SessionFacts, SessionOutcome } from "./session-model/session-facts.js";
import type { TokenUsage } from "./session-model/session-event.js";
import type { GitInfo, SessionInput } from "./session.js";

/**
 * The one normalisation of a summary a writer hands to `putSession`, applied
 * by the checked store layer before any store sees it (docs/architecture.md):
 * a missing optional field is `null`, times are ISO-8601 UTC with
 * milliseconds, `git` has its three keys or is `null`, and `updated_at`
 * is left to the store (it follows the rollout). Fields this function
 * does not know are passed on untouched, so a newer summary loses nothing.
 */
export function normaliseSessionInput(input: SessionInput): SessionInput {
  if (typeof input !== "object" || input === null) throw new InvalidInputError("a session summary must be an object");
  const id = assertSessionId(input.id);
  const out: SessionInput = {
    ...input,
    id,
    agent: agent(input.agent),
    created_at: isoTime(input.created_at, "created_at"),
    cwd: text(input.cwd, "cwd"),
    title: text(input.title, "title"),
    archived: input.archived ?? false,
    source: text(input.source, "source"),
    originator: text(input.originator, "originator"),
    cli_version: text(input.cli_version, "cli_version"),
    model_provider: text(input.model_provider, "model_provider"),
    git: git(input.git),
    parent_id: text(input.parent_id, "parent_id"),
    forked_from_id: text(input.forked_from_id, "forked_from_id"),
  };
  // Facts left out stay out: the store keeps the ones it has (docs/sessions.md).
  if (input.facts !== undefined) out.facts = input.facts === null ? null : facts(input.facts);
  // Facts are read with the agent's reader: facts of another agent describe another transcript.
  if (out.facts && out.facts.agent !== out.agent)
    throw new InvalidFieldError("facts.agent", `is ${JSON.stringify(out.facts.agent)} but the session's agent is ${JSON.stringify(out.agent)}`);
  if (typeof out.archived !== "boolean") throw new InvalidInputError(`archived must be true or false, got ${JSON.stringify(input.archived)}`);
  // updated_at is the rollout's: the timestamp of its last timestamped line, derived by the store.
  // A writer's claim is checked and then dropped, so no store can report it instead.
  if (input.updated_at !== undefined && input.updated_at !== null) isoTime(input.updated_at, "updated_at");
  delete out.updated_at;
  return out;
}

/** Any date `Date` parses, as `YYYY-MM-DDThh:mm:ss.sssZ`; anything else is an InvalidInputError. */
export function isoTime(value: unknown, what: string): string {
  const d = typeof value === "string" ? new Date(value) : value instanceof Date ? value : null;
  if (!d || Number.isNaN(d.getTime())) throw new InvalidInputError(`${what} ${JSON.stringify(value)} is not a date: expected ISO-8601`);
  return d.toISOString();
}

/** The agent that wrote the rollout; missing is `codex` (every writer before other agents were stored). */
function agent(value: unknown): AgentName {
  if (value === undefined || value === null) return "codex";
  if (!isAgentName(value)) throw new InvalidFieldError("agent", `must be one of ${AGENTS.join(", ")}, got ${JSON.stringify(value)}`);
  return value;
}

function text(value: unknown, what: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new InvalidInputError(`${what} must be a string or null, got ${JSON.stringify(value)}`);
  return value;
}

function git(value: Partial<GitInfo> | null | undefined): GitInfo | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object") throw new InvalidInputError(`git must be an object or null, got ${JSON.stringify(value)}`);
  return {
    commit_hash: text(value.commit_hash, "git.commit_hash"),
    branch: text(value.branch, "git.branch"),
    repository_url: text(value.repository_url, "git.repository_url"),
  };
}

const OUTCOMES: readonly SessionOutcome[] = ["completed", "failed", "interrupted", "in_progress", "unknown"];

/** Session facts with exactly their documented fields, checked (a store keeps them as given and lists them unread). */
function facts(value: unknown): SessionFacts {
  if (typeof value !== "object" || value === null) throw new InvalidInputError(`facts must be an object or null, got ${JSON.stringify(value)}`);
  const f = value as Partial<Record<keyof SessionFacts, unknown>>;
  if (!isAgentName(f.agent)) throw new InvalidInputError(`facts.agent must be one of ${AGENTS.join(", ")}, got ${JSON.stringify(f.agent)}`);
  if (!OUTCOMES.includes(f.outcome as SessionOutcome))
    throw new InvalidInputError(`facts.outcome must be one of ${OUTCOMES.join(", ")}, got ${JSON.stringify(f.outcome)}`);
  if (!Array.isArray(f.children) || !f.children.every((c) => typeof c === "string"))
    throw new InvalidInputError("facts.children must be an array of session ids");
  return {
    agent: f.agent,
    model: text(f.model, "facts.model"),
    outcome: f.outcome as SessionOutcome,
    turns: count(f.turns, "facts.turns"),
    tokens: f.tokens === undefined || f.tokens === null ? null : tokens(f.tokens),
    duration_ms: f.duration_ms === undefined || f.duration_ms === null ? null : count(f.duration_ms, "facts.duration_ms"),
    files_changed: count(f.files_changed, "facts.files_changed"),
    children: [...(f.children as string[])],
  };
}

function tokens(value: unknown): TokenUsage {
  if (typeof value !== "object" || value === null) throw new InvalidInputError(`facts.tokens must be an object or null, got ${JSON.stringify(value)}`);
  const t = value as Partial<Record<keyof TokenUsage, unknown>>;
  return {
    input: count(t.input, "facts.tokens.input"),
    cached_input: count(t.cached_input, "facts.tokens.cached_input"),
    output: count(t.output, "facts.tokens.output"),
    reasoning: count(t.reasoning, "facts.tokens.reasoning"),
  };
}

function count(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    throw new InvalidInputError(`${what} must be a whole number ≥ 0, got ${JSON.stringify(value)}`);
  return value;
}
