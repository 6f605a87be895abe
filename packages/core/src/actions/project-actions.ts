import { type AgentName, createTranscriptReader } from "../agents/agent-readers.js";
import { InvalidInputError } from "../errors.js";
import type { LineWarning, RawLine } from "../jsonl-reader.js";
import { redactSecrets } from "../redact.js";
import type { SessionEvent } from "../session-model/session-event.js";
import { readTranscript } from "../session-model/transcript-reader.js";
import type { ActionV1 } from "./action-v1.js";

/**
 * actions v1 (docs/actions-v1.md) as a view of the session model: the
 * markers and the calls of the model's events, one action each, in the
 * model's order. Only final actions are exported: the export of a session
 * still being written stops before the first call that is still running, so
 * it never holds an action that later changes.
 */
export interface ProjectActionsOptions {
  sessionId: string;
  /** Whose transcript the lines are (default `codex`); docs/actions-v1.md has the mapping of each agent. */
  agent?: AgentName;
  /** Redact secrets in `command` and `argv` (default true). */
  redact?: boolean;
  /** Unparsable lines are skipped and reported here; the projection never throws on content. */
  onWarning?: (warning: LineWarning) => void;
  /** Actions held back for merging before the oldest is forced out (default 512). */
  maxPendingActions?: number;
  /** Claude Code: record uuids a fork copied from its parent (`ClaudeCodeHome.copiedUuids`), skipped so nothing counts twice. */
  skipUuids?: ReadonlySet<string>;
  /** Gemini CLI: the project root, which its chats do not record (`GeminiSessionFiles.cwd`). */
  cwd?: string | null;
}

export async function* projectActions(lines: AsyncIterable<string | RawLine>, options: ProjectActionsOptions): AsyncGenerator<ActionV1> {
  if (typeof options.sessionId !== "string" || options.sessionId === "") throw new InvalidInputError("projectActions needs the session id");
  const reader = createTranscriptReader(options.agent ?? "codex", {
    text: false,
    onWarning: options.onWarning,
    maxPending: options.maxPendingActions,
    skipUuids: options.skipUuids,
    cwd: options.cwd,
  });
  yield* actionsOf(readTranscript(lines, reader), options.sessionId, options.redact ?? true);
}

/** The actions of a stream of model events. */
export async function* actionsOf(events: AsyncIterable<SessionEvent>, sessionId: string, redact: boolean): AsyncGenerator<ActionV1> {
  let seq = 0;
  for await (const e of events) {
    const a = toAction(e);
    if (a === undefined) continue;
    if (a === null) return;
    a.seq = seq++;
    a.session_id = sessionId;
    if (redact) {
      if (a.command !== null) a.command = redactSecrets(a.command);
      if (a.argv !== null) a.argv = a.argv.map(redactSecrets);
    }
    yield a;
  }
}

/** undefined: not an action; null: a running call (the export ends before it). */
function toAction(e: SessionEvent): ActionV1 | null | undefined {
  switch (e.type) {
    case "session_started":
      return action(e.timestamp, null, "session_started", e.cwd, "completed");
    case "turn_started":
      return action(e.timestamp, e.turnId, "turn_started", e.cwd, "completed");
    case "turn_ended": {
      const a =
        e.status === "aborted"
          ? action(e.timestamp, e.turnId, "turn_aborted", e.cwd, "aborted")
          : action(e.timestamp, e.turnId, "turn_completed", e.cwd, e.status);
      a.duration_ms = e.durationMs;
      return a;
    }
    case "command":
    case "file_change":
    case "tool_call": {
      if (e.status === "in_progress") return null;
      const a = action(e.timestamp, e.turnId, e.type === "command" ? "command_execution" : e.type, e.cwd, e.status);
      a.call_id = e.callId;
      a.tool_name = e.toolName;
      a.duration_ms = e.durationMs;
      if (e.type === "command") {
        a.command = e.command;
        a.argv = e.argv === null ? null : [...e.argv];
        a.exit_code = e.exitCode;
      } else if (e.type === "file_change") {
        a.exit_code = e.exitCode;
        a.changed_paths = e.paths;
      } else {
        a.command = e.command;
      }
      return a;
    }
    default:
      return undefined;
  }
}

function action(timestamp: string, turnId: string | null, type: ActionV1["action_type"], cwd: string | null, status: ActionV1["status"]): ActionV1 {
  // Key order is the serialisation order v1 pins.
  return {
    schema_version: 1,
    session_id: "",
    seq: 0,
    turn_id: turnId,
    timestamp,
    action_type: type,
    call_id: null,
    tool_name: null,
    command: null,
    argv: null,
    cwd,
    exit_code: null,
    changed_paths: [],
    status,
    duration_ms: null,
  };
}
