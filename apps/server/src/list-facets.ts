import { redactSummary, searchSessions, withSessionFacts } from "@sessionvault/core";
import type { ListQuery, SessionFacts, SessionStore, SessionSummary } from "@sessionvault/core";

/** Filters on a session's facts (outcome, model, agent), which no store's list query takes, so they are applied here. */
export interface FactFilters {
  outcome?: string;
  model?: string;
  agent?: string;
}

export const FACET_KEYS = ["outcome", "model", "agent", "repo", "branch", "cwd"] as const;
export type FacetKey = (typeof FACET_KEYS)[number];

export interface FacetCount {
  value: string;
  count: number;
}

/** The sessions of one query, read up to a bound, with what the list's facets count over them. */
export interface FacetScan {
  sessions: (SessionSummary & SessionFacts)[];
  snippets: Record<string, string>;
  /** The bound was reached: counts cover the newest `sessions.length` matches only. */
  truncated: boolean;
  facets: Record<FacetKey, FacetCount[]>;
  /** Sessions started on or after each date (UTC days: today, the last 7, 30 and 365). */
  started: StartedCount[];
}

export interface StartedCount {
  label: string;
  /** The `since` filter this count stands for (YYYY-MM-DD). */
  since: string;
  count: number;
}

const STARTED_WINDOWS: { label: string; days: number }[] = [
  { label: "Today", days: 1 },
  { label: "Last 7 days", days: 7 },
  { label: "Last 30 days", days: 30 },
  { label: "Last 365 days", days: 365 },
];

/**
 * Reads the matches of `query` (newest first) and counts them per facet value. The read is bounded because
 * fs and S3 stores have no aggregate query, and a session written before facts were stored has its rollout read.
 */
export async function scanFacets(store: SessionStore, query: ListQuery, filters: FactFilters, maxSessions: number, now = Date.now()): Promise<FacetScan> {
  const { cursor: _cursor, limit: _limit, ...rest } = query;
  const sessions: (SessionSummary & SessionFacts)[] = [];
  const snippets: Record<string, string> = {};
  let cursor: string | null = null;
  let read = 0;
  let truncated = false;
  do {
    const page = await searchSessions(store, { ...rest, limit: Math.min(200, maxSessions - read), ...(cursor ? { cursor } : {}) });
    read += page.sessions.length;
    // Redacted before counting: a facet shows its values, and a repository URL can hold a password.
    for (const s of (await withSessionFacts(store, page.sessions)).map(redactSummary)) {
      if (matchesFacts(s, filters)) {
        sessions.push(s);
        const snippet = page.snippets?.[s.id];
        if (snippet !== undefined) snippets[s.id] = snippet;
      }
    }
    cursor = page.next_cursor;
    if (cursor && read >= maxSessions) truncated = true;
  } while (cursor && !truncated);
  return { sessions, snippets, truncated, facets: countFacets(sessions), started: countStarted(sessions, now) };
}

function matchesFacts(s: SessionFacts, f: FactFilters): boolean {
  return (!f.outcome || s.outcome === f.outcome) && (!f.model || (s.model ?? "") === f.model) && (!f.agent || s.agent === f.agent);
}

/** The value a facet files a session under, or null when the session has none (it is then not counted). */
export function facetValue(s: SessionSummary & SessionFacts, key: FacetKey): string | null {
  switch (key) {
    case "outcome":
      return s.outcome;
    case "model":
      return s.model;
    case "agent":
      return s.agent;
    case "repo":
      return s.git?.repository_url ? s.git.repository_url.replace(/^https?:\/\//, "").replace(/\.git$/, "") : null;
    case "branch":
      return s.git?.branch ?? null;
    case "cwd":
      return s.cwd ?? null;
  }
}

/** Whole UTC days, so that each count is exactly what the store's `since` filter of that date returns. */
function countStarted(sessions: readonly SessionSummary[], now: number): StartedCount[] {
  const today = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate());
  return STARTED_WINDOWS.map(({ label, days }) => {
    const since = new Date(today - (days - 1) * 86_400_000).toISOString().slice(0, 10);
    return { label, since, count: sessions.filter((s) => s.created_at >= since).length };
  });
}

function countFacets(sessions: readonly (SessionSummary & SessionFacts)[]): Record<FacetKey, FacetCount[]> {
  const out = {} as Record<FacetKey, FacetCount[]>;
  for (const key of FACET_KEYS) {
    const counts = new Map<string, number>();
    for (const s of sessions) {
      const v = facetValue(s, key);
      if (v !== null && v !== "") counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    out[key] = [...counts].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
  }
  return out;
}
