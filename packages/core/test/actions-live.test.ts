import { describe, expect, it } from "vitest";
import type { ActionV1 } from "../src/actions/action-v1.js";
import { projectActions } from "../src/actions/project-actions.js";

/**
 * Two v1 fixes: unified-exec commands finished through write_stdin, and the
 * export of a session that is still being written.
 */
let clock = 0;
const ts = () => `2026-01-01T00:00:${String(clock++).padStart(2, "0")}.000Z`;
const line = (type: string, payload: Record<string, unknown>) => JSON.stringify({ timestamp: ts(), type, payload });
const item = (payload: Record<string, unknown>) => line("response_item", payload);
const event = (payload: Record<string, unknown>) => line("event_msg", payload);
const meta = () => line("session_meta", { id: "s", timestamp: ts(), cwd: "/w", originator: "codex_exec", cli_version: "0.169.0" });

async function run(lines: string[]): Promise<ActionV1[]> {
  async function* src() {
    yield* lines;
  }
  const out: ActionV1[] = [];
  for await (const a of projectActions(src(), { sessionId: "s" })) out.push(a);
  return out;
}

const exec = (id: string, cmd: string) => item({ type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd, tty: true }), call_id: id });
const stdin = (id: string, session: number) =>
  item({ type: "function_call", name: "write_stdin", arguments: JSON.stringify({ session_id: session, chars: "y\n" }), call_id: id });
const out = (id: string, output: string) => item({ type: "function_call_output", call_id: id, output });

describe("interactive commands (unified exec answered through write_stdin)", () => {
  it("take the exit code and the duration to the exit from the write_stdin output", async () => {
    clock = 0;
    const a = await run([
      meta(),
      event({ type: "task_started", turn_id: "t1" }),
      exec("c1", "read x; exit 3"),
      out("c1", "Chunk ID: a\nWall time: 0.5000 seconds\nProcess running with session ID 77\nOriginal token count: 1\nOutput:\n? "),
      stdin("c2", 77),
      out("c2", "Chunk ID: b\nWall time: 0.2500 seconds\nProcess exited with code 3\nOriginal token count: 1\nOutput:\n"),
      event({ type: "task_complete", turn_id: "t1" }),
    ]);
    const cmd = a.find((x) => x.call_id === "c1")!;
    // Started at 00:03 - 0.5 s, exited by 00:05: 2.5 s.
    expect(cmd).toMatchObject({ action_type: "command_execution", exit_code: 3, status: "failed", duration_ms: 2500 });
    expect(a.find((x) => x.call_id === "c2")).toMatchObject({ tool_name: "write_stdin", status: "completed", exit_code: null });
  });

  it("a write_stdin for another process does not touch the command", async () => {
    clock = 0;
    const a = await run([
      meta(),
      event({ type: "task_started", turn_id: "t1" }),
      exec("c1", "sleep 100"),
      out("c1", "Chunk ID: a\nWall time: 1.0000 seconds\nProcess running with session ID 5\nOutput:\n"),
      stdin("c2", 6),
      out("c2", "Chunk ID: b\nWall time: 0.1000 seconds\nProcess exited with code 1\nOutput:\n"),
      event({ type: "task_complete", turn_id: "t1" }),
    ]);
    expect(a.find((x) => x.call_id === "c1")).toMatchObject({ exit_code: null, status: "completed", duration_ms: 1000 });
  });
});

describe("a session still being written", () => {
  const head = () => [
    meta(),
    event({ type: "task_started", turn_id: "t1" }),
    exec("c1", "true"),
    out("c1", "Process exited with code 0\n"),
    exec("c2", "sleep 30"),
  ];

  it("exports only final actions: nothing for the call still running, and nothing after it", async () => {
    clock = 0;
    const a = await run(head());
    expect(a.map((x) => x.action_type)).toEqual(["session_started", "turn_started", "command_execution"]);
    expect(a.at(-1)).toMatchObject({ call_id: "c1", status: "completed" });
    expect(a.some((x) => x.status === "aborted")).toBe(false);
  });

  it("the same call is aborted once its turn has ended, and the earlier actions keep their seq", async () => {
    clock = 0;
    const live = await run(head());
    clock = 0;
    const ended = await run([...head(), event({ type: "turn_aborted", turn_id: "t1", reason: "interrupted" })]);
    expect(ended.slice(0, live.length)).toEqual(live);
    expect(ended.find((x) => x.call_id === "c2")).toMatchObject({ status: "aborted", exit_code: null });
  });

  it("a later turn also ends it (a resume after a crash)", async () => {
    clock = 0;
    const a = await run([...head(), event({ type: "task_started", turn_id: "t2" })]);
    expect(a.find((x) => x.call_id === "c2")).toMatchObject({ status: "aborted" });
  });
});
