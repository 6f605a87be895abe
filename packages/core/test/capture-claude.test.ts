import { appendFile, copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ClaudeCodeHome,
  claudeProjectSlug,
  captureAgentOf,
  metaEventsFromClaudeLine,
  parseClaudeInvocation,
  RolloutFollower,
  SessionCapture,
  sessionIdFromHeaders,
  withClaudeSessionId,
} from "@sessionvault/core";

const fixtures = fileURLToPath(new URL("../../../fixtures/claude-code/", import.meta.url));
const ID = "0b1c2d3e-4f50-4617-8899-aabbccddeeff";

async function eventsOf(version: string, label: string) {
  const runs = await readFile(join(fixtures, version, "runs.tsv"), "utf8");
  const id = runs
    .split("\n")
    .find((l) => l.startsWith(`${label}\t`))!
    .split("\t")[3]!;
  const files = await new ClaudeCodeHome(join(fixtures, version)).sessionFiles(id);
  return (await new RolloutFollower(files.transcript).poll()).flatMap(metaEventsFromClaudeLine);
}

describe("meta events from real Claude Code transcripts", () => {
  it("2.1.332: the SIGINT run yields one interrupted event and nothing else; a plain answer none", async () => {
    const events = await eventsOf("2.1.332", "18-interrupt");
    expect(events).toEqual([expect.objectContaining({ type: "interrupted", reason: "Request interrupted by user for tool use" })]);
    expect(await eventsOf("2.1.332", "01-qa")).toEqual([]);
    // Failing commands are the model's business, not refusals.
    expect(await eventsOf("2.1.332", "04-fail")).toEqual([]);
  });

  for (const version of ["1.0.128", "2.0.77", "2.1.112", "2.1.332"]) {
    it(`${version}: an API error run yields error events`, async () => {
      const events = await eventsOf(version, "15-apierror");
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) expect(e.type).toBe("error");
      expect(events.at(-1)).toMatchObject({ kind: "api_error_message" });
      expect(String(events.at(-1)!.message)).toContain("529");
    });
  }
});

describe("Claude Code command lines", () => {
  it("tells resumed, continued, forked and chosen sessions apart", () => {
    expect(parseClaudeInvocation(["claude", "-p", "hi"])).toEqual({ resumeId: null, sessionId: null, continuesUnnamed: false, fork: false });
    expect(parseClaudeInvocation(["claude", "--resume", ID.toUpperCase(), "-p", "go on"])).toMatchObject({ resumeId: ID });
    expect(parseClaudeInvocation(["claude", `--resume=${ID}`, "--fork-session"])).toMatchObject({ resumeId: ID, fork: true });
    expect(parseClaudeInvocation(["claude", "-r", "log work"])).toMatchObject({ resumeId: null, continuesUnnamed: true });
    expect(parseClaudeInvocation(["claude", "-c", "-p", "x"])).toMatchObject({ continuesUnnamed: true });
    expect(parseClaudeInvocation(["claude", "--session-id", ID])).toMatchObject({ sessionId: ID });
    // After "--" everything is the prompt.
    expect(parseClaudeInvocation(["claude", "-p", "--", "--resume", ID])).toMatchObject({ resumeId: null });
  });

  it("gives a fresh run its session id up front and leaves the others alone", () => {
    expect(withClaudeSessionId(["claude", "-p", "hi"], () => ID)).toEqual({ argv: ["claude", "--session-id", ID, "-p", "hi"], sessionId: ID });
    expect(withClaudeSessionId(["claude", "--resume", ID, "-p", "x"], () => "new")).toEqual({ argv: ["claude", "--resume", ID, "-p", "x"], sessionId: ID });
    expect(withClaudeSessionId(["claude", "-c"], () => "new")).toEqual({ argv: ["claude", "-c"], sessionId: null });
    expect(withClaudeSessionId(["claude", "--resume", ID, "--fork-session"], () => "new").sessionId).toBeNull();
  });

  it("detects the agent; Gemini CLI is refused with the reason", () => {
    expect(captureAgentOf(["/usr/local/bin/claude", "-p"])).toBe("claude-code");
    expect(captureAgentOf(["codex", "exec"])).toBe("codex");
    expect(captureAgentOf(["node", "agent.mjs"])).toBeNull();
    expect(() => captureAgentOf(["gemini"])).toThrow(/Gemini CLI \(gemini\) is not supported by capture and resume/);
  });

  it("files a request under x-claude-code-session-id; a sub-agent's (same header, its own agent id) under its parent", () => {
    expect(sessionIdFromHeaders({ "x-claude-code-session-id": ID })).toBe(ID);
    expect(sessionIdFromHeaders({ "x-claude-code-session-id": ID, "x-claude-code-agent-id": "a1b2c3d4e5f6a7b8c" })).toBe(ID);
    expect(sessionIdFromHeaders({ "x-claude-code-session-id": "not-an-id" })).toBeNull();
  });

  it("names a project folder as the CLI does (2.1.332 filed /tmp/ccx/w_x y under -tmp-ccx-w-x-y)", () => {
    expect(claudeProjectSlug("/tmp/ccx/w_x y")).toBe("-tmp-ccx-w-x-y");
    expect(claudeProjectSlug("/tmp/claude-harness-run.VJYBDK/work/bash")).toBe("-tmp-claude-harness-run-VJYBDK-work-bash");
  });
});

describe("SessionCapture for Claude Code", () => {
  const TRANSCRIPT = join(fixtures, "2.1.332/projects/-tmp-claude-harness-run-VJYBDK-work-interrupt/080cee98-b8f6-4262-ac22-e222a6936879.jsonl");
  const API_ERROR_LINE = JSON.stringify({
    type: "assistant",
    isApiErrorMessage: true,
    timestamp: "2026-12-02T05:00:00.000Z",
    message: { role: "assistant", content: [{ type: "text", text: "API Error: 529 overloaded" }] },
  });
  let root: string;
  let configDir: string;
  let cwd: string;
  let project: string;
  beforeEach(async () => {
    root = await realpath(await mkdtemp(join(tmpdir(), "sv-claude-capture-")));
    configDir = join(root, "config");
    cwd = join(root, "work_dir");
    await mkdir(cwd, { recursive: true });
    project = join(configDir, "projects", claudeProjectSlug(cwd));
    await mkdir(project, { recursive: true });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });
  const lines = async (path: string) =>
    (await readFile(path, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it("without a session header (Claude Code ≤ 2.0.x) finds the session by the transcript the run creates, files held lines beside it and follows it", async () => {
    const warnings: string[] = [];
    const capture = new SessionCapture({ claude: { configDir, cwd }, onWarning: (m) => warnings.push(m), pollMs: 20 });
    await capture.start();
    capture.meta({ type: "started" });
    capture.onRecord({ ts: "t", exchange: "e0", method: "POST", url: "u", type: "error", status: null, message: "before the id" }, null);
    await copyFile(TRANSCRIPT, join(project, `${ID}.jsonl`));
    await capture.poll();
    capture.meta({ type: "exited", code: 0, signal: null });
    await capture.finish();

    expect(warnings).toEqual([]);
    expect(capture.sessionId).toBe(ID);
    const dir = join(project, ID, "sessionvault");
    expect((await readdir(dir)).sort()).toEqual(["session_meta.log", "session_oai_raw.log"]);
    expect((await lines(join(dir, "session_oai_raw.log"))).map((r) => r.message)).toEqual(["before the id"]);
    expect((await lines(join(dir, "session_meta.log"))).map((m) => m.type)).toEqual(["started", "interrupted", "exited"]);
  });

  it("a resumed session is followed from where its transcript ended: earlier lines are not filed again", async () => {
    await copyFile(TRANSCRIPT, join(project, `${ID}.jsonl`));
    const capture = new SessionCapture({ claude: { configDir, cwd }, onWarning: () => {}, pollMs: 20 });
    await capture.start({ resumeId: ID });
    capture.meta({ type: "resumed" });
    await appendFile(join(project, `${ID}.jsonl`), API_ERROR_LINE + "\n");
    await capture.poll();
    await capture.finish();
    const meta = await lines(join(project, ID, "sessionvault", "session_meta.log"));
    expect(meta.map((m) => [m.type, m.kind])).toEqual([
      ["resumed", undefined],
      ["error", "api_error_message"],
    ]);
  });
});
