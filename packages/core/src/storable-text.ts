import { InvalidFieldError } from "./errors.js";
import type { SessionInput } from "./session.js";
import type { ListQuery } from "./store.js";

/**
 * What every store can keep of a string: Postgres text and jsonb refuse NUL
 * (U+0000), and a lone surrogate has no UTF-8 form (drivers silently turn it
 * into U+FFFD, so the stored value would not be the one given). Session
 * summaries and list filters are checked against this at the edges (the
 * server's routes) and by stores that cannot keep such values, so a bad
 * value is a 400 naming its field, never a database error.
 */
export function unstorableReason(value: string): string | null {
  if (value.includes("\u0000")) return "contains a NUL character (U+0000), which cannot be stored";
  // String.prototype.isWellFormed is in Node 20; the project's TypeScript lib predates it.
  if (!(value as unknown as { isWellFormed(): boolean }).isWellFormed()) return "contains a lone UTF-16 surrogate (not valid Unicode), which cannot be stored";
  return null;
}

const SUMMARY_TEXT = [
  "id",
  "created_at",
  "updated_at",
  "cwd",
  "title",
  "source",
  "originator",
  "cli_version",
  "model_provider",
  "parent_id",
  "forked_from_id",
] as const;
const GIT_TEXT = ["commit_hash", "branch", "repository_url"] as const;
const FILTER_TEXT = ["cursor", "cwd", "repo", "branch", "model_provider", "q", "since", "until"] as const;

/** Throws InvalidFieldError naming the first summary field a store cannot keep. */
export function assertStorableSummary(input: SessionInput): void {
  for (const key of SUMMARY_TEXT) check(input[key], key);
  if (input.git) for (const key of GIT_TEXT) check(input.git[key], `git.${key}`);
  if (input.facts) {
    check(input.facts.agent, "facts.agent");
    check(input.facts.model, "facts.model");
    for (const c of input.facts.children) check(c, "facts.children");
  }
}

/** Throws InvalidFieldError naming the first list filter that no stored value could match. */
export function assertStorableFilters(query: Omit<ListQuery, "agent">): void {
  for (const key of FILTER_TEXT) check(query[key], key);
}

function check(value: unknown, field: string): void {
  if (typeof value !== "string") return;
  const reason = unstorableReason(value);
  if (reason) throw new InvalidFieldError(field, reason);
}
