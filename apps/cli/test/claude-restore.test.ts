import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeProjectSlug } from "@sessionvault/core";
import {
  CLAUDE_BIN,
  claudeArgs,
  claudeEnv,
  makeClaudeScratch,
  removeClaudeScratch,
  startClaudeMock,
  type ClaudeMock,
  type ClaudeScratch,
} from "./support/claude-harness.js";
import { runCli } from "./support/run-cli.js";

/**
 * A Claude Code session restored on a "new machine": the real Claude Code
 * CLI (the pinned devDependency, 2.1.332) against the scripted Messages API
 * mock of the claude harness writes a session in one config dir; `sync`
 * puts it into an empty one; `claude --resume <id>` there finds it and
 * appends to that same file.
 */
let mock: ClaudeMock;
let oldMachine: ClaudeScratch;
let newMachine: ClaudeScratch;

beforeAll(async () => {
  oldMachine = await makeClaudeScratch();
  newMachine = await makeClaudeScratch();
  mock = await startClaudeMock(oldMachine.root);
});
afterAll(async () => {
  await mock.stop();
  await removeClaudeScratch(oldMachine);
  await removeClaudeScratch(newMachine);
});

/** Runs `claude -p …` on a machine, in `cwd` (both machines work in the same folder: the project is named by it). */
function claude(
  machine: ClaudeScratch,
  cwd: string,
  scenario: string,
  prompt: string,
  extra: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLAUDE_BIN, claudeArgs(prompt, extra), { cwd, env: claudeEnv(machine, mock, scenario), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function sessionIdOf(streamJson: string): string {
  let id = "";
  for (const l of streamJson.split("\n")) {
    try {
      const j = JSON.parse(l) as { session_id?: string };
      if (j.session_id) id = j.session_id;
    } catch {}
  }
  if (!id) throw new Error(`no session id in ${streamJson.slice(0, 500)}`);
  return id;
}

describe("restore into an empty Claude Code config dir (real Claude Code CLI)", () => {
  it("a synced session is continued with `claude --resume <id>` on the new machine, in the same file", async () => {
    const work = oldMachine.work;
    const oldConfig = oldMachine.configDir;
    const first = await claude(oldMachine, work, "qa", "What is the capital of France?");
    expect(first.code, first.stderr).toBe(0);
    const id = sessionIdOf(first.stdout);
    const rel = join("projects", claudeProjectSlug(work), `${id}.jsonl`);
    const original = await readFile(join(oldConfig, rel));

    // The new machine's config dir is empty: its name says it is Claude Code's.
    const newConfig = newMachine.configDir;
    const sync = await runCli(["sync", "--from", oldConfig, "--to", newConfig, "--json"]);
    expect(sync.code, sync.stderr).toBe(0);
    expect(JSON.parse(sync.out)).toMatchObject({ sessions_sent: 1, errors: [] });
    expect(await readFile(join(newConfig, rel))).toEqual(original);
    const cat = await runCli(["cat", id, "--store", newConfig]);
    expect(Buffer.from(cat.stdout)).toEqual(original);

    const resumed = await claude(newMachine, work, "turn3", "go on", ["--resume", id]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(sessionIdOf(resumed.stdout)).toBe(id);
    const after = await readFile(join(newConfig, rel));
    expect(after.length).toBeGreaterThan(original.length);
    expect(after.subarray(0, original.length)).toEqual(original);
    const added = after
      .subarray(original.length)
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(added.some((r) => r.type === "user" && JSON.stringify(r).includes("go on"))).toBe(true);
    expect(added.some((r) => r.type === "assistant" && JSON.stringify(r).includes("Nothing else is left"))).toBe(true);
    // No other transcript: the CLI found the restored one instead of starting anew.
    expect((await readdir(join(newConfig, "projects", claudeProjectSlug(work)))).filter((n) => n.endsWith(".jsonl"))).toEqual([`${id}.jsonl`]);

    // Synced back, only the new lines travel.
    const back = await runCli(["sync", "--from", newConfig, "--to", oldConfig, "--json"]);
    expect(JSON.parse(back.out)).toMatchObject({ sessions_sent: 1, lines_sent: added.length, errors: [] });
    expect(await readFile(join(oldConfig, rel))).toEqual(after);
  }, 120_000);
});
