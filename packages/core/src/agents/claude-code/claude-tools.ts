import type { CallStatus, FileDiff } from "../../session-model/session-event.js";

/**
 * What Claude Code's tools mean to the session model (docs/actions-v1.md,
 * "Claude Code"): which are commands, which change files, which start
 * sub-agents, and how their results say whether they worked.
 */
type Obj = Record<string, unknown>;

export type ClaudeCallKind = "command" | "file_change" | "tool_call";

const FILE_TOOLS = new Set(["Write", "Edit", "MultiEdit", "NotebookEdit"]);
/** `Task` up to 2.0.x, `Agent` from 2.1.x. */
const SUB_AGENT_TOOLS = new Set(["Task", "Agent"]);

export function callKind(name: string | null): ClaudeCallKind {
  if (name === "Bash") return "command";
  if (name !== null && FILE_TOOLS.has(name)) return "file_change";
  return "tool_call";
}

export function isSubAgentTool(name: string | null): boolean {
  return name !== null && SUB_AGENT_TOOLS.has(name);
}

/** The path a file tool writes, from its input. */
export function fileToolPath(input: Obj | null): string | null {
  if (!input) return null;
  const p = input.file_path ?? input.notebook_path;
  return typeof p === "string" && p !== "" ? p : null;
}

/** A display line for a non-command tool: what it searched or fetched. */
export function toolDisplay(name: string | null, input: Obj | null): string | null {
  if (!input) return null;
  switch (name) {
    case "WebSearch":
      return typeof input.query === "string" ? input.query : null;
    case "WebFetch":
      return typeof input.url === "string" ? input.url : null;
    default:
      return null;
  }
}

const EXIT_CODE = /^(?:Error: )?Exit code (\d+)/;
/** What 2.x writes as the result of a call the user stopped or refused. */
const INTERRUPTED = /^\[Request interrupted by user|Interrupted by user|^The user doesn't want to (?:proceed|take this action)/;
const DECLINED = /^(?:The user doesn't want to proceed|Permission to use \S+ has been denied)/;

export interface ResultOutcome {
  status: CallStatus;
  /** Bash only: `Exit code N` in the text of an error result; 0 for a result that is no error. */
  exitCode: number | null;
}

/**
 * How a tool result ended. Claude Code records no exit code for a Bash
 * command that succeeded (an error result is what a non-zero exit gives), so
 * a foreground Bash result without `is_error` is exit 0; one that was
 * interrupted or sent to the background has none.
 */
export function resultOutcome(kind: ClaudeCallKind, isError: boolean, text: string, structured: unknown): ResultOutcome {
  if (isError) {
    if (DECLINED.test(text)) return { status: "declined", exitCode: null };
    if (INTERRUPTED.test(text)) return { status: "aborted", exitCode: null };
    const m = kind === "command" ? EXIT_CODE.exec(text) : null;
    return { status: "failed", exitCode: m ? Number(m[1]) : null };
  }
  if (kind !== "command") return { status: "completed", exitCode: null };
  const s = structured !== null && typeof structured === "object" ? (structured as Obj) : null;
  if (s?.interrupted === true) return { status: "aborted", exitCode: null };
  if (typeof s?.backgroundTaskId === "string") return { status: "completed", exitCode: null };
  return { status: "completed", exitCode: 0 };
}

/** The text of a tool_result's `content` (a string, or text blocks). */
export function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let out = "";
  for (const b of content) {
    if (b && typeof b === "object" && (b as Obj).type === "text" && typeof (b as Obj).text === "string")
      out += (out === "" ? "" : "\n") + ((b as Obj).text as string);
  }
  return out;
}

/** Per-file diff of a Write/Edit/MultiEdit result (`structuredPatch` hunks; a created file's content as added lines). */
export function fileDiffOf(path: string, structured: unknown): FileDiff | null {
  if (structured === null || typeof structured !== "object" || Array.isArray(structured)) return null;
  const s = structured as Obj;
  const created = s.type === "create";
  const hunks = Array.isArray(s.structuredPatch) ? (s.structuredPatch as unknown[]) : [];
  let diff = "";
  for (const h of hunks) {
    if (!h || typeof h !== "object") continue;
    const hk = h as Obj;
    diff += `@@ -${num(hk.oldStart)},${num(hk.oldLines)} +${num(hk.newStart)},${num(hk.newLines)} @@\n`;
    if (Array.isArray(hk.lines)) for (const l of hk.lines) if (typeof l === "string") diff += `${l}\n`;
  }
  if (hunks.length === 0 && created && typeof s.content === "string") {
    const lines = s.content.endsWith("\n") ? s.content.slice(0, -1).split("\n") : s.content.split("\n");
    diff = `@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}\n`).join("")}`;
  }
  return { path, kind: created ? "add" : "update", movePath: null, diff };
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}
