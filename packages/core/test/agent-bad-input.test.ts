import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActionV1 } from "../src/actions/action-v1.js";
import { projectActions } from "../src/actions/project-actions.js";
import type { AgentName } from "../src/agents/agent-readers.js";
import { readSessionEvents } from "../src/agents/agent-readers.js";
import { ClaudeCodeHome } from "../src/agents/claude-code/claude-home.js";
import type { LineWarning } from "../src/jsonl-reader.js";
import { readLines } from "../src/jsonl-reader.js";
import { type FixtureSession, fixtureSessions, projectFixture } from "./support/agent-fixtures.js";

/**
 * Bad input for the Claude Code and Gemini CLI readers, made from real
 * fixture transcripts by cutting, dropping or adding lines: each case ends
 * in counted warnings, never a throw, and every action the intact lines
 * hold is still exported, once.
 */
let sessions: FixtureSession[] = [];
let scratch = "";
beforeAll(async () => {
  sessions = await fixtureSessions();
  scratch = mkdtempSync(join(tmpdir(), "sv-agent-bad-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function fixture(agent: string, version: string, label: string): FixtureSession {
  const s = sessions.find((x) => x.agent === agent && x.version === version && x.label === label);
  if (!s) throw new Error(`no fixture ${agent} ${version} ${label}`);
  return s;
}

function linesOf(s: FixtureSession): string[] {
  return s.files.flatMap((f) =>
    readFileSync(f, "utf8")
      .split("\n")
      .filter((l) => l !== ""),
  );
}

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text, "utf8");
}

async function project(text: string, agent: AgentName, sessionId = "s"): Promise<{ actions: ActionV1[]; warnings: LineWarning[] }> {
  const warnings: LineWarning[] = [];
  const actions: ActionV1[] = [];
  const onWarning = (w: LineWarning) => warnings.push(w);
  for await (const a of projectActions(readLines(bytes(text), { onWarning }), { sessionId, agent, onWarning })) actions.push(a);
  return { actions, warnings };
}

const kinds = (ws: LineWarning[]) => ws.map((w) => w.kind);
const calls = (as: ActionV1[]) => as.filter((a) => a.call_id !== null).map((a) => `${a.call_id} ${a.status}`);

describe("bad Claude Code transcripts", () => {
  it("a torn last line: a warning, and every committed line's actions", async () => {
    const s = fixture("claude-code", "2.1.112", "04-fail");
    const lines = linesOf(s);
    const last = lines[lines.length - 1]!;
    const torn = `${lines.slice(0, -1).join("\n")}\n${last.slice(0, Math.floor(last.length / 2))}`;
    const { actions, warnings } = await project(torn, "claude-code", s.sessionId);
    expect(kinds(warnings)).toEqual(["torn-last-line"]);
    // The torn line is last-prompt (the end of the run): the calls are all there, the turn ended.
    expect(calls(actions)).toEqual(calls(await projectFixture(s)));
    expect(actions.at(-1)!.action_type).toBe("turn_completed");
  });

  it("a tool result without its call: a warning, and the result is kept as a call", async () => {
    const s = fixture("claude-code", "2.1.112", "04-fail");
    const lines = linesOf(s);
    const full = await projectFixture(s);
    const victim = full.find((a) => a.tool_name === "Write")!.call_id!;
    const cut = lines.filter((l) => !(l.includes('"type":"assistant"') && l.includes(`"id":"${victim}"`)));
    expect(cut.length).toBe(lines.length - 1);
    const { actions, warnings } = await project(`${cut.join("\n")}\n`, "claude-code");
    expect(kinds(warnings)).toEqual(["result-without-call"]);
    expect(calls(actions)).toEqual(calls(full));
    expect(actions.find((a) => a.call_id === victim)).toMatchObject({ action_type: "tool_call", tool_name: null, status: "completed" });
  });

  it("a call without its result: a warning, the call is aborted, later calls are untouched", async () => {
    const s = fixture("claude-code", "2.1.332", "04-fail");
    const lines = linesOf(s);
    const full = await projectFixture(s);
    const victim = full.find((a) => a.exit_code === 42)!.call_id!;
    const cut = lines.filter((l) => !(l.includes('"type":"user"') && l.includes(`"tool_use_id":"${victim}"`)));
    expect(cut.length).toBe(lines.length - 1);
    const { actions, warnings } = await project(`${cut.join("\n")}\n`, "claude-code");
    expect(kinds(warnings)).toEqual(["call-without-result"]);
    expect(calls(actions)).toEqual(calls(full).map((c) => (c.startsWith(victim) ? `${victim} aborted` : c)));
  });

  it("an unknown line type: a warning, an opaque model item, the same actions", async () => {
    const s = fixture("claude-code", "2.1.332", "02-bash");
    const lines = linesOf(s);
    const odd = '{"type":"hologram-snapshot","sessionId":"x","payload":{"a":1}}';
    const mixed = [...lines.slice(0, 5), odd, ...lines.slice(5)];
    const { actions, warnings } = await project(`${mixed.join("\n")}\n`, "claude-code", s.sessionId);
    expect(kinds(warnings)).toEqual(["unknown-record"]);
    expect(actions).toEqual(await projectFixture(s));
    const unknown = [];
    for await (const e of readSessionEvents(
      (async function* () {
        yield* mixed;
      })(),
      "claude-code",
    ))
      if (e.type === "unknown") unknown.push(e);
    expect(unknown).toMatchObject([{ kind: "hologram-snapshot", lineNo: 6 }]);
  });

  it("a sub-agent transcript without its parent session is listed on its own, with a warning", async () => {
    const s = fixture("claude-code", "2.1.332", "09-subagent");
    const sub = fixture("claude-code", "2.1.332", sessions.find((x) => x.label.startsWith("09-subagent-sub-") && x.version === "2.1.332")!.label);
    // A home holding only the sub-agent's folder: <sessionId>/subagents/agent-<id>.jsonl, no <sessionId>.jsonl.
    const projectDir = basename(dirname(s.files[0]!));
    const dest = join(scratch, "orphan", "projects", projectDir, s.sessionId, "subagents");
    mkdirSync(dest, { recursive: true });
    cpSync(dirname(sub.files[0]!), dest, { recursive: true });
    const warnings: LineWarning[] = [];
    const listed = [];
    for await (const e of new ClaudeCodeHome(join(scratch, "orphan")).listSessions({ onWarning: (w) => warnings.push(w) })) listed.push(e);
    expect(kinds(warnings)).toEqual(["sub-agent-without-parent"]);
    expect(listed.map((e) => [e.kind, e.sessionId, e.parentSessionId])).toEqual([["orphan-sub-agent", sub.sessionId, s.sessionId]]);
    const { actions, warnings: w2 } = await project(readFileSync(listed[0]!.transcript, "utf8"), "claude-code");
    expect(w2).toEqual([]);
    expect(calls(actions)).toEqual(calls(await projectFixture(sub)));
  });
});

describe("a Gemini CLI chat rewritten in place", () => {
  it("a message re-appended without its calls and a $set that drops messages: warnings, each call once, none lost", async () => {
    const s = fixture("gemini-cli", "0.61.0", "03-edit");
    const lines = linesOf(s);
    const full = await projectFixture(s);
    expect(calls(full).length).toBe(6);
    const withCalls = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => Array.isArray(r.toolCalls));
    const first = withCalls[0]!;
    // Rewrites: the first model message again without its calls, then the whole list set to its last message only.
    const stripped = JSON.stringify({ ...first, toolCalls: undefined, content: "rewritten" });
    const setLast = JSON.stringify({ $set: { messages: [withCalls.at(-1)] } });
    const { actions, warnings } = await project(`${[...lines, stripped, setLast].join("\n")}\n`, "gemini-cli", s.sessionId);
    expect(kinds(warnings)).toEqual(["rewritten", "rewritten"]);
    expect(calls(actions)).toEqual(calls(full));
  });

  it("a pretty-printed JSON chat (older builds) read while being rewritten: a warning, no throw; the whole document reads", async () => {
    const s = fixture("gemini-cli", "0.61.0", "02-shell");
    // Fold the JSONL into the single document the older builds write, pretty-printed.
    const doc = { sessionId: s.sessionId, startTime: "", lastUpdated: "", messages: [] as Record<string, unknown>[] };
    const byId = new Map<string, Record<string, unknown>>();
    for (const l of linesOf(s)) {
      const r = JSON.parse(l) as Record<string, unknown>;
      if (typeof r.id === "string") byId.set(r.id, r);
      if (typeof r.startTime === "string" && doc.startTime === "") doc.startTime = r.startTime;
    }
    doc.messages = [...byId.values()];
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    const whole = await project(text, "gemini-cli", s.sessionId);
    expect(whole.warnings).toEqual([]);
    expect(calls(whole.actions)).toEqual(calls(await projectFixture(s)));
    const half = await project(text.slice(0, Math.floor(text.length / 2)), "gemini-cli", s.sessionId);
    expect(kinds(half.warnings)).toEqual(["torn-last-line", "torn-last-line"]);
    expect(half.actions.map((a) => a.action_type)).toEqual(["session_started"]);
  });
});
