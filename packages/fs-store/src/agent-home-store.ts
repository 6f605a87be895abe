import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  AmbiguousIdError,
  claudeRecordUuids,
  InvalidInputError,
  NotFoundError,
  readAgentSessionSummary,
  readFileLines,
  readGeminiChatLines,
  STREAM_FILES,
  STREAMS,
  UnsupportedError,
  type AgentReading,
  type AgentReadingSource,
  type AppendOptions,
  type AppendResult,
  type ListQuery,
  type RawLine,
  type SessionDetail,
  type SessionInput,
  type SessionPage,
  type SessionStore,
  type SessionSummary,
  type StreamInfo,
} from "@sessionvault/core/store-api";
import { AgentHomeWalk, type HomeSession, type WalkCandidate } from "./agent-home-walk.js";
import { AgentHomeWriter, type AgentHomeKind } from "./agent-home-writer.js";
import { AgentSummaryCache } from "./agent-summary-cache.js";
import type { RawStreamSource } from "./fs-store.js";

export type { AgentHomeKind };

export interface AgentHomeStoreOptions {
  /** The user's cache directory (the app resolves it): summaries are kept there between runs, never in the home. */
  cacheDir?: string;
}

/**
 * A Claude Code config dir or a Gemini CLI dir, read in place as a store
 * (docs/sessions.md "Claude Code and Gemini CLI homes in the CLI"). The
 * `rollout` stream is the session's transcript (Gemini CLI: its chat files
 * one after the other); a sub-agent's transcript is the stream
 * `sub-agent-<id>`. A Claude Code session captured by `sessionvault run
 * --persist-session` also has the streams `raw-api`, `debug-log` and
 * `meta-events` (the files in `<sessionId>/sessionvault/`). Writing puts a
 * session of this home's agent back where the agent finds it
 * (`AgentHomeWriter`; the transcript and its sub-agents); delete and legal
 * hold are refused: the agent owns these files.
 */
export class AgentHomeStore implements SessionStore, RawStreamSource, AgentReadingSource {
  readonly agent: AgentHomeKind;
  readonly dir: string;
  #walk: AgentHomeWalk;
  /** Sessions resolved so far, by id. */
  readonly #known = new Map<string, HomeSession>();
  readonly #summaries = new Map<string, Promise<SessionSummary>>();
  readonly #writer: AgentHomeWriter;
  readonly #cache: AgentSummaryCache | null;

  constructor(agent: AgentHomeKind, dir: string, options: AgentHomeStoreOptions = {}) {
    this.agent = agent;
    this.dir = dir;
    this.#cache = options.cacheDir !== undefined ? new AgentSummaryCache(options.cacheDir, dir) : null;
    this.#walk = new AgentHomeWalk(agent, dir, this.#cache);
    this.#writer = new AgentHomeWriter(agent, dir);
  }

  async getSession(idOrPrefix: string): Promise<SessionDetail> {
    const s = await this.#find(idOrPrefix);
    const summary = await this.#summary(s);
    return { ...summary, streams: await this.streamPositions(s.id), legal_hold: false };
  }

  async listSessions(query: ListQuery = {}): Promise<SessionPage> {
    if (query.q !== undefined) throw new UnsupportedError(`a ${this.agent} home has no text index; search is not supported here`);
    // Every session of a home is its agent's.
    if (query.archived === "archived" || (query.agent !== undefined && query.agent !== this.agent)) return { sessions: [], next_cursor: null };
    const offset = query.cursor ? Number(query.cursor) : 0;
    if (!Number.isInteger(offset) || offset < 0)
      throw new InvalidInputError(`invalid cursor ${JSON.stringify(query.cursor)}: pass the next_cursor of a previous page`);
    const limit = query.limit ?? 50;
    // One more than the page: it says whether there is a next page.
    const top = await this.#newest(offset + limit + 1, query.cwd);
    return { sessions: top.slice(offset, offset + limit), next_cursor: top.length > offset + limit ? String(offset + limit) : null };
  }

  /**
   * The `want` newest sessions (matching `cwd`), reading only what they
   * need: folders and sessions are taken in the order of their bounds (a
   * time no session in them started after, AgentHomeWalk), and the walk
   * stops once the `want`-th newest summary read so far started after the
   * next bound, so nothing left can come before it.
   */
  async #newest(want: number, cwd: string | undefined): Promise<SessionSummary[]> {
    const heap = new MaxHeap<{ bound: number; folder?: string; candidate?: WalkCandidate }>((x) => x.bound);
    for (const g of await this.#walk.groups()) heap.push({ bound: g.bound, folder: g.folder });
    const out: SessionSummary[] = [];
    const seen = new Set<string>();
    for (let next = heap.peek(); next !== undefined; next = heap.peek()) {
      if (out.length >= want && Date.parse(out[want - 1]!.created_at) > next.bound) break;
      heap.pop();
      if (next.folder !== undefined) {
        for (const c of await this.#walk.expand(next.folder)) heap.push({ bound: c.bound, candidate: c });
        continue;
      }
      for (const s of await this.#resolve(next.candidate!)) {
        if (seen.has(s.id)) continue;
        seen.add(s.id);
        const summary = await this.#summary(s);
        if (cwd !== undefined && summary.cwd !== cwd) continue;
        insertSorted(out, summary);
        if (out.length > want) out.length = want;
      }
    }
    return out;
  }

  async #resolve(c: WalkCandidate): Promise<HomeSession[]> {
    const known = c.id !== null ? this.#known.get(c.id) : undefined;
    if (known) return [known];
    const sessions = await this.#walk.resolve(c);
    for (const s of sessions) this.#known.set(s.id, s);
    return sessions;
  }

  async *readStream(sessionId: string, stream: string, options: { fromSeq?: number } = {}): AsyncIterable<string> {
    const from = options.fromSeq ?? 0;
    let seq = 0;
    for await (const line of this.#lines(await this.#find(sessionId), stream)) if (seq++ >= from) yield line.text;
  }

  /** The files' bytes as the agent wrote them, one file after the other. */
  async *readStreamBytes(sessionId: string, stream: string): AsyncIterable<Uint8Array> {
    for (const path of await this.#files(await this.#find(sessionId), stream)) {
      for await (const chunk of createReadStream(path)) yield chunk as Uint8Array;
    }
  }

  async streamPositions(sessionId: string): Promise<StreamInfo[]> {
    const s = await this.#find(sessionId);
    const out: StreamInfo[] = [];
    const captured = (await capturedStreams(s)).map(([name]) => name);
    for (const name of ["rollout", ...[...(await this.#subAgents(s)).keys()].map((id) => `sub-agent-${id}`), ...captured]) {
      let lines = 0;
      let bytes = 0;
      for (const path of await this.#files(s, name)) bytes += (await stat(path)).size;
      for await (const _ of this.#lines(s, name)) lines++;
      out.push({ name, lines, bytes });
    }
    return out;
  }

  /** The files session `id` is made of, as the agent keeps them: its transcript file(s), then its sub-agents' files. */
  async sessionFilesOf(id: string): Promise<string[]> {
    const s = await this.#find(id);
    return [...s.files, ...[...(await this.#subAgents(s)).values()].sort()];
  }

  async agentReading(sessionId: string): Promise<AgentReading> {
    const s = await this.#find(sessionId);
    if (this.agent === "gemini-cli") return { agent: this.agent, cwd: s.cwd };
    return { agent: this.agent, skipUuids: s.forkOf === null ? new Set() : await claudeRecordUuids(this.#forkParentPath(s)!) };
  }

  /** A Claude Code fork's parent transcript (in the same project). */
  #forkParentPath(s: HomeSession): string | null {
    return s.forkOf === null ? null : join(s.folder, `${s.forkOf}.jsonl`);
  }

  async putSession(input: SessionInput): Promise<SessionSummary> {
    await this.#writer.putSession(input);
    this.#changed(input.id);
    // The summary given, with the transcript's position now: a restore puts thousands of sessions, and
    // reading each back (its project's fork map, its whole transcript) would cost more than writing it.
    const { seq, bytes } = await this.#writer.rolloutPosition(input.id);
    return { ...input, agent: this.agent, updated_at: input.updated_at ?? input.created_at, lines: seq, bytes };
  }

  async append(sessionId: string, stream: string, expectedSeq: number, lines: readonly string[], options?: AppendOptions): Promise<AppendResult> {
    try {
      return await this.#writer.append(sessionId, stream, expectedSeq, lines, options);
    } finally {
      this.#changed(sessionId);
    }
  }

  deleteSession(): Promise<void> {
    return Promise.reject(this.#readOnly("delete sessions"));
  }

  setLegalHold(): Promise<void> {
    return Promise.reject(this.#readOnly("set a legal hold"));
  }

  async close(): Promise<void> {}

  #readOnly(what: string): UnsupportedError {
    return new UnsupportedError(`${this.dir} is a ${this.agent} home, whose files the agent owns: sessionvault cannot ${what} there`);
  }

  /** Files of `id` were written: list the home again and summarise that session again. */
  #changed(id: string): void {
    this.#walk = new AgentHomeWalk(this.agent, this.dir, this.#cache);
    this.#known.clear();
    this.#summaries.delete(id);
  }

  async #find(idOrPrefix: string): Promise<HomeSession> {
    const want = idOrPrefix.toLowerCase();
    const exact = this.#known.get(want);
    if (exact) return exact;
    const hits: HomeSession[] = [];
    // Fewer than 8 characters cannot name a Gemini CLI chat; the checked layer asks for 8 anyway.
    if (want.length >= 8) {
      for (const c of await this.#walk.candidatesFor(want)) {
        for (const s of await this.#resolve(c)) if (s.id.toLowerCase().startsWith(want) && !hits.some((h) => h.id === s.id)) hits.push(s);
      }
    }
    if (hits.length > 1)
      throw new AmbiguousIdError(
        idOrPrefix,
        hits.map((s) => s.id),
      );
    if (hits.length === 0) throw new NotFoundError(`no ${this.agent} session ${idOrPrefix} in ${this.dir}`);
    return hits[0]!;
  }

  /** A session's sub-agents, found when a stream needs them (a listing does not). */
  async #subAgents(s: HomeSession): Promise<Map<string, string>> {
    s.subAgents ??= await this.#walk.subAgentsOf(s);
    return s.subAgents;
  }

  async #files(s: HomeSession, stream: string): Promise<string[]> {
    if (stream === "rollout") return s.files;
    const sub = stream.startsWith("sub-agent-") ? (await this.#subAgents(s)).get(stream.slice("sub-agent-".length)) : undefined;
    if (sub !== undefined) return [sub];
    const captured = (await capturedStreams(s)).find(([name]) => name === stream);
    if (captured) return [captured[1]];
    throw new NotFoundError(`session ${s.id} has no stream "${stream}"`);
  }

  async *#lines(s: HomeSession, stream: string): AsyncGenerator<RawLine> {
    const files = await this.#files(s, stream);
    if (files.some((f) => f.endsWith(".json"))) yield* readGeminiChatLines(files);
    else for (const f of files) yield* readFileLines(f);
  }

  #summary(s: HomeSession): Promise<SessionSummary> {
    let p = this.#summaries.get(s.id);
    if (!p) {
      p = this.#cachedSummary(s);
      this.#summaries.set(s.id, p);
    }
    return p;
  }

  /** From the cache while the session's files (and a fork's parent) are unchanged; else read and kept there. */
  async #cachedSummary(s: HomeSession): Promise<SessionSummary> {
    const parent = this.#forkParentPath(s);
    const key = this.#cache ? await AgentSummaryCache.keyOf(parent === null ? s.files : [...s.files, parent]) : null;
    if (this.#cache && key !== null) {
      const hit = await this.#cache.get(s.id, key);
      if (hit) return hit;
    }
    const summary = await summarise(this.agent, s, this.#lines(s, "rollout"), async () => (await this.agentReading(s.id)).skipUuids);
    if (this.#cache && key !== null) await this.#cache.set(s.id, key, summary);
    return summary;
  }
}

const CAPTURED = [STREAMS.rawApi, STREAMS.debugLog, STREAMS.metaEvents];

/** The captured streams the session has on disk now: [stream, file], in a fixed order. */
async function capturedStreams(s: HomeSession): Promise<[string, string][]> {
  if (s.captureDir === null) return [];
  const out: [string, string][] = [];
  for (const name of CAPTURED) {
    const path = join(s.captureDir, STREAM_FILES[name]!);
    if ((await stat(path).catch(() => null))?.isFile()) out.push([name, path]);
  }
  return out;
}

/** Claude Code stamps every record (`timestamp`); Gemini CLI its chat (`startTime`, `lastUpdated`) and messages (`timestamp`). */
const TIME = /"(?:timestamp|startTime|lastUpdated)"\s*:\s*"(\d{4}-\d{2}-\d{2}T[^"]+)"/g;

async function summarise(
  agent: AgentHomeKind,
  s: HomeSession,
  lines: AsyncIterable<RawLine>,
  skipUuids: () => Promise<Set<string> | undefined>,
): Promise<SessionSummary> {
  let first: number | null = null;
  let last: number | null = null;
  let count = 0;
  async function* counted(): AsyncGenerator<RawLine> {
    for await (const l of lines) {
      count++;
      for (const m of l.text.matchAll(TIME)) {
        const t = Date.parse(m[1]!);
        if (Number.isNaN(t)) continue;
        if (first === null || t < first) first = t;
        if (last === null || t > last) last = t;
      }
      yield l;
    }
  }
  const skip = agent === "claude-code" ? await skipUuids() : undefined;
  const info = await readAgentSessionSummary(counted(), agent, { ...(skip ? { skipUuids: skip } : {}), ...(s.cwd !== null ? { cwd: s.cwd } : {}) });
  let size = 0;
  for (const f of s.files) size += (await stat(f)).size;
  const mtime = (await stat(s.files[s.files.length - 1]!)).mtime.toISOString();
  return {
    id: s.id,
    agent,
    created_at: first !== null ? new Date(first).toISOString() : mtime,
    updated_at: last !== null ? new Date(last).toISOString() : mtime,
    cwd: info.cwd ?? s.cwd,
    title: info.title,
    archived: false,
    source: null,
    originator: null,
    cli_version: info.cli_version,
    model_provider: null,
    git: info.git_branch !== null ? { commit_hash: null, branch: info.git_branch, repository_url: null } : null,
    parent_id: null,
    forked_from_id: s.forkOf,
    lines: count,
    bytes: size,
    // Read in the same pass, so a listing never reads a transcript twice.
    facts: {
      agent: info.agent,
      model: info.model,
      outcome: info.outcome,
      turns: info.turns,
      tokens: info.tokens,
      duration_ms: info.duration_ms,
      files_changed: info.files_changed,
      children: info.children,
    },
  };
}

function newestFirst(a: SessionSummary, b: SessionSummary): number {
  return a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : -1;
}

/** Into a list kept newest first. */
function insertSorted(list: SessionSummary[], s: SessionSummary): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (newestFirst(list[mid]!, s) <= 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, s);
}

/** A binary heap, largest key on top. */
class MaxHeap<T> {
  readonly #items: T[] = [];
  readonly #key: (x: T) => number;

  constructor(key: (x: T) => number) {
    this.#key = key;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(x: T): void {
    const a = this.#items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (this.#key(a[up]!) >= this.#key(a[i]!)) break;
      [a[up], a[i]] = [a[i]!, a[up]!];
      i = up;
    }
  }

  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.#key(a[l]!) > this.#key(a[m]!)) m = l;
        if (r < a.length && this.#key(a[r]!) > this.#key(a[m]!)) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
