import { summaryReading } from "./agents/agent-readers.js";
import type { SessionSummary } from "./session.js";
import type { ListQuery, SessionStore } from "./store.js";
import { bytePrefilter, type BytePrefilter } from "./search-prefilter.js";
import { searchTextsMatch, sessionTextMatch, type ScanSearchOptions, type SearchPage } from "./search-scan.js";

/** One session a pre-filtered walk looked at, in listing order. */
export interface RolloutScanEntry {
  /** The session, when its bytes or stored fields passed the pre-filter and it fits the query; else null. */
  summary: SessionSummary | null;
  /** The session's rollout lines, for a session with a summary. */
  lines: AsyncIterable<string> | Iterable<string>;
  /**
   * The search texts of those lines as the session's agent reads them, in
   * order (a search index kept them): matched instead of `lines`.
   */
  texts?: readonly string[];
  /** The listing cursor just after this session. */
  cursor: string;
  /** Rollout bytes read to decide. */
  bytes: number;
  /**
   * How many sessions the entry stands for (default 1): a store that
   * decides sessions without reading them (a search index) may hand out a
   * run of sessions that do not match as one entry, with the cursor after the last.
   */
  sessions?: number;
}

/** Stores that can test their rollouts' raw bytes before anything is parsed (a Codex home). */
export interface RolloutScanSource {
  /**
   * Every session `query` lists (q aside), newest first after its cursor,
   * each tested with `maybe` over its rollout's bytes and over the summary
   * fields kept outside the rollout (thread names, sidecars); several files
   * are read at once.
   */
  scanRollouts(query: Omit<ListQuery, "q">, maybe: BytePrefilter): AsyncIterable<RolloutScanEntry>;
}

export function isRolloutScanSource(store: SessionStore): store is SessionStore & RolloutScanSource {
  return typeof (store as Partial<RolloutScanSource>).scanRollouts === "function";
}

/**
 * `searchSessions` over a store that pre-filters bytes: only sessions that
 * pass are read through `sessionTextMatch`, so the result is the same as a
 * full scan's, at about the cost of reading the files once.
 */
export async function prefilteredSearch(store: SessionStore & RolloutScanSource, query: ListQuery, options: ScanSearchOptions): Promise<SearchPage> {
  const needle = query.q!.toLowerCase();
  const limit = query.limit ?? 50;
  const maxBytes = options.maxScanBytes ?? 256 * 1024 * 1024;
  const maxSessions = options.maxSessions ?? 2000;
  const { q: _q, ...rest } = query;
  const sessions: SessionSummary[] = [];
  const snippets: Record<string, string> = {};
  let bytes = 0;
  let scanned = 0;
  for await (const entry of store.scanRollouts(rest, bytePrefilter(needle))) {
    scanned += entry.sessions ?? 1;
    bytes += entry.bytes;
    if (entry.summary) {
      // Each session is read with the reader of the agent that wrote it (its summary says).
      const hit = entry.texts
        ? searchTextsMatch(entry.summary, entry.texts, needle)
        : await sessionTextMatch(entry.summary, entry.lines, needle, await summaryReading(store, entry.summary));
      if (hit) {
        sessions.push(entry.summary);
        snippets[entry.summary.id] = hit.snippet;
      }
    }
    // Stopping early hands out where to go on (the next page may turn out empty).
    if (sessions.length >= limit || bytes >= maxBytes || scanned >= maxSessions) return { sessions, next_cursor: entry.cursor, snippets };
  }
  return { sessions, next_cursor: null, snippets };
}
