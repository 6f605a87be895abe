import { withSessionFacts } from "./agents/agent-readers.js";
import { redactSecrets } from "./redact.js";
import { redactSummary } from "./redact-summary.js";
import { searchSessions } from "./search-scan.js";
import type { SessionSummary } from "./session.js";
import type { SessionFacts } from "./session-model/session-facts.js";
import type { ListQuery, SessionStore } from "./store.js";

/**
 * Facet counts and usage sums over an org's sessions (the web UI's list
 * facets and usage page). A store with the `aggregates` capability groups
 * the sessions whose facts it keeps itself (Postgres: GROUP BY); core does
 * the rest the same way for every store — the facts of sessions stored
 * without them, redaction, the display values, the order — and scans the
 * summaries of a store without the capability.
 */

/** Filters on a session's facts, beside the list query's own. */
export interface FactFilters {
  outcome?: string;
  model?: string;
  agent?: string;
}

/** The sessions a facet count covers: a list query without its page, plus fact filters. */
/** (Its `agent` is a fact filter here, any string: the list query's is checked to be one of AGENTS.) */
export type FacetQuery = Omit<ListQuery, "limit" | "cursor" | "agent"> & FactFilters;

/** The summary and fact fields a facet groups by, as stored (before redaction). */
export const FACET_FIELDS = ["outcome", "model", "agent", "repository_url", "branch", "cwd"] as const;
export type FacetField = (typeof FACET_FIELDS)[number];

/** One group: a stored value (null when the session has none) and how many sessions hold it. */
export interface GroupCount {
  value: string | null;
  count: number;
}

/** What a driver with the `aggregates` capability answers for a facet query. */
export interface DriverFacets {
  /** The newest `window` matching sessions with stored facts, per field value. */
  groups: Record<FacetField, GroupCount[]>;
  /** Of those, how many were created on or after each of `startedSince` (same order). */
  started: number[];
  /** More matching sessions with stored facts than the `window` counted. */
  truncated: boolean;
  /** The newest `newest` of them, newest first, with their facts. */
  newest: SessionSummary[];
  /** Matching sessions the store keeps no facts for (up to `withoutFactsLimit`, newest first); core reads their facts. */
  withoutFacts: SessionSummary[];
}

export interface UsageGroup {
  value: string | null;
  sessions: number;
  tokens: number;
  duration_ms: number;
}

export const USAGE_FIELDS = ["day", "model", "repository_url", "outcome"] as const;
export type UsageField = (typeof USAGE_FIELDS)[number];

export interface UsageTotals {
  sessions: number;
  tokens_input: number;
  tokens_output: number;
  duration_ms: number;
  files_changed: number;
}

/** What a driver with the `aggregates` capability answers for the usage of all its sessions (archived too). */
export interface DriverUsage {
  /** Over the sessions with stored facts. */
  totals: UsageTotals;
  groups: Record<UsageField, UsageGroup[]>;
  /** Sessions without stored facts (up to `withoutFactsLimit`); core reads their facts. */
  withoutFacts: SessionSummary[];
}

/** The driver side of the `aggregates` capability. */
export interface AggregatingDriver {
  facetGroups(
    query: FacetQuery,
    options: { startedSince: readonly string[]; newest: number; window: number; withoutFactsLimit: number },
  ): Promise<DriverFacets>;
  usageGroups(options: { withoutFactsLimit: number }): Promise<DriverUsage>;
}

export const FACET_KEYS = ["outcome", "model", "agent", "repo", "branch", "cwd"] as const;
export type FacetKey = (typeof FACET_KEYS)[number];

export interface FacetCount {
  value: string;
  count: number;
}

export interface StartedCount {
  label: string;
  /** The `since` filter this count stands for (YYYY-MM-DD). */
  since: string;
  count: number;
}

/** The list page's facets over one query's matches. */
export interface SessionFacets {
  /** Matches counted. */
  total: number;
  /** The bound of a scan was reached: the counts cover the newest `total` matches only. */
  truncated: boolean;
  facets: Record<FacetKey, FacetCount[]>;
  /** Sessions started on or after each date (UTC days: today, the last 7, 30 and 365). */
  started: StartedCount[];
  /** The newest matches (up to the asked number), redacted, with their facts; what a list filtered on facts shows. */
  sessions: (SessionSummary & SessionFacts)[];
  /** Where a scanned text query matched, per session id (stores with a text index give none). */
  snippets: Record<string, string>;
}

export interface UsageRow {
  key: string;
  sessions: number;
  tokens: number;
  duration_ms: number;
}

/** The usage page: sums per day (UTC), model, repository and outcome. */
export interface Usage {
  totals: UsageTotals;
  byDay: UsageRow[];
  byModel: UsageRow[];
  byRepo: UsageRow[];
  byOutcome: UsageRow[];
}

export interface FacetOptions {
  /** Newest matches to return in `sessions` (default 50). */
  newest?: number;
  /** Sessions a scan reads at most (stores without the capability; and sessions without stored facts). Default 500. */
  maxSessions?: number;
  /** Newest matches a grouping store counts (default 5000; with a text query `maxSessions`): a bound on each request's work, as `maxSessions` is for a scan. */
  window?: number;
  now?: number;
}

const STARTED_WINDOWS: { label: string; days: number }[] = [
  { label: "Today", days: 1 },
  { label: "Last 7 days", days: 7 },
  { label: "Last 30 days", days: 30 },
  { label: "Last 365 days", days: 365 },
];

type WithFacts = SessionSummary & SessionFacts;

/**
 * The facets of `query`'s matches. `store` is the opened store; `driver` its
 * driver when that states the `aggregates` capability, else null (scan).
 */
export async function sessionFacets(
  store: SessionStore,
  driver: AggregatingDriver | null,
  query: FacetQuery,
  options: FacetOptions = {},
): Promise<SessionFacets> {
  const newest = options.newest ?? 50;
  const maxSessions = options.maxSessions ?? 500;
  const started = startedSince(options.now ?? Date.now());
  const filters: FactFilters = {
    ...(query.outcome ? { outcome: query.outcome } : {}),
    ...(query.model ? { model: query.model } : {}),
    ...(query.agent ? { agent: query.agent } : {}),
  };
  if (!driver) {
    const scan = await scanMatches(store, query, filters, maxSessions);
    const groups = groupFacets(scan.sessions);
    return finishFacets(groups, started, countStarted(scan.sessions, started), scan.sessions.slice(0, newest), scan.snippets, scan.truncated);
  }
  // A text query costs a look at each candidate's lines: it keeps the scan's bound.
  const window = query.q ? maxSessions : (options.window ?? 5000);
  const answer = await driver.facetGroups(query, { startedSince: started.map((s) => s.since), newest, window, withoutFactsLimit: maxSessions });
  // Sessions stored without facts: read, filtered and grouped as a scan would, then added in.
  const extra = (await withSessionFacts(store, answer.withoutFacts)).filter((s) => matchesFacts(s, filters));
  const groups = mergeGroups(answer.groups, groupFacets(extra));
  const counts = countStarted(extra, started).map((n, i) => n + (answer.started[i] ?? 0));
  const rows = [...(await withSessionFacts(store, answer.newest)), ...extra].sort(newestFirst).slice(0, newest);
  return finishFacets(groups, started, counts, rows, {}, answer.truncated || answer.withoutFacts.length >= maxSessions);
}

/** The usage of every session of the org (archived too). */
export async function sessionUsage(store: SessionStore, driver: AggregatingDriver | null, options: { maxWithoutFacts?: number } = {}): Promise<Usage> {
  if (!driver) {
    const all: WithFacts[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.listSessions({ limit: 200, archived: "all", ...(cursor ? { cursor } : {}) });
      all.push(...(await withSessionFacts(store, page.sessions)));
      cursor = page.next_cursor;
    } while (cursor);
    const { totals, groups } = groupUsage(all);
    return finishUsage(totals, groups);
  }
  const answer = await driver.usageGroups({ withoutFactsLimit: options.maxWithoutFacts ?? 100_000 });
  const extra = groupUsage(await withSessionFacts(store, answer.withoutFacts));
  const totals = { ...answer.totals };
  for (const k of Object.keys(totals) as (keyof UsageTotals)[]) totals[k] += extra.totals[k];
  const groups = {} as Record<UsageField, UsageGroup[]>;
  for (const f of USAGE_FIELDS) groups[f] = [...answer.groups[f], ...extra.groups[f]];
  return finishUsage(totals, groups);
}

async function scanMatches(
  store: SessionStore,
  query: FacetQuery,
  filters: FactFilters,
  maxSessions: number,
): Promise<{ sessions: WithFacts[]; snippets: Record<string, string>; truncated: boolean }> {
  const { outcome: _o, model: _m, agent: _a, ...listQuery } = query;
  const sessions: WithFacts[] = [];
  const snippets: Record<string, string> = {};
  let cursor: string | null = null;
  let read = 0;
  let truncated = false;
  do {
    const page = await searchSessions(store, { ...listQuery, limit: Math.min(200, maxSessions - read), ...(cursor ? { cursor } : {}) });
    read += page.sessions.length;
    for (const s of await withSessionFacts(store, page.sessions)) {
      if (!matchesFacts(s, filters)) continue;
      sessions.push(s);
      const snippet = page.snippets?.[s.id];
      if (snippet !== undefined) snippets[s.id] = snippet;
    }
    cursor = page.next_cursor;
    if (cursor && read >= maxSessions) truncated = true;
  } while (cursor && !truncated);
  return { sessions, snippets, truncated };
}

function matchesFacts(s: SessionFacts, f: FactFilters): boolean {
  return (!f.outcome || s.outcome === f.outcome) && (!f.model || (s.model ?? "") === f.model) && (!f.agent || s.agent === f.agent);
}

/** The stored value of a facet field. */
function fieldOf(s: WithFacts, field: FacetField): string | null {
  switch (field) {
    case "outcome":
      return s.outcome;
    case "model":
      return s.model;
    case "agent":
      return s.agent;
    case "repository_url":
      return s.git?.repository_url ?? null;
    case "branch":
      return s.git?.branch ?? null;
    case "cwd":
      return s.cwd ?? null;
  }
}

function groupFacets(sessions: readonly WithFacts[]): Record<FacetField, GroupCount[]> {
  const out = {} as Record<FacetField, GroupCount[]>;
  for (const field of FACET_FIELDS) {
    const counts = new Map<string | null, number>();
    for (const s of sessions) {
      const v = fieldOf(s, field);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    out[field] = [...counts].map(([value, count]) => ({ value, count }));
  }
  return out;
}

function mergeGroups(a: Record<FacetField, GroupCount[]>, b: Record<FacetField, GroupCount[]>): Record<FacetField, GroupCount[]> {
  const out = {} as Record<FacetField, GroupCount[]>;
  for (const f of FACET_FIELDS) out[f] = [...a[f], ...b[f]];
  return out;
}

/** A repository URL as the facets and usage show it: host and path, no scheme, no `.git`. */
export function repoLabel(url: string): string {
  return url.replace(/^https?:\/\//, "").replace(/\.git$/, "");
}

/** What a stored value shows as, redacted first (a repository URL can hold a password, a directory a key); null is not shown. */
function facetLabel(field: FacetField, value: string | null): string | null {
  if (value === null || value === "") return null;
  switch (field) {
    case "repository_url":
      return repoLabel(redactSecrets(value));
    case "branch":
    case "cwd":
      return redactSecrets(value);
    default:
      return value;
  }
}

const FACET_OF_FIELD: Record<FacetField, FacetKey> = {
  outcome: "outcome",
  model: "model",
  agent: "agent",
  repository_url: "repo",
  branch: "branch",
  cwd: "cwd",
};

function finishFacets(
  groups: Record<FacetField, GroupCount[]>,
  started: { label: string; since: string }[],
  startedCounts: number[],
  rows: WithFacts[],
  snippets: Record<string, string>,
  truncated: boolean,
): SessionFacets {
  const facets = {} as Record<FacetKey, FacetCount[]>;
  for (const field of FACET_FIELDS) {
    const counts = new Map<string, number>();
    for (const g of groups[field]) {
      const label = facetLabel(field, g.value);
      if (label !== null && label !== "") counts.set(label, (counts.get(label) ?? 0) + g.count);
    }
    facets[FACET_OF_FIELD[field]] = [...counts].map(([value, count]) => ({ value, count })).sort(byCountThenValue);
  }
  const total = groups.outcome.reduce((n, g) => n + g.count, 0);
  return {
    total,
    truncated,
    facets,
    started: started.map((s, i) => ({ ...s, count: startedCounts[i] ?? 0 })),
    sessions: rows.map(redactSummary),
    snippets,
  };
}

function byCountThenValue(a: { value: string; count: number }, b: { value: string; count: number }): number {
  return b.count - a.count || a.value.localeCompare(b.value);
}

function newestFirst(a: SessionSummary, b: SessionSummary): number {
  return a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Whole UTC days, so that each count is exactly what the store's `since` filter of that date returns. */
function startedSince(now: number): { label: string; since: string }[] {
  const d = new Date(now);
  const today = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  return STARTED_WINDOWS.map(({ label, days }) => ({ label, since: new Date(today - (days - 1) * 86_400_000).toISOString().slice(0, 10) }));
}

function countStarted(sessions: readonly SessionSummary[], started: readonly { since: string }[]): number[] {
  return started.map(({ since }) => sessions.filter((s) => s.created_at >= since).length);
}

function groupUsage(sessions: readonly WithFacts[]): { totals: UsageTotals; groups: Record<UsageField, UsageGroup[]> } {
  const totals: UsageTotals = { sessions: 0, tokens_input: 0, tokens_output: 0, duration_ms: 0, files_changed: 0 };
  const maps = Object.fromEntries(USAGE_FIELDS.map((f) => [f, new Map<string | null, UsageGroup>()])) as Record<UsageField, Map<string | null, UsageGroup>>;
  for (const s of sessions) {
    const tokens = (s.tokens?.input ?? 0) + (s.tokens?.output ?? 0);
    const duration = s.duration_ms ?? 0;
    totals.sessions++;
    totals.tokens_input += s.tokens?.input ?? 0;
    totals.tokens_output += s.tokens?.output ?? 0;
    totals.duration_ms += duration;
    totals.files_changed += s.files_changed;
    const values: Record<UsageField, string | null> = {
      day: s.created_at.slice(0, 10),
      model: s.model,
      repository_url: s.git?.repository_url ?? null,
      outcome: s.outcome,
    };
    for (const f of USAGE_FIELDS) {
      const row = maps[f].get(values[f]) ?? { value: values[f], sessions: 0, tokens: 0, duration_ms: 0 };
      row.sessions++;
      row.tokens += tokens;
      row.duration_ms += duration;
      maps[f].set(values[f], row);
    }
  }
  const groups = {} as Record<UsageField, UsageGroup[]>;
  for (const f of USAGE_FIELDS) groups[f] = [...maps[f].values()];
  return { totals, groups };
}

const USAGE_LABEL: Record<UsageField, (v: string | null) => string> = {
  day: (v) => v ?? "",
  model: (v) => v ?? "(unknown)",
  repository_url: (v) => (v ? repoLabel(redactSecrets(v)) : "(no repository)"),
  outcome: (v) => v ?? "unknown",
};

function finishUsage(totals: UsageTotals, groups: Record<UsageField, UsageGroup[]>): Usage {
  const rows = (f: UsageField) => {
    const m = new Map<string, UsageRow>();
    for (const g of groups[f]) {
      const key = USAGE_LABEL[f](g.value);
      const row = m.get(key) ?? { key, sessions: 0, tokens: 0, duration_ms: 0 };
      row.sessions += g.sessions;
      row.tokens += g.tokens;
      row.duration_ms += g.duration_ms;
      m.set(key, row);
    }
    return [...m.values()];
  };
  const sorted = (r: UsageRow[]) => r.sort((a, b) => b.sessions - a.sessions || a.key.localeCompare(b.key));
  return {
    totals,
    byDay: rows("day").sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    byModel: sorted(rows("model")),
    byRepo: sorted(rows("repository_url")),
    byOutcome: sorted(rows("outcome")),
  };
}
