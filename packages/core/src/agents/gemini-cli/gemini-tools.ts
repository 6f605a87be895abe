import type { CallStatus, FileDiff } from "../../session-model/session-event.js";

/** What Gemini CLI's tools mean to the session model (docs/actions-v1.md, "Gemini CLI"). */
type Obj = Record<string, unknown>;

export type GeminiCallKind = "command" | "file_change" | "tool_call";

const FILE_TOOLS = new Set(["write_file", "replace", "edit"]);
/** 0.61.0 starts a sub-agent with `invoke_agent`; 0.20.0 offers its one sub-agent as a tool of its own. */
const SUB_AGENT_TOOLS = new Set(["invoke_agent", "codebase_investigator", "delegate_to_agent"]);
const WEB_SEARCH_TOOLS = new Set(["google_web_search", "web_search"]);

export function geminiCallKind(name: string | null): GeminiCallKind {
  if (name === "run_shell_command") return "command";
  if (name !== null && FILE_TOOLS.has(name)) return "file_change";
  return "tool_call";
}

export function isGeminiSubAgentTool(name: string | null): boolean {
  return name !== null && SUB_AGENT_TOOLS.has(name);
}

export function isGeminiWebSearch(name: string | null): boolean {
  return name !== null && WEB_SEARCH_TOOLS.has(name);
}

export function geminiStatus(status: unknown): CallStatus {
  switch (status) {
    case "success":
      return "completed";
    case "error":
      return "failed";
    case "cancelled":
      return "aborted";
    default:
      return "failed";
  }
}

/** The text a tool answered: `response.output`, else `response.error`. */
export function geminiOutput(result: unknown): string | null {
  if (!Array.isArray(result)) return null;
  let out: string | null = null;
  for (const part of result) {
    const fr = (part as Obj | null)?.functionResponse as Obj | undefined;
    const resp = fr?.response as Obj | undefined;
    const t = typeof resp?.output === "string" ? resp.output : typeof resp?.error === "string" ? resp.error : null;
    if (t !== null) out = out === null ? t : `${out}\n${t}`;
  }
  return out;
}

const EXIT_CODE = /^Exit Code: (-?\d+)/m;

/**
 * A shell command's exit code: Gemini CLI writes it into the output text
 * (`Exit Code: N`) only when it is not 0, and keeps the call's status
 * `success`; a command that ran in the background has none yet.
 */
export function shellExitCode(status: CallStatus, output: string | null, args: Obj | null): number | null {
  const m = output === null ? null : EXIT_CODE.exec(output);
  if (m) return Number(m[1]);
  if (status !== "completed" || args?.is_background === true) return null;
  return 0;
}

/** The per-file diff of a write_file/replace result (`resultDisplay.fileDiff`, a unified diff), from its first hunk on. */
export function geminiFileDiff(path: string, display: unknown): FileDiff | null {
  if (display === null || typeof display !== "object") return null;
  const d = display as Obj;
  const text = typeof d.fileDiff === "string" ? d.fileDiff : null;
  if (text === null) return null;
  const at = text.startsWith("@@") ? 0 : text.indexOf("\n@@");
  const body = at === -1 ? "" : text.slice(at === 0 ? 0 : at + 1);
  return { path, kind: d.isNewFile === true ? "add" : "update", movePath: null, diff: body.endsWith("\n") || body === "" ? body : `${body}\n` };
}
