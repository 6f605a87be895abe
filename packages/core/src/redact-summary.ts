import { redactSecrets } from "./redact.js";
import type { GitInfo, SessionSummary } from "./session.js";

/**
 * The one redaction pass for a session summary, used by every output that
 * shows one (CLI `list`/`show`, the API's session routes, the web UI):
 * titles, directories, branches and repository URLs can all hold a pasted
 * key or a URL with `user:password@`. Ids and timestamps are kept (they are
 * validated, and they are how the session is named). Returns the same
 * object when nothing needed redacting.
 */
export function redactSummary<T extends SessionSummary>(s: T): T {
  let out: T | null = null;
  const set = <K extends keyof T>(key: K, value: T[K]) => {
    out ??= { ...s };
    out[key] = value;
  };
  for (const key of TEXT_FIELDS) {
    const v = s[key];
    if (typeof v !== "string") continue;
    const r = redactSecrets(v);
    if (r !== v) set(key, r as T[typeof key]);
  }
  if (s.git) {
    const git = redactGit(s.git);
    if (git !== s.git) set("git", git as T["git"]);
  }
  return out ?? s;
}

const TEXT_FIELDS = ["title", "cwd", "source", "originator", "cli_version", "model_provider", "parent_id", "forked_from_id"] as const;

function redactGit(g: GitInfo): GitInfo {
  const branch = g.branch === null ? null : redactSecrets(g.branch);
  const url = g.repository_url === null ? null : redactSecrets(g.repository_url);
  const commit = g.commit_hash === null ? null : redactSecrets(g.commit_hash);
  if (branch === g.branch && url === g.repository_url && commit === g.commit_hash) return g;
  return { commit_hash: commit, branch, repository_url: url };
}
