import { resolve } from "node:path";
import {
  redactSecrets,
  redactSummary,
  UsageError,
  searchSessions,
  sessionInputOf,
  summaryFacts,
  type ListQuery,
  type SearchPage,
  type SessionFacts,
  type SessionSummary,
} from "@sessionvault/core/store-api";
import { printJson, type CliContext } from "../io.js";
import { terminalSafe } from "../terminal-text.js";
import { openStoreArg } from "../stores.js";

export interface ListOptions {
  store?: string;
  limit?: string | number;
  cursor?: string;
  archived?: boolean;
  all?: boolean;
  cwd?: string;
  /** Full-text search: the store's index (Postgres, the archive server), else a scan of the rollouts. */
  search?: string;
  /** commander's `--no-redact` sets this to false. */
  redact?: boolean;
  json?: boolean;
}

export const DEFAULT_LIST_LIMIT = 50;

/** `sessionvault list`: one page of sessions, newest first (DESIGN.md §10). */
export async function list(options: ListOptions, ctx: CliContext): Promise<void> {
  if (options.archived && options.all) throw new UsageError("use either --archived or --all, not both");
  const limit = parseLimit(options.limit);
  const query: ListQuery = {
    limit,
    cursor: options.cursor ?? null,
    archived: options.all ? "all" : options.archived ? "archived" : "active",
    ...(options.cwd !== undefined ? { cwd: resolve(ctx.cwd, options.cwd) } : {}),
  };
  if (options.search !== undefined) {
    if (options.search.trim() === "") throw new UsageError("--search needs some text");
    query.q = options.search;
  }
  const store = await openStoreArg(ctx, options.store);
  try {
    // A store without a text index (a Codex home) is read through until the page is full.
    const page: SearchPage = query.q ? await searchSessions(store, query, { maxScanBytes: Infinity, maxSessions: Infinity }) : await store.listSessions(query);
    const redact = options.redact !== false;
    const sessions = redact ? page.sessions.map(redactSummary) : page.sessions;
    // A snippet is message text: it is redacted like the summary.
    const snippets = page.snippets && redact ? Object.fromEntries(Object.entries(page.snippets).map(([id, t]) => [id, redactSecrets(t)])) : page.snippets;
    if (options.json) {
      const withFacts = [];
      for (const s of sessions) {
        const json = sessionJson(s, await summaryFacts(store, s));
        withFacts.push(snippets?.[s.id] !== undefined ? { ...json, snippet: snippets[s.id] } : json);
      }
      printJson(ctx, { sessions: withFacts, next_cursor: page.next_cursor });
      return;
    }
    ctx.stdout.write(table(sessions, snippets));
    if (page.next_cursor) ctx.stderr.write(`sessionvault: more sessions: add --cursor ${page.next_cursor}\n`);
  } finally {
    await store.close();
  }
}

function parseLimit(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_LIST_LIMIT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--limit must be a whole number from 1 to 1000, got ${JSON.stringify(String(value))}`);
  return n;
}

/** The session object of `list --json` and `show --json`, fields in the documented order (docs/sessions.md). */
export function sessionJson(s: SessionSummary, f: SessionFacts): Record<string, unknown> {
  const { facts: _nested, ...input } = sessionInputOf(s);
  return {
    ...input,
    lines: s.lines,
    bytes: s.bytes,
    agent: f.agent,
    model: f.model,
    outcome: f.outcome,
    turns: f.turns,
    tokens: f.tokens,
    duration_ms: f.duration_ms,
    files_changed: f.files_changed,
    children: f.children,
  };
}

/** One row per session; under it, when searching, where the text matched. */
function table(sessions: SessionSummary[], snippets?: Record<string, string>): string {
  if (sessions.length === 0) return "no sessions\n";
  const rows = sessions.map((s) => [
    s.id,
    s.created_at.slice(0, 16).replace("T", " "),
    terminalSafe(s.source ?? "-") + (s.archived ? " (archived)" : ""),
    String(s.lines),
    oneLine(s.title ?? "(untitled)", 72),
  ]);
  const head = ["ID", "CREATED (UTC)", "SOURCE", "LINES", "TITLE"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === 3 ? c.padStart(widths[i]!) : i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const lines = [fmt(head)];
  sessions.forEach((s, i) => {
    lines.push(fmt(rows[i]!));
    const snippet = snippets?.[s.id];
    if (snippet !== undefined) lines.push(`    ${oneLine(snippet, 100)}`);
  });
  return lines.join("\n") + "\n";
}

export function oneLine(text: string, max: number): string {
  const t = text.replace(/\s+/g, " ").trim();
  // Cut first, escape after: an escape sequence is never cut in half.
  return terminalSafe(t.length > max ? t.slice(0, max - 1) + "…" : t);
}
