import type { LineWarning } from "../../jsonl-reader.js";
import { parseJsonObjectLine } from "../../jsonl-reader.js";
import type {
  CallEvent,
  CallStatus,
  CommandEvent,
  FileChangeEvent,
  SessionEvent,
  TokenUsage,
  ToolCallEvent,
  TurnEnd,
} from "../../session-model/session-event.js";
import type { TranscriptReader, TranscriptReaderOptions } from "../../session-model/transcript-reader.js";
import type { ClaudeCallKind } from "./claude-tools.js";
import { callKind, fileDiffOf, fileToolPath, isSubAgentTool, resultOutcome, resultText, toolDisplay } from "./claude-tools.js";

/**
 * Reads a Claude Code transcript (`projects/<slug>/<sessionId>.jsonl`, every
 * shape of 1.0.x to 2.1.x; docs/actions-v1.md "Claude Code") into the
 * session model.
 *
 * - Claude Code has no turn records: a turn starts at each prompt the user
 *   typed (a `user` line whose content is text, not a tool result nor an
 *   injected line) and ends at the next one, at an interrupt, or at the end
 *   of the file once nothing waits for an answer. The prompt's `uuid` is the
 *   turn id, so a fork's copy of a turn keeps its id.
 * - The model writes one `assistant` line per content block; lines of one
 *   response share `message.id` and repeat its usage, which is counted once.
 * - A tool call (`tool_use` block) is held back until its `tool_result`
 *   arrives on a later `user` line (with the tool's structured result in
 *   `toolUseResult`, or a string when it failed), so events keep the order
 *   of their first record and each call is one event.
 * - Records of an inline sub-agent (1.0.x, `isSidechain` in a main
 *   transcript) add their calls to the current turn but start no turns; a
 *   transcript whose first record is a sidechain is a sub-agent's own file
 *   and reads like a main one.
 * - Records whose `uuid` is in `skipUuids` are copies of a parent session
 *   (a fork): they are skipped, so nothing counts twice across sessions.
 */
const DEFAULT_MAX_PENDING = 512;
const DEFAULT_MAX_TEXT = 100_000;
const RECENT_CLOSED_IDS = 8192;
const NOTHING = Object.freeze([]) as unknown as SessionEvent[];

/** Line types that carry nothing for the model (bookkeeping, request records, attachments). */
const IGNORED_TYPES = new Set([
  "queue-operation",
  "agent-name",
  "attachment",
  "api-request",
  "api-request-shape",
  "api-request-blob",
  "tools-used",
  "mode",
  "atis-latch",
  "file-history-snapshot",
  "progress",
  "pr-link",
  "tag",
]);
/** Top-level line types that a lean read (no text, no usage) never needs to parse. */
const LEAN_SKIP_PREFIX =
  /^\{"type":"(?:queue-operation|agent-name|api-request|api-request-shape|api-request-blob|tools-used|mode|atis-latch|file-history-snapshot|progress)"/;

type Obj = Record<string, unknown>;

export interface ClaudeCodeReaderOptions extends TranscriptReaderOptions {
  /** Record uuids copied from a parent session (a fork); they are skipped. */
  skipUuids?: ReadonlySet<string>;
}

/** What the transcript says about the session as a whole (for its summary). */
export interface ClaudeSessionInfo {
  sessionId: string | null;
  cwd: string | null;
  gitBranch: string | null;
  /** The Claude Code version of the last record that names one. */
  version: string | null;
  /** `custom-title` (`--name`), else the `summary` record, else the first prompt. */
  title: string | null;
  /** A sub-agent's id (`agentId` of a sub-agent transcript). */
  agentId: string | null;
}

interface Entry {
  ev: SessionEvent;
  done: boolean;
}

interface PendingCall {
  entry: Entry;
  ev: CallEvent;
  kind: ClaudeCallKind;
  startMs: number;
  path: string | null;
}

export class ClaudeCodeReader implements TranscriptReader {
  readonly #out: SessionEvent[] = [];
  readonly #text: boolean;
  readonly #usage: boolean;
  readonly #lean: boolean;
  readonly #maxText: number;
  readonly #maxPending: number;
  readonly #warn: (w: LineWarning) => void;
  readonly #skipUuids: ReadonlySet<string> | null;

  #queue: Entry[] = [];
  #head = 0;
  readonly #calls = new Map<string, PendingCall>();
  readonly #recentClosed = new Set<string>();

  #sessionEntry: Entry | null = null;
  #sidechainFile: boolean | null = null;
  #lastTimestamp = "";
  #cwd: string | null = null;
  #model: string | null = null;

  #turnId: string | null = null;
  #turnStart = "";
  #turnLast = "";
  /** The last answer of the open turn was an API error. */
  #turnError: string | null = null;
  /** Something (a prompt or a tool result) waits for the model's answer. */
  #awaitingAnswer = false;
  #compaction: Entry | null = null;
  /** Calls of the open turn answered with a rejection: an interrupt marker right after makes them aborted. */
  #rejected: PendingCall[] = [];
  /** The last record marks the end of a run of the CLI (nothing after it yet). */
  #runEnded = false;

  #msgId: string | null = null;
  #msgUsage: TokenUsage | null = null;
  readonly #total: TokenUsage = { input: 0, cached_input: 0, output: 0, reasoning: 0 };
  #usageSeen = false;

  readonly #info: ClaudeSessionInfo = { sessionId: null, cwd: null, gitBranch: null, version: null, title: null, agentId: null };
  #customTitle: string | null = null;
  #summaryTitle: string | null = null;
  #firstPrompt: string | null = null;

  constructor(options: ClaudeCodeReaderOptions = {}) {
    this.#text = options.text ?? false;
    this.#usage = options.usage ?? this.#text;
    this.#lean = !this.#text && !this.#usage;
    this.#maxText = options.maxTextChars ?? DEFAULT_MAX_TEXT;
    this.#maxPending = Math.max(1, options.maxPending ?? DEFAULT_MAX_PENDING);
    this.#warn = options.onWarning ?? (() => {});
    this.#skipUuids = options.skipUuids && options.skipUuids.size > 0 ? options.skipUuids : null;
  }

  /** What the lines read so far say about the session. */
  info(): ClaudeSessionInfo {
    return { ...this.#info, title: this.#customTitle ?? this.#summaryTitle ?? this.#firstPrompt };
  }

  take(): SessionEvent[] {
    // Called after every line: no new array when nothing became final.
    return this.#out.length === 0 ? NOTHING : this.#out.splice(0, this.#out.length);
  }

  push(text: string, lineNo: number): void {
    if (text === "" || (text.length < 64 && text.trim() === "")) return;
    if (this.#lean && this.#sessionEntry !== null && this.#leanSkip(text)) return;
    const r = parseJsonObjectLine(text, lineNo, this.#warn);
    if (r === null) return;
    const ts = typeof r.timestamp === "string" && r.timestamp !== "" ? r.timestamp : this.#lastTimestamp;
    this.#header(r, ts);
    if (this.#skipUuids !== null && typeof r.uuid === "string" && this.#skipUuids.has(r.uuid)) return;
    if (ts !== "") this.#lastTimestamp = ts;
    if (r.type === "user" || r.type === "assistant" || r.type === "system") {
      this.#runEnded = false;
      if (this.#rejected.length > 0 && !isInterruptMarker(r)) this.#settleRejected();
    }
    switch (r.type) {
      case "user":
        this.#user(r, ts, lineNo);
        break;
      case "assistant":
        this.#assistant(r, ts);
        break;
      case "system":
        this.#system(r, ts);
        break;
      case "summary":
        if (typeof r.summary === "string") this.#summaryTitle = r.summary;
        break;
      case "last-prompt":
        // Up to 2.1.112 it is written as a run of the CLI ends; later builds also write it mid-run.
        if (!writesLastPromptMidRun(this.#info.version)) this.#runEnded = true;
        break;
      case "cost-state":
        this.#runEnded = true;
        break;
      case "custom-title":
        if (typeof r.customTitle === "string") this.#customTitle = r.customTitle;
        break;
      default:
        if (typeof r.type !== "string" || !IGNORED_TYPES.has(r.type)) {
          const kind = typeof r.type === "string" ? r.type : "?";
          this.#warn({ kind: "unknown-record", lineNo, message: `line ${lineNo} has the unknown type ${JSON.stringify(kind)}; kept opaque` });
          this.#event({ type: "unknown", kind, lineNo, timestamp: ts, turnId: this.#turnId });
        }
        break;
    }
    this.#drain();
  }

  finish(): void {
    this.#commitUsage();
    this.#closeCompaction();
    this.#settleRejected();
    if (this.#turnId !== null) {
      if (this.#calls.size > 0 && this.#runEnded) {
        // The run ended without the result: interrupted (≤ 2.1.112 writes no result then).
        this.#abortCalls("aborted");
        this.#endTurn("aborted", "interrupted");
      } else if (this.#calls.size > 0) {
        // Results may still come: a live session.
        for (const c of this.#calls.values()) c.entry.done = true;
        this.#calls.clear();
      } else if (!this.#awaitingAnswer) {
        this.#endTurn(this.#turnError !== null ? "failed" : "completed", this.#turnError);
      }
    }
    if (this.#sessionEntry) this.#sessionEntry.done = true;
    this.#drain();
  }

  // ---- records ---------------------------------------------------------

  #header(r: Obj, ts: string): void {
    if (typeof r.sessionId === "string" && this.#info.sessionId === null) this.#info.sessionId = r.sessionId;
    if (typeof r.version === "string") this.#info.version = r.version;
    if (typeof r.gitBranch === "string" && r.gitBranch !== "") this.#info.gitBranch = r.gitBranch;
    if (typeof r.agentId === "string" && this.#info.agentId === null && r.isSidechain === true) this.#info.agentId = r.agentId;
    const cwd = typeof r.cwd === "string" && r.cwd !== "" ? r.cwd : null;
    if (cwd !== null) {
      this.#cwd = cwd;
      this.#info.cwd ??= cwd;
    }
    if (this.#sessionEntry === null && (typeof r.sessionId === "string" || cwd !== null)) {
      this.#sessionEntry = this.#event({ type: "session_started", sessionId: this.#info.sessionId, cwd, timestamp: ts, turnId: null }, cwd !== null);
    } else if (this.#sessionEntry !== null && !this.#sessionEntry.done) {
      // The first lines (titles, queue operations) name the session but not its cwd, and titles have no time.
      const ev = this.#sessionEntry.ev;
      if (ev.timestamp === "") ev.timestamp = ts;
      if (cwd !== null) {
        if (ev.type === "session_started") ev.cwd = cwd;
        this.#sessionEntry.done = true;
      }
    }
    if ((r.type === "user" || r.type === "assistant") && this.#sidechainFile === null) this.#sidechainFile = r.isSidechain === true;
  }

  #inlineSidechain(r: Obj): boolean {
    return r.isSidechain === true && this.#sidechainFile === false;
  }

  #user(r: Obj, ts: string, lineNo: number): void {
    const msg = obj(r.message);
    const content = msg?.content;
    if (Array.isArray(content) && content.some((b) => obj(b)?.type === "tool_result")) {
      this.#closeCompaction();
      for (const b of content) {
        const block = obj(b);
        if (block?.type === "tool_result") this.#result(block, r.toolUseResult, ts, lineNo);
      }
      if (!this.#inlineSidechain(r)) this.#awaitingAnswer = true;
      this.#touch(ts);
      return;
    }
    const text = typeof content === "string" ? content : Array.isArray(content) ? resultText(content) : "";
    if (r.isCompactSummary === true) {
      if (this.#compaction) {
        const ev = this.#compaction.ev;
        if (ev.type === "compaction" && this.#text) ev.text = this.#cut(text);
        this.#closeCompaction();
      } else {
        this.#event({ type: "compaction", text: this.#text ? this.#cut(text) : null, timestamp: ts, turnId: this.#turnId });
      }
      return;
    }
    this.#closeCompaction();
    if (r.isMeta === true || this.#inlineSidechain(r)) return;
    if (text.startsWith("[Request interrupted by user")) {
      this.#touch(ts);
      // 2.1.x answers the running call with a rejection, then writes this marker.
      for (const c of this.#rejected) c.ev.status = "aborted";
      this.#settleRejected();
      this.#abortCalls("aborted");
      if (this.#turnId !== null) this.#endTurn("aborted", "interrupted");
      return;
    }
    if (text.startsWith("<local-command-stdout>") || text.startsWith("<local-command-stderr>")) {
      // What a slash command (a `<command-name>` prompt) answered: that turn is done.
      this.#touch(ts);
      this.#awaitingAnswer = false;
      return;
    }
    if (text.startsWith("<local-command-caveat>")) return;
    // A prompt: a new turn.
    this.#closeTurn();
    this.#turnId = typeof r.uuid === "string" ? r.uuid : `derived-${lineNo}`;
    this.#turnStart = ts;
    this.#turnLast = ts;
    this.#turnError = null;
    this.#awaitingAnswer = true;
    this.#firstPrompt ??= text.length > 200 ? `${text.slice(0, 200)}…` : text;
    this.#event({ type: "turn_started", cwd: this.#cwd, timestamp: ts, turnId: this.#turnId });
    if (this.#text && text !== "") this.#event({ type: "message", role: "user", text: this.#cut(text)!, timestamp: ts, turnId: this.#turnId });
  }

  #assistant(r: Obj, ts: string): void {
    this.#closeCompaction();
    const msg = obj(r.message);
    if (!msg) return;
    const inline = this.#inlineSidechain(r);
    if (!inline) {
      this.#touch(ts);
      this.#awaitingAnswer = false;
    }
    const model = typeof msg.model === "string" ? msg.model : null;
    if (this.#usage && !inline) this.#messageUsage(typeof msg.id === "string" ? msg.id : null, obj(msg.usage));
    if (r.isApiErrorMessage === true || model === "<synthetic>") {
      const text = resultText(msg.content) || (typeof r.error === "string" ? r.error : "API error");
      if (!inline) this.#turnError = text;
      this.#event({ type: "error", message: this.#cut(text)!, timestamp: ts, turnId: this.#turnId });
      return;
    }
    if (!inline) this.#turnError = null;
    if (model !== null && model !== this.#model && !inline) {
      this.#model = model;
      this.#event({ type: "model", model, cwd: this.#cwd, timestamp: ts, turnId: this.#turnId });
    }
    const content = Array.isArray(msg.content) ? msg.content : [];
    for (const b of content) {
      const block = obj(b);
      if (!block) continue;
      switch (block.type) {
        case "tool_use":
          this.#toolUse(block, ts);
          break;
        case "text":
          if (this.#text && !inline && typeof block.text === "string" && block.text !== "")
            this.#event({ type: "message", role: "agent", text: this.#cut(block.text)!, timestamp: ts, turnId: this.#turnId });
          break;
        case "thinking":
          if (this.#text && !inline && typeof block.thinking === "string" && block.thinking !== "")
            this.#event({ type: "reasoning", text: this.#cut(block.thinking)!, timestamp: ts, turnId: this.#turnId });
          break;
        default:
          break;
      }
    }
  }

  #system(r: Obj, ts: string): void {
    switch (r.subtype) {
      case "compact_boundary":
        this.#closeCompaction();
        this.#compaction = this.#event({ type: "compaction", text: null, timestamp: ts, turnId: this.#turnId }, false);
        return;
      case "api_error": {
        const err = obj(r.error);
        const m = typeof err?.message === "string" ? err.message : typeof r.content === "string" ? r.content : "API error";
        const status = typeof err?.status === "number" ? `${err.status} ` : "";
        this.#event({ type: "error", message: this.#cut(`${status}${m}`)!, timestamp: ts, turnId: this.#turnId });
        return;
      }
      default:
        return;
    }
  }

  #toolUse(b: Obj, ts: string): void {
    const id = typeof b.id === "string" ? b.id : null;
    if (id !== null && (this.#calls.has(id) || this.#recentClosed.has(id))) return;
    const name = typeof b.name === "string" ? b.name : null;
    const input = obj(b.input);
    const kind = callKind(name);
    const base = {
      timestamp: ts,
      turnId: this.#turnId,
      callId: id,
      toolName: name,
      cwd: this.#cwd,
      status: "in_progress" as CallStatus,
      durationMs: null,
      output: null,
    };
    let ev: CallEvent;
    let path: string | null = null;
    if (kind === "command") {
      const command = typeof input?.command === "string" ? input.command : null;
      ev = { ...base, type: "command", command, argv: null, exitCode: null } satisfies CommandEvent;
    } else if (kind === "file_change") {
      path = fileToolPath(input);
      ev = { ...base, type: "file_change", paths: path === null ? [] : [path], files: [], exitCode: null } satisfies FileChangeEvent;
    } else {
      ev = {
        ...base,
        type: "tool_call",
        command: toolDisplay(name, input),
        input: this.#text && input ? this.#cut(JSON.stringify(input)) : null,
        subAgent: isSubAgentTool(name) ? { action: "spawn", childIds: [] } : null,
        webSearch: name === "WebSearch",
      } satisfies ToolCallEvent;
    }
    const entry = this.#event(ev, false);
    if (id === null) {
      entry.done = true;
      ev.status = "failed";
      return;
    }
    this.#calls.set(id, { entry, ev, kind, startMs: Date.parse(ts), path });
  }

  #result(block: Obj, structured: unknown, ts: string, lineNo: number): void {
    const id = typeof block.tool_use_id === "string" ? block.tool_use_id : null;
    if (id !== null && this.#recentClosed.has(id)) return;
    let call = id === null ? undefined : this.#calls.get(id);
    if (!call) {
      this.#warn({
        kind: "result-without-call",
        lineNo,
        message: `line ${lineNo} holds the result of ${id ?? "a call without id"}, whose call is not in the transcript; kept as a tool call`,
      });
      const ev: ToolCallEvent = {
        type: "tool_call",
        timestamp: ts,
        turnId: this.#turnId,
        callId: id,
        toolName: null,
        cwd: this.#cwd,
        status: "in_progress",
        durationMs: null,
        output: null,
        command: null,
        input: null,
        subAgent: null,
        webSearch: false,
      };
      call = { entry: this.#event(ev, false), ev, kind: "tool_call", startMs: Date.parse(ts), path: null };
    }
    const text = resultText(block.content);
    const out = resultOutcome(call.kind, block.is_error === true, text, structured);
    const ev = call.ev;
    ev.status = out.status;

    const end = Date.parse(ts);
    ev.durationMs = Number.isFinite(end) && Number.isFinite(call.startMs) && end >= call.startMs ? end - call.startMs : null;
    if (this.#text) ev.output = this.#cut(text);
    const s = obj(structured);
    if (ev.type === "command") ev.exitCode = out.exitCode;
    else if (ev.type === "file_change") {
      const p = call.path ?? (typeof s?.filePath === "string" ? s.filePath : null);
      if (p !== null && ev.paths.length === 0) ev.paths = [p];
      if (this.#text && p !== null && out.status === "completed") {
        const d = fileDiffOf(p, structured);
        if (d) ev.files = [d];
      }
    } else if (ev.subAgent !== null && typeof s?.agentId === "string") {
      ev.subAgent.childIds = [s.agentId];
    }
    this.#closeCall(id, call);
    if (out.status === "declined") {
      // Held back until the next record says whether it was an interrupt.
      call.entry.done = false;
      this.#rejected.push(call);
    }
  }

  #settleRejected(): void {
    for (const c of this.#rejected) c.entry.done = true;
    this.#rejected = [];
  }

  // ---- turns -----------------------------------------------------------

  #touch(ts: string): void {
    if (ts !== "") this.#turnLast = ts;
  }

  /** A new prompt ends the open turn: calls still without a result then never got one. */
  #closeTurn(): void {
    this.#commitUsage();
    if (this.#turnId === null) return;
    if (this.#calls.size > 0) {
      this.#abortCalls("aborted");
      this.#endTurn("aborted", null);
      return;
    }
    this.#endTurn(this.#turnError !== null ? "failed" : "completed", this.#turnError);
  }

  #endTurn(status: TurnEnd, reason: string | null): void {
    const start = Date.parse(this.#turnStart);
    const end = Date.parse(this.#turnLast);
    const durationMs = Number.isFinite(start) && Number.isFinite(end) && end >= start ? end - start : null;
    this.#event({ type: "turn_ended", status, cwd: this.#cwd, reason, durationMs, timestamp: this.#turnLast, turnId: this.#turnId });
    this.#turnId = null;
    this.#turnError = null;
    this.#awaitingAnswer = false;
    this.#settleRejected();
  }

  #abortCalls(status: CallStatus): void {
    for (const [id, c] of this.#calls) {
      if (status === "aborted")
        this.#warn({ kind: "call-without-result", lineNo: 0, message: `call ${id} (${c.ev.toolName ?? "?"}) got no result; counted as aborted` });
      c.ev.status = status;
      this.#closeCall(id, c);
    }
  }

  #closeCall(id: string | null, call: PendingCall): void {
    call.entry.done = true;
    if (id === null) return;
    this.#calls.delete(id);
    this.#recentClosed.add(id);
    if (this.#recentClosed.size > RECENT_CLOSED_IDS) this.#recentClosed.delete(this.#recentClosed.values().next().value!);
  }

  #closeCompaction(): void {
    if (this.#compaction) {
      this.#compaction.done = true;
      this.#compaction = null;
    }
  }

  // ---- usage -----------------------------------------------------------

  /** Each line of a response repeats its usage (the last one is final): count a response once. */
  #messageUsage(id: string | null, usage: Obj | null): void {
    if (!usage) return;
    const u: TokenUsage = {
      input: int(usage.input_tokens) + int(usage.cache_creation_input_tokens) + int(usage.cache_read_input_tokens),
      cached_input: int(usage.cache_read_input_tokens),
      output: int(usage.output_tokens),
      reasoning: 0,
    };
    if (id === null || id !== this.#msgId) this.#commitUsage();
    this.#msgId = id;
    this.#msgUsage = u;
  }

  #commitUsage(): void {
    const u = this.#msgUsage;
    if (!u) return;
    this.#msgUsage = null;
    this.#total.input += u.input;
    this.#total.cached_input += u.cached_input;
    this.#total.output += u.output;
    this.#usageSeen = true;
    this.#event({ type: "token_usage", total: { ...this.#total }, timestamp: this.#lastTimestamp, turnId: this.#turnId });
  }

  // ---- queue -----------------------------------------------------------

  #event(ev: SessionEvent, done = true): Entry {
    const entry = { ev, done };
    this.#queue.push(entry);
    return entry;
  }

  #drain(): void {
    while (this.#head < this.#queue.length) {
      const e = this.#queue[this.#head]!;
      if (!e.done) {
        if (this.#queue.length - this.#head <= this.#maxPending) break;
        this.#force(e);
      }
      this.#out.push(e.ev);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Too much waits behind an unanswered call: it is handed out as aborted, and its late result dropped. */
  #force(e: Entry): void {
    const ev = e.ev;
    if ((ev.type === "command" || ev.type === "file_change" || ev.type === "tool_call") && ev.callId !== null) {
      const c = this.#calls.get(ev.callId);
      if (c) {
        this.#warn({
          kind: "call-without-result",
          lineNo: 0,
          message: `call ${ev.callId} got no result within ${this.#maxPending} events; counted as aborted`,
        });
        ev.status = "aborted";
        this.#closeCall(ev.callId, c);
      }
    }
    if (ev.type === "compaction") this.#compaction = null;
    e.done = true;
  }

  #leanSkip(text: string): boolean {
    if (LEAN_SKIP_PREFIX.test(text)) return true;
    // Attachments (often the biggest lines: prompt snapshots, listings) name `attachment` right after the chain fields.
    if (text.slice(0, 200).includes(',"attachment":{')) return true;
    // Structural tokens cannot occur unescaped inside a JSON string, so these substring tests are exact enough.
    if (text.includes('"type":"assistant"')) {
      if (text.includes('"type":"tool_use"') || text.includes('"isApiErrorMessage":true') || text.includes('"model":"<synthetic>"')) return false;
      // A text or thinking block: only the fact that the model answered matters here.
      if (!text.includes('"isSidechain":true') || this.#sidechainFile === true) {
        const ts = lastTimestamp(text);
        if (ts !== null) {
          this.#lastTimestamp = ts;
          this.#touch(ts);
        }
        this.#awaitingAnswer = false;
        this.#turnError = null;
      }
      return true;
    }
    return false;
  }

  #cut(s: string | null): string | null {
    if (s === null) return null;
    return s.length > this.#maxText ? `${s.slice(0, this.#maxText)}…` : s;
  }

  /** Whether token usage was recorded at all. */
  get usageSeen(): boolean {
    return this.#usageSeen;
  }
}

function isInterruptMarker(r: Obj): boolean {
  if (r.type !== "user") return false;
  const c = obj(r.message)?.content;
  const text = typeof c === "string" ? c : Array.isArray(c) && c.every((b) => obj(b)?.type === "text") ? resultText(c) : "";
  return text.startsWith("[Request interrupted by user");
}

/** Whether `last-prompt` may come mid-run: in builds after 2.1.112 (2.1.332 writes it before each request). */
function writesLastPromptMidRun(version: string | null): boolean {
  const m = version === null ? null : /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return true;
  const v = [Number(m[1]), Number(m[2]), Number(m[3])];
  return v[0]! > 2 || (v[0] === 2 && (v[1]! > 1 || (v[1] === 1 && v[2]! > 112)));
}

/** The record's own time: Claude Code writes it after `message`, so the last occurrence is the top-level one. */
function lastTimestamp(text: string): string | null {
  const key = '"timestamp":"';
  const at = text.lastIndexOf(key);
  if (at === -1) return null;
  const end = text.indexOf('"', at + key.length);
  return end === -1 ? null : text.slice(at + key.length, end);
}

function obj(v: unknown): Obj | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : null;
}

function int(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}
