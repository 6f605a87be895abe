import { isSessionvaultError } from "./errors.js";
import { codexLineSearchText } from "./agents/codex/line-search-text.js";
import type { SessionSummary } from "./session.js";
import type { ListQuery, SessionPage, SessionStore } from "./store.js";

export interface ScanSearchOptions {
  /** Stop after reading this many rollout bytes and hand out a cursor to continue (default 256 MiB). */
  maxScanBytes?: number;
  /** Stop after this many sessions looked at (default 2000). */
  maxSessions?: number;
}

/**
 * Lists sessions with `q`. Stores that index text (Postgres) answer
 * themselves; for the others (a plain directory) this scans: titles,
 * directories and repositories first, then the rollout's messages and
 * commands, newest first, for a case-insensitive substring. The archive
 * server gives each request a budget (a page may then hold fewer than
 * `limit` sessions and still have a next cursor); the CLI scans on until the
 * page is full.
 */
export async function searchSessions(store: SessionStore, query: ListQuery, options: ScanSearchOptions = {}): Promise<SessionPage> {
  try {
    return await store.listSessions(query);
  } catch (err) {
    if (!(isSessionvaultError(err) && err.code === "UNSUPPORTED" && query.q)) throw err;
  }
  const needle = query.q!.toLowerCase();
  const limit = query.limit ?? 50;
  const maxBytes = options.maxScanBytes ?? 256 * 1024 * 1024;
  const maxSessions = options.maxSessions ?? 2000;
  const { q: _q, ...rest } = query;
  const matches: SessionSummary[] = [];
  let cursor = query.cursor ?? null;
  let scannedBytes = 0;
  let scannedSessions = 0;
  for (;;) {
    const page = await store.listSessions({ ...rest, cursor, limit });
    for (const s of page.sessions) {
      scannedSessions++;
      if (summaryMatches(s, needle)) matches.push(s);
      else {
        const found = await rolloutMatches(store, s.id, needle);
        scannedBytes += found.bytes;
        if (found.match) matches.push(s);
      }
    }
    cursor = page.next_cursor;
    if (!cursor || matches.length >= limit || scannedBytes >= maxBytes || scannedSessions >= maxSessions) break;
  }
  return { sessions: matches, next_cursor: cursor };
}

function summaryMatches(s: SessionSummary, needle: string): boolean {
  return [s.title, s.cwd, s.git?.repository_url, s.git?.branch, s.id].some((v) => typeof v === "string" && v.toLowerCase().includes(needle));
}

/**
 * True when what a line of the rollout says (its search text: messages,
 * commands, tool calls, changed files — the same text Postgres indexes)
 * contains the needle. A line whose raw text does not contain it is not read.
 */
async function rolloutMatches(store: SessionStore, id: string, needle: string): Promise<{ match: boolean; bytes: number }> {
  let bytes = 0;
  for await (const line of store.readStream(id, "rollout")) {
    bytes += line.length + 1;
    if (!line.toLowerCase().includes(needle)) continue;
    if (codexLineSearchText(line)?.toLowerCase().includes(needle)) return { match: true, bytes };
  }
  return { match: false, bytes };
}
