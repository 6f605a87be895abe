import { readingOptions, readSessionEvents, storedSessionReading, type AgentReading } from "./agents/agent-readers.js";
import { codexLineSearchText } from "./agents/codex/line-search-text.js";
import { searchTextOf } from "./session-model/search-text.js";
import type { SessionSummary } from "./session.js";
import type { ListQuery, SessionPage, SessionStore } from "./store.js";
import { bytePrefilter, type BytePrefilter } from "./search-prefilter.js";
import { isRolloutScanSource, prefilteredSearch } from "./search-prefiltered.js";

export interface ScanSearchOptions {
  /** Stop after reading this many rollout bytes and hand out a cursor to continue (default 256 MiB). */
  maxScanBytes?: number;
  /** Stop after this many sessions looked at (default 2000). */
  maxSessions?: number;
}

/**
 * Lists sessions with `q`. Stores that index text (Postgres, the archive
 * server) answer themselves; for the others (a plain directory) this scans: titles,
 * directories and repositories first, then the rollout's messages and
 * commands, newest first, for a case-insensitive substring. The archive
 * server gives each request a budget (a page may then hold fewer than
 * `limit` sessions and still have a next cursor); the CLI scans on until the
 * page is full.
 */
export async function searchSessions(store: SessionStore, query: ListQuery, options: ScanSearchOptions = {}): Promise<SearchPage> {
  // A store states whether it has a text index (`StoreCapabilities.textSearch`); the others are scanned.
  if (!query.q || (store as { capabilities?: { textSearch?: boolean } }).capabilities?.textSearch === true) return store.listSessions(query);
  // A store opened through the checked layer scans through its driver's fast path, when the driver has one.
  const driver = (store as { driver?: SessionStore }).driver;
  if (isRolloutScanSource(store)) return prefilteredSearch(store, query, options);
  if (driver && isRolloutScanSource(driver)) return prefilteredSearch(driver, query, options);
  const needle = query.q!.toLowerCase();
  const limit = query.limit ?? 50;
  const maxBytes = options.maxScanBytes ?? 256 * 1024 * 1024;
  const maxSessions = options.maxSessions ?? 2000;
  const { q: _q, ...rest } = query;
  const matches: SessionSummary[] = [];
  const snippets: Record<string, string> = {};
  let cursor = query.cursor ?? null;
  let scannedBytes = 0;
  let scannedSessions = 0;
  for (;;) {
    const page = await store.listSessions({ ...rest, cursor, limit });
    for (const s of page.sessions) {
      scannedSessions++;
      const counted = countBytes(store.readStream(s.id, "rollout"));
      // A Claude Code or Gemini CLI home holds that agent's transcripts, not Codex rollouts.
      const hit = await sessionTextMatch(s, counted.lines, needle, await storedSessionReading(store, s.id, s));
      scannedBytes += counted.bytes();
      if (hit) {
        matches.push(s);
        snippets[s.id] = hit.snippet;
      }
    }
    cursor = page.next_cursor;
    if (!cursor || matches.length >= limit || scannedBytes >= maxBytes || scannedSessions >= maxSessions) break;
  }
  return { sessions: matches, next_cursor: cursor, snippets };
}

/** A search page: the sessions, and for each a snippet of where the text matched. */
export interface SearchPage extends SessionPage {
  snippets?: Record<string, string>;
}

export interface SearchHit {
  /** Up to ~100 characters of the matching title, message or command, on one line, around the match. */
  snippet: string;
}

/**
 * Whether a session's search text (its title, directory, repository and id,
 * then the user and agent messages and commands of its rollout) holds
 * `needle` (lower-cased), case-insensitively, and where. The one step every
 * scan calls per session: a pre-filter may skip sessions before it, never
 * replace it.
 */
export async function sessionTextMatch(
  s: SessionSummary,
  lines: AsyncIterable<string> | Iterable<string>,
  needle: string,
  reading: AgentReading = { agent: "codex" },
): Promise<SearchHit | null> {
  return fieldMatch(s, needle) ?? (reading.agent === "codex" ? rolloutMatch(lines, needle) : agentTranscriptMatch(lines, needle, reading));
}

/**
 * `sessionTextMatch` over the search texts of a rollout's lines already
 * taken by its agent's reader (a search index keeps them): the same first
 * match, so the same result and snippet, without reading the rollout.
 */
export function searchTextsMatch(s: SessionSummary, texts: readonly string[], needle: string): SearchHit | null {
  const hit = fieldMatch(s, needle);
  if (hit) return hit;
  for (const text of texts) if (text.toLowerCase().includes(needle)) return { snippet: snippetOf(text, needle) };
  return null;
}

function fieldMatch(s: SessionSummary, needle: string): SearchHit | null {
  const field = [s.title, s.cwd, s.git?.repository_url, s.git?.branch, s.id].find((v) => typeof v === "string" && v.toLowerCase().includes(needle));
  return typeof field === "string" ? { snippet: snippetOf(field, needle) } : null;
}

/** The first event of another agent's transcript whose search text (the same as a Codex line's) contains the needle. */
async function agentTranscriptMatch(lines: AsyncIterable<string> | Iterable<string>, needle: string, reading: AgentReading): Promise<SearchHit | null> {
  const source = (async function* () {
    yield* lines;
  })();
  for await (const e of readSessionEvents(source, reading.agent, { text: true, ...readingOptions(reading) })) {
    const text = searchTextOf(e);
    if (text?.toLowerCase().includes(needle)) return { snippet: snippetOf(text, needle) };
  }
  return null;
}

/**
 * The first line whose search text (messages, commands, tool calls, changed
 * files — the same text Postgres indexes) contains the needle.
 */
async function rolloutMatch(lines: AsyncIterable<string> | Iterable<string>, needle: string): Promise<SearchHit | null> {
  // The raw line may spell the needle with JSON escapes: the pre-filter's line test knows every spelling.
  const maybe = linePrefilter(needle);
  for await (const line of lines) {
    if (!maybe.testText(line)) continue;
    const text = codexLineSearchText(line);
    if (text?.toLowerCase().includes(needle)) return { snippet: snippetOf(text, needle) };
  }
  return null;
}

let lastPrefilter: { needle: string; filter: BytePrefilter } | null = null;

function linePrefilter(needle: string): BytePrefilter {
  if (lastPrefilter?.needle !== needle) lastPrefilter = { needle, filter: bytePrefilter(needle) };
  return lastPrefilter.filter;
}

const SNIPPET_CONTEXT = 40;

function snippetOf(text: string, needle: string): string {
  const at = Math.max(0, text.toLowerCase().indexOf(needle));
  const from = Math.max(0, at - SNIPPET_CONTEXT);
  const to = Math.min(text.length, at + needle.length + SNIPPET_CONTEXT);
  const body = text.slice(from, to).replace(/\s+/g, " ").trim();
  return (from > 0 ? "…" : "") + body + (to < text.length ? "…" : "");
}

function countBytes(lines: AsyncIterable<string>): { lines: AsyncIterable<string>; bytes: () => number } {
  let bytes = 0;
  return {
    lines: (async function* () {
      for await (const line of lines) {
        bytes += line.length + 1;
        yield line;
      }
    })(),
    bytes: () => bytes,
  };
}
