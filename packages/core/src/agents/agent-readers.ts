import type { RawLine } from "../jsonl-reader.js";
import type { SessionEvent } from "../session-model/session-event.js";
import { SessionFactsBuilder, type SessionFacts } from "../session-model/session-facts.js";
import { readTranscript, type TranscriptReader, type TranscriptReaderOptions } from "../session-model/transcript-reader.js";
import type { SessionSummary } from "../session.js";
import type { SessionStore } from "../store.js";
import { ClaudeCodeReader, type ClaudeCodeReaderOptions } from "./claude-code/claude-code-reader.js";
import { CodexReader } from "./codex/codex-reader.js";
import { GeminiCliReader, type GeminiCliReaderOptions } from "./gemini-cli/gemini-cli-reader.js";

/** Options of every reader; each takes the ones that concern its agent. */
export type AgentReaderOptions = TranscriptReaderOptions & Pick<ClaudeCodeReaderOptions, "skipUuids"> & Pick<GeminiCliReaderOptions, "cwd">;

/** The agents whose transcripts can be read; a new agent is one folder here plus one entry below. */
export const AGENTS = ["codex", "claude-code", "gemini-cli"] as const;
export type AgentName = (typeof AGENTS)[number];

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
export async function storedSessionFacts(store: Pick<SessionStore, "readStream">, sessionId: string): Promise<SessionFacts> {
  const r = await storedSessionReading(store, sessionId);
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
 * wrote it; every other store holds Codex rollouts. Looks through the
 * checked layer to its driver.
 */
export async function storedSessionReading(store: object, sessionId: string): Promise<AgentReading> {
  const driver = ((store as { driver?: object }).driver ?? store) as Partial<AgentReadingSource>;
  return typeof driver.agentReading === "function" ? driver.agentReading(sessionId) : { agent: "codex" };
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
export async function summaryFacts(store: Pick<SessionStore, "readStream">, session: { id: string; facts?: SessionFacts | null }): Promise<SessionFacts> {
  return session.facts ?? storedSessionFacts(store, session.id);
}

/** Sessions with their facts flattened in (a page of a listing); only sessions without stored facts read their rollout, one after the other. */
export async function withSessionFacts<T extends { id: string; facts?: SessionFacts | null }>(
  store: Pick<SessionStore, "readStream">,
  sessions: readonly T[],
): Promise<(Omit<T, "facts"> & SessionFacts)[]> {
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
