import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  ClaudeCodeHome,
  claudeProjectSlug,
  captureAgentOf,
  metaEventsFromClaudeLine,
  parseClaudeInvocation,
  RolloutFollower,
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
