import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { projectActions, readFileLines, type AgentName, type SessionSummary } from "@sessionvault/core";
import { describe, expect, it } from "vitest";
import { buildTimeline } from "../../server/src/ui/timeline.js";
import { renderMarkdown } from "../src/markdown-transcript.js";

/**
 * The markdown transcript and the web timeline are views of the session
 * model, so a Claude Code and a Gemini CLI session (fixtures written by the
 * real CLIs) render through them as a Codex one does: the same calls as
 * actions v1, each command shown with its exit code.
 */
const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));

function find(dir: string, pred: (name: string) => boolean): string {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isFile() && pred(p)) return p;
    if (e.isDirectory()) {
      const hit = find(p, pred);
      if (hit) return hit;
    }
  }
  return "";
}

const CASES: { agent: AgentName; path: string }[] = [
  { agent: "claude-code", path: find(join(FIXTURES, "claude-code", "2.1.332", "projects"), (p) => /-work-fail\/[0-9a-f-]{36}\.jsonl$/.test(p)) },
  { agent: "gemini-cli", path: find(join(FIXTURES, "gemini-cli", "0.61.0", "gemini", "tmp", "fail"), (p) => p.endsWith(".jsonl")) },
];

async function* texts(path: string): AsyncGenerator<string> {
  for await (const l of readFileLines(path)) yield l.text;
}

describe.each(CASES)("views of a $agent session", ({ agent, path }) => {
  it("the timeline and the markdown transcript show the calls of actions v1", async () => {
    expect(path).not.toBe("");
    const calls: { id: string; status: string; exit: number | null }[] = [];
    const commands: { command: string; exit: number | null }[] = [];
    for await (const a of projectActions(readFileLines(path), { sessionId: "s", agent, redact: false })) {
      if (a.call_id === null) continue;
      calls.push({ id: a.call_id, status: a.status, exit: a.action_type === "tool_call" ? null : a.exit_code });
      if (a.action_type === "command_execution") commands.push({ command: a.command!, exit: a.exit_code });
    }
    expect(commands.map((c) => c.exit)).toEqual([3, 42]);

    const page = await buildTimeline(texts(path), { firstTurn: 0, turnCount: 100, redact: false, agent });
    const items = page.turns.flatMap((t) => t.items).filter((i) => i.kind === "command" || i.kind === "file_change" || i.kind === "tool_call");
    expect(items.map((i) => ({ id: i.callId, status: i.status, exit: i.kind === "command" ? i.exitCode : null }))).toEqual(calls);

    const summary = {
      id: "s",
      agent,
      created_at: "",
      updated_at: "",
      cwd: null,
      title: `a ${agent} session`,
      archived: false,
      source: null,
      originator: null,
      cli_version: null,
      model_provider: null,
      git: null,
      parent_id: null,
      forked_from_id: null,
      lines: 0,
      bytes: 0,
    } satisfies SessionSummary;
    let md = "";
    for await (const chunk of renderMarkdown(summary, texts(path), { redact: false, agent })) md += chunk;
    expect(md).toContain("Run the checks (they may fail)");
    for (const c of commands) {
      expect(md).toContain(c.command);
      expect(md).toContain(`Exit code ${c.exit}:`);
    }
  });
});
