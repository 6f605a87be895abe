import { readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { sessionHeadLines } from "@sessionvault/core/conformance";
import { FIXTURES, fixtureRollouts, fixtureRuns, VERSIONS } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.ts";

const ACTION_TYPES = new Set(["session_started", "turn_started", "turn_completed", "turn_aborted", "command_execution", "file_change", "tool_call"]);
const SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
let root: string;
const ID = "01a1fd77-5062-78c3-9c88-31a6914d7270";

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sv-export-"));
  const store = new FsStore({ root });
  const input = {
    id: ID,
    created_at: "2026-11-21T09:00:00.000Z",
    cwd: "/w",
    title: "deploy with the key",
    archived: false,
    source: "exec",
    originator: "codex_exec",
    cli_version: "0.98.0",
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
  };
  await store.putSession(input);
  await store.append(ID, "rollout", 0, [
    ...sessionHeadLines(input),
    JSON.stringify({
      timestamp: "2026-11-21T09:00:01.000Z",
      type: "response_item",
      payload: { type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: `OPENAI_API_KEY=${SECRET} ./deploy.sh` }), call_id: "c1" },
    }),
    JSON.stringify({
      timestamp: "2026-11-21T09:00:02.000Z",
      type: "response_item",
      payload: { type: "function_call_output", call_id: "c1", output: "Process exited with code 0\nOutput:\ndeployed\n" },
    }),
  ]);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("sessionvault export", () => {
  it("--format jsonl gives the rollout lines; byte-identical when there is nothing to redact", async () => {
    for (const version of VERSIONS) {
      const f = fixtureRollouts(version)[0]!;
      const r = await runCli(["export", f.id, "--format", "jsonl", "--store", join(FIXTURES, version)]);
      expect(r.code).toBe(0);
      expect(r.stdout.equals(readFileSync(f.path))).toBe(true);
    }
  });

  it("redacts secrets in every format unless --no-redact, keeping JSON lines valid", async () => {
    for (const format of ["jsonl", "markdown", "actions.v1"]) {
      const r = await runCli(["export", ID, "--format", format, "--store", root]);
      expect(r.code, format).toBe(0);
      expect(r.out).not.toContain(SECRET);
      expect(r.out).toContain("[REDACTED]");
      if (format !== "markdown") for (const line of r.out.trimEnd().split("\n")) JSON.parse(line);
      const raw = await runCli(["export", ID, "--format", format, "--no-redact", "--store", root]);
      expect(raw.out).toContain(SECRET);
    }
  });

  it("--format markdown renders the conversation, commands, outputs and patches, not injected context", async () => {
    for (const version of VERSIONS) {
      const id = fixtureRuns(version).get("03-patch")!;
      const r = await runCli(["export", id, "--format", "markdown", "--store", join(FIXTURES, version)]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^# Create hello\.txt, then change its text with a patch and add a notes\.md file\.\n/);
      expect(r.out).toContain(`- Session: \`${id}\``);
      expect(r.out).toContain("## User\n\nCreate hello.txt");
      expect(r.out).toContain("## Assistant");
      expect(r.out).toContain("**Command** `echo hello > hello.txt && ls`");
      expect(r.out).toMatch(/\*\*Patch\*\*\n\n```diff\n\*\*\* Begin Patch\n\*\*\* Update File: hello\.txt/);
      expect(r.out).not.toContain("<environment_context>");
      expect(r.out).not.toContain("AGENTS.md instructions");
    }
  });

  it("--format actions.v1 emits valid, contiguous actions for every real session", async () => {
    for (const version of VERSIONS) {
      for (const f of fixtureRollouts(version)) {
        const r = await runCli(["export", f.id, "--format", "actions.v1", "--store", join(FIXTURES, version)]);
        expect(r.code).toBe(0);
        const actions = r.out
          .trimEnd()
          .split("\n")
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        actions.forEach((a, i) => {
          expect(a.schema_version).toBe(1);
          expect(a.session_id).toBe(f.id);
          expect(a.seq).toBe(i);
          expect(ACTION_TYPES.has(a.action_type as string)).toBe(true);
        });
        expect(actions[0]!.action_type).toBe("session_started");
      }
      const shell = fixtureRuns(version).get("02-shell")!;
      const r = await runCli(["export", shell, "--format", "actions.v1", "--store", join(FIXTURES, version)]);
      const cmds = r.out
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as { action_type: string; command: string })
        .filter((a) => a.action_type === "command_execution");
      expect(cmds.map((c) => c.command)).toEqual(["ls -la", "echo hello > hello.txt && cat hello.txt"]);
    }
  });

  it("-o FILE writes the export with mode 0600; --json prints a summary", async () => {
    const out = join(root, "export.md");
    const r = await runCli(["export", ID.slice(0, 8), "--format", "markdown", "-o", out, "--json", "--store", root]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out) as { id: string; format: string; output: string; bytes: number };
    expect(summary).toEqual({ id: ID, format: "markdown", output: out, bytes: statSync(out).size });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(out, "utf8")).toMatch(/^# deploy with the key\n/);
  });

  it("a missing or unknown --format is a usage error, and no file is created for an unknown session", async () => {
    const none = await runCli(["export", ID, "--store", root]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^sessionvault: required option '--format <format>' not specified/);
    const bad = await runCli(["export", ID, "--format", "pdf", "--store", root]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sessionvault: option '--format <format>' argument 'pdf' is invalid/);
    const out = join(root, "never.md");
    const missing = await runCli(["export", "01a1fd77-ffff-7fff-8fff-ffffffffffff", "--format", "markdown", "-o", out, "--store", root]);
    expect(missing.code).toBe(4);
    expect(() => statSync(out)).toThrow();
  });
});
