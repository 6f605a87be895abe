/**
 * Reads the outcome of a tool call from the text Codex fed back to the model
 * (`function_call_output` / `custom_tool_call_output`). Codex changed this
 * text between versions; every form seen in real rollouts is handled here:
 *
 * - 0.39 (and 0.98's apply_patch): a JSON string
 *   `{"output": "...", "metadata": {"exit_code": N, "duration_seconds": F}}`
 * - 0.98+ unified exec: `Chunk ID: …\nWall time: F seconds\nProcess exited with code N\n…`
 *   or `Process running with session ID N` (the process outlived the call)
 * - 0.169 apply_patch: `Exit code: N\nWall time: F seconds\nOutput:\n…`
 * - interrupts: `aborted by user after 1.6s` (0.98) / `Wall time: 1.6 seconds\naborted by user` (0.169)
 * - approvals: `exec command rejected by user`, `patch rejected by user`
 * - sandbox denials: `failed in sandbox … exit code: N, …` (0.39),
 *   `exec_command failed: CreateProcess { … Sandbox(Denied { … exit_code: N, …` (0.98)
 * - early builds' apply_patch: `Success. Updated the following files:\n…` (no exit code)
 * - anything else (e.g. `apply_patch verification failed: …`) is an error text.
 */
export type ToolOutcome = "exited" | "succeeded" | "running" | "aborted" | "declined" | "error";

export interface ParsedToolOutput {
  outcome: ToolOutcome;
  exitCode: number | null;
  durationMs: number | null;
  /** What the tool printed, without Codex's status header (or JSON wrapper). */
  body: string;
  /** `running`: the unified-exec process id that write_stdin addresses later. */
  processId: string | null;
}

/** Only the head of a text output holds the status lines; never scan a huge output whole. */
const HEAD_CHARS = 512;

export function outputText(output: unknown): string | null {
  if (typeof output === "string") return output;
  if (Array.isArray(output)) {
    const parts: string[] = [];
    for (const item of output) {
      if (item && typeof item === "object" && typeof (item as { text?: unknown }).text === "string") parts.push((item as { text: string }).text);
    }
    return parts.join("\n");
  }
  if (output && typeof output === "object") {
    const content = (output as { content?: unknown }).content;
    if (typeof content === "string") return content;
    if (Array.isArray(content)) return outputText(content);
  }
  return null;
}

/** `success: false` on a structured output payload (some versions write `{content, success}`). */
export function outputSuccessFlag(output: unknown): boolean | null {
  if (output && typeof output === "object" && !Array.isArray(output)) {
    const s = (output as { success?: unknown }).success;
    if (typeof s === "boolean") return s;
  }
  return null;
}

export function parseToolOutput(text: string): ParsedToolOutput {
  if (text.startsWith("{") && text.includes('"metadata"')) {
    const parsed = parseJsonOutput(text);
    if (parsed) return parsed;
  }
  return { ...parseTextOutput(text), body: bodyOf(text) };
}

/** The text after Codex's status header (`…\nOutput:\n`), else the whole text. */
function bodyOf(text: string): string {
  const head = text.length > HEAD_CHARS ? text.slice(0, HEAD_CHARS) : text;
  const i = head.indexOf("\nOutput:\n");
  if (i === -1 || !/^(?:Chunk ID|Wall time|Exit code|Process )/.test(head)) return text;
  return text.slice(i + "\nOutput:\n".length);
}

function parseTextOutput(text: string): Omit<ParsedToolOutput, "body"> {
  const start = text.length > HEAD_CHARS ? text.slice(0, HEAD_CHARS) : text;
  // Status lines come before "Output:"; the command's own output may print look-alikes.
  const cut = start.indexOf("\nOutput:");
  const head = cut === -1 ? start : start.slice(0, cut);
  const durationMs = parseWallTime(head);

  // Anchored at the start: a tool's own output may quote these words.
  if (/^(?:Wall time: [\d.]+ seconds?\n)?aborted by user\b/.test(head)) {
    const after = /^aborted by user after ([\d.]+)s\b/.exec(head);
    return { outcome: "aborted", exitCode: null, durationMs: after ? secondsToMs(Number(after[1])) : durationMs, processId: null };
  }
  if (/^(?:[A-Za-z_]+ ){0,3}(?:rejected|declined) by (?:the )?user\b/.test(head)) {
    return { outcome: "declined", exitCode: null, durationMs, processId: null };
  }
  const exited = /^Process exited with code (-?\d+)/m.exec(head) ?? /^Exit code: (-?\d+)/m.exec(head);
  if (exited) return { outcome: "exited", exitCode: Number(exited[1]), durationMs, processId: null };
  const running = /^Process running with session ID (\d+)/m.exec(head);
  if (running) return { outcome: "running", exitCode: null, durationMs, processId: running[1]! };
  if (/^Success\. Updated the following files:/.test(head)) return { outcome: "succeeded", exitCode: null, durationMs, processId: null };
  const sandbox = /^(?:failed in sandbox|exec_command failed)\b[^\n]*?\bexit[_ ]code: (-?\d+)/.exec(head);
  if (sandbox) return { outcome: "exited", exitCode: Number(sandbox[1]), durationMs, processId: null };
  return { outcome: "error", exitCode: null, durationMs, processId: null };
}

function parseJsonOutput(text: string): ParsedToolOutput | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== "object") return null;
  const meta = (value as { metadata?: unknown }).metadata;
  if (!meta || typeof meta !== "object") return null;
  const exit = (meta as { exit_code?: unknown }).exit_code;
  const secs = (meta as { duration_seconds?: unknown }).duration_seconds;
  const out = (value as { output?: unknown }).output;
  return {
    body: typeof out === "string" ? out : text,
    processId: null,
    outcome: "exited",
    exitCode: typeof exit === "number" && Number.isInteger(exit) ? exit : null,
    durationMs: typeof secs === "number" && Number.isFinite(secs) ? secondsToMs(secs) : null,
  };
}

function parseWallTime(head: string): number | null {
  const m = /^Wall time: ([\d.]+) seconds?\b/m.exec(head);
  return m ? secondsToMs(Number(m[1])) : null;
}

export function secondsToMs(seconds: number): number | null {
  return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : null;
}

/**
 * Durations in structured records: serde's `{secs, nanos}`, a number of
 * milliseconds, or a humantime-like string (`"1.5s"`, `"150ms"`).
 */
export function parseDuration(value: unknown): number | null {
  if (value && typeof value === "object") {
    const { secs, nanos } = value as { secs?: unknown; nanos?: unknown };
    if (typeof secs === "number" && typeof nanos === "number") return Math.round(secs * 1000 + nanos / 1e6);
    return null;
  }
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
  if (typeof value === "string") {
    const m = /^([\d.]+)\s*(ms|s|µs|us|ns)$/.exec(value.trim());
    if (!m) return null;
    const n = Number(m[1]);
    const factor = m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : m[2] === "ns" ? 1e-6 : 1e-3;
    return Number.isFinite(n) ? Math.round(n * factor) : null;
  }
  return null;
}
