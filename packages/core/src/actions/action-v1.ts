/**
 * actions v1 (DESIGN.md §7, docs/actions-v1.md): the public, frozen
 * projection of a session. Outside tools depend on these field names and
 * meanings, so a change of meaning is a new version in a new file; this one
 * only ever gains bug fixes that docs/actions-v1.md already promised.
 *
 * The JSON Schema is packages/core/schemas/actions.v1.schema.json. The key
 * order below is the serialisation order (`JSON.stringify` of an ActionV1
 * built by `projectActions`), which the golden tests pin.
 */
export const ACTIONS_V1_SCHEMA_VERSION = 1;

/** The export format name used by the CLI (`--format actions.v1`) and the server. */
export const ACTIONS_V1_FORMAT = "actions.v1";

/** NDJSON media type of an actions export. */
export const ACTIONS_V1_MEDIA_TYPE = "application/x-ndjson";

export type ActionType = "session_started" | "turn_started" | "turn_completed" | "turn_aborted" | "command_execution" | "file_change" | "tool_call";

export type ActionStatus = "completed" | "failed" | "declined" | "aborted";

export interface ActionV1 {
  schema_version: 1;
  session_id: string;
  /** 0-based, contiguous, in output order. */
  seq: number;
  /** Codex's turn id, `derived-N` for files that record none, or null outside any turn. */
  turn_id: string | null;
  /** Envelope timestamp of the first record of this action (ISO-8601 UTC as Codex wrote it). */
  timestamp: string;
  action_type: ActionType;
  /** Codex's call id; null for markers and for calls Codex recorded without one. */
  call_id: string | null;
  /** Tool name as the model called it (`exec_command`, `shell`, `apply_patch`, `spawn_agent`, `mcp__srv__tool`, …). */
  tool_name: string | null;
  /** Display string of the command (redacted unless asked not to); null when there is none. */
  command: string | null;
  /** The argv Codex recorded, when it recorded one (redacted like `command`). */
  argv: string[] | null;
  cwd: string | null;
  exit_code: number | null;
  /** Absolute paths (when the cwd is known) changed by a file_change, sorted; [] otherwise. */
  changed_paths: string[];
  status: ActionStatus;
  duration_ms: number | null;
}
