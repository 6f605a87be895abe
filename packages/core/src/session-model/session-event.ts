/**
 * The agent-neutral session model (DESIGN.md §12). An agent's reader turns a
 * transcript into a stream of these events; every view (actions v1, the web
 * timeline, the markdown transcript, the search text, the session facts) is
 * built from that stream and never from the agent's own records.
 *
 * Events come in the order of their first record in the transcript. A tool
 * call is one event, emitted once all of its records are merged (the reader
 * holds it back until its turn ends or its result is known), so a consumer
 * never has to merge anything itself.
 */

/** Final status of a call. `in_progress`: no result yet and its turn is still open (a live session). */
export type CallStatus = "completed" | "failed" | "declined" | "aborted" | "in_progress";

export type TurnEnd = "completed" | "failed" | "aborted";

export interface TokenUsage {
  input: number;
  cached_input: number;
  output: number;
  reasoning: number;
}

interface EventBase {
  /** ISO-8601 time of the event's first record; "" when the format records none. */
  timestamp: string;
  /** The turn the event belongs to (the agent's id, or `derived-N`), null outside any turn. */
  turnId: string | null;
}

export interface SessionStartedEvent extends EventBase {
  type: "session_started";
  sessionId: string | null;
  cwd: string | null;
}

export interface TurnStartedEvent extends EventBase {
  type: "turn_started";
  cwd: string | null;
}

export interface TurnEndedEvent extends EventBase {
  type: "turn_ended";
  status: TurnEnd;
  cwd: string | null;
  /** Why the turn failed (an API error) or was aborted (`interrupted`), when recorded. */
  reason: string | null;
  durationMs: number | null;
}

export interface MessageEvent extends EventBase {
  type: "message";
  role: "user" | "agent";
  text: string;
}

export interface ReasoningEvent extends EventBase {
  type: "reasoning";
  /** The summary the agent wrote (never encrypted content). */
  text: string;
}

interface CallBase extends EventBase {
  callId: string | null;
  /** The tool as the model named it. */
  toolName: string | null;
  cwd: string | null;
  status: CallStatus;
  durationMs: number | null;
  /** What the tool answered (possibly cut by the reader); null when not kept or not recorded. */
  output: string | null;
}

export interface CommandEvent extends CallBase {
  type: "command";
  /** As a user reads it: the script of a `sh -c script` wrapper, else the argv shell-quoted. */
  command: string | null;
  argv: string[] | null;
  /** Null when unknown or when the process had no exit status. */
  exitCode: number | null;
}

export interface FileDiff {
  path: string;
  kind: "add" | "update" | "delete" | "move";
  /** For a move, where the file went. */
  movePath: string | null;
  /** Unified-diff-like body: lines starting with "+", "-", " " or "@@". */
  diff: string;
}

export interface FileChangeEvent extends CallBase {
  type: "file_change";
  /** Absolute when the cwd is known, de-duplicated, sorted. */
  paths: string[];
  /** Per-file diffs, when the reader kept text. */
  files: FileDiff[];
  /** When the tool that applied the change reported one. */
  exitCode: number | null;
}

export type SubAgentAction = "spawn" | "wait" | "close" | "send";

export interface ToolCallEvent extends CallBase {
  type: "tool_call";
  /** A display line for the call when there is one (a search query, …). */
  command: string | null;
  /** The call's input as the model wrote it (JSON text or freeform), when kept. */
  input: string | null;
  /** Sub-agent calls: what was done and to which child session. */
  subAgent: { action: SubAgentAction; childIds: string[] } | null;
  /** Hosted web search. */
  webSearch: boolean;
}

export interface CompactionEvent extends EventBase {
  type: "compaction";
  text: string | null;
}

export interface ErrorEvent extends EventBase {
  type: "error";
  message: string;
}

/** Running totals of the session so far, as the agent reported them. */
export interface TokenUsageEvent extends EventBase {
  type: "token_usage";
  total: TokenUsage;
}

export interface ModelEvent extends EventBase {
  type: "model";
  model: string;
  cwd: string | null;
}

/** A record kind the reader does not know, kept opaque. */
export interface UnknownEvent extends EventBase {
  type: "unknown";
  kind: string;
  lineNo: number;
}

export type CallEvent = CommandEvent | FileChangeEvent | ToolCallEvent;

export type SessionEvent =
  | SessionStartedEvent
  | TurnStartedEvent
  | TurnEndedEvent
  | MessageEvent
  | ReasoningEvent
  | CommandEvent
  | FileChangeEvent
  | ToolCallEvent
  | CompactionEvent
  | ErrorEvent
  | TokenUsageEvent
  | ModelEvent
  | UnknownEvent;
