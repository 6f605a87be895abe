import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { SessionStateFile } from "@sessionvault/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  CLAUDE_BIN,
  CLAUDE_KEY,
  claudeArgs,
  claudeEnv,
  killClaudeLeftovers,
  makeClaudeScratch,
  removeClaudeScratch,
  reportedSessionIds,
  spawnSessionvault,
  startClaudeMock,
  transcripts,
  type ClaudeMock,
  type ClaudeScratch,
} from "./support/claude-harness.js";
import { listFiles, waitFor } from "./support/codex-harness.js";
import { assertCliBuilt, descendants, killAll, runsProgram } from "./support/process-tree.js";
import { runCli } from "./support/run-cli.js";

/**
 * Capture and resume of Claude Code sessions (issue 14, item 4) with the
 * real Claude Code CLI (2.1.332, a devDependency) against the scripted mock
 * of the Messages API: nothing of sessionvault is replaced.
 */

let mockDir: string;
let mock: ClaudeMock;
const scratches: ClaudeScratch[] = [];

beforeAll(async () => {
  assertCliBuilt(["commands/run.ts", "commands/resume.ts", "slot-recording.ts", "proc-files.ts", "program.ts"]);
  mockDir = mkdtempSync(join(tmpdir(), "sv-claude-mock-"));
  mock = await startClaudeMock(mockDir);
});
afterEach(() => killClaudeLeftovers());
afterAll(async () => {
  await mock?.stop();
  for (const s of scratches) await removeClaudeScratch(s);
  if (mockDir) rmSync(mockDir, { recursive: true, force: true });
});

/** The environment of an in-process CLI run: where the Claude Code config dir is. */
const env0 = (s: ClaudeScratch) => ({ HOME: s.home, CLAUDE_CONFIG_DIR: s.configDir });

async function scratch(): Promise<ClaudeScratch> {
  const s = await makeClaudeScratch();
  scratches.push(s);
  return s;
}

const jsonLines = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Every file under `dir` that contains `needle` (as bytes). */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const f of await listFiles(dir)) if ((await readFile(join(dir, f))).includes(needle)) hits.push(f);
  return hits;
}

describe("run --persist-session -- claude", () => {
  it("records the raw Messages API exchanges beside the transcript, redacted, and the session reads them back as streams", async () => {
    const s = await scratch();
    const env = claudeEnv(s, mock, "bash");
    const r = await spawnSessionvault(["run", "--persist-session", "--", CLAUDE_BIN, ...claudeArgs("List the files and make hello.txt")], s, env).done;
    expect(r.code, r.stderr).toBe(0);

    const [transcript, ...others] = await transcripts(s.configDir);
    expect(others).toEqual([]);
    const id = basename(transcript!, ".jsonl");
    // The CLI's own session, as it reported it.
    expect(reportedSessionIds(r.stdout)).toEqual(new Set([id]));
    const dir = join(dirname(transcript!), id, "sessionvault");
    expect((await listFiles(dir)).sort()).toEqual(["session.log", "session_meta.log", "session_oai_raw.log"]);

    const raw = jsonLines(join(dir, "session_oai_raw.log"));
    const requests = raw.filter((x) => x.type === "request");
    // The bash scenario: the prompt, then one answer per tool result (ls, echo+cat).
    expect(requests.length).toBe(3);
    for (const q of requests) {
      expect(q.url).toBe(`${mock.baseUrl("bash")}/v1/messages?beta=true`);
      const h = q.headers as Record<string, string>;
      expect(h["x-api-key"]).toBe("[REDACTED]");
      expect(h["x-claude-code-session-id"]).toBe(id);
      expect((q.body as { stream?: boolean }).stream).toBe(true);
    }
    // Every exchange's server-sent events, one line each, in the order the mock sent them.
    const byExchange = new Map<string, Record<string, unknown>[]>();
    for (const x of raw) byExchange.set(x.exchange as string, [...(byExchange.get(x.exchange as string) ?? []), x]);
    expect(byExchange.size).toBe(3);
    for (const records of byExchange.values()) {
      expect(records[1]).toMatchObject({ type: "response", status: 200 });
      const events = records.filter((x) => x.type === "event").map((x) => x.event);
      expect(events[0]).toBe("message_start");
      expect(events.at(-1)).toBe("message_stop");
      expect(events).toContain("content_block_delta");
      expect(records.at(-1)!.type).toBe("response_end");
    }
    // What the model streamed is what Claude Code wrote into its transcript.
    const toolInput = raw
      .filter((x) => x.event === "content_block_delta")
      .map((x) => (x.data as { delta: { partial_json?: string } }).delta.partial_json ?? "")
      .join("");
    expect(toolInput).toContain('{"command":"echo hello > hello.txt && cat hello.txt"');
    expect(readFileSync(transcript!, "utf8")).toContain("echo hello > hello.txt");

    const meta = jsonLines(join(dir, "session_meta.log"));
    expect(meta[0]).toMatchObject({ type: "started", agent: "claude-code", cwd: s.work });
    expect(meta.at(-1)).toMatchObject({ type: "exited", code: 0, signal: null });
    const log = readFileSync(join(dir, "session.log"), "utf8");
    expect(log).toContain("(provider anthropic, via ANTHROPIC_BASE_URL)");

    // No file anywhere in the config dir, the session directory or the work dir holds the key.
    expect(await filesContaining(s.root, CLAUDE_KEY)).toEqual([]);
    expect(await filesContaining(s.root, CLAUDE_KEY.slice(-20))).toEqual([]);

    // The Claude Code home read as a store carries the captured streams: show lists them, cat is byte-identical.
    const shown = await runCli(["show", id, "--store", s.configDir, "--json"]);
    expect(shown.stderr).toBe("");
    const streams = (JSON.parse(shown.out) as { streams: { name: string; bytes: number }[] }).streams;
    expect(streams.map((x) => x.name).sort()).toEqual(["debug-log", "meta-events", "raw-api", "rollout"]);
    for (const [stream, file] of [
      ["raw-api", "session_oai_raw.log"],
      ["meta-events", "session_meta.log"],
      ["debug-log", "session.log"],
    ] as const) {
      const cat = await runCli(["cat", id, "--stream", stream, "--store", s.configDir]);
      expect(cat.code).toBe(0);
      expect(cat.stdout.equals(readFileSync(join(dir, file))), stream).toBe(true);
      expect(streams.find((x) => x.name === stream)!.bytes).toBe(readFileSync(join(dir, file)).length);
    }
    // sync copies them with the transcript, byte for byte.
    const archive = join(s.root, "archive");
    const synced = await runCli(["sync", "--from", s.configDir, "--to", archive]);
    expect(synced.code, synced.stderr).toBe(0);
    for (const [stream, path] of [
      ["raw-api", join(dir, "session_oai_raw.log")],
      ["meta-events", join(dir, "session_meta.log")],
      ["rollout", transcript!],
    ] as const) {
      const cat = await runCli(["cat", id, "--stream", stream, "--store", archive]);
      expect(cat.stdout.equals(readFileSync(path)), `synced ${stream}`).toBe(true);
    }
  }, 120_000);

  it("a base URL in Claude Code's settings.json (which outranks the environment) is still routed through the proxy, with --settings", async () => {
    const s = await scratch();
    await writeFile(join(s.configDir, "settings.json"), JSON.stringify({ env: { ANTHROPIC_BASE_URL: mock.baseUrl("bash") } }));
    // The environment names another scenario: the settings file must win, as it does for Claude Code itself.
    const env = claudeEnv(s, mock, "qa");
    const r = await spawnSessionvault(["run", "--persist-session", "--", CLAUDE_BIN, ...claudeArgs("List the files and make hello.txt")], s, env).done;
    expect(r.code, r.stderr).toBe(0);
    const [transcript] = await transcripts(s.configDir);
    const id = basename(transcript!, ".jsonl");
    const dir = join(dirname(transcript!), id, "sessionvault");
    const urls = jsonLines(join(dir, "session_oai_raw.log"))
      .filter((x) => x.type === "request")
      .map((x) => x.url);
    expect(urls).toEqual(Array(3).fill(`${mock.baseUrl("bash")}/v1/messages?beta=true`));
    expect(readFileSync(join(dir, "session.log"), "utf8")).toContain(`via ANTHROPIC_BASE_URL + --settings over ${join(s.configDir, "settings.json")})`);

    // With a --settings of the user's own, the proxy cannot be put in: said once, the agent runs as asked, nothing is recorded of its requests.
    const own = await spawnSessionvault(
      ["run", "--persist-session", "--", CLAUDE_BIN, "--settings", "{}", ...claudeArgs("List the files and make hello.txt")],
      s,
      env,
    ).done;
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).toBe(
      `sessionvault: warning: ANTHROPIC_BASE_URL is set in ${join(s.configDir, "settings.json")} and the command has its own --settings, which would replace the proxy's; raw API exchanges are not recorded\n`,
    );
    const second = (await transcripts(s.configDir)).find((t) => t !== transcript)!;
    const secondDir = join(dirname(second), basename(second, ".jsonl"), "sessionvault");
    expect((await listFiles(secondDir)).sort()).toEqual(["session.log", "session_meta.log"]);
  }, 120_000);

  it("--store writes the captured streams into that store instead of beside the transcript", async () => {
    const s = await scratch();
    const archive = join(s.root, "archive");
    const r = await spawnSessionvault(
      ["run", "--persist-session", "--store", archive, "--", CLAUDE_BIN, ...claudeArgs("List the files and make hello.txt")],
      s,
      claudeEnv(s, mock, "bash"),
    ).done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/sessionvault: /);
    const [transcript] = await transcripts(s.configDir);
    const id = basename(transcript!, ".jsonl");
    expect((await listFiles(dirname(transcript!))).filter((f) => f.includes("sessionvault"))).toEqual([]);
    const read = async (stream: string) => (await runCli(["cat", id, "--stream", stream, "--store", archive])).out.trim().split("\n");
    // The store knows whose session it is before the transcript arrives (a sync then adds it under the same agent).
    expect(JSON.parse((await runCli(["show", id, "--store", archive, "--json"])).out).agent).toBe("claude-code");
    expect((await read("meta-events")).map((x) => JSON.parse(x).type)).toEqual(["started", "exited"]);
    const raw = (await read("raw-api")).map((l) => JSON.parse(l) as { type: string; headers?: Record<string, string> });
    expect(raw.filter((x) => x.type === "request").map((x) => x.headers!["x-api-key"])).toEqual(["[REDACTED]", "[REDACTED]", "[REDACTED]"]);
    expect(await filesContaining(s.root, CLAUDE_KEY)).toEqual([]);
  }, 120_000);

  it("files a sub-agent's exchanges with its parent's, where its transcript is, and records it as a subagent event", async () => {
    const s = await scratch();
    const r = await spawnSessionvault(
      ["run", "--persist-session", "--", CLAUDE_BIN, ...claudeArgs("Delegate to a sub-agent")],
      s,
      claudeEnv(s, mock, "subagent"),
    ).done;
    expect(r.code, r.stderr).toBe(0);
    const [transcript, ...others] = await transcripts(s.configDir);
    expect(others).toEqual([]);
    const id = basename(transcript!, ".jsonl");
    const sessionDir = join(dirname(transcript!), id);
    const [subFile] = (await listFiles(join(sessionDir, "subagents"))).filter((f) => f.endsWith(".jsonl"));
    const agentId = /^agent-(.+)\.jsonl$/.exec(subFile!)![1]!;
    // One session directory only: the parent's.
    expect((await listFiles(dirname(transcript!))).filter((f) => f.includes("/sessionvault/")).map((f) => f.split("/")[0])).toEqual([id, id, id]);
    const requests = jsonLines(join(sessionDir, "sessionvault", "session_oai_raw.log")).filter((x) => x.type === "request");
    const agents = requests.map((q) => (q.headers as Record<string, string>)["x-claude-code-agent-id"] ?? null);
    expect(agents).toContain(agentId);
    expect(agents).toContain(null);
    for (const q of requests) expect((q.headers as Record<string, string>)["x-claude-code-session-id"]).toBe(id);
    const meta = jsonLines(join(sessionDir, "sessionvault", "session_meta.log"));
    expect(meta.filter((m) => m.type === "subagent")).toEqual([expect.objectContaining({ agent_id: agentId, session_id: id })]);
  }, 120_000);

  it("records an interrupt (SIGINT forwarded to Claude Code) from the transcript, and how the agent exited", async () => {
    const s = await scratch();
    const run = spawnSessionvault(["run", "--persist-session", "--", CLAUDE_BIN, ...claudeArgs("Run the slow build")], s, claudeEnv(s, mock, "interrupt"));
    await waitFor(async () => runsProgram(run.child.pid!, "sleep"));
    run.child.kill("SIGINT");
    const r = await run.done;
    const [transcript] = await transcripts(s.configDir);
    const id = basename(transcript!, ".jsonl");
    const meta = jsonLines(join(dirname(transcript!), id, "sessionvault", "session_meta.log"));
    const types = meta.map((m) => m.type);
    expect(types[0]).toBe("started");
    // Ours (the signal sessionvault received and forwarded), then Claude Code's own record of it.
    expect(meta).toContainEqual(expect.objectContaining({ type: "interrupted", signal: "SIGINT", source: "sessionvault", forwarded: true }));
    expect(meta).toContainEqual(expect.objectContaining({ type: "interrupted", reason: "Request interrupted by user for tool use" }));
    expect(meta.at(-1)).toMatchObject({ type: "exited", code: r.code });
  }, 120_000);

  it("files a tool call Claude Code refused for want of a permission (-p without --dangerously-skip-permissions) as denied", async () => {
    const s = await scratch();
    const r = await spawnSessionvault(["run", "--persist-session", "--", CLAUDE_BIN, "-p", "List the files and make hello.txt"], s, claudeEnv(s, mock, "bash"))
      .done;
    expect(r.code, r.stderr).toBe(0);
    const [transcript] = await transcripts(s.configDir);
    const id = basename(transcript!, ".jsonl");
    const refused = jsonLines(transcript!).flatMap((l) =>
      (Array.isArray((l.message as { content?: unknown } | undefined)?.content)
        ? ((l.message as { content: Record<string, unknown>[] }).content ?? [])
        : []
      ).filter((b) => b.type === "tool_result" && b.is_error === true),
    );
    expect(refused).toHaveLength(1);
    const meta = jsonLines(join(dirname(transcript!), id, "sessionvault", "session_meta.log"));
    expect(meta.filter((m) => m.type === "denied")).toEqual([expect.objectContaining({ type: "denied", call_id: refused[0]!.tool_use_id })]);
    expect(meta.at(-1)).toMatchObject({ type: "exited", code: 0 });
  }, 120_000);

  it("refuses an agent that capture does not support, and a missing one, with a clear error", async () => {
    const s = await scratch();
    const env = claudeEnv(s, mock, "qa");
    const gemini = await spawnSessionvault(["run", "--persist-session", "--", "gemini", "-p", "hi"], s, env).done;
    expect(gemini.code).toBe(8);
    expect(gemini.stderr).toBe("sessionvault: Gemini CLI (gemini) is not supported by capture and resume: use codex or claude\n");
    const slot = await spawnSessionvault(["run", "--slot", "g", "--state-file", join(s.root, "state.json"), "--", "/opt/bin/gemini"], s, env).done;
    expect(slot.code).toBe(8);
    expect(slot.stderr).toContain("is not supported by capture and resume");
    const missing = await spawnSessionvault(["run", "--persist-session", "--", join(s.root, "no-such", "claude"), "-p", "hi"], s, env).done;
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`sessionvault: cannot run "${join(s.root, "no-such", "claude")}": command not found\n`);
    expect(await transcripts(s.configDir)).toEqual([]);
    expect(await listFiles(join(s.configDir, "projects"))).toEqual([]);
  }, 60_000);
});

describe("run --slot / resume SLOT with Claude Code", () => {
  const slotOf = async (stateFile: string, slot: string) => (await new SessionStateFile(stateFile).get(slot)) ?? null;

  it("resume p -- -p 'go on' continues the same session file (claude --resume <id>)", async () => {
    const s = await scratch();
    const state = join(s.root, "state.json");
    const first = await spawnSessionvault(
      ["run", "--persist-session", "--slot", "p", "--state-file", state, "--", CLAUDE_BIN, ...claudeArgs("Start the log")],
      s,
      claudeEnv(s, mock, "turn1"),
    ).done;
    expect(first.code, first.stderr).toBe(0);
    const [transcript] = await transcripts(s.configDir);
    const id = basename(transcript!, ".jsonl");
    expect(first.stderr).toContain(`sessionvault: slot p now holds session ${id} (the id it was started with)`);
    expect(await slotOf(state, "p")).toMatchObject({ session_id: id, agent: "claude-code", cwd: s.work, started_by: "run" });
    const listed = (await runCli(["state", "list", "--state-file", state])).out.split("\n");
    expect(listed[0]).toMatch(/^SLOT {2}SESSION {31}AGENT {8}UPDATED {19}CWD$/);
    expect(listed[1]).toMatch(new RegExp(`^p     ${id}  claude-code  \\d{4}-\\S+ +${s.work}$`));
    // A Claude Code session set by its prefix is looked for in the config dir.
    const set = await runCli(["state", "set", "q", id.slice(0, 8), "--agent", "claude-code", "--state-file", state], env0(s), s.work);
    expect(set.code, set.stderr).toBe(0);
    expect(await slotOf(state, "q")).toMatchObject({ session_id: id, agent: "claude-code" });
    const before = readFileSync(transcript!);

    // No --agent-bin: a Claude Code slot runs `claude` from PATH.
    const resumed = await spawnSessionvault(
      ["resume", "p", "--persist-session", "--state-file", state, "--", ...claudeArgs("go on")],
      s,
      claudeEnv(s, mock, "turn3"),
    ).done;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`sessionvault: resuming session ${id} from slot p`);
    expect(reportedSessionIds(resumed.stdout)).toEqual(new Set([id]));
    // The same file, appended to: earlier bytes untouched, more lines, one transcript in all.
    const after = readFileSync(transcript!);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    expect(after.toString("utf8").split("\n").length).toBeGreaterThan(before.toString("utf8").split("\n").length);
    expect(after.toString("utf8")).toContain("go on");
    expect(await transcripts(s.configDir)).toEqual([transcript]);
    expect(
      new Set(
        jsonLines(transcript!)
          .map((l) => l.sessionId)
          .filter(Boolean),
      ),
    ).toEqual(new Set([id]));
    expect((await slotOf(state, "p"))?.session_id).toBe(id);
    // Both runs captured into the one session directory.
    const dir = join(dirname(transcript!), id, "sessionvault");
    const meta = jsonLines(join(dir, "session_meta.log"));
    expect(meta.map((m) => m.type)).toEqual(["started", "exited", "resumed", "exited"]);
    expect(meta[2]).toMatchObject({ session_id: id, command: [expect.stringMatching(/claude$/), "--resume", id, ...claudeArgs("go on")] });
    const urls = jsonLines(join(dir, "session_oai_raw.log"))
      .filter((x) => x.type === "request")
      .map((x) => x.url);
    expect(urls[0]).toBe(`${mock.baseUrl("turn1")}/v1/messages?beta=true`);
    expect(urls.at(-1)).toBe(`${mock.baseUrl("turn3")}/v1/messages?beta=true`);

    // By id prefix, from another directory: no slot touched, the session resumes where it ran.
    const size = readFileSync(transcript!).length;
    const byId = await spawnSessionvault(
      ["resume", id.slice(0, 8), "--state-file", state, "--", ...claudeArgs("one more")],
      s,
      claudeEnv(s, mock, "turn3"),
      s.root,
    ).done;
    expect(byId.code, byId.stderr).toBe(0);
    expect(byId.stderr).toBe(`sessionvault: resuming session ${id}\n`);
    expect(reportedSessionIds(byId.stdout)).toEqual(new Set([id]));
    expect(readFileSync(transcript!).length).toBeGreaterThan(size);
    expect(await transcripts(s.configDir)).toEqual([transcript]);
    // Claude Code finds the session from any directory; the agent must still work in the session's own.
    const added = jsonLines(transcript!).filter((l) => typeof l.cwd === "string");
    expect(added.at(-1)!.cwd).toBe(s.work);
  }, 120_000);

  it("--continue and --fork-session name no session up front: the slot gets the transcript the run continued or created", async () => {
    const s = await scratch();
    const state = join(s.root, "state.json");
    const sv = (slot: string, scenario: string, agentArgs: string[]) =>
      spawnSessionvault(["run", "--slot", slot, "--state-file", state, "--", CLAUDE_BIN, ...agentArgs], s, claudeEnv(s, mock, scenario)).done;
    expect((await sv("a", "turn1", claudeArgs("Start the log"))).code).toBe(0);
    const [transcript] = await transcripts(s.configDir);
    const id = basename(transcript!, ".jsonl");

    const continued = await sv("b", "turn3", ["-c", ...claudeArgs("and now?")]);
    expect(continued.code, continued.stderr).toBe(0);
    expect(reportedSessionIds(continued.stdout)).toEqual(new Set([id]));
    expect(continued.stderr).toContain(`sessionvault: slot b now holds session ${id} (from the transcript this run writes)`);
    expect((await slotOf(state, "b"))?.session_id).toBe(id);

    const forked = await sv("f", "forked", ["--resume", id, "--fork-session", ...claudeArgs("try another way")]);
    expect(forked.code, forked.stderr).toBe(0);
    const [forkId] = reportedSessionIds(forked.stdout);
    expect(forkId).not.toBe(id);
    expect(await transcripts(s.configDir)).toContain(join(dirname(transcript!), `${forkId}.jsonl`));
    expect((await slotOf(state, "f"))?.session_id).toBe(forkId);
  }, 120_000);

  /** `run --slot SLOT -- claude -p "Run the slow build"`, waited on until the agent is inside its `sleep 30`. */
  async function startSlowRun(s: ClaudeScratch, state: string, slot: string) {
    const run = spawnSessionvault(
      ["run", "--slot", slot, "--state-file", state, "--", CLAUDE_BIN, ...claudeArgs("Run the slow build")],
      s,
      claudeEnv(s, mock, "interrupt"),
    );
    await waitFor(async () => runsProgram(run.child.pid!, "sleep"));
    const [transcript] = await transcripts(s.configDir);
    const id = basename(transcript!, ".jsonl");
    expect((await slotOf(state, slot))?.session_id).toBe(id);
    return { run, id, transcript: transcript! };
  }

  async function resumeAndCheck(s: ClaudeScratch, state: string, slot: string, id: string, transcript: string): Promise<void> {
    const before = readFileSync(transcript);
    const resumed = await spawnSessionvault(
      ["resume", slot, "--state-file", state, "--agent-bin", CLAUDE_BIN, "--", ...claudeArgs("Continue where you stopped.")],
      s,
      claudeEnv(s, mock, "turn3"),
    ).done;
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`sessionvault: resuming session ${id} from slot ${slot}`);
    expect(reportedSessionIds(resumed.stdout)).toEqual(new Set([id]));
    const after = readFileSync(transcript);
    expect(after.length).toBeGreaterThan(before.length);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    expect(after.toString("utf8")).toContain("Run the slow build");
    expect(await transcripts(s.configDir)).toEqual([transcript]);
  }

  it("kill -9 of the agent mid-turn, then resume the slot: same session, same transcript", async () => {
    const s = await scratch();
    const state = join(s.root, "state.json");
    const { run, id, transcript } = await startSlowRun(s, state, "pane-1");
    killAll(descendants(run.child.pid!));
    expect((await run.done).code).toBe(137);
    await resumeAndCheck(s, state, "pane-1", id, transcript);
  }, 120_000);

  it("kill -9 of the supervisor mid-turn: resume waits for the agent that outlived it, then continues the same session", async () => {
    const s = await scratch();
    const state = join(s.root, "state.json");
    const { run, id, transcript } = await startSlowRun(s, state, "pane-2");
    const agent = descendants(run.child.pid!);
    const exited = new Promise((r) => run.child.once("exit", r));
    run.child.kill("SIGKILL");
    // Not `done`: the agent that outlives its supervisor still holds the output pipes.
    await exited;
    expect(agent.every(isAlive)).toBe(true);
    const busy = await spawnSessionvault(
      ["resume", "pane-2", "--state-file", state, "--agent-bin", CLAUDE_BIN, "--wait", "1", "--", ...claudeArgs("Continue.")],
      s,
      claudeEnv(s, mock, "turn3"),
    ).done;
    expect(busy.code).toBe(5);
    const holder = Number(/session \S+ is still open in pid (\d+)/.exec(busy.stderr)?.[1]);
    expect(agent).toContain(holder);
    expect(busy.stderr).toContain(`sessionvault: session ${id} is still being written by pid`);
    killAll(agent);
    await waitFor(async () => agent.every((p) => !isAlive(p)));
    await resumeAndCheck(s, state, "pane-2", id, transcript);
  }, 120_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
