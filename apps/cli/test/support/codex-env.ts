import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A scratch Codex home wired to the scripted mock Responses API (a copy of
 * the codex harness's mock-responses.mjs), for driving the real Codex CLI
 * offline the way the harness's generate.sh does.
 */
export const CLI_DIR = fileURLToPath(new URL("../../", import.meta.url));
export const CODEX_BIN = join(CLI_DIR, "node_modules", ".bin", "codex");
export const CLI_BIN = join(CLI_DIR, "dist", "bin.js");
const MOCK = fileURLToPath(new URL("./codex-mock-responses.mjs", import.meta.url));

export interface CodexEnv {
  root: string;
  /** CODEX_HOME */
  home: string;
  /** A working directory for the agent. */
  work: string;
  port: number;
  /** Environment for a child (Codex or the CLI): nothing inherited but PATH. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** `-c model_providers.mock.base_url=…/s/<scenario>/v1`: picks the mock's script. */
  scenarioArgs(scenario: string): string[];
  /** Rollout files under sessions/. */
  rollouts(): string[];
  stop(): Promise<void>;
}

export async function startCodexEnv(): Promise<CodexEnv> {
  const root = mkdtempSync(join(tmpdir(), "sv-codex-"));
  const home = join(root, "codex-home");
  const work = join(root, "work");
  for (const d of [home, work, join(root, "home")]) mkdirSync(d, { recursive: true });
  const portFile = join(root, "port");
  const mock: ChildProcess = spawn(process.execPath, [MOCK, "--port", "0", "--port-file", portFile, "--log", join(root, "mock.log")], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  while (!existsSync(portFile) || statSync(portFile).size === 0) {
    if (Date.now() > deadline) throw new Error("the mock Responses API did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(readFileSync(portFile, "utf8"));
  writeFileSync(
    join(home, "config.toml"),
    [
      'model = "gpt-5.5"',
      'model_provider = "mock"',
      'approval_policy = "never"',
      'sandbox_mode = "danger-full-access"',
      "check_for_update_on_startup = false",
      "[analytics]",
      "enabled = false",
      "[feedback]",
      "enabled = false",
      "[model_providers.mock]",
      'name = "Local mock Responses API"',
      `base_url = "http://127.0.0.1:${port}/v1"`,
      'wire_api = "responses"',
      'env_key = "MOCK_API_KEY"',
      "request_max_retries = 0",
      "stream_max_retries = 0",
      "",
    ].join("\n"),
  );
  return {
    root,
    home,
    work,
    port,
    env: (extra = {}) => ({
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: join(root, "home"),
      LANG: "C.UTF-8",
      TERM: "dumb",
      CODEX_HOME: home,
      MOCK_API_KEY: "mock-key-not-secret",
      ...extra,
    }),
    scenarioArgs: (scenario) => ["-c", `model_providers.mock.base_url="http://127.0.0.1:${port}/s/${scenario}/v1"`],
    rollouts: () => walk(join(home, "sessions")),
    stop: async () => {
      mock.kill("SIGTERM");
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (/^rollout-.*\.jsonl$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** Every descendant of `pid` (children first found, then theirs), from /proc. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // pid (comm) state ppid …; comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parent.set(Number(name), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** kill -9 a set of processes (each may already be gone). */
export function killAll(pids: number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export interface CliRun {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Child processes run the CLI's dist/ (turbo builds it before `test`); refuse
 * a dist/ older than the sources it is meant to test.
 */
export function assertCliBuilt(sources: string[]): void {
  for (const src of sources) {
    const built = join(CLI_DIR, "dist", src.replace(/\.ts$/, ".js"));
    if (!existsSync(built)) throw new Error(`${built} is missing: build the CLI first (pnpm turbo run build --filter=@sessionvault/cli...)`);
    if (statSync(built).mtimeMs < statSync(join(CLI_DIR, "src", src)).mtimeMs) throw new Error(`${built} is older than src/${src}: rebuild the CLI`);
  }
}

/** Runs the built CLI (dist/bin.js) as its own process, stdin from /dev/null. */
export function runCli(args: string[], options: { env: Record<string, string>; cwd: string }): CliRun {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env: options.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  // "exit", not "close": an orphaned agent may keep the CLI's stdout open.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `check` until it returns a value (not undefined/null/false). */
export async function waitUntil<T>(what: string, check: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
