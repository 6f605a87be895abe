import { isRolloutLine, parseJsonLine } from "@sessionvault/core";

/** What the lines table keeps next to a rollout line's exact text. */
export interface LineFacts {
  type: string | null;
  payload_type: string | null;
  timestamp: string | null;
  /** A small JSON object for session_meta lines (the session's identity), else null. */
  meta: string | null;
  /** User and agent messages and commands, for full-text search; null when the line has none. */
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
/** Payload types that carry searchable text; only these lines are parsed in full. */
const SEARCHABLE = new Set(["message", "function_call", "local_shell_call", "user_message", "agent_message", "exec_command_end", "item_completed"]);

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
    if (payloadType === "item_completed" && !text.includes("ommandExecution")) return fast;
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
      if (!text.includes('"type"', from) && !text.includes("\\u", from)) return { type: bare[2]!, payload_type: null, timestamp: bare[1]!, meta: null, search: null };
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
  if (!isRolloutLine(value)) return NONE;
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
  const parts: string[] = [];
  collectSearchText(value.type, payload, parts);
  let search = parts.length ? parts.join("\n") : null;
  if (search !== null) {
    if (search.length > MAX_SEARCH_CHARS) search = search.slice(0, MAX_SEARCH_CHARS);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is the point: Postgres text cannot hold it
    search = search.replace(/\u0000/g, " ");
    // Postgres' parser keeps `deploy/api` or `tests/test_x.py` as one path
    // token; a search for `api` or `test_x` should still find it, so the
    // words between the punctuation are indexed too.
    const split = search.replace(/[/\\.:=@#,;|&<>()[\]{}'"`-]+/g, " ");
    if (split !== search) search = `${search}\n${split}`;
  }
  return { type: value.type, payload_type: payloadType, timestamp, meta, search };
}

function collectSearchText(kind: string, p: Record<string, unknown>, out: string[]): void {
  if (kind === "event_msg") {
    if ((p.type === "user_message" || p.type === "agent_message") && typeof p.message === "string") out.push(p.message);
    else if (p.type === "exec_command_end") pushCommand(p.command, out);
    else if (p.type === "item_completed" && typeof p.item === "object" && p.item !== null) {
      const item = p.item as Record<string, unknown>;
      if (item.type === "CommandExecution" || item.type === "commandExecution") pushCommand(item.command, out);
    }
    return;
  }
  if (kind !== "response_item") return;
  if (p.type === "message" && (p.role === "user" || p.role === "assistant") && Array.isArray(p.content)) {
    for (const c of p.content) {
      const text = (c as Record<string, unknown> | null)?.text;
      // Injected context (environment, instructions) is wrapped in tags; it is not what anyone said.
      if (typeof text === "string" && !text.startsWith("<")) out.push(text);
    }
  } else if (p.type === "function_call" && typeof p.arguments === "string") {
    try {
      const args = JSON.parse(p.arguments) as Record<string, unknown>;
      pushCommand(args.command ?? args.cmd, out);
    } catch {
      // Arguments that are not JSON carry no command we can index.
    }
  } else if (p.type === "local_shell_call" && typeof p.action === "object" && p.action !== null) {
    pushCommand((p.action as Record<string, unknown>).command, out);
  }
}

function pushCommand(command: unknown, out: string[]): void {
  if (typeof command === "string") out.push(command);
  else if (Array.isArray(command)) out.push(command.filter((c) => typeof c === "string").join(" "));
}
