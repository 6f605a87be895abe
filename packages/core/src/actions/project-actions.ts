import { InvalidInputError } from "../errors.js";
import type { LineWarning, RawLine } from "../jsonl-reader.js";
import { parseJsonLine } from "../jsonl-reader.js";
import { redactSecrets } from "../redact.js";
import type { ActionStatus, ActionType, ActionV1 } from "./action-v1.js";
import { changesMapPaths, normalizePaths, patchFromArgv, patchPaths } from "./apply-patch.js";
import { cwdFromRecord, displayCommand, isStringArray } from "./command-display.js";
import type { ToolOutcome } from "./tool-output.js";
import { outputSuccessFlag, outputText, parseDuration, parseToolOutput } from "./tool-output.js";

/**
 * Projects a Codex rollout onto actions v1 (docs/actions-v1.md).
 *
 * Streaming with bounded memory: each line is parsed once (lines that can
 * never contribute — messages, reasoning, token counts, compaction history —
 * are recognised from their envelope prefix and not parsed at all), and only
 * actions not yet emitted are kept. A tool call's records are merged by
 * call_id until the next turn starts (Codex writes some of them after the
 * call's output, even after `turn_aborted`), or until more than
 * `maxPendingActions` actions wait; then they are emitted in the order of
 * their first record. Late records of an emitted call are dropped (a bounded
 * set of recent call ids remembers them).
 */
export interface ProjectActionsOptions {
  sessionId: string;
  /** Redact secrets in `command` and `argv` (default true). */
  redact?: boolean;
  /** Unparsable lines are skipped and reported here; the projection never throws on content. */
  onWarning?: (warning: LineWarning) => void;
  /** Actions held back for merging before the oldest is forced out (default 512). */
  maxPendingActions?: number;
}

const DEFAULT_MAX_PENDING = 512;
const RECENT_CLOSED_IDS = 8192;

const COMMAND_TOOLS = new Set(["shell", "container.exec", "shell_command", "exec_command", "local_shell"]);
const PATCH_TOOLS = new Set(["apply_patch", "applypatch"]);

/** Envelope prefix `{"timestamp":"…",["ordinal":N,]"type":"T","payload":{"type":"P"` (depth-1 keys only). */
const ENVELOPE = /^\{"timestamp":"[^"\\]*",(?:"ordinal":\d+,)?"type":"([a-z_]+)"(?:,"payload":\{"type":"([a-z_]+)")?/;
const SKIP_KINDS = new Set(["world_state", "token_usage_record", "compacted"]);
const SKIP_RESPONSE_ITEMS = new Set(["message", "reasoning"]);
const SKIP_EVENTS = new Set([
  "token_count",
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
]);

/** User messages Codex injects itself; they do not start a turn. */
const INJECTED_PREFIXES = ["<environment_context>", "<user_instructions>", "<turn_aborted>", "<subagent_notification>", "# AGENTS.md instructions", "<INSTRUCTIONS>"];

type Obj = Record<string, unknown>;

interface Slot {
  timestamp: string;
  turnId: string | null;
  actionType: ActionType;
  callId: string | null;
  toolName: string | null;
  command: string | null;
  argv: string[] | null;
  cwd: string | null;
  /** Set for markers (their final status) and for records that carry their own status (web_search_call). */
  status: ActionStatus | null;
  durationMs: number | null;
  closed: boolean;
  // Merge state of a call.
  resultSeen: boolean;
  structuredStatus: ActionStatus | null;
  structuredExit: number | null;
  structuredDuration: number | null;
  spanDuration: number | null;
  outcome: ToolOutcome | null;
  outputExit: number | null;
  outputDuration: number | null;
  successFlag: boolean | null;
  /** Paths named by the patch headers (the patch text itself is not kept). */
  patchPaths: string[] | null;
  mapPaths: string[] | null;
  /** turn_started: its cwd still comes from the turn's first turn_context. */
  awaitingCwd: boolean;
}

function newSlot(timestamp: string, actionType: ActionType, turnId: string | null, cwd: string | null): Slot {
  return {
    timestamp,
    turnId,
    actionType,
    callId: null,
    toolName: null,
    command: null,
    argv: null,
    cwd,
    status: null,
    durationMs: null,
    closed: false,
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
  };
}

export async function* projectActions(lines: AsyncIterable<string | RawLine>, options: ProjectActionsOptions): AsyncGenerator<ActionV1> {
  const p = new Projector(options);
  let lineNo = 0;
  for await (const line of lines) {
    lineNo++;
    if (typeof line === "string") p.push(line, lineNo);
    else p.push(line.text, line.lineNo);
    if (p.out.length > 0) yield* p.take();
  }
  p.finish();
  if (p.out.length > 0) yield* p.take();
}

class Projector {
  readonly out: ActionV1[] = [];
  readonly #sessionId: string;
  readonly #redact: boolean;
  readonly #warn: (w: LineWarning) => void;
  readonly #maxPending: number;

  /** Actions in order of first appearance, not yet emitted: queue[head..]. */
  #queue: Slot[] = [];
  #head = 0;
  readonly #open = new Map<string, Slot>();
  readonly #recentClosed = new Set<string>();
  #seq = 0;

  #sessionStarted = false;
  #sessionCwd: string | null = null;
  #cwd: string | null = null;
  #turnId: string | null = null;
  #turnSlot: Slot | null = null;
  /** The file records task_started: user messages no longer derive turns. */
  #explicitTurns = false;
  #derivedTurns = 0;

  constructor(options: ProjectActionsOptions) {
    if (typeof options.sessionId !== "string" || options.sessionId === "") throw new InvalidInputError("projectActions needs the session id");
    this.#sessionId = options.sessionId;
    this.#redact = options.redact ?? true;
    this.#warn = options.onWarning ?? (() => {});
    this.#maxPending = Math.max(1, options.maxPendingActions ?? DEFAULT_MAX_PENDING);
  }

  take(): ActionV1[] {
    return this.out.splice(0, this.out.length);
  }

  push(text: string, lineNo: number): void {
    const env = ENVELOPE.exec(text);
    if (env) {
      const kind = env[1]!;
      const sub = env[2];
      if (SKIP_KINDS.has(kind)) return;
      if (sub !== undefined && ((kind === "response_item" && SKIP_RESPONSE_ITEMS.has(sub)) || (kind === "event_msg" && SKIP_EVENTS.has(sub)))) return;
    }
    let value: unknown;
    try {
      value = parseJsonLine(text);
    } catch {
      this.#warn({ kind: "unparsable", lineNo, message: `line ${lineNo} is not valid JSON; skipped` });
      return;
    }
    if (value === undefined || typeof value !== "object" || value === null) return;
    const line = value as Obj;
    const payload = line.payload;
    if (typeof line.type !== "string" || !payload || typeof payload !== "object" || Array.isArray(payload)) return;
    const ts = typeof line.timestamp === "string" ? line.timestamp : "";
    switch (line.type) {
      case "session_meta":
        this.#sessionMeta(ts, payload as Obj);
        break;
      case "turn_context":
        this.#turnContext(payload as Obj);
        break;
      case "event_msg":
        this.#event(ts, payload as Obj);
        break;
      case "response_item":
        this.#responseItem(ts, payload as Obj);
        break;
      default:
        break;
    }
    this.#drain();
  }

  finish(): void {
    this.#closeAll();
    this.#drain();
  }

  // ---- envelope kinds -------------------------------------------------

  #sessionMeta(ts: string, p: Obj): void {
    if (this.#sessionStarted) return;
    this.#sessionStarted = true;
    const cwd = str(p.cwd);
    this.#sessionCwd = cwd;
    if (this.#cwd === null) this.#cwd = cwd;
    const slot = newSlot(ts, "session_started", null, cwd);
    slot.status = "completed";
    slot.closed = true;
    this.#enqueue(slot);
  }

  #turnContext(p: Obj): void {
    const cwd = str(p.cwd);
    if (cwd === null) return;
    this.#cwd = cwd;
    const t = this.#turnSlot;
    if (t && t.awaitingCwd && !t.closed) {
      const tid = str(p.turn_id);
      if (tid === null || tid === t.turnId) {
        t.cwd = cwd;
        t.awaitingCwd = false;
        t.closed = true;
      }
    }
  }

  #event(ts: string, p: Obj): void {
    switch (p.type) {
      case "task_started":
      case "turn_started":
        this.#explicitTurns = true;
        this.#startTurn(ts, str(p.turn_id));
        return;
      case "task_complete":
      case "turn_complete": {
        const turnId = str(p.turn_id) ?? this.#turnId;
        const slot = newSlot(ts, "turn_completed", turnId, this.#cwd);
        slot.status = p.error !== undefined && p.error !== null ? "failed" : "completed";
        slot.durationMs = nonNegInt(p.duration_ms);
        slot.closed = true;
        this.#enqueue(slot);
        this.#endTurn();
        return;
      }
      case "turn_aborted": {
        const turnId = str(p.turn_id) ?? this.#turnId;
        const slot = newSlot(ts, "turn_aborted", turnId, this.#cwd);
        slot.status = "aborted";
        slot.durationMs = nonNegInt(p.duration_ms);
        slot.closed = true;
        this.#enqueue(slot);
        this.#endTurn();
        return;
      }
      case "user_message":
        if (!this.#explicitTurns && isRealUserMessage(p)) {
          this.#derivedTurns++;
          this.#startTurn(ts, `derived-${this.#derivedTurns}`);
        }
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
      case "function_call":
      case "custom_tool_call": {
        const name = str(p.name);
        const callId = str(p.call_id);
        if (name !== null && PATCH_TOOLS.has(name)) {
          const patch = type === "custom_tool_call" ? str(p.input) : patchFromArguments(p.arguments);
          this.#patchCall(ts, callId, turnId, name, patch);
        } else if (name !== null && COMMAND_TOOLS.has(name) && type === "function_call") {
          this.#commandCall(ts, callId, turnId, name, parseArguments(p.arguments));
        } else {
          const slot = this.#slotFor(callId, ts, turnId, "tool_call");
          if (slot) slot.toolName ??= name;
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
        this.#output(str(p.call_id), p.output);
        return;
      case "web_search_call": {
        const slot = this.#slotFor(str(p.id) ?? str(p.call_id), ts, turnId, "tool_call");
        if (!slot) return;
        slot.toolName ??= "web_search";
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
          this.#output(str(p.call_id), p.output);
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

  // ---- call shapes ----------------------------------------------------

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
    const slot = this.#slotFor(callId, ts, turnId, "command_execution");
    if (!slot) return;
    slot.toolName ??= name;
    slot.command ??= command;
    slot.argv ??= argv;
    if (workdir !== null) slot.cwd = resolveDir(workdir, slot.cwd);
  }

  #patchCall(ts: string, callId: string | null, turnId: string | null, name: string, patch: string | null, workdir: string | null = null): void {
    const slot = this.#slotFor(callId, ts, turnId, "file_change");
    if (!slot) return;
    slot.actionType = "file_change";
    slot.toolName ??= name;
    slot.command = null;
    slot.argv = null;
    if (patch !== null) slot.patchPaths ??= patchPaths(patch);
    if (workdir !== null) slot.cwd = resolveDir(workdir, slot.cwd);
  }

  #output(callId: string | null, output: unknown): void {
    if (callId === null) return;
    const slot = this.#open.get(callId);
    // An output whose call is unknown (or already emitted) cannot say which tool ran.
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
  }

  #execEnd(ts: string, p: Obj): void {
    const slot = this.#slotFor(str(p.call_id), ts, str(p.turn_id), "command_execution");
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
  }

  #patchEnd(ts: string, p: Obj): void {
    const slot = this.#slotFor(str(p.call_id), ts, str(p.turn_id), "file_change");
    if (!slot) return;
    slot.actionType = "file_change";
    slot.command = null;
    slot.argv = null;
    slot.resultSeen = true;
    const paths = changesMapPaths(p.changes);
    if (paths.length > 0) slot.mapPaths = paths;
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
    slot.resultSeen = true;
    slot.structuredDuration = parseDuration(p.duration) ?? slot.structuredDuration;
    const result = (p.result && typeof p.result === "object" ? p.result : null) as Obj | null;
    if (result && "Err" in result) slot.structuredStatus = "failed";
    else if (result && result.Ok && typeof result.Ok === "object") {
      const ok = result.Ok as Obj;
      slot.structuredStatus = ok.isError === true || ok.is_error === true ? "failed" : "completed";
    }
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
        slot = this.#slotFor(callId, ts, turnId, "command_execution");
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
        break;
      case "FileChange": {
        slot = this.#slotFor(callId, ts, turnId, "file_change");
        if (!slot) return;
        slot.actionType = "file_change";
        slot.command = null;
        slot.argv = null;
        const paths = changesMapPaths(it.changes);
        if (paths.length > 0) slot.mapPaths = paths;
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
        slot.command ??= str(it.query) ?? webSearchDisplay(it.action);
        slot.structuredStatus ??= "completed";
        break;
      case "CollabAgentToolCall":
      case "ImageView":
      case "DynamicToolCall":
        slot = this.#slotFor(callId, ts, turnId, "tool_call");
        if (!slot) return;
        slot.toolName ??= str(it.tool) ?? (itemType === "ImageView" ? "view_image" : str(it.name));
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

  // ---- turns, slots, emission ----------------------------------------

  #startTurn(ts: string, turnId: string | null): void {
    this.#closeAll();
    this.#turnId = turnId;
    const slot = newSlot(ts, "turn_started", turnId, this.#cwd);
    slot.status = "completed";
    slot.awaitingCwd = true;
    this.#turnSlot = slot;
    this.#enqueue(slot);
  }

  #endTurn(): void {
    this.#turnId = null;
    if (this.#turnSlot) this.#turnSlot.closed = true;
    this.#turnSlot = null;
  }

  /**
   * The pending action for a call: the open one with this call_id, a new one
   * (first appearance), or null when the call was already emitted.
   */
  #slotFor(callId: string | null, ts: string, turnId: string | null, type: ActionType): Slot | null {
    if (callId !== null) {
      const open = this.#open.get(callId);
      if (open) {
        if (open.turnId === null && turnId !== null) open.turnId = turnId;
        return open;
      }
      if (this.#recentClosed.has(callId)) return null;
    }
    const slot = newSlot(ts, type, turnId ?? this.#turnId, this.#cwd ?? this.#sessionCwd);
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
  }

  #close(slot: Slot): void {
    slot.closed = true;
    if (slot.callId !== null && this.#open.get(slot.callId) === slot) {
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
      this.out.push(this.#finalize(slot));
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #finalize(s: Slot): ActionV1 {
    const isCall = s.actionType === "command_execution" || s.actionType === "file_change" || s.actionType === "tool_call";
    let status: ActionStatus;
    let exit: number | null = null;
    let duration: number | null = s.durationMs;
    let changed: string[] = [];
    if (!isCall) {
      status = s.status ?? "completed";
    } else {
      status = callStatus(s);
      if (s.actionType !== "tool_call") {
        exit = s.structuredExit ?? s.outputExit;
        // Codex writes -1 when a process has no exit status (killed, timed out).
        if (exit !== null && exit < 0) exit = null;
      }
      duration = s.structuredDuration ?? s.outputDuration ?? s.spanDuration;
      if (s.actionType === "file_change") {
        const raw = s.mapPaths ?? s.patchPaths ?? [];
        changed = normalizePaths(raw, s.cwd);
      }
    }
    const redact = this.#redact;
    return {
      schema_version: 1,
      session_id: this.#sessionId,
      seq: this.#seq++,
      turn_id: s.turnId,
      timestamp: s.timestamp,
      action_type: s.actionType,
      call_id: s.callId,
      tool_name: s.toolName,
      command: s.command === null ? null : redact ? redactSecrets(s.command) : s.command,
      argv: s.argv === null ? null : redact ? s.argv.map(redactSecrets) : [...s.argv],
      cwd: s.cwd,
      exit_code: exit,
      changed_paths: changed,
      status,
      duration_ms: duration,
    };
  }
}

/** The documented status precedence (docs/actions-v1.md, "Status"). */
function callStatus(s: Slot): ActionStatus {
  if (s.outcome === "aborted" || s.structuredStatus === "aborted") return "aborted";
  if (s.outcome === "declined" || s.structuredStatus === "declined") return "declined";
  if (s.structuredStatus !== null) return s.structuredStatus;
  if (s.successFlag === false) return "failed";
  if (s.actionType === "tool_call") {
    if (s.resultSeen) return "completed";
    return s.status ?? "aborted";
  }
  switch (s.outcome) {
    case "exited":
      return s.outputExit === null || s.outputExit === 0 ? "completed" : "failed";
    case "running":
      return "completed";
    case "error":
      return "failed";
    default:
      return s.status ?? "aborted";
  }
}

function mapStatus(value: unknown): ActionStatus | null {
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
  const text = typeof p.message === "string" ? p.message.trimStart() : "";
  return !INJECTED_PREFIXES.some((prefix) => text.startsWith(prefix));
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
