import { isInjectedUserText, isRolloutLine, parseJsonLine, redactSecrets, type SessionSummary } from "@sessionvault/core";

/**
 * A readable Markdown transcript of a rollout: the user's and the agent's
 * messages, commands with their exit codes and (shortened) output, patches
 * and web searches, across the shapes of Codex 0.39 to 0.169. Reasoning,
 * injected context and bookkeeping records are left out. Streamed: one
 * chunk per rollout line that renders to something.
 */
export interface MarkdownOptions {
  redact: boolean;
  /** Longest command output kept per call (default 2000 characters). */
  maxOutputChars?: number;
}

const COMMAND_TOOLS = new Set(["shell", "shell_command", "exec_command", "container.exec", "local_shell"]);

export async function* renderMarkdown(summary: SessionSummary, lines: AsyncIterable<string>, options: MarkdownOptions): AsyncGenerator<string> {
  const r = options.redact ? redactSecrets : (t: string) => t;
  const maxOut = options.maxOutputChars ?? 2000;
  yield header(summary, r);
  for await (const text of lines) {
    let v: unknown;
    try {
      v = parseJsonLine(text);
    } catch {
      continue;
    }
    if (!isRolloutLine(v)) continue;
    const p = v.payload as Record<string, unknown>;
    const out = v.type === "response_item" ? responseItem(p, r, maxOut) : v.type === "event_msg" ? eventMsg(p) : v.type === "compacted" ? "_Context compacted._\n\n" : null;
    if (out) yield out;
  }
}

function header(s: SessionSummary, r: (t: string) => string): string {
  const rows = [
    `- Session: \`${s.id}\``,
    `- Created: ${s.created_at}`,
    s.cwd ? `- Directory: \`${r(s.cwd)}\`` : null,
    s.cli_version ? `- Codex: ${s.cli_version}${s.originator ? ` (${s.originator})` : ""}${s.source ? `, source ${s.source}` : ""}` : null,
    s.git ? `- Git: ${[s.git.branch, s.git.commit_hash, s.git.repository_url ? r(s.git.repository_url) : null].filter(Boolean).join(" ")}` : null,
    s.forked_from_id ? `- Forked from: \`${s.forked_from_id}\`` : s.parent_id ? `- Parent: \`${s.parent_id}\`` : null,
  ].filter(Boolean);
  return `# ${r(s.title ?? "Untitled session").replace(/\s+/g, " ")}\n\n${rows.join("\n")}\n\n`;
}

function responseItem(p: Record<string, unknown>, r: (t: string) => string, maxOut: number): string | null {
  switch (p.type) {
    case "message": {
      const text = contentText(p.content);
      if (!text) return null;
      if (p.role === "user") return isInjectedUserText(text) ? null : `## User\n\n${r(text)}\n\n`;
      if (p.role === "assistant") return `## Assistant\n\n${r(text)}\n\n`;
      return null;
    }
    case "function_call": {
      const name = String(p.name ?? "");
      const args = parseArgs(p.arguments);
      if (COMMAND_TOOLS.has(name)) {
        const argv = Array.isArray(args?.command) ? (args.command as unknown[]).map(String) : null;
        if (argv?.[0] === "apply_patch" && argv[1]) return patch(argv[1], r);
        const cmd = typeof args?.cmd === "string" ? args.cmd : argv ? displayArgv(argv) : String(p.arguments ?? "");
        return `**Command** \`${inlineCode(r(cmd))}\`\n\n`;
      }
      if (name === "apply_patch" && typeof args?.input === "string") return patch(args.input, r);
      return `**Tool** \`${name}\`${p.arguments ? ` ${inlineCode(r(oneLine(String(p.arguments), 200)))}` : ""}\n\n`;
    }
    case "local_shell_call": {
      const action = p.action as { command?: unknown[] } | undefined;
      return Array.isArray(action?.command) ? `**Command** \`${inlineCode(r(displayArgv(action.command.map(String))))}\`\n\n` : null;
    }
    case "custom_tool_call":
      return p.name === "apply_patch" && typeof p.input === "string" ? patch(p.input, r) : `**Tool** \`${String(p.name ?? "")}\`\n\n`;
    case "function_call_output":
    case "custom_tool_call_output":
      return output(p.output, r, maxOut);
    case "web_search_call": {
      const action = p.action as { query?: unknown } | undefined;
      return `**Web search**${typeof action?.query === "string" ? `: ${r(action.query)}` : ""}\n\n`;
    }
    default:
      return null;
  }
}

function eventMsg(p: Record<string, unknown>): string | null {
  if (p.type === "turn_aborted") return `_Turn aborted${typeof p.reason === "string" ? ` (${p.reason})` : ""}._\n\n`;
  return null;
}

function output(raw: unknown, r: (t: string) => string, maxOut: number): string | null {
  let text = typeof raw === "string" ? raw : raw && typeof raw === "object" && typeof (raw as { content?: unknown }).content === "string" ? (raw as { content: string }).content : null;
  if (text === null) return null;
  let exit: number | null = null;
  // 0.39 wraps output as JSON {"output", "metadata": {"exit_code"}}; 0.98+ writes "Process exited with code N" in text.
  try {
    const j = JSON.parse(text) as { output?: unknown; metadata?: { exit_code?: unknown } };
    if (j && typeof j.output === "string") {
      text = j.output;
      if (typeof j.metadata?.exit_code === "number") exit = j.metadata.exit_code;
    }
  } catch {
    const m = /(?:Process exited with code|^Exit code:) (-?\d+)/m.exec(text);
    if (m) exit = Number(m[1]);
    const o = text.indexOf("\nOutput:\n");
    if (m && o !== -1) text = text.slice(o + "\nOutput:\n".length);
  }
  const body = text.length > maxOut ? text.slice(0, maxOut) + `\n… (${text.length - maxOut} more characters)` : text;
  return `${exit !== null ? `Exit code ${exit}:\n\n` : ""}${fence(r(body.replace(/\n+$/, "")), "text")}\n\n`;
}

function patch(text: string, r: (t: string) => string): string {
  return `**Patch**\n\n${fence(r(text.replace(/\n+$/, "")), "diff")}\n\n`;
}

/** A fence longer than any backtick run inside, so content cannot close it. */
function fence(body: string, lang: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const f = "`".repeat(longest + 1);
  return `${f}${lang}\n${body}\n${f}`;
}

function inlineCode(text: string): string {
  return oneLine(text, 500).replace(/`/g, "'");
}

function oneLine(text: string, max: number): string {
  const t = text.replace(/\s+/g, " ").trim();
  return t.length > max ? t.slice(0, max - 1) + "…" : t;
}

function displayArgv(argv: string[]): string {
  // Codex runs most commands as ["bash", "-lc", "<script>"]: show the script.
  if (argv.length === 3 && /(^|\/)(ba|z)?sh$/.test(argv[0]!) && /^-l?c$/.test(argv[1]!)) return argv[2]!;
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

function parseArgs(raw: unknown): Record<string, unknown> | null {
  if (typeof raw === "object" && raw !== null) return raw as Record<string, unknown>;
  if (typeof raw !== "string") return null;
  try {
    const v = JSON.parse(raw) as unknown;
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function contentText(content: unknown): string | null {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return null;
  const parts = content.flatMap((c) => (c && typeof c === "object" && typeof (c as { text?: unknown }).text === "string" ? [(c as { text: string }).text] : []));
  return parts.length ? parts.join("\n") : null;
}
