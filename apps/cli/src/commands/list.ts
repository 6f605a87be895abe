import { resolve } from "node:path";
import {
  redactSecrets,
  redactSummary,
  UsageError,
  searchSessions,
  sessionInputOf,
  summaryFacts,
  type ListQuery,
  type OpenedStore,
  type SearchPage,
  type SessionFacts,
  type SessionSummary,
} from "@sessionvault/core/store-api";
import { parseAgentOption } from "../agent-option.js";
import { printJson, type CliContext } from "../io.js";
import { terminalSafe } from "../terminal-text.js";
import { storeHomeKind } from "@sessionvault/fs-store";
import { localAgentHomes, openStoreArg, storeArg } from "../stores.js";

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
  /** Only this agent's sessions: codex, claude-code or gemini-cli. */
  agent?: string;
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
  const agent = parseAgentOption(options.agent);
  // Every store filters by agent itself (a Postgres column, a summary field, a home's own agent).
  if (agent !== null) query.agent = agent;
  const stores: OpenedStore[] = [];
  try {
    if (options.store !== undefined) {
      // A search over a Codex home keeps its summaries and search index in the user's cache directory; an agent home keeps its summaries there.
      const url = storeArg(ctx, options.store);
      const agentHome = !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && storeHomeKind(url) !== null;
      stores.push(await openStoreArg(ctx, options.store, { unredacted: options.redact === false, summaryCache: query.q !== undefined || agentHome }));
    } else {
      // No --store: every agent home of this machine, merged newest first.
      const homes = localAgentHomes(ctx).filter((h) => agent === null || h.agent === agent);
      if (options.cursor !== undefined && homes.length > 1)
        throw new UsageError("--cursor pages one store: add --store (the listing of every local agent home has no cursor)");
      // An agent home's summaries come from the user's cache while its files are unchanged (a Codex home reads only its newest heads,
      // except for a search, which reads its rollouts through).
      for (const home of homes) stores.push(await openStoreArg(ctx, home.dir, { summaryCache: query.q !== undefined || home.agent !== "codex" }));
    }
    const rows: { s: SessionSummary; store: OpenedStore }[] = [];
    let snippetsAll: Record<string, string> | undefined;
    let nextCursor: string | null = null;
    let more = false;
    // The homes are read at once: one's file reads overlap another's parsing. Each store filters by agent itself.
    const pages = await Promise.all(
      stores.map((store) =>
        // A store without a text index (a Codex home) is read through until the page is full.
        query.q ? searchSessions(store, query, { maxScanBytes: Infinity, maxSessions: Infinity }) : store.listSessions(query),
      ),
    );
    for (const [i, store] of stores.entries()) {
      const page: SearchPage = pages[i]!;
      for (const s of page.sessions) rows.push({ s, store });
      if (page.snippets) snippetsAll = { ...snippetsAll, ...page.snippets };
      if (stores.length === 1) nextCursor = page.next_cursor;
      else more ||= page.next_cursor !== null;
    }
    if (stores.length > 1) {
      rows.sort((a, b) => (a.s.created_at < b.s.created_at ? 1 : a.s.created_at > b.s.created_at ? -1 : 0));
      more ||= rows.length > limit;
      rows.length = Math.min(rows.length, limit);
    }
    const redact = options.redact !== false;
    const sessions = rows.map((r) => ({ ...r, s: redact ? redactSummary(r.s) : r.s }));
    // A snippet is message text: it is redacted like the summary.
    const snippets = snippetsAll && redact ? Object.fromEntries(Object.entries(snippetsAll).map(([id, t]) => [id, redactSecrets(t)])) : snippetsAll;
    if (options.json) {
      const withFacts = [];
      for (const { s, store } of sessions) {
        const json = sessionJson(s, await summaryFacts(store, s));
        withFacts.push(snippets?.[s.id] !== undefined ? { ...json, snippet: snippets[s.id] } : json);
      }
      printJson(ctx, { sessions: withFacts, next_cursor: nextCursor });
      return;
    }
    ctx.stdout.write(table(sessions, snippets));
    if (nextCursor) ctx.stderr.write(`sessionvault: more sessions: add --cursor ${nextCursor}\n`);
    else if (more) ctx.stderr.write("sessionvault: more sessions: raise --limit, or list one home with --store and page it with --cursor\n");
  } finally {
    for (const store of stores) await store.close();
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
  const { facts: _nested, agent: _first, ...input } = sessionInputOf(s);
  return {
    ...input,
    lines: s.lines,
    bytes: s.bytes,
    agent: s.agent,
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
function table(list: { s: SessionSummary }[], snippets?: Record<string, string>): string {
  if (list.length === 0) return "no sessions\n";
  const sessions = list.map((r) => r.s);
  const rows = list.map(({ s }) => [
    s.id,
    s.agent,
    s.created_at.slice(0, 16).replace("T", " "),
    terminalSafe(s.source ?? "-") + (s.archived ? " (archived)" : ""),
    String(s.lines),
    oneLine(s.title ?? "(untitled)", 72),
  ]);
  const head = ["ID", "AGENT", "CREATED (UTC)", "SOURCE", "LINES", "TITLE"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === 4 ? c.padStart(widths[i]!) : i === r.length - 1 ? c : c.padEnd(widths[i]!)))
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
