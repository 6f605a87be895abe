import type { LineWarning, RawLine } from "../jsonl-reader.js";
import { parseJsonLine } from "../jsonl-reader.js";
import type { GitInfo } from "../session.js";
import { cwdFromEnvironmentContext, isInjectedUserText } from "../agents/codex/injected-context.js";
import { contentText } from "../agents/codex/message-text.js";
import { isRolloutLine } from "./rollout-line.js";
import type { SessionMetaLinePayload } from "./rollout-line.js";

/**
 * What the head of a rollout says about its session. Counts, updated_at and
 * the archived flag are not in the head: the store derives them from the
 * file (size, tail, location).
 */
export interface RolloutHead {
  id: string;
  created_at: string;
  cwd: string | null;
  originator: string | null;
  cli_version: string | null;
  /** A structured source (`{subagent: …}`) is reduced to its kind. */
  source: string | null;
  model_provider: string | null;
  git: GitInfo | null;
  /** Sub-agent parent, else the fork origin. */
  parent_id: string | null;
  forked_from_id: string | null;
  /** The first real user message, whitespace collapsed and truncated. */
  title: string | null;
}

export interface SummarizeOptions {
  /**
   * How many lines to look at. Codex lists a file only when its session_meta
   * and a user message appear within roughly the first 200 records.
   */
  maxHeadLines?: number;
  /** Called for each line in the head that is not a JSON rollout line. */
  onWarning?: (warning: LineWarning) => void;
}

export const DEFAULT_HEAD_LINES = 200;
export const TITLE_MAX_CHARS = 200;

/**
 * Reads the head of a rollout and returns its summary, or null when the file
 * is not a visible session (no session_meta, or no real user message within
 * `maxHeadLines`). Stops reading as soon as both are found, so the cost does
 * not depend on the file's size.
 */
export async function summarizeRollout(lines: AsyncIterable<RawLine>, options: SummarizeOptions = {}): Promise<RolloutHead | null> {
  const maxLines = options.maxHeadLines ?? DEFAULT_HEAD_LINES;
  let head: RolloutHead | null = null;
  let title: string | null = null;
  let seen = 0;
  let bare = false;
  for await (const line of lines) {
    if (++seen > maxLines) break;
    let value: unknown;
    try {
      value = parseJsonLine(line.text);
    } catch {
      options.onWarning?.({ kind: "unparsable", lineNo: line.lineNo, message: `line ${line.lineNo} is not valid JSON; skipped` });
      continue;
    }
    if (value === undefined) continue;
    if (head === null && !bare && isBareMeta(value)) {
      // Bare-line builds: the meta object itself is the first line.
      bare = true;
      head = fromMeta(value as SessionMetaLinePayload, "");
      continue;
    }
    if (bare) {
      const item = value as Record<string, unknown>;
      if (typeof item.type !== "string") continue;
      const text = item.type === "message" && item.role === "user" ? contentText(item.content) || null : null;
      // Bare files name their cwd only in the injected <environment_context> message.
      if (text !== null && head !== null && head.cwd === null) head.cwd = cwdFromEnvironmentContext(text);
      if (title === null) title = userText("response_item", item);
    } else if (!isRolloutLine(value)) {
      options.onWarning?.({ kind: "unparsable", lineNo: line.lineNo, message: `line ${line.lineNo} is not a rollout line; skipped` });
      continue;
    } else if (value.type === "session_meta") {
      // The first session_meta owns the file; later ones (a fork's copy of its parent's) do not.
      // A session_meta without an id is malformed and owns nothing.
      if (!head && typeof value.payload.id === "string" && value.payload.id !== "") head = fromMeta(value.payload as SessionMetaLinePayload, value.timestamp);
    } else if (title === null) {
      title = userText(value.type, value.payload);
    }
    if (head && title !== null && (!bare || head.cwd !== null)) break;
  }
  if (!head || title === null) return null;
  head.title = title;
  return head;
}

/** The first line of a bare-line build's rollout: `{"id","timestamp",["instructions"],["git"]}`, no envelope. */
export function isBareMeta(value: unknown): boolean {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === "string" && v.id !== "" && typeof v.timestamp === "string" && v.type === undefined && v.payload === undefined;
}

/** The meta of a rollout's first line, enveloped (`session_meta`) or bare; null for anything else. */
export function sessionMetaOf(value: unknown): SessionMetaLinePayload | null {
  if (isBareMeta(value)) return value as SessionMetaLinePayload;
  if (isRolloutLine(value) && value.type === "session_meta" && typeof value.payload.id === "string") return value.payload as SessionMetaLinePayload;
  return null;
}

function fromMeta(p: SessionMetaLinePayload, lineTimestamp: string): RolloutHead {
  const spawn = typeof p.source === "object" && p.source !== null && typeof p.source.subagent === "object" ? p.source.subagent?.thread_spawn : undefined;
  const parent = str(p.parent_thread_id) ?? str(spawn?.parent_thread_id);
  const forked = str(p.forked_from_id);
  return {
    id: p.id,
    created_at: normaliseTime(str(p.timestamp) ?? lineTimestamp),
    cwd: str(p.cwd),
    originator: str(p.originator),
    cli_version: str(p.cli_version),
    source: reduceSource(p.source),
    model_provider: str(p.model_provider),
    git: gitInfo(p.git),
    parent_id: parent ?? forked,
    forked_from_id: forked,
    title: null,
  };
}

/** "exec" stays "exec"; `{subagent: {...}}` becomes "subagent"; `{subagent: "review"}` too. */
export function reduceSource(source: unknown): string | null {
  if (typeof source === "string") return source;
  if (typeof source === "object" && source !== null) {
    const keys = Object.keys(source);
    return keys[0] ?? null;
  }
  return null;
}

function gitInfo(git: SessionMetaLinePayload["git"]): GitInfo | null {
  if (typeof git !== "object" || git === null) return null;
  const info = { commit_hash: str(git.commit_hash), branch: str(git.branch), repository_url: str(git.repository_url) };
  return info.commit_hash || info.branch || info.repository_url ? info : null;
}

/** The user's own text in a line, or null (injected context, other kinds, other roles). */
function userText(kind: string, payload: Record<string, unknown>): string | null {
  let text: string | null = null;
  if (kind === "event_msg" && payload.type === "user_message") {
    text = str(payload.message);
  } else if (kind === "response_item" && payload.type === "message" && payload.role === "user") {
    text = contentText(payload.content) || null;
  } else if (kind === "event_msg" && payload.type === "item_completed") {
    const item = payload.item as Record<string, unknown> | undefined;
    if (item && item.type === "UserMessage") text = contentText(item.content) || null;
  }
  if (text === null || isInjectedUserText(text)) return null;
  const t = text.replace(/\s+/g, " ").trim();
  if (t === "") return null;
  return t.length > TITLE_MAX_CHARS ? t.slice(0, TITLE_MAX_CHARS - 1) + "…" : t;
}

function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}

/** Codex writes UTC with ms and "Z"; anything Date can parse is normalised to that shape. */
function normaliseTime(value: string): string {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}
