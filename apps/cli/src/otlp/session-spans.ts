import { createHash } from "node:crypto";
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type SpanStatus } from "@opentelemetry/api";
import { resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { actionsOf, redactSecrets, type ActionV1, type SessionEvent, type TokenUsage } from "@sessionvault/core";
import * as A from "./gen-ai-attributes.js";

/**
 * A session as OpenTelemetry spans (docs/otel.md): one trace per session,
 * one `invoke_agent` span per turn, and under it one `execute_tool` span per
 * call action of actions v1 (command_execution, file_change, tool_call).
 * Ids are derived from the session id and the actions' seq, so the same
 * session always gives the same spans and a resend is recognisable.
 */
export interface SessionSpansOptions {
  sessionId: string;
  agent: string;
  /** Redacted message texts, tool inputs and outputs on the spans (off by default). */
  includeContent: boolean;
  /** Batches whose last action has a seq up to this one were sent before and are skipped (-1: none). */
  afterSeq: number;
  /** Also give the turn still open at the end (export of a session that stopped mid-turn); sync waits for its end. */
  flushOpenTurn: boolean;
}

/** The spans of one finished turn (or of one call outside any turn), and the last action seq they cover. */
export interface SpanBatch {
  spans: ReadableSpan[];
  lastSeq: number;
}

/** Content attributes are cut to this many characters so one huge tool output cannot blow a collector's request limit. */
const MAX_CONTENT_CHARS = 16 * 1024;

interface OpenTurn {
  action: ActionV1;
  spanId: string;
  usageAtStart: TokenUsage | null;
  children: ReadableSpan[];
  input: string[];
  output: string[];
  lastTime: string;
}

export async function* sessionSpanBatches(events: AsyncIterable<SessionEvent>, options: SessionSpansOptions): AsyncGenerator<SpanBatch> {
  const traceId = hexId(`trace\0${options.sessionId}`, 16);
  const resource = resourceFromAttributes({ [A.ATTR_SERVICE_NAME]: options.agent, [A.ATTR_GEN_AI_AGENT_NAME]: options.agent });
  const common: Attributes = { [A.ATTR_GEN_AI_AGENT_NAME]: options.agent, [A.ATTR_GEN_AI_CONVERSATION_ID]: options.sessionId };
  // The model events are watched on their way into actionsOf: when an action comes out, `last` is the
  // event it was made from and `usage` / `model` are the session's state at that point.
  let last: SessionEvent | null = null;
  let usage: TokenUsage | null = null;
  let model: string | null = null;
  let turn: OpenTurn | null = null;
  async function* watched(): AsyncGenerator<SessionEvent> {
    for await (const e of events) {
      if (e.type === "token_usage") usage = e.total;
      else if (e.type === "model") model = e.model;
      else if (e.type === "message" && turn && options.includeContent) (e.role === "user" ? turn.input : turn.output).push(e.text);
      last = e;
      yield e;
    }
  }
  const mk = (p: Omit<SpanParts, "traceId" | "resource">) => makeSpan({ ...p, traceId, resource });

  for await (const a of actionsOf(watched(), options.sessionId, true)) {
    if (a.action_type === "session_started") continue;
    if (a.action_type === "turn_started") {
      // A turn that never recorded its end is over once the next one starts (formats without turn ends).
      if (turn) yield* finishTurn(turn, null, a.timestamp);
      turn = {
        action: a,
        spanId: hexId(`span\0${options.sessionId}\0${a.seq}`, 8),
        usageAtStart: usage,
        children: [],
        input: [],
        output: [],
        lastTime: a.timestamp,
      };
      continue;
    }
    if (a.action_type === "turn_completed" || a.action_type === "turn_aborted") {
      if (turn) yield* finishTurn(turn, a, a.timestamp);
      turn = null;
      continue;
    }
    const inTurn = turn !== null && a.turn_id === turn.action.turn_id ? turn : null;
    const span = mk({
      spanId: hexId(`span\0${options.sessionId}\0${a.seq}`, 8),
      parentSpanId: inTurn?.spanId ?? null,
      name: `${A.GEN_AI_OPERATION_EXECUTE_TOOL} ${a.tool_name ?? a.action_type}`,
      start: a.timestamp,
      durationMs: a.duration_ms,
      status: statusOf(a.status),
      attributes: { ...common, ...callAttributes(a, last, options.includeContent) },
    });
    if (inTurn) {
      inTurn.children.push(span);
      if (a.timestamp) inTurn.lastTime = a.timestamp;
    } else if (a.seq > options.afterSeq) {
      yield { spans: [span], lastSeq: a.seq };
    }
  }
  if (turn && options.flushOpenTurn) yield* finishTurn(turn, null, null);

  function* finishTurn(t: OpenTurn, end: ActionV1 | null, endTime: string | null): Generator<SpanBatch> {
    const lastSeq = end?.seq ?? Math.max(t.action.seq, ...t.children.map((c) => Number(c.attributes["sessionvault.action.seq"])));
    if (lastSeq <= options.afterSeq) return;
    const attributes: Attributes = {
      ...common,
      [A.ATTR_GEN_AI_OPERATION_NAME]: A.GEN_AI_OPERATION_INVOKE_AGENT,
      "sessionvault.turn.id": t.action.turn_id ?? "",
    };
    if (t.action.cwd) attributes[A.ATTR_PROCESS_WORKING_DIRECTORY] = t.action.cwd;
    if (model) {
      attributes[A.ATTR_GEN_AI_REQUEST_MODEL] = model;
      attributes[A.ATTR_GEN_AI_RESPONSE_MODEL] = model;
    }
    if (usage) Object.assign(attributes, usageAttributes(usage, t.usageAtStart));
    if (end) attributes["sessionvault.turn.status"] = end.status;
    if (options.includeContent) {
      if (t.input.length) attributes[A.ATTR_GEN_AI_INPUT_MESSAGES] = messagesJson("user", t.input);
      if (t.output.length) attributes[A.ATTR_GEN_AI_OUTPUT_MESSAGES] = messagesJson("assistant", t.output);
    }
    const startMs = Date.parse(t.action.timestamp);
    const endMs = endTime ? Date.parse(endTime) : Date.parse(t.lastTime);
    const turnSpan = mk({
      spanId: t.spanId,
      parentSpanId: null,
      name: `${A.GEN_AI_OPERATION_INVOKE_AGENT} ${options.agent}`,
      start: t.action.timestamp,
      durationMs: end?.duration_ms ?? (Number.isFinite(startMs) && Number.isFinite(endMs) ? Math.max(0, endMs - startMs) : null),
      status: end ? statusOf(end.status) : { code: SpanStatusCode.UNSET },
      attributes,
    });
    yield { spans: [turnSpan, ...t.children], lastSeq };
  }
}

function callAttributes(a: ActionV1, e: SessionEvent | null, includeContent: boolean): Attributes {
  const attrs: Attributes = {
    [A.ATTR_GEN_AI_OPERATION_NAME]: A.GEN_AI_OPERATION_EXECUTE_TOOL,
    [A.ATTR_GEN_AI_TOOL_NAME]: a.tool_name ?? a.action_type,
    "sessionvault.action.type": a.action_type,
    "sessionvault.action.seq": a.seq,
    "sessionvault.action.status": a.status,
  };
  if (a.call_id) attrs[A.ATTR_GEN_AI_TOOL_CALL_ID] = a.call_id;
  if (a.status !== "completed") attrs[A.ATTR_ERROR_TYPE] = a.status;
  if (a.cwd) attrs[A.ATTR_PROCESS_WORKING_DIRECTORY] = a.cwd;
  if (a.command !== null) attrs[A.ATTR_PROCESS_COMMAND_LINE] = a.command;
  if (a.argv !== null) attrs[A.ATTR_PROCESS_COMMAND_ARGS] = a.argv;
  if (a.exit_code !== null) attrs[A.ATTR_PROCESS_EXIT_CODE] = a.exit_code;
  if (a.duration_ms !== null) attrs["sessionvault.action.duration_ms"] = a.duration_ms;
  if (a.changed_paths.length) attrs["sessionvault.file.changed_paths"] = a.changed_paths;
  if (includeContent && e && (e.type === "command" || e.type === "file_change" || e.type === "tool_call")) {
    const input = e.type === "tool_call" ? e.input : e.type === "file_change" ? e.files.map((f) => `${f.kind} ${f.path}\n${f.diff}`).join("\n") : null;
    if (input) attrs[A.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = content(input);
    if (e.output) attrs[A.ATTR_GEN_AI_TOOL_CALL_RESULT] = content(e.output);
  }
  return attrs;
}

/** Usage of the turn: the session's running totals at its end minus those at its start. */
function usageAttributes(now: TokenUsage, before: TokenUsage | null): Attributes {
  const d = (k: keyof TokenUsage) => Math.max(0, now[k] - (before?.[k] ?? 0));
  return {
    [A.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: d("input"),
    [A.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: d("output"),
    [A.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS]: d("cached_input"),
    [A.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS]: d("reasoning"),
  };
}

/** The GenAI conventions' message shape: [{role, parts: [{type: "text", content}]}]. */
function messagesJson(role: string, texts: string[]): string {
  return JSON.stringify(texts.map((t) => ({ role, parts: [{ type: "text", content: content(t) }] })));
}

/** Content is always redacted, and cut to a size collectors accept. */
function content(text: string): string {
  const r = redactSecrets(text);
  return r.length > MAX_CONTENT_CHARS ? `${r.slice(0, MAX_CONTENT_CHARS)}… [${r.length - MAX_CONTENT_CHARS} more characters]` : r;
}

function statusOf(status: ActionV1["status"]): SpanStatus {
  return status === "completed" ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, message: status };
}

/** Deterministic W3C ids: the first `bytes` bytes of a sha256, never all zero (an invalid id). */
function hexId(key: string, bytes: number): string {
  const hex = createHash("sha256")
    .update(`sessionvault\0${key}`)
    .digest("hex")
    .slice(0, bytes * 2);
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

interface SpanParts {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  /** ISO time; "" when the format records none (the span then sits at the epoch with zero length). */
  start: string;
  durationMs: number | null;
  status: SpanStatus;
  attributes: Attributes;
  resource: Resource;
}

function makeSpan(p: SpanParts): ReadableSpan {
  const startMs = Date.parse(p.start);
  const start = Number.isFinite(startMs) ? startMs : 0;
  const duration = p.durationMs ?? 0;
  const ctx = { traceId: p.traceId, spanId: p.spanId, traceFlags: TraceFlags.SAMPLED };
  return {
    name: p.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => ctx,
    ...(p.parentSpanId ? { parentSpanContext: { traceId: p.traceId, spanId: p.parentSpanId, traceFlags: TraceFlags.SAMPLED } } : {}),
    startTime: hrTime(start),
    endTime: hrTime(start + duration),
    duration: hrTime(duration),
    status: p.status,
    attributes: p.attributes,
    links: [],
    events: [],
    ended: true,
    resource: p.resource,
    instrumentationScope: { name: "sessionvault", schemaUrl: A.SEMCONV_SCHEMA_URL },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function hrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}
