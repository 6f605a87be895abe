import type { RawLine } from "../jsonl-reader.js";
import type { SessionEvent } from "../session-model/session-event.js";
import { SessionFactsBuilder, type SessionFacts } from "../session-model/session-facts.js";
import { readTranscript, type TranscriptReader, type TranscriptReaderOptions } from "../session-model/transcript-reader.js";
import type { SessionSummary } from "../session.js";
import type { SessionStore } from "../store.js";
import type { AgentName } from "./agent-name.js";
import { InvalidIdError, NotFoundError } from "../errors.js";
import { ClaudeCodeReader, type ClaudeCodeReaderOptions } from "./claude-code/claude-code-reader.js";
import { claudeRecordUuidsOf } from "./claude-code/claude-home.js";
import { CodexReader } from "./codex/codex-reader.js";
import { codexLineSearchText } from "./codex/line-search-text.js";
import { searchTextOf } from "../session-model/search-text.js";
import { GeminiCliReader, type GeminiCliReaderOptions } from "./gemini-cli/gemini-cli-reader.js";

/** Options of every reader; each takes the ones that concern its agent. */
export type AgentReaderOptions = TranscriptReaderOptions & Pick<ClaudeCodeReaderOptions, "skipUuids"> & Pick<GeminiCliReaderOptions, "cwd">;

export { AGENTS, type AgentName, isAgentName } from "./agent-name.js";

export function createTranscriptReader(agent: AgentName, options: AgentReaderOptions = {}): TranscriptReader {
  switch (agent) {
    case "codex":
      return new CodexReader(options);
    case "claude-code":
      return new ClaudeCodeReader(options);
    case "gemini-cli":
      return new GeminiCliReader(options);
  }
}

/** The model events of a transcript. */
export function readSessionEvents(lines: AsyncIterable<string | RawLine>, agent: AgentName, options: AgentReaderOptions = {}): AsyncGenerator<SessionEvent> {
  return readTranscript(lines, createTranscriptReader(agent, options));
}

/** The facts of a whole transcript (one streaming pass, no texts kept). */
export async function readSessionFacts(
  lines: AsyncIterable<string | RawLine>,
  agent: AgentName,
  options: Omit<AgentReaderOptions, "text" | "usage"> = {},
): Promise<SessionFacts> {
  const b = new SessionFactsBuilder(agent);
  for await (const e of readSessionEvents(lines, agent, { ...options, text: false, usage: true })) b.add(e);
  return b.facts();
}

/**
 * The facts of a session kept in any store, read from its rollout stream.
 * Stores keep the rollout byte-exact whatever the agent; a Claude Code or
 * Gemini CLI home's driver names its agent (`AgentReadingSource`).
 */
export async function storedSessionFacts(
  store: Pick<SessionStore, "getSession" | "readStream">,
  sessionId: string,
  summary?: Pick<SessionSummary, "agent" | "cwd" | "forked_from_id">,
): Promise<SessionFacts> {
  const r = await storedSessionReading(store, sessionId, summary);
  return readSessionFacts(store.readStream(sessionId, "rollout"), r.agent, readingOptions(r));
}

/** Which agent wrote a stored session's rollout stream, and what its reader needs besides the lines. */
export interface AgentReading {
  agent: AgentName;
  /** Claude Code: the records a fork copied from its parent. */
  skipUuids?: Set<string>;
  /** Gemini CLI: the project root the chats belong to. */
  cwd?: string | null;
}

/** A driver that reads an agent's own home (not Codex) says so per session. */
export interface AgentReadingSource {
  agentReading(sessionId: string): Promise<AgentReading>;
}

/**
 * How to read a stored session: an agent home's driver says which agent
 * wrote it (looking through the checked layer to its driver); every other
 * store keeps the agent in the session's summary (`summary`, when the
 * caller has it at hand, spares a getSession).
 */
export async function storedSessionReading(
  store: Pick<SessionStore, "getSession" | "readStream">,
  sessionId: string,
  summary?: Pick<SessionSummary, "agent" | "cwd" | "forked_from_id">,
): Promise<AgentReading> {
  const driver = ((store as { driver?: object }).driver ?? store) as Partial<AgentReadingSource>;
  if (typeof driver.agentReading === "function") return driver.agentReading(sessionId);
  return summaryReading(store, summary ?? (await store.getSession(sessionId)));
}

/**
 * What a stored session's reader needs, from its summary: its agent; for
 * Gemini CLI, the project root (kept as the session's cwd); for a Claude
 * Code fork whose parent is in the same store, the records it copied from
 * the parent, so they are not counted twice.
 */
export async function summaryReading(
  store: Pick<SessionStore, "readStream">,
  summary: Pick<SessionSummary, "agent" | "cwd" | "forked_from_id">,
): Promise<AgentReading> {
  const agent = summary.agent ?? "codex";
  if (agent === "gemini-cli") return { agent, cwd: summary.cwd };
  if (agent !== "claude-code" || !summary.forked_from_id) return { agent };
  try {
    return { agent, skipUuids: await claudeRecordUuidsOf(store.readStream(summary.forked_from_id, "rollout")) };
  } catch (err) {
    // The parent is not in this store: the fork is read whole.
    if (err instanceof NotFoundError || err instanceof InvalidIdError) return { agent };
    throw err;
  }
}

/** The reader options of an `AgentReading` (the agent left out). */
export function readingOptions(r: AgentReading): Pick<AgentReaderOptions, "skipUuids" | "cwd"> {
  return { ...(r.skipUuids ? { skipUuids: r.skipUuids } : {}), ...(r.cwd !== undefined ? { cwd: r.cwd } : {}) };
}

/** What a Claude Code or Gemini CLI transcript says about its session: the facts plus its title, cwd, branch and CLI version. */
export interface AgentSessionSummary extends SessionFacts {
  session_id: string | null;
  /** Claude Code: `custom-title`, else `summary`, else the first prompt; Gemini CLI: the first prompt. */
  title: string | null;
  cwd: string | null;
  /** Claude Code's `gitBranch` (Gemini CLI records none). */
  git_branch: string | null;
  cli_version: string | null;
}

/** The summary of a Claude Code or Gemini CLI session in one streaming pass (no texts kept). */
export async function readAgentSessionSummary(
  lines: AsyncIterable<string | RawLine>,
  agent: "claude-code" | "gemini-cli",
  options: Omit<AgentReaderOptions, "text" | "usage"> = {},
): Promise<AgentSessionSummary> {
  const b = new SessionFactsBuilder(agent);
  const opts = { ...options, text: false, usage: true };
  if (agent === "claude-code") {
    const reader = new ClaudeCodeReader(opts);
    for await (const e of readTranscript(lines, reader)) b.add(e);
    const i = reader.info();
    return { ...b.facts(), session_id: i.sessionId, title: i.title, cwd: i.cwd, git_branch: i.gitBranch, cli_version: i.version };
  }
  const reader = new GeminiCliReader(opts);
  for await (const e of readTranscript(lines, reader)) b.add(e);
  const i = reader.info();
  return { ...b.facts(), session_id: i.sessionId, title: i.title, cwd: i.cwd, git_branch: null, cli_version: null };
}

/**
 * A session's facts: those its store keeps with the summary, else (a row
 * written before stores kept facts) read from its rollout.
 */
export async function summaryFacts(
  store: Pick<SessionStore, "getSession" | "readStream">,
  session: { id: string; facts?: SessionFacts | null } & Partial<Pick<SessionSummary, "agent" | "cwd" | "forked_from_id">>,
): Promise<SessionFacts> {
  if (session.facts) return session.facts;
  const summary = session.agent !== undefined ? { agent: session.agent, cwd: session.cwd ?? null, forked_from_id: session.forked_from_id ?? null } : undefined;
  return storedSessionFacts(store, session.id, summary);
}

/** Sessions with their facts flattened in (a page of a listing); only sessions without stored facts read their rollout, one after the other. */
export async function withSessionFacts<
  T extends { id: string; facts?: SessionFacts | null } & Partial<Pick<SessionSummary, "agent" | "cwd" | "forked_from_id">>,
>(store: Pick<SessionStore, "getSession" | "readStream">, sessions: readonly T[]): Promise<(Omit<T, "facts"> & SessionFacts)[]> {
  const out: (Omit<T, "facts"> & SessionFacts)[] = [];
  for (const s of sessions) {
    const { facts: _stored, ...rest } = s;
    out.push({ ...rest, ...(await summaryFacts(store, s)) });
  }
  return out;
}

/** A listing page whose sessions carry their facts. */
export interface SessionFactsPage {
  sessions: (SessionSummary & SessionFacts)[];
  next_cursor: string | null;
}

const LINE_SEARCH_PROMPT_TEXT = "\u0000sessionvault: a prompt opening the turn of a lone line\u0000";
const LINE_SEARCH_PROMPT = JSON.stringify({ type: "user", message: { role: "user", content: LINE_SEARCH_PROMPT_TEXT } });

/** Enough to find a session by what was said or run, without indexing pasted megabytes (as `lineFacts`). */
const MAX_LINE_SEARCH_CHARS = 16 * 1024;

/**
 * Names what `agentLineSearchText` (and the Codex line text under it)
 * gives: a store that keeps those texts between runs (a local search index)
 * drops them when this changes. Raise it with any change to a line's search text.
 */
export const LINE_SEARCH_TEXT_VERSION = 1;

/**
 * The search text of one transcript line of `agent` on its own, for a store
 * that indexes lines as they are appended (Postgres): the line read through
 * the agent's reader, then `searchTextOf` each event it gives. A Claude Code
 * tool call is read from its `tool_use` line (its result line adds nothing),
 * a Gemini CLI message from the line that records it, so a search finds the
 * same messages and commands as the scan of the whole transcript.
 */
export function agentLineSearchText(agent: AgentName, text: string): string | null {
  if (agent === "codex") return codexLineSearchText(text);
  // A line of an older Gemini CLI chat (one pretty-printed JSON document) is a fragment no reader
  // can take alone: its string values (messages, commands, paths) are its search text.
  if (agent === "gemini-cli" && !isJsonObject(text)) return fragmentValues(text);
  const reader = createTranscriptReader(agent, { text: true });
  // Claude Code hands out a call once its turn is over; a lone line has no
  // turn, so a prompt opens one first (its message is left out below).
  if (agent === "claude-code") reader.push(LINE_SEARCH_PROMPT, 1);
  reader.push(text, 2);
  reader.finish();
  const parts: string[] = [];
  for (const e of reader.take()) {
    if (e.type === "message" && e.text === LINE_SEARCH_PROMPT_TEXT) continue;
    const t = searchTextOf(e);
    if (t !== null && t !== "") parts.push(t);
  }
  const all = parts.join("\n");
  return all === "" ? null : all.length > MAX_LINE_SEARCH_CHARS ? all.slice(0, MAX_LINE_SEARCH_CHARS) : all;
}

const KEY_VALUE = /"(?:[^"\\]|\\.)*"\s*:\s*("(?:[^"\\]|\\.)*")/g;

/** The string values of the `"key": "value"` pairs of a fragment of pretty-printed JSON, unescaped. */
function fragmentValues(text: string): string | null {
  const parts: string[] = [];
  for (const m of text.matchAll(KEY_VALUE)) {
    try {
      const v = JSON.parse(m[1]!) as string;
      if (v !== "") parts.push(v);
    } catch {
      // A value cut by the line's end is not one.
    }
  }
  const all = parts.join("\n");
  return all === "" ? null : all.slice(0, MAX_LINE_SEARCH_CHARS);
}

function isJsonObject(text: string): boolean {
  if (!text.trimStart().startsWith("{")) return false;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
