import type { LineWarning } from "../../jsonl-reader.js";
import { parseJsonObjectLine } from "../../jsonl-reader.js";
import type { CallStatus, FileDiff, SessionEvent, SubAgentAction, TokenUsage, TurnEnd } from "../../session-model/session-event.js";
import type { TranscriptReader, TranscriptReaderOptions } from "../../session-model/transcript-reader.js";
import { changesMapFiles, changesMapPaths, normalizePaths, patchFiles, patchFromArgv, patchPaths } from "./apply-patch.js";
import { cwdFromRecord, displayCommand, isStringArray } from "./command-display.js";
import { cwdFromEnvironmentContext, isInjectedUserText } from "./injected-context.js";
import { contentText } from "./message-text.js";
import type { ToolOutcome } from "./tool-output.js";
import { outputSuccessFlag, outputText, parseDuration, parseToolOutput } from "./tool-output.js";

/**
 * Reads a Codex rollout into the session model (DESIGN.md §4, §12): the
 * envelope format of every version (`{"timestamp","type","payload"}`, with
 * or without `ordinal`) and the bare-line format of the builds up to the
 * 0.2x series (the meta object as line 1, then bare response items and
 * `{"record_type":"state"}` lines, no per-line timestamps).
 *
 * Streaming with bounded memory: each line is parsed once (without `text`,
 * lines that can only carry text — messages, reasoning, token counts,
 * compaction history — are recognised from their envelope prefix and not
 * parsed at all), and only events not yet handed out are kept. A tool
 * call's records are merged by call_id until the next turn starts (Codex
 * writes some of them after the call's output, even after `turn_aborted`),
 * or until more than `maxPending` events wait; then they are handed out in
 * the order of their first record. Late records of a handed-out call are
 * dropped (a bounded set of recent call ids remembers them), which is also
 * what keeps a history copied by a resume from counting twice.
 */
const DEFAULT_MAX_PENDING = 512;
const DEFAULT_MAX_TEXT = 100_000;
const RECENT_CLOSED_IDS = 8192;

const COMMAND_TOOLS = new Set(["shell", "container.exec", "shell_command", "exec_command", "local_shell"]);
const PATCH_TOOLS = new Set(["apply_patch", "applypatch"]);
const SUB_AGENT_TOOLS: Record<string, SubAgentAction> = {
  spawn_agent: "spawn",
  wait: "wait",
  wait_agent: "wait",
  close_agent: "close",
  send_input: "send",
};

/** Envelope prefix `{"timestamp":"…",["ordinal":N,]"type":"T","payload":{"type":"P"` (depth-1 keys only). */
const ENVELOPE = /^\{"timestamp":"[^"\\]*",(?:"ordinal":\d+,)?"type":"([a-z_]+)"(?:,"payload":\{"type":"([a-z_]+)")?/;
const BARE_STATE = '{"record_type":';
const KNOWN_KINDS = new Set(["session_meta", "response_item", "event_msg", "turn_context", "compacted", "world_state", "token_usage_record"]);
/** Kinds no view reads (world_state, token_usage_record) or that only carry text. */
const LEAN_SKIP_KINDS = new Set(["world_state", "token_usage_record", "compacted"]);
const TEXT_SKIP_KINDS = new Set(["world_state", "token_usage_record"]);
const LEAN_SKIP_RESPONSE_ITEMS = new Set(["message", "reasoning"]);
/** Events that repeat what response items say, or are begin/delta/approval noise. */
const SKIP_EVENTS = [
  "agent_message",
  "agent_message_delta",
  "agent_reasoning",
  "agent_reasoning_delta",
  "agent_reasoning_raw_content",
  "agent_reasoning_raw_content_delta",
  "agent_reasoning_section_break",
  "exec_command_begin",
  "exec_command_output_delta",
  "patch_apply_begin",
  "mcp_tool_call_begin",
  "web_search_begin",
  "exec_approval_request",
  "apply_patch_approval_request",
  "thread_settings_applied",
  "context_compacted",
];
const LEAN_SKIP_EVENTS = new Set([...SKIP_EVENTS, "token_count"]);
const TEXT_SKIP_EVENTS = new Set(SKIP_EVENTS);

type Obj = Record<string, unknown>;
type SlotKind = "session_started" | "turn_started" | "turn_ended" | "command" | "file_change" | "tool_call" | "event";

interface Slot {
  kind: SlotKind;
  timestamp: string;
  turnId: string | null;
  /** A finished non-call event (message, reasoning, …). */
  event: SessionEvent | null;
  callId: string | null;
  toolName: string | null;
  command: string | null;
  argv: string[] | null;
  cwd: string | null;
  /** Markers: their final status; calls: a status the call's own record carries (web_search_call). */
  status: CallStatus | null;
  turnEnd: TurnEnd | null;
  reason: string | null;
  durationMs: number | null;
  closed: boolean;
  /** Closed at the end of the transcript while its turn was still open. */
  live: boolean;
  resultSeen: boolean;
  structuredStatus: CallStatus | null;
  structuredExit: number | null;
  structuredDuration: number | null;
  spanDuration: number | null;
  outcome: ToolOutcome | null;
  outputExit: number | null;
  outputDuration: number | null;
  successFlag: boolean | null;
  patchPaths: string[] | null;
  mapPaths: string[] | null;
  awaitingCwd: boolean;
  // Unified exec: a process that outlived its call, finished through write_stdin.
  execProcess: string | null;
  firstOutputAt: string | null;
  stdinExit: number | null;
  stdinExitAt: string | null;
  // Text (only with `text`).
  input: string | null;
  output: string | null;
  patchDiffs: FileDiff[] | null;
  mapDiffs: FileDiff[] | null;
  subAgent: SubAgentAction | null;
  childIds: string[];
  webSearch: boolean;
}

function newSlot(kind: SlotKind, timestamp: string, turnId: string | null, cwd: string | null): Slot {
  return {
    kind,
    timestamp,
    turnId,
    event: null,
    callId: null,
    toolName: null,
    command: null,
    argv: null,
    cwd,
    status: null,
    turnEnd: null,
    reason: null,
    durationMs: null,
    closed: false,
    live: false,
    resultSeen: false,
    structuredStatus: null,
    structuredExit: null,
    structuredDuration: null,
    spanDuration: null,
    outcome: null,
    outputExit: null,
    outputDuration: null,
    successFlag: null,
    patchPaths: null,
    mapPaths: null,
    awaitingCwd: false,
    execProcess: null,
    firstOutputAt: null,
    stdinExit: null,
    stdinExitAt: null,
    input: null,
    output: null,
    patchDiffs: null,
    mapDiffs: null,
    subAgent: null,
    childIds: [],
    webSearch: false,
  };
}

export class CodexReader implements TranscriptReader {
  readonly #out: SessionEvent[] = [];
  readonly #text: boolean;
  readonly #maxText: number;
  readonly #warn: (w: LineWarning) => void;
  readonly #maxPending: number;
  readonly #skipKinds: Set<string>;
  readonly #skipEvents: Set<string>;

  /** Events in order of first appearance, not yet handed out: queue[head..]. */
  #queue: Slot[] = [];
  #head = 0;
  readonly #open = new Map<string, Slot>();
  readonly #recentClosed = new Set<string>();
  /** Unified-exec processes still running, by process (session) id. */
  readonly #processes = new Map<string, Slot>();

  #firstLine = true;
  #bare = false;
  #sessionSlot: Slot | null = null;
  #sessionStarted = false;
  #sessionCwd: string | null = null;
  #cwd: string | null = null;
  #model: string | null = null;
  /** Latest time seen: bare lines have none of their own. */
  #lastTimestamp = "";
  #turnId: string | null = null;
  #turnSlot: Slot | null = null;
  #turnOpen = false;
  /** The file records task_started: user messages no longer derive turns. */
  #explicitTurns = false;
  #derivedTurns = 0;
  /** A real user message seen as a response item, waiting for the event_msg that starts its derived turn. */
  #pendingUserMessage: Slot | null = null;

  constructor(options: TranscriptReaderOptions = {}) {
    this.#text = options.text ?? false;
    this.#maxText = options.maxTextChars ?? DEFAULT_MAX_TEXT;
    this.#warn = options.onWarning ?? (() => {});
    this.#maxPending = Math.max(1, options.maxPending ?? DEFAULT_MAX_PENDING);
    this.#skipKinds = this.#text ? TEXT_SKIP_KINDS : LEAN_SKIP_KINDS;
    this.#skipEvents = (options.usage ?? this.#text) ? TEXT_SKIP_EVENTS : LEAN_SKIP_EVENTS;
  }

  take(): SessionEvent[] {
    return this.#out.splice(0, this.#out.length);
  }

  push(text: string, lineNo: number): void {
    if (text === "" || (text.length < 64 && text.trim() === "")) return;
    const first = this.#firstLine;
    this.#firstLine = false;
    if (!first) {
      if (this.#bare) {
        if (text.startsWith(BARE_STATE)) return;
      } else {
        const env = ENVELOPE.exec(text);
        if (env) {
          const kind = env[1]!;
          const sub = env[2];
          if (this.#skipKinds.has(kind)) return;
          if (
            sub !== undefined &&
            ((kind === "response_item" && !this.#text && LEAN_SKIP_RESPONSE_ITEMS.has(sub)) || (kind === "event_msg" && this.#skipEvents.has(sub)))
          )
            return;
        }
      }
    }
    const line = parseJsonObjectLine(text, lineNo, this.#warn);
    if (line === null) return;
    if (first && !isEnvelope(line)) {
      if (typeof line.id === "string" && typeof line.type !== "string") {
        // Bare-line builds: the meta object itself is line 1.
        this.#bare = true;
        this.#sessionMeta(str(line.timestamp) ?? "", line);
        this.#drain();
        return;
      }
      this.#warn({ kind: "not-a-session-start", lineNo, message: `line ${lineNo} is not a session meta record; read on without one` });
    }
    if (this.#bare || !isEnvelope(line)) {
      if (line.record_type !== undefined) return;
      if (typeof line.type !== "string") {
        this.#warn({ kind: "unknown-record", lineNo, message: `line ${lineNo} is not a record this reader knows; kept opaque` });
        this.#event({ type: "unknown", kind: "?", lineNo, timestamp: this.#lastTimestamp, turnId: this.#turnId });
        return;
      }
      this.#responseItem(this.#lastTimestamp, line);
      this.#drain();
      return;
    }
    const payload = line.payload as Obj;
    const ts = typeof line.timestamp === "string" ? line.timestamp : this.#lastTimestamp;
    if (ts !== "") this.#lastTimestamp = ts;
    switch (line.type) {
      case "session_meta":
        this.#sessionMeta(ts, payload);
        break;
      case "turn_context":
        this.#turnContext(ts, payload);
        break;
      case "event_msg":
        this.#eventMsg(ts, payload);
        break;
      case "response_item":
        this.#responseItem(ts, payload);
        break;
      case "compacted":
        this.#event({ type: "compaction", text: this.#cut(str(payload.message)), timestamp: ts, turnId: this.#turnId });
        break;
      default:
        if (!KNOWN_KINDS.has(line.type as string)) {
          this.#warn({ kind: "unknown-record", lineNo, message: `line ${lineNo} has the unknown kind ${JSON.stringify(line.type)}; kept opaque` });
          this.#event({ type: "unknown", kind: line.type as string, lineNo, timestamp: ts, turnId: this.#turnId });
        }
        break;
    }
    this.#drain();
  }

  finish(): void {
    this.#flushUserMessage();
    // Calls without a result in a turn that is still open are running, not aborted.
    if (this.#turnOpen) {
      for (let i = this.#head; i < this.#queue.length; i++) {
        const s = this.#queue[i]!;
        if (!s.closed) s.live = true;
      }
    }
    this.#closeAll();
    this.#drain();
  }

  // ---- records ---------------------------------------------------------

  #sessionMeta(ts: string, p: Obj): void {
    if (this.#sessionStarted) return;
    this.#sessionStarted = true;
    if (ts !== "") this.#lastTimestamp = ts;
    const cwd = str(p.cwd);
    this.#sessionCwd = cwd;
    if (this.#cwd === null) this.#cwd = cwd;
    const slot = newSlot("session_started", ts, null, cwd);
    slot.status = "completed";
    slot.callId = str(p.id);
    // Bare files name their cwd only in the first <environment_context> message.
    if (cwd === null && this.#bare) this.#sessionSlot = slot;
    else slot.closed = true;
    this.#enqueue(slot);
  }

  #turnContext(ts: string, p: Obj): void {
    const model = str(p.model);
    const cwd = str(p.cwd);
    if (model !== null && model !== this.#model) {
      this.#model = model;
      this.#event({ type: "model", model, cwd: cwd ?? this.#cwd, timestamp: ts, turnId: str(p.turn_id) ?? this.#turnId });
    }
    if (cwd === null) return;
    this.#cwd = cwd;
    const t = this.#turnSlot;
    if (t?.awaitingCwd && !t.closed) {
      const tid = str(p.turn_id);
      if (tid === null || tid === t.turnId) {
        t.cwd = cwd;
        t.awaitingCwd = false;
        t.closed = true;
      }
    }
  }

  #eventMsg(ts: string, p: Obj): void {
    switch (p.type) {
      case "task_started":
      case "turn_started":
        this.#explicitTurns = true;
        this.#startTurn(ts, str(p.turn_id));
        return;
      case "task_complete":
      case "turn_complete": {
        const failed = p.error !== undefined && p.error !== null;
        this.#endTurn(ts, str(p.turn_id), failed ? "failed" : "completed", failed ? errorText(p.error) : null, nonNegInt(p.duration_ms));
        return;
      }
      case "turn_aborted":
        this.#endTurn(ts, str(p.turn_id), "aborted", str(p.reason), nonNegInt(p.duration_ms));
        return;
      case "user_message":
        if (!this.#explicitTurns && isRealUserMessage(p)) {
          this.#derivedTurns++;
          this.#startTurn(ts, `derived-${this.#derivedTurns}`);
        }
        return;
      case "token_count": {
        const info = (p.info && typeof p.info === "object" ? p.info : null) as Obj | null;
        const total = tokenUsage(info?.total_token_usage);
        if (total) this.#event({ type: "token_usage", total, timestamp: ts, turnId: this.#turnId });
        return;
      }
      case "error":
        this.#event({ type: "error", message: this.#cut(str(p.message)) ?? "error", timestamp: ts, turnId: this.#turnId });
        return;
      case "exec_command_end":
        this.#execEnd(ts, p);
        return;
      case "patch_apply_end":
        this.#patchEnd(ts, p);
        return;
      case "mcp_tool_call_end":
        this.#mcpEnd(ts, p);
        return;
      case "web_search_end": {
        const slot = this.#slotFor(str(p.call_id), ts, str(p.turn_id), "tool_call");
        if (!slot) return;
        slot.toolName ??= "web_search";
        slot.webSearch = true;
        slot.command ??= str(p.query);
        slot.structuredStatus ??= "completed";
        slot.resultSeen = true;
        return;
      }
      case "view_image_tool_call": {
        const slot = this.#slotFor(str(p.call_id), ts, str(p.turn_id), "tool_call");
        if (!slot) return;
        slot.toolName ??= "view_image";
        return;
      }
      case "item_completed":
        this.#itemCompleted(ts, p);
        return;
      default:
        return;
    }
  }

  #responseItem(ts: string, p: Obj): void {
    const type = p.type;
    const turnId = passthroughTurnId(p);
    switch (type) {
      case "message":
        this.#message(ts, p, turnId);
        return;
      case "reasoning": {
        if (!this.#text) return;
        const text = summaryText(p.summary);
        if (text !== "") this.#event({ type: "reasoning", text: this.#cut(text)!, timestamp: ts, turnId: turnId ?? this.#turnId });
        return;
      }
      case "function_call":
      case "custom_tool_call": {
        const name = str(p.name);
        const callId = str(p.call_id);
        const input =
          type === "custom_tool_call"
            ? str(p.input)
            : typeof p.arguments === "string"
              ? p.arguments
              : p.arguments === undefined
                ? null
                : JSON.stringify(p.arguments);
        if (name !== null && PATCH_TOOLS.has(name)) {
          const patch = type === "custom_tool_call" ? str(p.input) : patchFromArguments(p.arguments);
          this.#patchCall(ts, callId, turnId, name, patch);
        } else if (name !== null && COMMAND_TOOLS.has(name) && type === "function_call") {
          this.#commandCall(ts, callId, turnId, name, parseArguments(p.arguments));
        } else {
          const slot = this.#slotFor(callId, ts, turnId, "tool_call");
          if (!slot) return;
          slot.toolName ??= name;
          if (this.#text) slot.input ??= this.#cut(input);
          if (name !== null && name in SUB_AGENT_TOOLS) {
            slot.subAgent = SUB_AGENT_TOOLS[name]!;
            addIds(slot.childIds, subAgentTargets(parseArguments(p.arguments)));
          }
          if (name === "write_stdin") slot.execProcess = processIdOf(parseArguments(p.arguments).session_id);
        }
        return;
      }
      case "local_shell_call": {
        const action = (p.action && typeof p.action === "object" ? p.action : {}) as Obj;
        this.#commandCall(ts, str(p.call_id) ?? str(p.id), turnId, "local_shell", { command: action.command, workdir: action.working_directory });
        return;
      }
      case "function_call_output":
      case "custom_tool_call_output":
        this.#output(ts, str(p.call_id), p.output);
        return;
      case "web_search_call": {
        const slot = this.#slotFor(str(p.id) ?? str(p.call_id), ts, turnId, "tool_call");
        if (!slot) return;
        slot.toolName ??= "web_search";
        slot.webSearch = true;
        slot.command ??= webSearchDisplay(p.action);
        const st = mapStatus(p.status);
        if (st) slot.status = st;
        if (slot.callId === null) slot.closed = true;
        return;
      }
      default: {
        if (typeof type !== "string") return;
        // Future hosted tools (`image_generation_call`, …) and their outputs.
        if (type.endsWith("_call_output")) {
          this.#output(ts, str(p.call_id), p.output);
        } else if (type.endsWith("_call")) {
          const slot = this.#slotFor(str(p.call_id) ?? str(p.id), ts, turnId, "tool_call");
          if (!slot) return;
          slot.toolName ??= str(p.name) ?? type.slice(0, -"_call".length);
          const st = mapStatus(p.status);
          if (st) slot.status = st;
          if (slot.callId === null) slot.closed = true;
        }
        return;
      }
    }
  }

  #message(ts: string, p: Obj, turnId: string | null): void {
    const role = p.role;
    if (role !== "user" && role !== "assistant") return;
    const text = contentText(p.content);
    if (role === "user") {
      const envCwd = cwdFromEnvironmentContext(text);
      if (envCwd !== null) this.#environmentCwd(envCwd);
      if (text.trim() === "" || isInjectedUserText(text)) return;
      if (this.#bare) {
        // No event_msg in bare files: the user's message is the turn boundary.
        this.#derivedTurns++;
        this.#startTurn(ts, `derived-${this.#derivedTurns}`);
      }
      if (!this.#text) return;
      const slot = this.#eventSlot({ type: "message", role: "user", text: this.#cut(text)!, timestamp: ts, turnId: turnId ?? this.#turnId });
      // Envelope files without task_started start the turn at the event_msg that follows.
      if (!this.#bare && !this.#explicitTurns) {
        slot.closed = false;
        this.#pendingUserMessage = slot;
      }
      return;
    }
    if (!this.#text || text.trim() === "") return;
    this.#event({ type: "message", role: "agent", text: this.#cut(text)!, timestamp: ts, turnId: turnId ?? this.#turnId });
  }

  #environmentCwd(cwd: string): void {
    if (this.#sessionCwd === null) this.#sessionCwd = cwd;
    this.#cwd = cwd;
    const s = this.#sessionSlot;
    if (s && !s.closed) {
      s.cwd = cwd;
      s.closed = true;
      this.#sessionSlot = null;
    }
  }

  // ---- call shapes -----------------------------------------------------

  #commandCall(ts: string, callId: string | null, turnId: string | null, name: string, args: Obj): void {
    const workdir = str(args.workdir);
    let argv: string[] | null = null;
    let command: string | null = null;
    if (isStringArray(args.command)) {
      argv = args.command;
      const patch = patchFromArgv(argv);
      if (patch !== null) {
        this.#patchCall(ts, callId, turnId, name, patch, workdir);
        return;
      }
      command = displayCommand(argv);
    } else if (typeof args.command === "string") {
      command = args.command;
    } else if (typeof args.cmd === "string") {
      command = args.cmd;
    }
    const slot = this.#slotFor(callId, ts, turnId, "command");
    if (!slot) return;
    slot.toolName ??= name;
    slot.command ??= command;
    slot.argv ??= argv;
    if (workdir !== null) slot.cwd = resolveDir(workdir, slot.cwd);
  }

  #patchCall(ts: string, callId: string | null, turnId: string | null, name: string, patch: string | null, workdir: string | null = null): void {
    const slot = this.#slotFor(callId, ts, turnId, "file_change");
    if (!slot) return;
    slot.kind = "file_change";
    slot.toolName ??= name;
    slot.command = null;
    slot.argv = null;
    if (patch !== null) {
      slot.patchPaths ??= patchPaths(patch);
      if (this.#text) slot.patchDiffs ??= patchFiles(patch).map((f) => ({ ...f, diff: this.#cut(f.diff)! }));
    }
    if (workdir !== null) slot.cwd = resolveDir(workdir, slot.cwd);
  }

  #output(ts: string, callId: string | null, output: unknown): void {
    if (callId === null) return;
    const slot = this.#open.get(callId);
    // An output whose call is unknown (or already handed out) cannot say which tool ran.
    if (!slot) return;
    slot.resultSeen = true;
    const success = outputSuccessFlag(output);
    if (success !== null) slot.successFlag = success;
    const text = outputText(output);
    if (text === null) return;
    const parsed = parseToolOutput(text);
    slot.outcome = parsed.outcome;
    slot.outputExit = parsed.exitCode;
    slot.outputDuration = parsed.durationMs;
    if (this.#text) slot.output = this.#cut(parsed.body);
    if (slot.kind === "tool_call" && slot.subAgent === "spawn") addIds(slot.childIds, spawnedIds(text));
    if (parsed.outcome === "running" && parsed.processId !== null && slot.kind === "command") {
      slot.execProcess = parsed.processId;
      slot.firstOutputAt = ts;
      this.#processes.set(parsed.processId, slot);
    } else if (slot.execProcess !== null && slot.kind === "tool_call") {
      // write_stdin answered for a running process: its exit belongs to the command that started it.
      const cmd = this.#processes.get(slot.execProcess);
      if (cmd && parsed.outcome === "exited") {
        cmd.stdinExit = parsed.exitCode;
        cmd.stdinExitAt = ts;
        this.#processes.delete(slot.execProcess);
      }
    }
  }

  #execEnd(ts: string, p: Obj): void {
    const slot = this.#slotFor(str(p.call_id), ts, str(p.turn_id), "command");
    if (!slot) return;
    if (isStringArray(p.command)) {
      slot.argv = p.command;
      slot.command ??= displayCommand(p.command);
    }
    const cwd = cwdFromRecord(p.cwd);
    if (cwd !== null) slot.cwd = cwd;
    slot.resultSeen = true;
    if (typeof p.exit_code === "number" && Number.isInteger(p.exit_code)) slot.structuredExit = p.exit_code;
    slot.structuredDuration = parseDuration(p.duration) ?? slot.structuredDuration;
    slot.structuredStatus = mapStatus(p.status) ?? slot.structuredStatus;
    if (this.#text) slot.output = this.#cut(str(p.aggregated_output) ?? str(p.formatted_output) ?? joinOut(p.stdout, p.stderr)) ?? slot.output;
  }

  #patchEnd(ts: string, p: Obj): void {
    const slot = this.#slotFor(str(p.call_id), ts, str(p.turn_id), "file_change");
    if (!slot) return;
    slot.kind = "file_change";
    slot.command = null;
    slot.argv = null;
    slot.resultSeen = true;
    const paths = changesMapPaths(p.changes);
    if (paths.length > 0) slot.mapPaths = paths;
    if (this.#text) {
      const files = changesMapFiles(p.changes);
      if (files.length > 0) slot.mapDiffs = files.map((f) => ({ ...f, diff: this.#cut(f.diff)! }));
      slot.output = this.#cut(joinOut(p.stdout, p.stderr)) ?? slot.output;
    }
    const st = mapStatus(p.status);
    if (st) slot.structuredStatus = st;
    else if (typeof p.success === "boolean") slot.structuredStatus = p.success ? "completed" : "failed";
  }

  #mcpEnd(ts: string, p: Obj): void {
    const slot = this.#slotFor(str(p.call_id), ts, str(p.turn_id), "tool_call");
    if (!slot) return;
    const inv = (p.invocation && typeof p.invocation === "object" ? p.invocation : {}) as Obj;
    const server = str(inv.server);
    const tool = str(inv.tool);
    if (server !== null && tool !== null) slot.toolName ??= `mcp__${server}__${tool}`;
    if (this.#text && inv.arguments !== undefined) slot.input ??= this.#cut(JSON.stringify(inv.arguments));
    slot.resultSeen = true;
    slot.structuredDuration = parseDuration(p.duration) ?? slot.structuredDuration;
    const result = (p.result && typeof p.result === "object" ? p.result : null) as Obj | null;
    if (result && "Err" in result) slot.structuredStatus = "failed";
    else if (result?.Ok && typeof result.Ok === "object") {
      const ok = result.Ok as Obj;
      slot.structuredStatus = ok.isError === true || ok.is_error === true ? "failed" : "completed";
    }
    if (this.#text && result) slot.output = this.#cut(JSON.stringify(result.Ok ?? result.Err ?? result));
  }

  #itemCompleted(ts: string, p: Obj): void {
    const item = p.item;
    if (!item || typeof item !== "object") return;
    const it = item as Obj;
    const itemType = str(it.type);
    if (itemType === null) return;
    const turnId = str(p.turn_id);
    const callId = str(it.id);
    let slot: Slot | null;
    switch (itemType) {
      case "CommandExecution":
        slot = this.#slotFor(callId, ts, turnId, "command");
        if (!slot) return;
        if (isStringArray(it.command)) {
          slot.argv = it.command;
          slot.command ??= displayCommand(it.command);
        } else if (typeof it.command === "string") {
          slot.command ??= it.command;
        }
        if (typeof it.exit_code === "number" && Number.isInteger(it.exit_code)) slot.structuredExit = it.exit_code;
        slot.structuredDuration = parseDuration(it.duration) ?? slot.structuredDuration;
        {
          const cwd = cwdFromRecord(it.cwd);
          if (cwd !== null) slot.cwd = cwd;
        }
        if (this.#text) slot.output = this.#cut(str(it.aggregated_output)) ?? slot.output;
        break;
      case "FileChange": {
        slot = this.#slotFor(callId, ts, turnId, "file_change");
        if (!slot) return;
        slot.kind = "file_change";
        slot.command = null;
        slot.argv = null;
        const paths = changesMapPaths(it.changes);
        if (paths.length > 0) slot.mapPaths = paths;
        if (this.#text) {
          const files = changesMapFiles(it.changes);
          if (files.length > 0) slot.mapDiffs = files.map((f) => ({ ...f, diff: this.#cut(f.diff)! }));
        }
        break;
      }
      case "McpToolCall":
        slot = this.#slotFor(callId, ts, turnId, "tool_call");
        if (!slot) return;
        if (str(it.server) !== null && str(it.tool) !== null) slot.toolName ??= `mcp__${str(it.server)}__${str(it.tool)}`;
        slot.structuredDuration = parseDuration(it.duration_ms ?? it.duration) ?? slot.structuredDuration;
        break;
      case "WebSearch":
        slot = this.#slotFor(callId, ts, turnId, "tool_call");
        if (!slot) return;
        slot.toolName ??= "web_search";
        slot.webSearch = true;
        slot.command ??= str(it.query) ?? webSearchDisplay(it.action);
        slot.structuredStatus ??= "completed";
        break;
      case "CollabAgentToolCall":
      case "ImageView":
      case "DynamicToolCall":
        slot = this.#slotFor(callId, ts, turnId, "tool_call");
        if (!slot) return;
        slot.toolName ??= str(it.tool) ?? (itemType === "ImageView" ? "view_image" : str(it.name));
        if (itemType === "CollabAgentToolCall") {
          const tool = str(it.tool);
          if (tool !== null && tool in SUB_AGENT_TOOLS) slot.subAgent ??= SUB_AGENT_TOOLS[tool]!;
          if (isStringArray(it.receiver_thread_ids)) addIds(slot.childIds, it.receiver_thread_ids);
        }
        break;
      default:
        return;
    }
    slot.resultSeen = true;
    slot.structuredStatus = mapStatus(it.status) ?? slot.structuredStatus;
    const started = it.started_at_ms ?? p.started_at_ms;
    const completed = it.completed_at_ms ?? p.completed_at_ms;
    if (typeof started === "number" && typeof completed === "number" && completed >= started) slot.spanDuration = Math.round(completed - started);
  }

  // ---- turns, slots, hand-out ------------------------------------------

  #startTurn(ts: string, turnId: string | null): void {
    const pending = this.#pendingUserMessage !== null && !this.#pendingUserMessage.closed ? this.#pendingUserMessage : null;
    this.#pendingUserMessage = null;
    if (pending) {
      // The user's message belongs to the turn it starts: hand it out after the marker.
      const i = this.#queue.lastIndexOf(pending);
      if (i >= this.#head) this.#queue.splice(i, 1);
    }
    this.#closeAll();
    this.#closeSession();
    this.#turnId = turnId;
    this.#turnOpen = true;
    const slot = newSlot("turn_started", ts, turnId, this.#cwd);
    slot.status = "completed";
    // Bare files have no turn_context: the turn's cwd is already known.
    slot.awaitingCwd = !this.#bare;
    slot.closed = this.#bare;
    this.#turnSlot = slot;
    this.#enqueue(slot);
    if (pending) {
      pending.turnId = turnId;
      if (pending.event) pending.event.turnId = turnId;
      pending.closed = true;
      this.#enqueue(pending);
    }
  }

  #endTurn(ts: string, turnId: string | null, end: TurnEnd, reason: string | null, durationMs: number | null): void {
    this.#flushUserMessage();
    const slot = newSlot("turn_ended", ts, turnId ?? this.#turnId, this.#cwd);
    slot.turnEnd = end;
    slot.reason = reason;
    slot.durationMs = durationMs;
    slot.closed = true;
    this.#enqueue(slot);
    this.#turnId = null;
    this.#turnOpen = false;
    if (this.#turnSlot) this.#turnSlot.closed = true;
    this.#turnSlot = null;
  }

  #flushUserMessage(): void {
    if (this.#pendingUserMessage) this.#pendingUserMessage.closed = true;
    this.#pendingUserMessage = null;
  }

  #closeSession(): void {
    if (this.#sessionSlot) this.#sessionSlot.closed = true;
    this.#sessionSlot = null;
  }

  /** A finished non-call event, handed out in transcript order. */
  #event(event: SessionEvent): void {
    this.#eventSlot(event);
  }

  #eventSlot(event: SessionEvent): Slot {
    const slot = newSlot("event", event.timestamp, event.turnId, null);
    slot.event = event;
    slot.closed = true;
    this.#enqueue(slot);
    return slot;
  }

  /**
   * The pending call for a call id: the open one, a new one (first
   * appearance), or null when the call was already handed out.
   */
  #slotFor(callId: string | null, ts: string, turnId: string | null, kind: SlotKind): Slot | null {
    if (callId !== null) {
      const open = this.#open.get(callId);
      if (open) {
        if (open.turnId === null && turnId !== null) open.turnId = turnId;
        return open;
      }
      if (this.#recentClosed.has(callId)) return null;
    }
    const slot = newSlot(kind, ts, turnId ?? this.#turnId, this.#cwd ?? this.#sessionCwd);
    slot.callId = callId;
    if (callId !== null) this.#open.set(callId, slot);
    this.#enqueue(slot);
    return slot;
  }

  #enqueue(slot: Slot): void {
    this.#queue.push(slot);
    // Bound what waits for merging: force the oldest out.
    while (this.#queue.length - this.#head > this.#maxPending) {
      this.#close(this.#queue[this.#head]!);
      this.#drain();
    }
  }

  #closeAll(): void {
    for (let i = this.#head; i < this.#queue.length; i++) this.#close(this.#queue[i]!);
    this.#processes.clear();
  }

  #close(slot: Slot): void {
    slot.closed = true;
    if (slot.callId !== null && slot.kind !== "session_started" && this.#open.get(slot.callId) === slot) {
      this.#open.delete(slot.callId);
      this.#recentClosed.add(slot.callId);
      if (this.#recentClosed.size > RECENT_CLOSED_IDS) {
        const oldest = this.#recentClosed.values().next().value;
        if (oldest !== undefined) this.#recentClosed.delete(oldest);
      }
    }
  }

  #drain(): void {
    while (this.#head < this.#queue.length && this.#queue[this.#head]!.closed) {
      const slot = this.#queue[this.#head]!;
      this.#queue[this.#head] = undefined as unknown as Slot;
      this.#head++;
      this.#out.push(this.#finalize(slot));
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #finalize(s: Slot): SessionEvent {
    const base = { timestamp: s.timestamp, turnId: s.turnId };
    switch (s.kind) {
      case "event":
        return s.event!;
      case "session_started":
        return { ...base, type: "session_started", sessionId: s.callId, cwd: s.cwd };
      case "turn_started":
        return { ...base, type: "turn_started", cwd: s.cwd };
      case "turn_ended":
        return { ...base, type: "turn_ended", status: s.turnEnd!, cwd: s.cwd, reason: s.reason, durationMs: s.durationMs };
      default:
        break;
    }
    const status = callStatus(s) ?? (s.live ? "in_progress" : "aborted");
    const call = { ...base, callId: s.callId, toolName: s.toolName, cwd: s.cwd, status, output: s.output };
    if (s.kind === "tool_call") {
      return {
        ...call,
        type: "tool_call",
        durationMs: s.structuredDuration ?? s.outputDuration ?? s.spanDuration,
        command: s.command,
        input: s.input,
        subAgent: s.subAgent === null ? null : { action: s.subAgent, childIds: s.childIds },
        webSearch: s.webSearch,
      };
    }
    let exit = s.structuredExit ?? s.outputExit ?? s.stdinExit;
    // Codex writes -1 when a process has no exit status (killed, timed out).
    if (exit !== null && exit < 0) exit = null;
    const durationMs = s.structuredDuration ?? processDuration(s) ?? s.outputDuration ?? s.spanDuration;
    if (s.kind === "file_change") {
      return {
        ...call,
        type: "file_change",
        durationMs,
        exitCode: exit,
        paths: normalizePaths(s.mapPaths ?? s.patchPaths ?? [], s.cwd),
        files: s.patchDiffs ?? s.mapDiffs ?? [],
      };
    }
    return { ...call, type: "command", durationMs, command: s.command, argv: s.argv, exitCode: exit };
  }

  #cut(text: string | null): string | null {
    if (text === null) return null;
    return text.length > this.#maxText ? text.slice(0, this.#maxText) : text;
  }
}

function isEnvelope(line: Obj): boolean {
  return typeof line.type === "string" && typeof line.payload === "object" && line.payload !== null && !Array.isArray(line.payload);
}

/**
 * A unified-exec process finished through write_stdin: from its start (the
 * first output's time minus that chunk's wall time) to the output that
 * reported its exit.
 */
function processDuration(s: Slot): number | null {
  if (s.stdinExitAt === null || s.firstOutputAt === null) return null;
  const end = Date.parse(s.stdinExitAt);
  const first = Date.parse(s.firstOutputAt);
  if (!Number.isFinite(end) || !Number.isFinite(first) || end < first) return null;
  return end - first + (s.outputDuration ?? 0);
}

/** The documented status precedence (docs/actions-v1.md, "Status"); null when the call has no result. */
function callStatus(s: Slot): CallStatus | null {
  if (s.outcome === "aborted" || s.structuredStatus === "aborted") return "aborted";
  if (s.outcome === "declined" || s.structuredStatus === "declined") return "declined";
  if (s.structuredStatus !== null) return s.structuredStatus;
  if (s.successFlag === false) return "failed";
  if (s.kind === "tool_call") {
    if (s.resultSeen) return "completed";
    return s.status;
  }
  switch (s.outcome) {
    case "exited":
      return s.outputExit === null || s.outputExit === 0 ? "completed" : "failed";
    case "succeeded":
      return "completed";
    case "running":
      if (s.stdinExit !== null) return s.stdinExit === 0 ? "completed" : "failed";
      return "completed";
    case "error":
      return "failed";
    default:
      return s.status;
  }
}

function mapStatus(value: unknown): CallStatus | null {
  switch (value) {
    case "completed":
    case "success":
      return "completed";
    case "failed":
    case "error":
      return "failed";
    case "declined":
    case "rejected":
      return "declined";
    case "aborted":
    case "interrupted":
    case "cancelled":
    case "canceled":
      return "aborted";
    default:
      return null;
  }
}

function isRealUserMessage(p: Obj): boolean {
  if (typeof p.kind === "string" && p.kind !== "plain") return false;
  const text = typeof p.message === "string" ? p.message : "";
  return !isInjectedUserText(text);
}

function passthroughTurnId(p: Obj): string | null {
  const meta = p.internal_chat_message_metadata_passthrough;
  return meta && typeof meta === "object" ? str((meta as Obj).turn_id) : null;
}

function parseArguments(args: unknown): Obj {
  if (args && typeof args === "object" && !Array.isArray(args)) return args as Obj;
  if (typeof args !== "string") return {};
  try {
    const v: unknown = JSON.parse(args);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {};
  } catch {
    return {};
  }
}

function patchFromArguments(args: unknown): string | null {
  if (typeof args === "string" && args.startsWith("*** Begin Patch")) return args;
  const a = parseArguments(args);
  return str(a.input) ?? str(a.patch);
}

function webSearchDisplay(action: unknown): string | null {
  if (!action || typeof action !== "object") return null;
  const a = action as Obj;
  return str(a.query) ?? str(a.url) ?? null;
}

/** Who a sub-agent call addresses: `ids`/`targets` (wait), `id`/`target` (close, send). */
function subAgentTargets(args: Obj): string[] {
  const out: string[] = [];
  for (const k of ["ids", "targets"]) if (isStringArray(args[k])) out.push(...(args[k] as string[]));
  for (const k of ["id", "target"]) if (typeof args[k] === "string") out.push(args[k] as string);
  return out;
}

/** A spawn's output names its child: `{"agent_id": "…"}` (0.98). */
function spawnedIds(text: string): string[] {
  if (!text.startsWith("{")) return [];
  const v = parseArguments(text);
  return typeof v.agent_id === "string" ? [v.agent_id] : [];
}

function addIds(into: string[], ids: readonly string[]): void {
  for (const id of ids) if (!into.includes(id)) into.push(id);
}

function processIdOf(v: unknown): string | null {
  if (typeof v === "number" && Number.isInteger(v)) return String(v);
  return typeof v === "string" && v !== "" ? v : null;
}

function summaryText(summary: unknown): string {
  if (!Array.isArray(summary)) return "";
  return contentText(summary);
}

function tokenUsage(v: unknown): TokenUsage | null {
  if (!v || typeof v !== "object") return null;
  const o = v as Obj;
  const n = (k: string) => (typeof o[k] === "number" && Number.isFinite(o[k]) ? (o[k] as number) : 0);
  return { input: n("input_tokens"), cached_input: n("cached_input_tokens"), output: n("output_tokens"), reasoning: n("reasoning_output_tokens") };
}

function errorText(e: unknown): string {
  if (typeof e === "string") return e;
  if (e && typeof e === "object") {
    const m = (e as Obj).message;
    if (typeof m === "string") return m;
    return JSON.stringify(e);
  }
  return String(e);
}

function joinOut(stdout: unknown, stderr: unknown): string | null {
  const s = `${str(stdout) ?? ""}${str(stderr) ?? ""}`;
  return s === "" ? null : s;
}

function resolveDir(workdir: string, base: string | null): string {
  if (workdir.startsWith("/") || base === null) return workdir;
  return `${base.replace(/\/+$/, "")}/${workdir}`;
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function nonNegInt(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.round(v) : null;
}
