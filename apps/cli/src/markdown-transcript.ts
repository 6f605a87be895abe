import {
  readSessionEvents,
  redactSecrets,
  SessionFactsBuilder,
  type AgentName,
  type FileDiff,
  type SessionEvent,
  type SessionFacts,
  type SessionSummary,
} from "@sessionvault/core";

/**
 * A readable Markdown transcript of a session: a view of the session model
 * (core) — the user's and the agent's messages, commands with their exit
 * codes and (shortened) output, patches, tool calls and web searches, turn
 * ends, and the session's facts at the end. Reasoning, injected context and
 * bookkeeping records are left out. Streamed: one chunk per event that
 * renders to something.
 */
export interface MarkdownOptions {
  redact: boolean;
  /** Longest command output kept per call (default 2000 characters). */
  maxOutputChars?: number;
  /** Whose transcript the lines are (default `codex`). */
  agent?: AgentName;
  /** Claude Code: the records a fork copied from its parent, left out; Gemini CLI: the project root. */
  skipUuids?: ReadonlySet<string>;
  cwd?: string | null;
}

export async function* renderMarkdown(summary: SessionSummary, lines: AsyncIterable<string>, options: MarkdownOptions): AsyncGenerator<string> {
  const r = options.redact ? redactSecrets : (t: string) => t;
  const maxOut = options.maxOutputChars ?? 2000;
  const agent = options.agent ?? "codex";
  const facts = new SessionFactsBuilder(agent);
  yield header(summary, r, agent);
  for await (const e of readSessionEvents(lines, agent, {
    text: true,
    usage: true,
    ...(options.skipUuids ? { skipUuids: options.skipUuids } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
  })) {
    facts.add(e);
    const out = render(e, r, maxOut);
    if (out) yield out;
  }
  yield footer(facts.facts());
}

function header(s: SessionSummary, r: (t: string) => string, agent: AgentName): string {
  const rows = [
    `- Session: \`${s.id}\``,
    `- Created: ${s.created_at}`,
    s.cwd ? `- Directory: \`${r(s.cwd)}\`` : null,
    s.cli_version ? `- ${AGENT_LABEL[agent]}: ${s.cli_version}${s.originator ? ` (${s.originator})` : ""}${s.source ? `, source ${s.source}` : ""}` : null,
    s.git ? `- Git: ${[s.git.branch, s.git.commit_hash, s.git.repository_url ? r(s.git.repository_url) : null].filter(Boolean).join(" ")}` : null,
    s.forked_from_id ? `- Forked from: \`${s.forked_from_id}\`` : s.parent_id ? `- Parent: \`${s.parent_id}\`` : null,
  ].filter(Boolean);
  return `# ${r(s.title ?? "Untitled session").replace(/\s+/g, " ")}\n\n${rows.join("\n")}\n\n`;
}

function render(e: SessionEvent, r: (t: string) => string, maxOut: number): string | null {
  switch (e.type) {
    case "message":
      return e.role === "user" ? `## User\n\n${r(e.text)}\n\n` : `## Assistant\n\n${r(e.text)}\n\n`;
    case "command":
      return `**Command** \`${inlineCode(r(e.command ?? ""))}\`${status(e.status)}\n\n${output(e.output, e.exitCode, r, maxOut)}`;
    case "file_change":
      return `${patch(e.files, r)}${output(e.output, null, r, maxOut)}`;
    case "tool_call":
      if (e.webSearch) return `**Web search**${e.command ? `: ${r(e.command)}` : ""}\n\n`;
      return `**Tool** \`${e.toolName ?? "tool"}\`${e.input ? ` ${inlineCode(r(oneLine(e.input, 200)))}` : ""}${status(e.status)}${e.subAgent?.childIds.length ? ` → ${e.subAgent.childIds.map((c) => `\`${c}\``).join(", ")}` : ""}\n\n`;
    case "compaction":
      return "_Context compacted._\n\n";
    case "error":
      return `_Error: ${r(oneLine(e.message, 500))}_\n\n`;
    case "turn_ended":
      if (e.status === "aborted") return `_Turn aborted${e.reason ? ` (${e.reason})` : ""}._\n\n`;
      if (e.status === "failed") return `_Turn failed${e.reason ? `: ${r(oneLine(e.reason, 500))}` : ""}._\n\n`;
      return null;
    default:
      return null;
  }
}

function status(s: string): string {
  return s === "completed" || s === "failed" ? "" : ` _(${s.replace("_", " ")})_`;
}

function footer(f: SessionFacts): string {
  const parts = [
    `- Outcome: ${f.outcome.replace("_", " ")}`,
    `- Turns: ${f.turns}`,
    f.model ? `- Model: ${f.model}` : null,
    f.tokens ? `- Tokens: ${f.tokens.input} in (${f.tokens.cached_input} cached), ${f.tokens.output} out (${f.tokens.reasoning} reasoning)` : null,
    f.duration_ms !== null ? `- Duration: ${(f.duration_ms / 1000).toFixed(1)} s` : null,
    `- Files changed: ${f.files_changed}`,
    f.children.length ? `- Sub-agents: ${f.children.map((c) => `\`${c}\``).join(", ")}` : null,
  ].filter(Boolean);
  return `---\n\n${parts.join("\n")}\n`;
}

function output(text: string | null, exit: number | null, r: (t: string) => string, maxOut: number): string {
  if (text === null || (text === "" && exit === null)) return "";
  const body = text.length > maxOut ? text.slice(0, maxOut) + `\n… (${text.length - maxOut} more characters)` : text;
  return `${exit !== null ? `Exit code ${exit}:\n\n` : ""}${fence(r(body.replace(/\n+$/, "")), "text")}\n\n`;
}

/** The change in apply_patch's own notation, whichever record it came from. */
function patch(files: FileDiff[], r: (t: string) => string): string {
  const parts = ["*** Begin Patch"];
  for (const f of files) {
    parts.push(`*** ${f.kind === "add" ? "Add" : f.kind === "delete" ? "Delete" : "Update"} File: ${f.path}`);
    if (f.movePath) parts.push(`*** Move to: ${f.movePath}`);
    if (f.diff) parts.push(f.diff.replace(/\n+$/, ""));
  }
  parts.push("*** End Patch");
  return `**Patch**\n\n${fence(r(parts.join("\n")), "diff")}\n\n`;
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

const AGENT_LABEL: Record<AgentName, string> = { codex: "Codex", "claude-code": "Claude Code", "gemini-cli": "Gemini CLI" };
