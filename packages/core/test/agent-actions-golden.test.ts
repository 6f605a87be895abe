import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { beforeAll, describe, expect, it } from "vitest";
import { readAgentSessionSummary, readSessionEvents, readSessionFacts } from "../src/agents/agent-readers.js";
import type { ToolCallEvent } from "../src/session-model/session-event.js";
import { type FixtureSession, fixtureSessions, goldenPath, projectFixture, sessionLines } from "./support/agent-fixtures.js";

/**
 * actions v1 of the Claude Code and Gemini CLI fixtures (fixtures/<agent>/<version>/,
 * written by the real CLIs): every session and sub-agent transcript has a
 * golden export under test/golden/<agent>/<version>/, checked against the
 * transcript by hand when it was written; any change in an emitted byte
 * fails here. Every line validates against the v1 schema.
 */
const schema = JSON.parse(readFileSync(fileURLToPath(new URL("../schemas/actions.v1.schema.json", import.meta.url)), "utf8"));
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

let sessions: FixtureSession[] = [];
beforeAll(async () => {
  sessions = await fixtureSessions();
});

function find(agent: string, version: string, label: string): FixtureSession {
  const s = sessions.find((x) => x.agent === agent && x.version === version && x.label === label);
  if (!s) throw new Error(`no fixture session ${agent} ${version} ${label}`);
  return s;
}

describe("actions v1 of Claude Code and Gemini CLI fixtures", () => {
  it("finds every fixture transcript through the home layouts", () => {
    const agents = new Set(sessions.map((s) => `${s.agent}/${s.version}`));
    expect([...agents].sort()).toEqual([
      "claude-code/1.0.128",
      "claude-code/2.0.77",
      "claude-code/2.1.112",
      "claude-code/2.1.332",
      "gemini-cli/0.20.0",
      "gemini-cli/0.61.0",
    ]);
    // Claude 2.1.x: 17 session files + 2 sub-agents (resumes append to their session); 2.0.77: 17 + 3 empty
    // session files + 2 sub-agents (60 warm-up agents left out); 1.0.128: 16 + 2 summary-only files, sub-agents inline.
    // Gemini 0.61.0: 13 sessions (two of them in two files) + 1 sub-agent chat; 0.20.0: 13 sessions (one in two .json files), no sub-agent chat.
    const claude = (v: string) => sessions.filter((s) => s.agent === "claude-code" && s.version === v);
    expect([claude("1.0.128").length, claude("2.0.77").length, claude("2.1.112").length, claude("2.1.332").length]).toEqual([18, 22, 19, 19]);
    expect(sessions.filter((s) => s.agent === "gemini-cli" && s.version === "0.61.0").length).toBe(14);
    expect(sessions.filter((s) => s.agent === "gemini-cli" && s.version === "0.20.0").length).toBe(13);
    expect(sessions.find((s) => s.version === "0.20.0" && s.label === "15-compress1")!.files.map((f) => f.slice(-5))).toEqual([".json", ".json"]);
  });

  it("matches the golden export of every session byte for byte, and every line validates", async () => {
    expect(sessions.length).toBeGreaterThan(0);
    for (const s of sessions) {
      const path = goldenPath(s);
      expect(existsSync(path), path).toBe(true);
      const expected = readFileSync(path, "utf8")
        .split("\n")
        .filter((l) => l !== "");
      const actions = await projectFixture(s);
      expect(
        actions.map((a) => JSON.stringify(a)),
        `${s.agent} ${s.version} ${s.label}`,
      ).toEqual(expected);
      for (const a of actions) expect(validate(a), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it("never exports prompt or answer texts", async () => {
    const s = find("claude-code", "2.1.332", "04-fail");
    const text = (await projectFixture(s)).map((a) => JSON.stringify(a)).join("\n");
    expect(text).not.toContain("Run the checks");
    expect(text).not.toContain("Both commands failed");
  });

  it("a fork exports only what it added, not the records it copied from its parent", async () => {
    for (const version of ["1.0.128", "2.0.77", "2.1.112", "2.1.332"]) {
      const fork = find("claude-code", version, "08-fork");
      expect(fork.skipUuids!.size).toBeGreaterThan(5);
      const parent = find("claude-code", version, "05-multi-turn1");
      const forkCalls = (await projectFixture(fork)).filter((a) => a.call_id !== null).map((a) => a.call_id);
      const parentCalls = (await projectFixture(parent)).filter((a) => a.call_id !== null).map((a) => a.call_id);
      expect(forkCalls.length).toBe(1);
      expect(parentCalls.length).toBe(3);
      expect(forkCalls.filter((c) => parentCalls.includes(c))).toEqual([]);
    }
  });

  it("links a Claude Code sub-agent to the parent's tool call, and a Gemini CLI one to its invoke_agent call", async () => {
    for (const version of ["2.0.77", "2.1.112", "2.1.332"]) {
      const sub = sessions.find((s) => s.agent === "claude-code" && s.version === version && s.label.startsWith("09-subagent-sub-"))!;
      const parent = find("claude-code", version, "09-subagent");
      const calls: ToolCallEvent[] = [];
      for await (const e of readSessionEvents(sessionLines(parent.files), "claude-code")) if (e.type === "tool_call" && e.subAgent) calls.push(e);
      expect(calls.map((c) => [c.toolName, c.subAgent])).toEqual([[version === "2.0.77" ? "Task" : "Agent", { action: "spawn", childIds: [sub.sessionId] }]]);
    }
    const gsub = sessions.find((s) => s.agent === "gemini-cli" && s.label.startsWith("08-subagent-sub-"))!;
    const gparent = find("gemini-cli", "0.61.0", "08-subagent");
    const facts = await readSessionFacts(sessionLines(gparent.files), "gemini-cli", { cwd: gparent.cwd });
    expect(facts.children).toEqual([gsub.sessionId]);
  });

  it("session facts: model, outcome, tokens, files changed", async () => {
    const facts = async (s: FixtureSession) => readSessionFacts(sessionLines(s.files), s.agent, { skipUuids: s.skipUuids, cwd: s.cwd });
    const fail = await facts(find("claude-code", "2.1.112", "04-fail"));
    expect(fail).toMatchObject({ agent: "claude-code", model: "claude-sonnet-4-6", outcome: "completed", turns: 1, files_changed: 1 });
    expect(fail.tokens!.output).toBeGreaterThan(0);
    expect((await facts(find("claude-code", "2.1.332", "15-apierror"))).outcome).toBe("failed");
    expect((await facts(find("claude-code", "2.1.112", "18-interrupt"))).outcome).toBe("interrupted");
    expect((await facts(find("claude-code", "2.1.332", "18-interrupt"))).outcome).toBe("interrupted");
    const gedit = await facts(find("gemini-cli", "0.61.0", "03-edit"));
    expect(gedit).toMatchObject({ agent: "gemini-cli", outcome: "completed", turns: 1, files_changed: 2 });
    expect(gedit.model).toMatch(/^gemini-/);
    expect(gedit.tokens!.input).toBeGreaterThan(0);
  });

  it("keeps per-file diffs from structuredPatch (Claude Code) and fileDiff (Gemini CLI) in the model", async () => {
    const diffs = async (s: FixtureSession) => {
      const out: string[] = [];
      for await (const e of readSessionEvents(sessionLines(s.files), s.agent, { text: true, cwd: s.cwd }))
        if (e.type === "file_change") for (const f of e.files) out.push(`${f.kind} ${f.diff}`);
      return out;
    };
    const c = await diffs(find("claude-code", "2.1.332", "03-edit"));
    expect(c[0]).toMatch(/^add @@ -0,0 \+1,\d+ @@\n\+# Notes\n/);
    expect(c.slice(1, 4).every((d) => d.startsWith("update @@ ") && /\n-.*\n\+/.test(d))).toBe(true);
    const g = await diffs(find("gemini-cli", "0.61.0", "03-edit"));
    expect(g.length).toBe(4);
    expect(g[0]).toMatch(/^add @@ /);
    expect(g.slice(1).some((d) => /^update @@ [^\n]*\n(?:.*\n)*-.*\n(?:.*\n)*\+/.test(d))).toBe(true);
  });

  it("session summaries: title, cwd, git branch and CLI version from the reader", async () => {
    const git = find("claude-code", "2.1.332", "12-git");
    const sum = await readAgentSessionSummary(sessionLines(git.files), "claude-code");
    expect(sum).toMatchObject({
      agent: "claude-code",
      session_id: git.sessionId,
      git_branch: "feature/changelog",
      cli_version: "2.1.332",
      outcome: "completed",
    });
    expect(sum.cwd).toMatch(/\/work\/git$/);
    const named = await readAgentSessionSummary(sessionLines(find("claude-code", "2.1.112", "05-multi-turn1").files), "claude-code");
    expect(named.title).toBe("Log file work");
    expect(named.turns).toBe(3);
    const g = find("gemini-cli", "0.61.0", "02-shell");
    const gs = await readAgentSessionSummary(sessionLines(g.files), "gemini-cli", { cwd: g.cwd });
    expect(gs).toMatchObject({
      agent: "gemini-cli",
      session_id: g.sessionId,
      title: "List the files here, then create hello.txt containing hello.",
      git_branch: null,
    });
    expect(gs.cwd).toMatch(/\/work\/shell$/);
  });
});
