import { isRolloutLine } from "../../codex/rollout-line.js";
import { parseJsonLine } from "../../jsonl-reader.js";
import { codexLineSearchText } from "./line-search-text.js";

/** What a store that indexes lines (Postgres) keeps next to a rollout line's exact text. */
export interface LineFacts {
  type: string | null;
  payload_type: string | null;
  timestamp: string | null;
  /** A small JSON object for session_meta lines (the session's identity), else null. */
  meta: string | null;
  /** What was said, run, called or changed (`searchTextOf` the line's model events), for full-text search; null when the line has none. */
  search: string | null;
}

const NONE: LineFacts = { type: null, payload_type: null, timestamp: null, meta: null, search: null };
/** Enough to find a session by what was said or run, without indexing pasted megabytes. */
const MAX_SEARCH_CHARS = 16 * 1024;

/**
 * Reads the facts of one rollout line. Never throws: garbage and unknown
 * kinds are stored verbatim with null facts (DESIGN.md §4).
 */
/**
 * The envelope as Codex writes it: `{"timestamp":…,["ordinal":N,]"type":…,"payload":{"type":…`.
 * Anchored and escape-free, so a match is exactly the top-level fields.
 */
const ENVELOPE = /^\{"timestamp":"([^"\\]*)",(?:"ordinal":\d+,)?"type":"([^"\\]*)","payload":\{"type":"([^"\\]*)"/;
/** Payload types that can carry search text (see codexLineSearchText); only these lines are parsed in full. */
const SEARCHABLE = new Set([
  "message",
  "function_call",
  "custom_tool_call",
  "local_shell_call",
  "web_search_call",
  "exec_command_end",
  "patch_apply_end",
  "mcp_tool_call_end",
  "web_search_end",
  "item_completed",
]);

const ROLE = /"role":"([a-z]+)"/;
/** The same envelope up to the payload's opening brace, whatever comes first in it. */
const BARE_ENVELOPE = /^\{"timestamp":"([^"\\]*)",(?:"ordinal":\d+,)?"type":"([^"\\]*)","payload":\{/;
/** Record kinds whose facts need the payload's content (search text or the session's identity). */
const CONTENT_KINDS = new Set(["session_meta", "event_msg", "response_item"]);

export function lineFacts(text: string): LineFacts {
  // Most lines (reasoning, tool output, token counts, developer messages)
  // carry nothing to search: their facts come from the envelope without a
  // parse. Anything unusual takes the full parse.
  const head = text.slice(0, 512);
  const m = ENVELOPE.exec(head);
  if (m && m[2] !== "session_meta") {
    const payloadType = m[3]!;
    const fast = { type: m[2]!, payload_type: payloadType, timestamp: m[1]!, meta: null, search: null };
    if (!SEARCHABLE.has(payloadType)) return fast;
    if (
      payloadType === "item_completed" &&
      !/"type":"(?:CommandExecution|FileChange|McpToolCall|WebSearch|CollabAgentToolCall|ImageView|DynamicToolCall)"/.test(text)
    )
      return fast;
    if (payloadType === "message") {
      const role = ROLE.exec(head)?.[1];
      if (role !== undefined && role !== "user" && role !== "assistant") return fast;
    }
  } else if (!m) {
    // Newer kinds (world_state, token_usage_record: a third of a 0.169
    // rollout's bytes) have a payload without a type. When no key in it can
    // be "type" (the text never appears, and no \u escape could spell it),
    // payload_type is null without a parse.
    const bare = BARE_ENVELOPE.exec(head);
    if (bare && !CONTENT_KINDS.has(bare[2]!)) {
      const from = bare[0].length;
      if (!text.includes('"type"', from) && !text.includes("\\u", from))
        return { type: bare[2]!, payload_type: null, timestamp: bare[1]!, meta: null, search: null };
    }
  }
  return parseLineFacts(text);
}

/** The facts from a full parse of the line (what the fast path must agree with). */
export function parseLineFacts(text: string): LineFacts {
  let value: unknown;
  try {
    value = parseJsonLine(text);
  } catch {
    return NONE;
  }
  if (!isRolloutLine(value)) {
    // Bare-line builds write response items without an envelope: they still say something.
    const bareItem = typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
    return bareItem ? { ...NONE, search: indexableSearchText(codexLineSearchText(text)) } : NONE;
  }
  const payload = value.payload as Record<string, unknown>;
  const payloadType = typeof payload.type === "string" ? payload.type : null;
  const timestamp = typeof value.timestamp === "string" ? value.timestamp : null;
  let meta: string | null = null;
  if (value.type === "session_meta") {
    const m = (typeof payload.meta === "object" && payload.meta !== null ? payload.meta : payload) as Record<string, unknown>;
    const json = JSON.stringify({
      id: m.id ?? null,
      timestamp: m.timestamp ?? null,
      cwd: m.cwd ?? null,
      originator: m.originator ?? null,
      cli_version: m.cli_version ?? null,
      source: m.source ?? null,
      model_provider: m.model_provider ?? null,
      git: payload.git ?? m.git ?? null,
    });
    // jsonb refuses \u0000; such a meta is simply not kept as jsonb.
    meta = json.includes("\\u0000") ? null : json;
  }
  return { type: value.type, payload_type: payloadType, timestamp, meta, search: indexableSearchText(codexLineSearchText(text)) };
}

/** Search text as a store indexes it: cut to its first 16 KiB, NULs blanked, and the words between path punctuation added. */
export function indexableSearchText(text: string | null): string | null {
  if (text === null) return null;
  let search = text.length > MAX_SEARCH_CHARS ? text.slice(0, MAX_SEARCH_CHARS) : text;
  search = search.replace(/\u0000/g, " ");
  // Postgres' parser keeps `deploy/api` or `tests/test_x.py` as one path
  // token; a search for `api` or `test_x` should still find it, so the
  // words between the punctuation are indexed too.
  const split = search.replace(/[/\\.:=@#,;|&<>()[\]{}'"`-]+/g, " ");
  return split !== search ? `${search}\n${split}` : search;
}
