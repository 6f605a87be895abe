import { describe, expect, it } from "vitest";
import type { ActionV1 } from "../src/actions/action-v1.js";
import { projectActions } from "../src/actions/project-actions.js";
import type { LineWarning } from "../src/jsonl-reader.js";
import { project, rolloutOf } from "./support/actions-fixtures.js";

/**
 * Record shapes Codex writes that the fixture runs did not produce (other
 * models, other versions, approvals, MCP). Each line follows the shape of
 * Codex's protocol types (codex-rs/protocol) as serialised into rollouts.
 */
let clock = 0;
const ts = () => `2026-01-01T00:00:${String(clock++).padStart(2, "0")}.000Z`;
const line = (type: string, payload: Record<string, unknown>) => JSON.stringify({ timestamp: ts(), type, payload });
const item = (payload: Record<string, unknown>) => line("response_item", payload);
const event = (payload: Record<string, unknown>) => line("event_msg", payload);
const meta = (cwd = "/w") => line("session_meta", { id: "s", timestamp: ts(), cwd, originator: "codex_cli_rs", cli_version: "0.40.0" });
const userMsg = (message: string, kind = "plain") => event({ type: "user_message", message, kind });

async function run(lines: string[], options: { redact?: boolean; maxPendingActions?: number; onWarning?: (w: LineWarning) => void } = {}): Promise<ActionV1[]> {
  async function* src() {
    yield* lines;
  }
  const out: ActionV1[] = [];
  for await (const a of projectActions(src(), { sessionId: "s", ...options })) out.push(a);
  return out;
}
const calls = (actions: ActionV1[]) => actions.filter((a) => a.call_id !== null || a.action_type === "tool_call");

describe("command shapes", () => {
  it("local_shell_call + JSON output (codex-mini on 0.3x)", async () => {
    const a = await run([
      meta(),
      userMsg("run the tests"),
      item({
        type: "local_shell_call",
        id: "lsh_1",
        call_id: "call_ls",
        status: "completed",
        action: { type: "exec", command: ["bash", "-lc", "make test"], timeout_ms: null, working_directory: "/w/sub", env: null, user: null },
      }),
      item({
        type: "function_call_output",
        call_id: "call_ls",
        output: JSON.stringify({ output: "FAIL\n", metadata: { exit_code: 2, duration_seconds: 1.25 } }),
      }),
    ]);
    expect(calls(a)).toMatchObject([
      {
        action_type: "command_execution",
        call_id: "call_ls",
        tool_name: "local_shell",
        command: "make test",
        argv: ["bash", "-lc", "make test"],
        cwd: "/w/sub",
        exit_code: 2,
        status: "failed",
        duration_ms: 1250,
        turn_id: "derived-1",
      },
    ]);
  });

  it("function_call + exec_command_end + output give ONE action with the richer fields", async () => {
    const a = await run([
      meta(),
      userMsg("build"),
      item({ type: "function_call", name: "shell", arguments: JSON.stringify({ command: ["bash", "-lc", "npm run build"], workdir: "pkg" }), call_id: "c1" }),
      event({
        type: "exec_command_end",
        call_id: "c1",
        command: ["bash", "-lc", "npm run build"],
        cwd: "/w/pkg",
        stdout: "",
        stderr: "",
        aggregated_output: "",
        exit_code: 0,
        duration: { secs: 2, nanos: 500_000_000 },
        formatted_output: "",
      }),
      item({ type: "function_call_output", call_id: "c1", output: JSON.stringify({ output: "", metadata: { exit_code: 0, duration_seconds: 2.6 } }) }),
    ]);
    expect(calls(a)).toEqual([
      expect.objectContaining({
        call_id: "c1",
        tool_name: "shell",
        command: "npm run build",
        cwd: "/w/pkg",
        exit_code: 0,
        status: "completed",
        duration_ms: 2500,
      }),
    ]);
  });

  it("exec_command_end alone (a user shell command) and shell_command's string form", async () => {
    const a = await run([
      meta(),
      event({
        type: "exec_command_end",
        call_id: "u1",
        command: ["ls", "my dir"],
        cwd: "/w",
        exit_code: 1,
        duration: "150ms",
        status: "failed",
        turn_id: "t9",
      }),
      item({ type: "function_call", name: "shell_command", arguments: JSON.stringify({ command: "git status", workdir: "/repo" }), call_id: "c2" }),
      item({ type: "function_call_output", call_id: "c2", output: "Exit code: 0\nWall time: 0.2 seconds\nOutput:\nclean\n" }),
    ]);
    expect(calls(a)).toMatchObject([
      { call_id: "u1", tool_name: null, command: "ls 'my dir'", argv: ["ls", "my dir"], exit_code: 1, status: "failed", duration_ms: 150, turn_id: "t9" },
      { call_id: "c2", tool_name: "shell_command", command: "git status", argv: null, cwd: "/repo", exit_code: 0, status: "completed", duration_ms: 200 },
    ]);
  });

  it("declined by the user: approval rejection output or a declined item", async () => {
    const a = await run([
      meta(),
      event({ type: "task_started", turn_id: "t1" }),
      item({ type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: "rm -rf build" }), call_id: "d1" }),
      item({ type: "function_call_output", call_id: "d1", output: "exec command rejected by user" }),
      item({ type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: "curl example.com" }), call_id: "d2" }),
      event({
        type: "item_completed",
        turn_id: "t1",
        item: { type: "CommandExecution", id: "d2", command: ["/bin/bash", "-lc", "curl example.com"], cwd: "file:///w", status: "declined", exit_code: null },
      }),
      item({ type: "custom_tool_call", name: "apply_patch", call_id: "d3", input: "*** Begin Patch\n*** Delete File: a.txt\n*** End Patch" }),
      item({ type: "custom_tool_call_output", call_id: "d3", output: "patch rejected by user" }),
      event({ type: "task_complete", turn_id: "t1" }),
    ]);
    expect(calls(a).map((x) => [x.call_id, x.action_type, x.status, x.turn_id])).toEqual([
      ["d1", "command_execution", "declined", "t1"],
      ["d2", "command_execution", "declined", "t1"],
      ["d3", "file_change", "declined", "t1"],
    ]);
    expect(calls(a)[2]!.changed_paths).toEqual(["/w/a.txt"]);
  });

  it("outputs that merely quote 'rejected by user' / 'aborted by user' do not change the status", async () => {
    const a = await run([
      meta(),
      item({ type: "function_call", name: "wait_agent", arguments: "{}", call_id: "q1" }),
      item({ type: "function_call_output", call_id: "q1", output: JSON.stringify({ status: { child: { completed: "the patch was rejected by user" } } }) }),
      item({ type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: "grep -r 'aborted by user' ." }), call_id: "q2" }),
      item({
        type: "function_call_output",
        call_id: "q2",
        output: "Chunk ID: 1\nWall time: 0.1 seconds\nProcess exited with code 0\nOutput:\naborted by user\n",
      }),
      item({ type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: "./fake-log.sh" }), call_id: "q3" }),
      item({
        type: "function_call_output",
        call_id: "q3",
        output: "Chunk ID: 2\nWall time: 0.1 seconds\nProcess running with session ID 7\nOutput:\nProcess exited with code 9\n",
      }),
    ]);
    expect(calls(a).map((x) => [x.call_id, x.status, x.exit_code])).toEqual([
      ["q1", "completed", null],
      ["q2", "completed", 0],
      ["q3", "completed", null],
    ]);
  });

  it("sandbox denials carry the exit code (0.39 and 0.98 texts)", async () => {
    const a = await run([
      meta(),
      item({ type: "function_call", name: "shell", arguments: JSON.stringify({ command: ["bash", "-lc", "touch /x"] }), call_id: "s1" }),
      item({
        type: "function_call_output",
        call_id: "s1",
        output: "failed in sandbox LinuxSeccomp with execution error: sandbox denied exec error, exit code: 1, stdout: , stderr: denied\n",
      }),
      item({ type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: "touch /y" }), call_id: "s2" }),
      item({
        type: "function_call_output",
        call_id: "s2",
        output: 'exec_command failed: CreateProcess { message: "Codex(Sandbox(Denied { output: ExecToolCallOutput { exit_code: 1, stdout: …',
      }),
    ]);
    expect(calls(a).map((x) => [x.exit_code, x.status])).toEqual([
      [1, "failed"],
      [1, "failed"],
    ]);
  });
});

describe("file change shapes", () => {
  const patch =
    "*** Begin Patch\n*** Update File: src/a.ts\n@@\n-a\n+b\n*** Update File: old.ts\n*** Move to: new/name.ts\n@@\n-x\n+y\n*** Add File: /abs/z.md\n+z\n*** End Patch";

  it("JSON apply_patch function (gpt-oss), heredoc in a shell call, patch_apply_end with a changes map", async () => {
    const a = await run([
      meta("/repo"),
      item({ type: "function_call", name: "apply_patch", arguments: JSON.stringify({ input: patch }), call_id: "p1" }),
      item({ type: "function_call_output", call_id: "p1", output: JSON.stringify({ output: "Success.", metadata: { exit_code: 0, duration_seconds: 0.01 } }) }),
      item({
        type: "function_call",
        name: "shell",
        arguments: JSON.stringify({
          command: ["bash", "-lc", "apply_patch <<'EOF'\n*** Begin Patch\n*** Delete File: gone.txt\n*** End Patch\nEOF"],
          workdir: "/repo/sub",
        }),
        call_id: "p2",
      }),
      item({ type: "function_call_output", call_id: "p2", output: JSON.stringify({ output: "Success.", metadata: { exit_code: 0, duration_seconds: 0 } }) }),
      event({
        type: "patch_apply_end",
        call_id: "p3",
        stdout: "",
        stderr: "conflict",
        success: false,
        changes: { "/repo/m.txt": { update: { unified_diff: "", move_path: "/repo/n.txt" } } },
      }),
    ]);
    expect(calls(a)).toMatchObject([
      {
        call_id: "p1",
        action_type: "file_change",
        tool_name: "apply_patch",
        command: null,
        argv: null,
        exit_code: 0,
        status: "completed",
        duration_ms: 10,
        changed_paths: ["/abs/z.md", "/repo/new/name.ts", "/repo/old.ts", "/repo/src/a.ts"],
      },
      { call_id: "p2", action_type: "file_change", tool_name: "shell", cwd: "/repo/sub", changed_paths: ["/repo/sub/gone.txt"], status: "completed" },
      { call_id: "p3", action_type: "file_change", tool_name: null, changed_paths: ["/repo/m.txt", "/repo/n.txt"], status: "failed", exit_code: null },
    ]);
  });

  it("0.39's [\"apply_patch\", patch] shell call plus a later patch_apply_end: one action, the map's paths win", async () => {
    const a = await run([
      meta("/w"),
      item({
        type: "function_call",
        name: "shell",
        arguments: JSON.stringify({ command: ["apply_patch", "*** Begin Patch\n*** Add File: q.txt\n+q\n*** End Patch"] }),
        call_id: "p4",
      }),
      event({ type: "patch_apply_end", call_id: "p4", stdout: "A q.txt", stderr: "", success: true, changes: { "/w/q.txt": { add: { content: "q\n" } } } }),
      item({ type: "function_call_output", call_id: "p4", output: JSON.stringify({ output: "Success.", metadata: { exit_code: 0, duration_seconds: 0 } }) }),
    ]);
    expect(calls(a)).toHaveLength(1);
    expect(calls(a)[0]).toMatchObject({ action_type: "file_change", changed_paths: ["/w/q.txt"], status: "completed", exit_code: 0 });
  });
});

describe("other tool calls", () => {
  it("MCP calls from function_call + mcp_tool_call_end, and an McpToolCall item alone", async () => {
    const a = await run([
      meta(),
      item({ type: "function_call", name: "mcp__github__create_issue", arguments: "{}", call_id: "m1" }),
      event({
        type: "mcp_tool_call_end",
        call_id: "m1",
        invocation: { server: "github", tool: "create_issue", arguments: {} },
        duration: { secs: 0, nanos: 5_000_000 },
        result: { Err: "rate limited" },
      }),
      item({ type: "function_call_output", call_id: "m1", output: "rate limited" }),
      event({
        type: "item_completed",
        turn_id: "t1",
        item: { type: "McpToolCall", id: "m2", server: "fs", tool: "read_file", status: "completed", duration_ms: 7 },
        started_at_ms: 1,
        completed_at_ms: 9,
      }),
      event({
        type: "mcp_tool_call_end",
        call_id: "m3",
        invocation: { server: "db", tool: "query" },
        duration: { secs: 1, nanos: 0 },
        result: { Ok: { content: [], isError: true } },
      }),
    ]);
    expect(calls(a).map((x) => [x.call_id, x.tool_name, x.status, x.duration_ms])).toEqual([
      ["m1", "mcp__github__create_issue", "failed", 5],
      ["m2", "mcp__fs__read_file", "completed", 7],
      ["m3", "mcp__db__query", "failed", 1000],
    ]);
  });

  it("view_image, a web search without id (0.98), an unknown hosted *_call item", async () => {
    const a = await run([
      meta(),
      item({ type: "function_call", name: "view_image", arguments: JSON.stringify({ path: "/w/x.png" }), call_id: "v1" }),
      item({ type: "function_call_output", call_id: "v1", output: [{ type: "input_image", image_url: "data:image/png;base64,AAAA" }] }),
      item({ type: "web_search_call", status: "completed", action: { type: "search", query: "vitest 4 release" } }),
      item({ type: "image_generation_call", id: "ig_1", status: "completed", result: "BASE64…" }),
    ]);
    expect(calls(a).map((x) => [x.call_id, x.action_type, x.tool_name, x.command, x.status])).toEqual([
      ["v1", "tool_call", "view_image", null, "completed"],
      [null, "tool_call", "web_search", "vitest 4 release", "completed"],
      ["ig_1", "tool_call", "image_generation", null, "completed"],
    ]);
  });

  it("a call that never got a result is aborted; a late record of an emitted call adds nothing", async () => {
    const a = await run([
      meta(),
      event({ type: "turn_started", turn_id: "t1" }),
      item({ type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: "sleep 100" }), call_id: "x1" }),
      event({ type: "turn_complete", turn_id: "t1" }),
      event({ type: "turn_started", turn_id: "t2" }),
      event({
        type: "item_completed",
        turn_id: "t1",
        item: { type: "CommandExecution", id: "x1", command: ["bash", "-lc", "sleep 100"], status: "completed", exit_code: 0 },
      }),
      item({ type: "function_call_output", call_id: "x1", output: "Process exited with code 0" }),
    ]);
    expect(a.map((x) => [x.action_type, x.turn_id, x.status])).toEqual([
      ["session_started", null, "completed"],
      ["turn_started", "t1", "completed"],
      ["command_execution", "t1", "aborted"],
      ["turn_completed", "t1", "completed"],
      ["turn_started", "t2", "completed"],
    ]);
  });

  it("the web search of 0.98's fixture (no id) becomes one tool_call", async () => {
    const a = await project(rolloutOf("0.98.0", "01a1fd78-68d1-7882-baf4-de6409e2fe17"), "s");
    expect(calls(a)).toMatchObject([
      { call_id: null, tool_name: "web_search", command: "rust 2024 edition release date", status: "completed", turn_id: "derived-1" },
    ]);
  });
});

describe("turns in files without turn ids", () => {
  it("derives turns from real user messages only", async () => {
    const a = await run([
      meta(),
      userMsg("<environment_context>\n  <cwd>/w</cwd>\n</environment_context>", "environment_context"),
      userMsg("<user_instructions>be brief</user_instructions>"),
      userMsg("first"),
      userMsg("<turn_aborted>\nThe user interrupted</turn_aborted>"),
      userMsg("second"),
      event({ type: "turn_aborted", reason: "interrupted" }),
    ]);
    expect(a.map((x) => [x.action_type, x.turn_id])).toEqual([
      ["session_started", null],
      ["turn_started", "derived-1"],
      ["turn_started", "derived-2"],
      ["turn_aborted", "derived-2"],
    ]);
  });

  it("never derives turns once the file records task_started", async () => {
    const a = await run([
      meta(),
      event({ type: "task_started", turn_id: "T" }),
      userMsg("hello there"),
      event({ type: "task_complete", turn_id: "T", error: { message: "x" } }),
    ]);
    expect(a.map((x) => [x.action_type, x.turn_id, x.status])).toEqual([
      ["session_started", null, "completed"],
      ["turn_started", "T", "completed"],
      ["turn_completed", "T", "failed"],
    ]);
  });
});

describe("bad input never breaks the export", () => {
  it("refuses a missing session id with a clear error", async () => {
    const it = projectActions((async function* () {})(), { sessionId: "" });
    await expect(it.next()).rejects.toMatchObject({ code: "INVALID_INPUT", message: "projectActions needs the session id" });
  });

  it("skips garbage, non-objects, unknown kinds and blank lines, reporting unparsable lines and unknown kinds", async () => {
    const warnings: LineWarning[] = [];
    const a = await run(
      [
        meta(),
        "not json at all",
        '{"timestamp":"2026-01-01T00:00:00Z","type":"response_item","payload":{"type":"function_call"',
        "",
        "42",
        "[]",
        "null",
        line("future_kind", { type: "function_call", call_id: "nope" }),
        JSON.stringify({ type: "response_item", payload: "not an object" }),
        item({ type: "function_call", name: "exec_command", arguments: "{not json", call_id: "g1" }),
        item({ type: "function_call_output", call_id: "g1", output: "Process exited with code 0" }),
        item({ type: "function_call_output", call_id: "orphan", output: "Process exited with code 0" }),
      ],
      { onWarning: (w) => warnings.push(w) },
    );
    expect(warnings.map((w) => [w.kind, w.lineNo])).toEqual([
      ["unparsable", 2],
      ["unparsable", 3],
      ["unknown-record", 8],
    ]);
    expect(calls(a)).toMatchObject([{ call_id: "g1", command: null, status: "completed", exit_code: 0 }]);
  });

  it("huge lines: a 16 MB message is not even parsed, a 4 MB output's status still comes from its head", async () => {
    const big = "x".repeat(16 * 1024 * 1024);
    const a = await run([
      meta(),
      item({ type: "message", role: "assistant", content: [{ type: "output_text", text: big }] }),
      item({ type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: "cat big" }), call_id: "h1" }),
      item({
        type: "function_call_output",
        call_id: "h1",
        output: `Chunk ID: 1\nWall time: 0.5000 seconds\nProcess exited with code 7\nOutput:\n${big.slice(0, 4 * 1024 * 1024)}`,
      }),
    ]);
    expect(calls(a)).toMatchObject([{ call_id: "h1", exit_code: 7, status: "failed", duration_ms: 500 }]);
  });
});

describe("bounded memory and streaming", () => {
  it("with many calls pending, emits early and still gives exactly one action per call, in order", async () => {
    const n = 3000;
    let consumed = 0;
    let consumedAtFirstCall = -1;
    async function* src() {
      for (const l of [meta(), event({ type: "task_started", turn_id: "big" })]) {
        consumed++;
        yield l;
      }
      for (let i = 0; i < n; i++) {
        consumed++;
        yield item({ type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: `echo ${i}` }), call_id: `c${i}` });
      }
      // Outputs only after all calls: the first ones were forced out by then.
      for (let i = 0; i < n; i++) {
        consumed++;
        yield item({ type: "function_call_output", call_id: `c${i}`, output: "Process exited with code 0" });
      }
    }
    const out: ActionV1[] = [];
    for await (const a of projectActions(src(), { sessionId: "s", maxPendingActions: 100 })) {
      if (a.action_type === "command_execution" && consumedAtFirstCall < 0) consumedAtFirstCall = consumed;
      out.push(a);
    }
    const cmds = out.filter((a) => a.action_type === "command_execution");
    expect(cmds.map((a) => a.call_id)).toEqual(Array.from({ length: n }, (_, i) => `c${i}`));
    expect(out.map((a) => a.seq)).toEqual(out.map((_, i) => i));
    // Streaming: the first command came out long before the input ended.
    expect(consumedAtFirstCall).toBeGreaterThan(0);
    expect(consumedAtFirstCall).toBeLessThan(200);
    // The forced-out ones had no result yet; the last 100 waited long enough to get theirs.
    expect(cmds.slice(0, n - 100).every((a) => a.status === "aborted")).toBe(true);
    expect(cmds.slice(n - 100).every((a) => a.status === "completed")).toBe(true);
  });
});

describe("redaction in the export", () => {
  const lines = () => [
    meta(),
    item({
      type: "function_call",
      name: "shell",
      arguments: JSON.stringify({
        command: [
          "bash",
          "-lc",
          "OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz123456 curl -H 'Authorization: Bearer ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij' https://u:hunter22@api.example.com",
        ],
      }),
      call_id: "r1",
    }),
    item({ type: "function_call_output", call_id: "r1", output: JSON.stringify({ output: "", metadata: { exit_code: 0, duration_seconds: 0 } }) }),
  ];

  it("redacts command and argv by default", async () => {
    const [cmd] = calls(await run(lines()));
    expect(cmd!.command).toBe("OPENAI_API_KEY=[REDACTED] curl -H 'Authorization: Bearer [REDACTED]' https://u:[REDACTED]@api.example.com");
    expect(cmd!.argv![2]).toBe(cmd!.command);
    expect(JSON.stringify(cmd)).not.toMatch(/sk-proj|ghp_|hunter22/);
  });

  it("keeps them with redact: false (--no-redact)", async () => {
    const [cmd] = calls(await run(lines(), { redact: false }));
    expect(cmd!.command).toContain("sk-proj-abcdefghijklmnopqrstuvwxyz123456");
    expect(cmd!.command).toContain("hunter22");
  });
});
