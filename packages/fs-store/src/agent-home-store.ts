import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import {
  AmbiguousIdError,
  claudeCaptureDir,
  ClaudeCodeHome,
  GeminiCliHome,
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
  type ListQuery,
  type RawLine,
  type SessionDetail,
  type SessionPage,
  type SessionStore,
  type SessionSummary,
  type StreamInfo,
} from "@sessionvault/core/store-api";
import type { RawStreamSource } from "./fs-store.js";

export type AgentHomeKind = "claude-code" | "gemini-cli";

/** One session of the home: its transcript files (read in this order) and its sub-agents' files. */
interface HomeSession {
  id: string;
  files: string[];
  /** Extra streams: `sub-agent-<id>` → its transcript. */
  subAgents: Map<string, string>;
  /** Claude Code: the folder `sessionvault run --persist-session` filed the captured streams in (they may not exist). */
  captureDir: string | null;
  cwd: string | null;
  forkOf: string | null;
}

/**
 * A Claude Code config dir or a Gemini CLI dir, read in place as a store
 * (docs/sessions.md "Other agents"). Read-only: the agent owns these files,
 * so append, put and delete are refused. The `rollout` stream is the
 * session's transcript (Gemini CLI: its chat files one after the other); a
 * sub-agent's transcript is the stream `sub-agent-<id>`. A Claude Code
 * session captured by `sessionvault run --persist-session` also has the
 * streams `raw-api`, `debug-log` and `meta-events` (the files in
 * `<sessionId>/sessionvault/`).
 */
export class AgentHomeStore implements SessionStore, RawStreamSource, AgentReadingSource {
  readonly agent: AgentHomeKind;
  readonly dir: string;
  #sessions: Promise<Map<string, HomeSession>> | null = null;
  readonly #summaries = new Map<string, Promise<SessionSummary>>();

  constructor(agent: AgentHomeKind, dir: string) {
    this.agent = agent;
    this.dir = dir;
  }

  async getSession(idOrPrefix: string): Promise<SessionDetail> {
    const s = await this.#find(idOrPrefix);
    const summary = await this.#summary(s);
    return { ...summary, streams: await this.streamPositions(s.id), legal_hold: false };
  }

  async listSessions(query: ListQuery = {}): Promise<SessionPage> {
    if (query.q !== undefined) throw new UnsupportedError(`a ${this.agent} home has no text index; search is not supported here`);
    if (query.archived === "archived") return { sessions: [], next_cursor: null };
    const all: SessionSummary[] = [];
    for (const s of (await this.#all()).values()) {
      const summary = await this.#summary(s);
      if (query.cwd !== undefined && summary.cwd !== query.cwd) continue;
      all.push(summary);
    }
    all.sort(newestFirst);
    const offset = query.cursor ? Number(query.cursor) : 0;
    if (!Number.isInteger(offset) || offset < 0)
      throw new InvalidInputError(`invalid cursor ${JSON.stringify(query.cursor)}: pass the next_cursor of a previous page`);
    const limit = query.limit ?? 50;
    const page = all.slice(offset, offset + limit);
    return { sessions: page, next_cursor: offset + limit < all.length ? String(offset + limit) : null };
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
    for (const name of ["rollout", ...[...s.subAgents.keys()].map((id) => `sub-agent-${id}`), ...captured]) {
      let lines = 0;
      let bytes = 0;
      for (const path of await this.#files(s, name)) bytes += (await stat(path)).size;
      for await (const _ of this.#lines(s, name)) lines++;
      out.push({ name, lines, bytes });
    }
    return out;
  }

  async agentReading(sessionId: string): Promise<AgentReading> {
    const s = await this.#find(sessionId);
    if (this.agent === "gemini-cli") return { agent: this.agent, cwd: s.cwd };
    const home = new ClaudeCodeHome(this.dir);
    return { agent: this.agent, skipUuids: await home.copiedUuids(await home.sessionFiles(s.id)) };
  }

  putSession(): Promise<SessionSummary> {
    return Promise.reject(this.#readOnly("write sessions"));
  }

  append(): Promise<never> {
    return Promise.reject(this.#readOnly("append"));
  }

  deleteSession(): Promise<void> {
    return Promise.reject(this.#readOnly("delete sessions"));
  }

  setLegalHold(): Promise<void> {
    return Promise.reject(this.#readOnly("set a legal hold"));
  }

  async close(): Promise<void> {}

  #readOnly(what: string): UnsupportedError {
    return new UnsupportedError(`${this.dir} is a ${this.agent} home, read in place: sessionvault cannot ${what} there`);
  }

  async #find(idOrPrefix: string): Promise<HomeSession> {
    const want = idOrPrefix.toLowerCase();
    const hits = [...(await this.#all()).values()].filter((s) => s.id.toLowerCase().startsWith(want));
    if (hits.length > 1)
      throw new AmbiguousIdError(
        idOrPrefix,
        hits.map((s) => s.id),
      );
    if (hits.length === 0) throw new NotFoundError(`no ${this.agent} session ${idOrPrefix} in ${this.dir}`);
    return hits[0]!;
  }

  async #files(s: HomeSession, stream: string): Promise<string[]> {
    if (stream === "rollout") return s.files;
    const sub = stream.startsWith("sub-agent-") ? s.subAgents.get(stream.slice("sub-agent-".length)) : undefined;
    if (sub !== undefined) return [sub];
    const captured = (await capturedStreams(s)).find(([name]) => name === stream);
    if (captured) return [captured[1]];
    throw new NotFoundError(`session ${s.id} has no stream "${stream}"`);
  }

  #lines(s: HomeSession, stream: string): AsyncIterable<RawLine> {
    const files = this.#files(s, stream);
    return (async function* () {
      const paths = await files;
      if (paths.some((f) => f.endsWith(".json"))) yield* readGeminiChatLines(paths);
      else for (const f of paths) yield* readFileLines(f);
    })();
  }

  #all(): Promise<Map<string, HomeSession>> {
    this.#sessions ??= this.agent === "claude-code" ? claudeSessions(this.dir) : geminiSessions(this.dir);
    return this.#sessions;
  }

  #summary(s: HomeSession): Promise<SessionSummary> {
    let p = this.#summaries.get(s.id);
    if (!p) {
      p = summarise(this.agent, s, this.#lines(s, "rollout"), async () => (await this.agentReading(s.id)).skipUuids);
      this.#summaries.set(s.id, p);
    }
    return p;
  }
}

async function claudeSessions(dir: string): Promise<Map<string, HomeSession>> {
  const home = new ClaudeCodeHome(dir);
  const out = new Map<string, HomeSession>();
  for await (const e of home.listSessions()) {
    // A sub-agent whose session is gone has no session id of its own (`agent-<id>`): it is not listed.
    if (e.kind !== "session") continue;
    const files = await home.sessionFiles(e.sessionId);
    out.set(e.sessionId, {
      id: e.sessionId,
      files: [e.transcript],
      subAgents: new Map(files.subAgents.map((a) => [a.agentId, a.path])),
      captureDir: claudeCaptureDir(files.projectDir, e.sessionId),
      cwd: null,
      forkOf: files.forkOf,
    });
  }
  return out;
}

async function geminiSessions(dir: string): Promise<Map<string, HomeSession>> {
  const out = new Map<string, HomeSession>();
  for await (const s of new GeminiCliHome(dir).listSessions()) {
    out.set(s.sessionId, {
      id: s.sessionId,
      files: s.files,
      subAgents: new Map(s.subAgents.map((a) => [a.sessionId, a.path])),
      captureDir: null,
      cwd: s.cwd,
      forkOf: null,
    });
  }
  return out;
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
