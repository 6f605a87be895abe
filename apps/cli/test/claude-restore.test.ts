import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claudeProjectSlug } from "@sessionvault/core";
import { runCli } from "./support/run-cli.js";

/**
 * A Claude Code session restored on a "new machine": the real Claude Code
 * CLI (the pinned devDependency, 2.1.332) against the scripted Messages API
 * mock of the claude harness writes a session in one config dir; `sync`
 * puts it into an empty one; `claude --resume <id>` there finds it and
 * appends to that same file.
 */
const CLI_DIR = fileURLToPath(new URL("../", import.meta.url));
const CLAUDE_BIN = join(CLI_DIR, "node_modules/.bin/claude");
const MOCK = fileURLToPath(new URL("./support/claude-mock-messages.mjs", import.meta.url));

let root: string;
let port = 0;
let mock: ReturnType<typeof spawn>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sv-claude-restore-"));
  const portFile = join(root, "mock.port");
  mock = spawn(process.execPath, [MOCK, "--port", "0", "--port-file", portFile, "--log", join(root, "mock.log")], { stdio: "ignore" });
  for (let i = 0; i < 200 && !port; i++) {
    port = Number(await readFile(portFile, "utf8").catch(() => "")) || 0;
    if (!port) await new Promise((r) => setTimeout(r, 50));
  }
  if (!port) throw new Error("the Messages API mock did not start");
});
afterAll(async () => {
  mock.kill();
  await rm(root, { recursive: true, force: true });
});

/** Runs `claude -p …` as the harness does: minimal environment, the scenario chosen by the base URL path. */
function claude(configDir: string, cwd: string, scenario: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: join(root, "home"),
    CLAUDE_CONFIG_DIR: configDir,
    LANG: "C.UTF-8",
    TERM: "dumb",
    TMPDIR: join(root, "tmp"),
    CLAUDE_CODE_TMPDIR: join(root, "tmp"),
    ANTHROPIC_API_KEY: "mock-key-not-secret",
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}/s/${scenario}`,
    HTTPS_PROXY: `http://127.0.0.1:${port}`,
    HTTP_PROXY: `http://127.0.0.1:${port}`,
    NO_PROXY: "127.0.0.1,localhost",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CLAUDE_CODE_DISABLE_TERMINAL_TITLE: "1",
    // --dangerously-skip-permissions as root: the CLI's own switch for containers.
    IS_SANDBOX: "1",
  };
  return new Promise((resolve, reject) => {
    const child = spawn(CLAUDE_BIN, ["-p", ...args, "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions"], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
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
    for (const d of ["home", "tmp", "work/project"]) await mkdir(join(root, d), { recursive: true });
    const work = join(root, "work", "project");
    const oldConfig = join(root, "old-machine", ".claude");
    const first = await claude(oldConfig, work, "qa", ["What is the capital of France?"]);
    expect(first.code, first.stderr).toBe(0);
    const id = sessionIdOf(first.stdout);
    const rel = join("projects", claudeProjectSlug(work), `${id}.jsonl`);
    const original = await readFile(join(oldConfig, rel));

    // The new machine's config dir does not exist yet: its name says it is Claude Code's.
    const newConfig = join(root, "new-machine", ".claude");
    const sync = await runCli(["sync", "--from", oldConfig, "--to", newConfig, "--json"]);
    expect(sync.code, sync.stderr).toBe(0);
    expect(JSON.parse(sync.out)).toMatchObject({ sessions_sent: 1, errors: [] });
    expect(await readFile(join(newConfig, rel))).toEqual(original);
    const cat = await runCli(["cat", id, "--store", newConfig]);
    expect(Buffer.from(cat.stdout)).toEqual(original);

    const resumed = await claude(newConfig, work, "turn3", ["--resume", id, "go on"]);
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
