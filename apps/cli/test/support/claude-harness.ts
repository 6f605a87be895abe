import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_BIN, CLI_DIR, startScriptedMock, type Finished, type MockServer } from "./codex-harness.js";

/**
 * Runs the real Claude Code CLI (the devDependency @anthropic-ai/claude-code)
 * offline against the scripted mock of the Messages API, the way the claude
 * harness does: a scratch HOME and CLAUDE_CONFIG_DIR, a minimal environment,
 * IS_SANDBOX=1 so that `--dangerously-skip-permissions` runs as root, every
 * other destination refused (HTTPS_PROXY points at the mock) and the
 * scenario chosen by the `/s/<scenario>` path of ANTHROPIC_BASE_URL.
 */
export const CLAUDE_BIN = join(CLI_DIR, "node_modules/.bin/claude");
const MOCK = fileURLToPath(new URL("./claude-mock-anthropic.mjs", import.meta.url));

/** Shaped like a real Anthropic key so shape-based redaction would catch it too; tests look for it in every file. */
export const CLAUDE_KEY = "sk-ant-api03-sessionvaultTEST0123456789abcdefGHIJKLmnopqrstuvwxyz-AbCdEfAA";

export type ClaudeMock = MockServer;

export function startClaudeMock(dir: string): Promise<ClaudeMock> {
  return startScriptedMock(MOCK, dir, "mock Messages API");
}

export interface ClaudeScratch {
  root: string;
  home: string;
  configDir: string;
  work: string;
  tmp: string;
}

export async function makeClaudeScratch(): Promise<ClaudeScratch> {
  const root = await mkdtemp(join(tmpdir(), "sv-claude-"));
  const s = { root, home: join(root, "home"), configDir: join(root, "home", ".claude"), work: join(root, "work"), tmp: join(root, "tmp") };
  for (const d of [s.home, s.configDir, s.work, s.tmp]) await mkdir(d, { recursive: true });
  return s;
}

export function claudeEnv(s: ClaudeScratch, mock: ClaudeMock, scenario: string): Record<string, string> {
  return {
    // `claude` on PATH is the pinned CLI, as for a user who installed it.
    PATH: `${dirname(CLAUDE_BIN)}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: s.home,
    CLAUDE_CONFIG_DIR: s.configDir,
    IS_SANDBOX: "1",
    ANTHROPIC_BASE_URL: mock.baseUrl(scenario),
    ANTHROPIC_API_KEY: CLAUDE_KEY,
    HTTPS_PROXY: `http://127.0.0.1:${mock.port}`,
    HTTP_PROXY: `http://127.0.0.1:${mock.port}`,
    NO_PROXY: "127.0.0.1,localhost",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    TMPDIR: s.tmp,
    CLAUDE_CODE_TMPDIR: s.tmp,
    LANG: "C.UTF-8",
    TERM: "dumb",
  };
}

/** `-p PROMPT` and the flags every harness run uses (stream-json output names the session the CLI used). */
export function claudeArgs(prompt: string, extra: string[] = []): string[] {
  return ["-p", prompt, "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions", ...extra];
}

const live = new Set<ChildProcess>();

/** SIGTERM to what a failed test left running: sessionvault forwards it to the agent. */
export function killClaudeLeftovers(): void {
  for (const child of live) child.kill("SIGTERM");
  live.clear();
}

/** `node dist/bin.js ARGS…` (in the scratch work directory unless told) with the Claude environment for a scenario. */
export function spawnSessionvault(
  args: string[],
  s: ClaudeScratch,
  env: Record<string, string>,
  cwd = s.work,
): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  child.once("exit", () => live.delete(child));
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Finished>((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** The session ids the CLI reported on stdout (stream-json `system/init` and `result` lines). */
export function reportedSessionIds(stdout: string): Set<string> {
  return new Set([...stdout.matchAll(/"session_id":"([0-9a-f-]{36})"/g)].map((m) => m[1]!));
}

/** The session transcripts (`projects/<slug>/<id>.jsonl`) under a config dir, as absolute paths. */
export async function transcripts(configDir: string): Promise<string[]> {
  const out: string[] = [];
  const projects = join(configDir, "projects");
  for (const p of await readdir(projects).catch(() => [] as string[])) {
    for (const n of await readdir(join(projects, p)).catch(() => [] as string[])) if (/^[0-9a-f-]{36}\.jsonl$/.test(n)) out.push(join(projects, p, n));
  }
  return out.sort();
}

export async function removeClaudeScratch(s: ClaudeScratch): Promise<void> {
  await rm(s.root, { recursive: true, force: true });
}
