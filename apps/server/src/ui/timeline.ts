import {
  readSessionEvents,
  redactSecrets,
  type AgentName,
  type AgentReaderOptions,
  type CallStatus,
  type SessionEvent,
  type TokenUsage as ModelTokens,
} from "@sessionvault/core";

/**
 * A session seen as turns, for the session page: a view of the session
 * model (core), which already merged every shape of a call into one event.
 * It reads the rollout as a stream and keeps only the turns of the
 * requested page, so a 100 MB session costs the same memory as a small one,
 * and the first pages stop reading early.
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
  | { kind: "reasoning"; text: string; timestamp: string }
  | {
      kind: "command";
      callId: string;
      command: string;
      cwd: string | null;
      exitCode: number | null;
      output: string;
      durationMs: number | null;
      status: CallStatus;
      timestamp: string;
    }
  | { kind: "file_change"; callId: string; files: FileDiff[]; status: CallStatus; output: string; timestamp: string }
  | { kind: "tool_call"; callId: string; name: string; input: string; output: string; status: CallStatus; childIds: string[]; timestamp: string }
  | { kind: "compaction"; timestamp: string }
  | { kind: "error"; text: string; timestamp: string };

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
  status: "completed" | "failed" | "aborted" | "open";
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
  /** Whose transcript the lines are (default `codex`). */
  agent?: AgentName;
  /** What that agent's reader needs besides the lines (`storedSessionReading`). */
  reading?: Pick<AgentReaderOptions, "skipUuids" | "cwd">;
}

/** How much text the reader keeps per item before this view cuts it (the cut says how much more there was). */
const READER_TEXT_CHARS = 1_000_000;

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

  const turns: Turn[] = [];
  let index = -1;
  let current = null as Turn | null;
  let totalsBefore: TokenUsage | null = null;
  let lastTotals: TokenUsage | null = null;
  let unparsable = 0;
  let hasMore = false;
  const inPage = () => index >= options.firstTurn && index < lastTurn;

  const closeUsage = () => {
    if (current && lastTotals) current.tokens = diffUsage(lastTotals, totalsBefore);
  };
  const startTurn = (timestamp: string, turnId: string | null): boolean => {
    closeUsage();
    if (lastTotals) totalsBefore = lastTotals;
    index++;
    if (index >= lastTurn) {
      hasMore = true;
      return false;
    }
    current = { index, turnId, startedAt: timestamp, status: "open", abortReason: null, items: [], omittedItems: 0, tokens: null };
    if (inPage()) turns.push(current);
    return true;
  };
  const add = (item: TimelineItem) => {
    if (!current && !startTurn(item.timestamp, null)) return false;
    if (!current || !inPage()) return true;
    if (current.items.length >= maxItems) current.omittedItems++;
    else current.items.push(item);
    return true;
  };

  const events = readSessionEvents(lines, options.agent ?? "codex", {
    ...options.reading,
    text: true,
    maxTextChars: READER_TEXT_CHARS,
    onWarning: (w) => {
      if (w.kind === "unparsable") unparsable++;
    },
  });
  for await (const e of events) {
    if (!view(e)) break;
  }
  // With more turns to come, startTurn already closed the last one's usage.
  if (!hasMore) closeUsage();
  return { turns, hasMore, unparsableLines: unparsable };

  /** False once the page is full. */
  function view(e: SessionEvent): boolean {
    switch (e.type) {
      case "turn_started":
        return startTurn(e.timestamp, e.turnId);
      case "turn_ended":
        if (current) {
          current.status = e.status;
          if (e.status === "aborted") current.abortReason = e.reason;
        }
        // The error that ended a turn (an API failure) is what a reader looks for first: it is shown as an item.
        if (e.status === "failed" && e.reason) return add({ kind: "error", text: cut(e.reason), timestamp: e.timestamp });
        return true;
      case "token_usage":
        lastTotals = usage(e.total);
        return true;
      case "message":
        return add({ kind: e.role, text: cut(e.text), timestamp: e.timestamp });
      case "reasoning":
        return add({ kind: "reasoning", text: cut(e.text), timestamp: e.timestamp });
      case "compaction":
        return add({ kind: "compaction", timestamp: e.timestamp });
      case "error":
        return add({ kind: "error", text: cut(e.message), timestamp: e.timestamp });
      case "command":
        return add({
          kind: "command",
          callId: e.callId ?? "",
          command: cut(e.command ?? ""),
          cwd: e.cwd,
          exitCode: e.exitCode,
          output: cut(e.output ?? ""),
          durationMs: e.durationMs,
          status: e.status,
          timestamp: e.timestamp,
        });
      case "file_change":
        return add({
          kind: "file_change",
          callId: e.callId ?? "",
          files: e.files.map((f) => ({ path: cut(f.movePath ? `${f.path} → ${f.movePath}` : f.path), kind: f.kind, diff: cut(f.diff) })),
          status: e.status,
          output: cut(e.output ?? ""),
          timestamp: e.timestamp,
        });
      case "tool_call":
        return add({
          kind: "tool_call",
          callId: e.callId ?? "",
          name: e.toolName ?? (e.webSearch ? "web_search" : "tool"),
          input: cut(e.input ?? e.command ?? ""),
          output: cut(e.output ?? ""),
          status: e.status,
          childIds: e.subAgent?.childIds ?? [],
          timestamp: e.timestamp,
        });
      default:
        return true;
    }
  }
}

function usage(t: ModelTokens): TokenUsage {
  return {
    input_tokens: t.input,
    cached_input_tokens: t.cached_input,
    output_tokens: t.output,
    reasoning_output_tokens: t.reasoning,
    total_tokens: t.input + t.output,
  };
}

/** Token usage of one turn: the running total at its end minus the total before it. */
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
