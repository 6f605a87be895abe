import { parseJsonLine, redactSecrets } from "@sessionvault/core";

/**
 * A rollout seen as turns, for the session page. Codex wrote the same things
 * in different shapes across versions (DESIGN.md §4); this merges them per
 * call id into one item each. It reads the rollout as a stream and keeps only
 * the turns of the requested page, so a 100 MB session costs the same memory
 * as a small one, and the first pages stop reading early.
 */
export interface FileDiff {
  path: string;
  kind: "add" | "update" | "delete" | "move";
  /** Unified-diff-like body: lines starting with "+", "-", " " or "@@". */
  diff: string;
}

export type TimelineItem =
  | { kind: "user"; text: string; timestamp: string }
  | { kind: "agent"; text: string; timestamp: string }
  | { kind: "command"; callId: string; command: string; cwd: string | null; exitCode: number | null; output: string; durationMs: number | null; timestamp: string }
  | { kind: "file_change"; callId: string; files: FileDiff[]; status: string | null; output: string; timestamp: string }
  | { kind: "tool_call"; callId: string; name: string; input: string; output: string; timestamp: string };

export interface TokenUsage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
  total_tokens: number;
}

export interface Turn {
  /** 0-based position of the turn in the session. */
  index: number;
  turnId: string | null;
  startedAt: string;
  status: "completed" | "aborted" | "open";
  abortReason: string | null;
  items: TimelineItem[];
  omittedItems: number;
  tokens: TokenUsage | null;
}

export interface TimelinePage {
  turns: Turn[];
  /** True when turns exist after this page. */
  hasMore: boolean;
  unparsableLines: number;
}

export interface TimelineOptions {
  firstTurn: number;
  turnCount: number;
  /** Items kept per turn; the rest are counted in `omittedItems`. */
  maxItemsPerTurn?: number;
  /** Longer texts are cut (a rollout may carry megabytes of output or base64). */
  maxTextChars?: number;
  /** Replace credentials in every shown text with [REDACTED] (default true: the page is for a whole org). */
  redact?: boolean;
}

type Obj = Record<string, unknown>;

const BOUNDARY_HINTS = ['"task_started"', '"turn_started"', '"task_complete"', '"turn_complete"', '"turn_aborted"', '"token_count"'];

export async function buildTimeline(lines: AsyncIterable<string>, options: TimelineOptions): Promise<TimelinePage> {
  const maxItems = options.maxItemsPerTurn ?? 400;
  const maxText = options.maxTextChars ?? 20_000;
  const lastTurn = options.firstTurn + options.turnCount;
  const redact = options.redact ?? true;
  // Redact a little past the cut, so a secret across the cut is still caught whole.
  const cut = (s: string) => {
    const head = redact ? redactSecrets(s.length > maxText ? s.slice(0, maxText + 512) : s) : s;
    return s.length > maxText ? `${head.slice(0, maxText)}\n… (${s.length - maxText} more characters)` : head;
  };
  const cutDiffs = (files: FileDiff[]) => files.map((f) => ({ ...f, path: cut(f.path), diff: cut(f.diff) }));

  const turns: Turn[] = [];
  let explicitTurns = false;
  let index = -1;
  let current = null as Turn | null;
  let totalsBefore: TokenUsage | null = null;
  let lastTotals: TokenUsage | null = null;
  let unparsable = 0;
  let hasMore = false;
  const byCall = new Map<string, TimelineItem>();

  const inPage = () => index >= options.firstTurn && index < lastTurn;

  const closeUsage = () => {
    if (current && lastTotals) current.tokens = diffUsage(lastTotals, totalsBefore);
  };
  const startTurn = (timestamp: string, turnId: string | null): boolean => {
    closeUsage();
    if (lastTotals) totalsBefore = lastTotals;
    index++;
    byCall.clear();
    if (index >= lastTurn) {
      hasMore = true;
      return false;
    }
    current = { index, turnId, startedAt: timestamp, status: "open", abortReason: null, items: [], omittedItems: 0, tokens: null };
    if (inPage()) turns.push(current);
    return true;
  };
  const add = (item: TimelineItem) => {
    if (!current) startTurn(item.timestamp, null);
    if (!current || !inPage()) return;
    if ("callId" in item && item.callId) byCall.set(item.callId, item);
    if (current.items.length >= maxItems) current.omittedItems++;
    else current.items.push(item);
  };
  const callItem = (callId: unknown) => (typeof callId === "string" ? byCall.get(callId) : undefined);

  for await (const text of lines) {
    // Before the page only turn boundaries and token totals matter: skip the
    // JSON parse of everything else (that is where the megabytes are).
    if (index < options.firstTurn && !BOUNDARY_HINTS.some((h) => text.includes(h)) && !(!explicitTurns && text.includes('"role":"user"'))) {
      continue;
    }
    let line: Obj;
    try {
      const v = parseJsonLine(text);
      if (!v || typeof v !== "object") continue;
      line = v as Obj;
    } catch {
      unparsable++;
      continue;
    }
    const ts = typeof line.timestamp === "string" ? line.timestamp : "";
    const p = (line.payload ?? {}) as Obj;
    const ptype = typeof p.type === "string" ? p.type : "";

    if (line.type === "event_msg") {
      if (ptype === "task_started" || ptype === "turn_started") {
        explicitTurns = true;
        if (!startTurn(ts, str(p.turn_id))) break;
        continue;
      }
      if (ptype === "task_complete" || ptype === "turn_complete") {
        if (current) current.status = "completed";
        continue;
      }
      if (ptype === "turn_aborted") {
        if (current) {
          current.status = "aborted";
          current.abortReason = str(p.reason);
        }
        continue;
      }
      if (ptype === "token_count") {
        const total = usage((p.info as Obj | undefined)?.total_token_usage);
        if (total) lastTotals = total;
        continue;
      }
      if (!current || !inPage()) continue;
      if (ptype === "exec_command_end") {
        mergeCommand(p, ts);
        continue;
      }
      if (ptype === "patch_apply_end") {
        const item = callItem(p.call_id);
        if (item?.kind === "file_change") {
          item.status = p.success === false ? "failed" : "completed";
          item.output = cut(`${str(p.stdout) ?? ""}${str(p.stderr) ?? ""}`);
        }
        continue;
      }
      if (ptype === "item_completed") {
        const it = (p.item ?? {}) as Obj;
        if (it.type === "CommandExecution") mergeCommand({ ...it, call_id: it.id }, ts);
        else if (it.type === "FileChange") mergeFileChange(it, ts);
        continue;
      }
      continue;
    }

    if (line.type !== "response_item") continue;
    if (ptype === "message") {
      const role = p.role;
      const body = messageText(p.content);
      if (role === "user") {
        if (isContextMessage(body)) continue;
        if (!explicitTurns && !startTurn(ts, null)) break;
        add({ kind: "user", text: cut(body), timestamp: ts });
      } else if (role === "assistant" && body.trim()) {
        add({ kind: "agent", text: cut(body), timestamp: ts });
      }
      continue;
    }
    if (current && !inPage()) continue;
    if (ptype === "function_call" || ptype === "custom_tool_call" || ptype === "local_shell_call") {
      const callId = str(p.call_id) ?? str(p.id) ?? "";
      const name = str(p.name) ?? (ptype === "local_shell_call" ? "local_shell" : "tool");
      const rawInput = ptype === "custom_tool_call" ? (str(p.input) ?? "") : ptype === "local_shell_call" ? JSON.stringify(p.action ?? {}) : (str(p.arguments) ?? "");
      const args = tryJson(rawInput) as Obj | undefined;
      if (name === "apply_patch") {
        const patch = ptype === "custom_tool_call" ? rawInput : (str(args?.input) ?? rawInput);
        add({ kind: "file_change", callId, files: cutDiffs(parsePatch(patch)), status: null, output: "", timestamp: ts });
        continue;
      }
      const command = commandOf(ptype === "local_shell_call" ? (p.action as Obj | undefined) : args, name);
      if (command !== null) {
        if (command.argv[0] === "apply_patch" && command.argv[1]) {
          add({ kind: "file_change", callId, files: cutDiffs(parsePatch(command.argv[1])), status: null, output: "", timestamp: ts });
        } else {
          add({ kind: "command", callId, command: cut(command.display), cwd: str(args?.workdir) ?? null, exitCode: null, output: "", durationMs: null, timestamp: ts });
        }
        continue;
      }
      add({ kind: "tool_call", callId, name, input: cut(rawInput), output: "", timestamp: ts });
      continue;
    }
    if (ptype === "function_call_output" || ptype === "custom_tool_call_output") {
      const item = callItem(p.call_id);
      if (!item) continue;
      const out = outputOf(p.output);
      if (item.kind === "command") {
        if (!item.output) item.output = cut(out.text);
        if (item.exitCode === null) item.exitCode = out.exitCode;
        if (item.durationMs === null && out.durationMs !== null) item.durationMs = out.durationMs;
      } else if (item.kind === "file_change") {
        if (!item.output) item.output = cut(out.text);
        // apply_patch answers "Success. Updated the following files: …" or an error text (no exit code in newer versions).
        if (item.status === null) item.status = (out.exitCode === null ? /^Success\b/.test(out.text) : out.exitCode === 0) ? "completed" : "failed";
      } else if (item.kind === "tool_call") {
        item.output = cut(out.text);
      }
      continue;
    }
    if (ptype === "web_search_call") {
      const action = (p.action ?? {}) as Obj;
      add({ kind: "tool_call", callId: str(p.id) ?? "", name: "web_search", input: cut(str(action.query) ?? JSON.stringify(action)), output: str(p.status) ?? "", timestamp: ts });
    }
  }
  // With more turns to come, startTurn already closed the last one's usage.
  if (!hasMore) closeUsage();
  return { turns, hasMore, unparsableLines: unparsable };

  function mergeCommand(p: Obj, ts: string) {
    const callId = str(p.call_id) ?? "";
    const argv = Array.isArray(p.command) ? p.command.map(String) : typeof p.command === "string" ? [p.command] : [];
    const exit = typeof p.exit_code === "number" ? p.exit_code : null;
    const output = str(p.aggregated_output) ?? str(p.formatted_output) ?? `${str(p.stdout) ?? ""}${str(p.stderr) ?? ""}`;
    const durationMs = durationOf(p.duration);
    const existing = callItem(callId);
    if (existing?.kind === "command") {
      if (exit !== null) existing.exitCode = exit;
      if (output) existing.output = cut(output);
      if (durationMs !== null) existing.durationMs = durationMs;
      const cwd = str(p.cwd);
      if (cwd) existing.cwd = cwd.replace(/^file:\/\//, "");
      return;
    }
    if (existing) return;
    add({ kind: "command", callId, command: cut(displayArgv(argv)), cwd: str(p.cwd)?.replace(/^file:\/\//, "") ?? null, exitCode: exit, output: cut(output), durationMs, timestamp: ts });
  }

  function mergeFileChange(it: Obj, ts: string) {
    const callId = str(it.id) ?? "";
    const files: FileDiff[] = [];
    for (const [path, ch] of Object.entries((it.changes ?? {}) as Record<string, Obj>)) {
      const t = str(ch.type) ?? "update";
      if (t === "add") files.push({ path, kind: "add", diff: prefixLines(str(ch.content) ?? "", "+") });
      else if (t === "delete") files.push({ path, kind: "delete", diff: prefixLines(str(ch.content) ?? "", "-") });
      else files.push({ path: str(ch.move_path) ? `${path} → ${str(ch.move_path)}` : path, kind: str(ch.move_path) ? "move" : "update", diff: str(ch.unified_diff) ?? "" });
    }
    const status = str(it.status);
    const output = `${str(it.stdout) ?? ""}${str(it.stderr) ?? ""}`;
    const existing = callItem(callId);
    if (existing?.kind === "file_change") {
      if (files.length) existing.files = cutDiffs(files);
      if (status) existing.status = status;
      if (output) existing.output = cut(output);
      return;
    }
    if (existing) return;
    add({ kind: "file_change", callId, files: cutDiffs(files), status: status ?? null, output: cut(output), timestamp: ts });
  }
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function tryJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((c) => (c && typeof c === "object" && typeof (c as Obj).text === "string" ? ((c as Obj).text as string) : ""))
    .filter(Boolean)
    .join("\n");
}

/** Context Codex injects as "user" messages (environment, AGENTS.md, instructions): not what the person typed. */
function isContextMessage(text: string): boolean {
  const t = text.trimStart();
  return t === "" || t.startsWith("<") || t.startsWith("# AGENTS.md instructions");
}

function usage(v: unknown): TokenUsage | null {
  if (!v || typeof v !== "object") return null;
  const o = v as Obj;
  const n = (k: string) => (typeof o[k] === "number" ? (o[k] as number) : 0);
  return {
    input_tokens: n("input_tokens"),
    cached_input_tokens: n("cached_input_tokens"),
    output_tokens: n("output_tokens"),
    reasoning_output_tokens: n("reasoning_output_tokens"),
    total_tokens: n("total_tokens"),
  };
}

/** Token usage of one turn: the running total at its end minus the total before it (token_count events repeat). */
function diffUsage(end: TokenUsage, before: TokenUsage | null): TokenUsage | null {
  const b = before ?? { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0, total_tokens: 0 };
  const d: TokenUsage = {
    input_tokens: end.input_tokens - b.input_tokens,
    cached_input_tokens: end.cached_input_tokens - b.cached_input_tokens,
    output_tokens: end.output_tokens - b.output_tokens,
    reasoning_output_tokens: end.reasoning_output_tokens - b.reasoning_output_tokens,
    total_tokens: end.total_tokens - b.total_tokens,
  };
  return d.total_tokens > 0 ? d : null;
}

const SHELL_TOOLS = new Set(["shell", "shell_command", "exec_command", "container.exec", "local_shell"]);

function commandOf(args: Obj | undefined, name: string): { display: string; argv: string[] } | null {
  if (!SHELL_TOOLS.has(name) || !args) return null;
  const c = args.command ?? args.cmd;
  if (Array.isArray(c)) {
    const argv = c.map(String);
    return { display: displayArgv(argv), argv };
  }
  if (typeof c === "string") return { display: c, argv: [c] };
  return null;
}

function displayArgv(argv: string[]): string {
  // `bash -lc "…"` is how Codex wraps a command line: show the line.
  if (argv.length === 3 && /(^|\/)(ba|z)?sh$/.test(argv[0] ?? "") && (argv[1] === "-lc" || argv[1] === "-c")) return argv[2] ?? "";
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

function durationOf(d: unknown): number | null {
  if (typeof d === "number") return d;
  if (d && typeof d === "object") {
    const o = d as Obj;
    if (typeof o.secs === "number") return o.secs * 1000 + (typeof o.nanos === "number" ? Math.round(o.nanos / 1e6) : 0);
  }
  return null;
}

/** A tool output in any of Codex's shapes: JSON `{output, metadata}`, the exec text header, or plain text. */
function outputOf(raw: unknown): { text: string; exitCode: number | null; durationMs: number | null } {
  let text = typeof raw === "string" ? raw : Array.isArray(raw) ? messageText(raw) : JSON.stringify(raw ?? "");
  let exitCode: number | null = null;
  let durationMs: number | null = null;
  if (text.startsWith("{")) {
    const j = tryJson(text) as Obj | undefined;
    if (j && typeof j.output === "string") {
      const meta = (j.metadata ?? {}) as Obj;
      if (typeof meta.exit_code === "number") exitCode = meta.exit_code;
      if (typeof meta.duration_seconds === "number") durationMs = Math.round(meta.duration_seconds * 1000);
      text = j.output;
    }
  }
  const m = /(?:^|\n)Process exited with code (-?\d+)\n/.exec(text.slice(0, 512));
  if (m) {
    exitCode = Number(m[1]);
    const out = text.indexOf("\nOutput:\n");
    if (out !== -1) text = text.slice(out + "\nOutput:\n".length);
  }
  const exit = /^Exit code: (-?\d+)\n/.exec(text);
  if (exit && exitCode === null) exitCode = Number(exit[1]);
  return { text, exitCode, durationMs };
}

function prefixLines(text: string, prefix: string): string {
  if (!text) return "";
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  return lines.map((l) => prefix + l).join("\n");
}

/** Codex's `*** Begin Patch` format, split per file. */
export function parsePatch(patch: string): FileDiff[] {
  const files: FileDiff[] = [];
  let cur: FileDiff | null = null;
  const body: string[] = [];
  const flush = () => {
    if (cur) {
      cur.diff = body.join("\n");
      files.push(cur);
    }
    body.length = 0;
  };
  for (const line of patch.split("\n")) {
    const h = /^\*\*\* (Add|Update|Delete) File: (.+)$/.exec(line);
    if (h) {
      flush();
      cur = { path: h[2] ?? "", kind: h[1] === "Add" ? "add" : h[1] === "Delete" ? "delete" : "update", diff: "" };
      continue;
    }
    const mv = /^\*\*\* Move to: (.+)$/.exec(line);
    if (mv && cur) {
      cur.path = `${cur.path} → ${mv[1]}`;
      cur.kind = "move";
      continue;
    }
    if (line.startsWith("*** ")) continue;
    if (cur) body.push(line);
  }
  flush();
  return files;
}
