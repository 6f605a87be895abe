import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readSessionEvents, readSessionFacts } from "../src/agents/agent-readers.js";
import { readFileLines, type LineWarning } from "../src/jsonl-reader.js";
import type { SessionEvent } from "../src/session-model/session-event.js";

/** Bad input never stops the reader: each problem is one counted warning and the rest is read. */
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function fileOf(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sv-bad-model-"));
  dirs.push(dir);
  const path = join(dir, "rollout.jsonl");
  await writeFile(path, text);
  return path;
}

async function read(path: string): Promise<{ events: SessionEvent[]; warnings: LineWarning[] }> {
  const warnings: LineWarning[] = [];
  const events: SessionEvent[] = [];
  const onWarning = (w: LineWarning) => warnings.push(w);
  for await (const e of readSessionEvents(readFileLines(path, { onWarning }), "codex", { text: true, onWarning })) events.push(e);
  return { events, warnings };
}

const bareMeta = JSON.stringify({ id: "6f888700-988e-4007-b743-06f60cee545a", timestamp: "2025-06-01T10:00:00.000Z", instructions: null });
const user = (text: string) => JSON.stringify({ type: "message", role: "user", content: [{ type: "input_text", text }] });
const env = JSON.stringify({
  type: "message",
  role: "user",
  content: [{ type: "input_text", text: "<environment_context>\n  <cwd>/work/app</cwd>\n</environment_context>" }],
});
const shell = (id: string, cmd: string) =>
  JSON.stringify({ type: "function_call", name: "shell", arguments: JSON.stringify({ command: ["bash", "-lc", cmd] }), call_id: id });
const out = (id: string, exit: number) =>
  JSON.stringify({ type: "function_call_output", call_id: id, output: JSON.stringify({ output: "", metadata: { exit_code: exit, duration_seconds: 0.1 } }) });
const state = '{"record_type":"state"}';

describe("bad input", () => {
  it("a bare file with a torn last line: the committed lines are read, cwd from <environment_context>", async () => {
    const path = await fileOf([bareMeta, state, env, user("run it"), shell("c1", "make"), out("c1", 2), shell("c2", "make again")].join("\n"));
    const { events, warnings } = await read(path);
    expect(warnings.map((w) => w.kind)).toEqual(["torn-last-line"]);
    expect(events[0]).toMatchObject({ type: "session_started", cwd: "/work/app", timestamp: "2025-06-01T10:00:00.000Z" });
    expect(events.filter((e) => e.type === "command")).toEqual([
      expect.objectContaining({ callId: "c1", command: "make", exitCode: 2, status: "failed", cwd: "/work/app" }),
    ]);
  });

  it("a file whose first line is not a meta: one warning, the rest read", async () => {
    const path = await fileOf([user("hello"), shell("c1", "ls"), out("c1", 0), ""].join("\n"));
    const { events, warnings } = await read(path);
    expect(warnings.map((w) => [w.kind, w.lineNo])).toEqual([["not-a-session-start", 1]]);
    expect(events.filter((e) => e.type === "command")).toMatchObject([{ callId: "c1", status: "completed", exitCode: 0 }]);
  });

  it("duplicated call ids across a resume's copy of the history count once", async () => {
    const history = [user("first"), shell("c1", "make"), out("c1", 0)];
    const path = await fileOf([bareMeta, ...history, ...history, user("second"), shell("c2", "make test"), out("c2", 0), ""].join("\n"));
    const { events } = await read(path);
    expect(events.filter((e) => e.type === "command").map((e) => (e as { callId: string }).callId)).toEqual(["c1", "c2"]);
    const facts = await readSessionFacts(readFileLines(path), "codex");
    expect(facts).toMatchObject({ agent: "codex", outcome: "unknown", duration_ms: null });
  });

  it("an unknown record kind is a counted warning and an opaque event", async () => {
    const meta = JSON.stringify({ timestamp: "2026-01-01T00:00:00.000Z", type: "session_meta", payload: { id: "s", cwd: "/w" } });
    const future = JSON.stringify({ timestamp: "2026-01-01T00:00:01.000Z", type: "hologram", payload: { x: 1 } });
    const task = JSON.stringify({ timestamp: "2026-01-01T00:00:02.000Z", type: "event_msg", payload: { type: "task_started", turn_id: "t1" } });
    const done = JSON.stringify({ timestamp: "2026-01-01T00:00:03.000Z", type: "event_msg", payload: { type: "task_complete", turn_id: "t1" } });
    const path = await fileOf([meta, future, task, done, ""].join("\n"));
    const { events, warnings } = await read(path);
    expect(warnings.map((w) => [w.kind, w.lineNo])).toEqual([["unknown-record", 2]]);
    expect(events.map((e) => e.type)).toEqual(["session_started", "unknown", "turn_started", "turn_ended"]);
  });

  it("a 50 MB line is read without trouble and the lines after it too", async () => {
    const big = JSON.stringify({ type: "function_call_output", call_id: "c1", output: "x".repeat(50 * 1024 * 1024) });
    const path = await fileOf([bareMeta, user("cat the big file"), shell("c1", "cat big"), big, shell("c2", "echo after"), out("c2", 0), ""].join("\n"));
    const { events, warnings } = await read(path);
    expect(warnings).toEqual([]);
    const cmds = events.filter((e) => e.type === "command") as { callId: string; status: string; output: string | null }[];
    expect(cmds.map((c) => [c.callId, c.status])).toEqual([
      ["c1", "failed"],
      ["c2", "completed"],
    ]);
    // The reader keeps a bounded part of the text.
    expect(cmds[0]!.output!.length).toBeLessThanOrEqual(100_000);
  });
});
