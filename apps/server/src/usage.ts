import { withSessionFacts, type SessionFacts, type SessionStore, type SessionSummary } from "@sessionvault/core";

export interface UsageRow {
  key: string;
  sessions: number;
  tokens: number;
  duration_ms: number;
}

export interface Usage {
  totals: { sessions: number; tokens_input: number; tokens_output: number; duration_ms: number; files_changed: number };
  byDay: UsageRow[];
  byModel: UsageRow[];
  byRepo: UsageRow[];
  byOutcome: UsageRow[];
}

/** Sums of an org's sessions from their summaries and facts: per day (UTC), model, repository and outcome. */
export function usageOf(sessions: readonly (SessionSummary & SessionFacts)[]): Usage {
  const totals = { sessions: 0, tokens_input: 0, tokens_output: 0, duration_ms: 0, files_changed: 0 };
  const groups = {
    byDay: new Map<string, UsageRow>(),
    byModel: new Map<string, UsageRow>(),
    byRepo: new Map<string, UsageRow>(),
    byOutcome: new Map<string, UsageRow>(),
  };
  for (const s of sessions) {
    const tokens = (s.tokens?.input ?? 0) + (s.tokens?.output ?? 0);
    const duration = s.duration_ms ?? 0;
    totals.sessions++;
    totals.tokens_input += s.tokens?.input ?? 0;
    totals.tokens_output += s.tokens?.output ?? 0;
    totals.duration_ms += duration;
    totals.files_changed += s.files_changed;
    const keys = {
      byDay: s.created_at.slice(0, 10),
      byModel: s.model ?? "(unknown)",
      byRepo: s.git?.repository_url?.replace(/^https?:\/\//, "").replace(/\.git$/, "") ?? "(no repository)",
      byOutcome: s.outcome,
    };
    for (const g of Object.keys(groups) as (keyof typeof groups)[]) {
      const row = groups[g].get(keys[g]) ?? { key: keys[g], sessions: 0, tokens: 0, duration_ms: 0 };
      row.sessions++;
      row.tokens += tokens;
      row.duration_ms += duration;
      groups[g].set(keys[g], row);
    }
  }
  const sorted = (m: Map<string, UsageRow>) => [...m.values()].sort((a, b) => b.sessions - a.sessions || a.key.localeCompare(b.key));
  return {
    totals,
    byDay: [...groups.byDay.values()].sort((a, b) => a.key.localeCompare(b.key)),
    byModel: sorted(groups.byModel),
    byRepo: sorted(groups.byRepo),
    byOutcome: sorted(groups.byOutcome),
  };
}

/** Every session of a store (archived too) with its facts, a page at a time. */
export async function allSessionsWithFacts(store: SessionStore): Promise<(SessionSummary & SessionFacts)[]> {
  const out: (SessionSummary & SessionFacts)[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listSessions({ limit: 200, archived: "all", ...(cursor ? { cursor } : {}) });
    out.push(...(await withSessionFacts(store, page.sessions)));
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return out;
}
