import { spawn, type ChildProcess } from "node:child_process";
import { chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Runs the real Codex CLI (the devDependency @openai/codex) offline against
 * the scripted mock of the Responses API, the way the codex harness does:
 * a scratch CODEX_HOME with the harness config, a minimal environment and
 * the scenario chosen through the `/s/<scenario>/v1` base_url.
 */
export const CLI_DIR = fileURLToPath(new URL("../../", import.meta.url));
export const CODEX_BIN = join(CLI_DIR, "node_modules/.bin/codex");
export const CLI_BIN = join(CLI_DIR, "dist/bin.js");
const MOCK = fileURLToPath(new URL("./codex-mock-responses.mjs", import.meta.url));

/** Shaped like a real key so shape-based redaction would catch it too; tests look for it in every file written. */
export const FAKE_KEY = "sk-test-sessionvault0123456789abcdefABCDEF";

export interface MockServer {
  port: number;
  logPath: string;
  baseUrl(scenario: string): string;
  requests(): Promise<{ kind: string; scenario: string; headers: Record<string, string> }[]>;
  stop(): Promise<void>;
}

export function startMock(dir: string): Promise<MockServer> {
  return startScriptedMock(MOCK, dir, "mock Responses API", "/v1");
}

/**
 * Starts one of the harnesses' scripted model mocks (`script`) on a free port;
 * the scenario is chosen by the `/s/<scenario>` path of its base URL, and
 * every request it answered is logged to `<dir>/mock.log`. `env` adds to the
 * mock's environment (e.g. a latency it should simulate).
 */
export async function startScriptedMock(script: string, dir: string, what: string, pathSuffix = "", env: Record<string, string> = {}): Promise<MockServer> {
  const portFile = join(dir, "mock.port");
  const logPath = join(dir, "mock.log");
  const child = spawn(process.execPath, [script, "--port", "0", "--port-file", portFile, "--log", logPath], {
    stdio: "ignore",
    env: { ...process.env, ...env },
  });
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code));
  // Waits for the port the mock writes once it listens, however slow a busy machine makes that;
  // a mock that exits first fails at once (the test's own timeout bounds the rest).
  let port = 0;
  while (!port) {
    if (exited !== undefined) throw new Error(`${what} exited (code ${exited}) before it listened`);
    port = Number(await readFile(portFile, "utf8").catch(() => "")) || 0;
    if (!port) await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    logPath,
    baseUrl: (scenario) => `http://127.0.0.1:${port}/s/${scenario}${pathSuffix}`,
    requests: async () =>
      (await readFile(logPath, "utf8").catch(() => ""))
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    stop: async () => {
      if (exited !== undefined) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill();
      await gone;
    },
  };
}

export interface Scratch {
  root: string;
  codexHome: string;
  home: string;
  work: string;
}

/** A fresh CODEX_HOME (harness config.toml), HOME and working directory. */
export async function makeScratch(mock: MockServer, owner?: { uid: number; gid: number }, providerToml = ""): Promise<Scratch> {
  const root = await mkdtemp(join(tmpdir(), "sv-run-"));
  const s = { root, codexHome: join(root, "codex-home"), home: join(root, "home"), work: join(root, "work") };
  for (const d of [s.codexHome, s.home, s.work]) await mkdir(d, { recursive: true });
  await writeFile(
    join(s.codexHome, "config.toml"),
    `model = "gpt-5.5"
model_provider = "mock"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[analytics]
enabled = false

[feedback]
enabled = false

[model_providers.mock]
name = "Local mock Responses API"
base_url = "http://127.0.0.1:${mock.port}/v1"
wire_api = "responses"
env_key = "MOCK_API_KEY"
request_max_retries = 0
stream_max_retries = 0
${providerToml}`,
  );
  if (owner) for (const p of [root, s.codexHome, s.home, s.work, join(s.codexHome, "config.toml")]) await chown(p, owner.uid, owner.gid);
  return s;
}

export function codexEnv(s: Scratch): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: s.home,
    USER: "tester",
    SHELL: "/bin/bash",
    LANG: "C.UTF-8",
    TERM: "dumb",
    CODEX_HOME: s.codexHome,
    MOCK_API_KEY: FAKE_KEY,
  };
}

/** `codex exec --json --skip-git-repo-check -c <scenario base_url> ...args`. */
export function codexExecArgs(mock: MockServer, scenario: string, args: string[]): string[] {
  return [CODEX_BIN, "exec", "--json", "--skip-git-repo-check", "-c", `model_providers.mock.base_url="${mock.baseUrl(scenario)}"`, ...args];
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const live = new Set<ChildProcess>();

/** Kills what a failed test left running (a timed-out wait must not leave Codex writing into a removed scratch dir). */
export function killLeftovers(): void {
  // SIGTERM: sessionvault forwards it to the agent, the npm launcher to the native binary.
  for (const child of live) child.kill("SIGTERM");
  live.clear();
}

export interface SpawnOptions {
  uid?: number;
  gid?: number;
  /** Added to (or, with undefined, removed from) the minimal Codex environment. */
  env?: Record<string, string | undefined>;
}

export function spawnProcess(argv: string[], s: Scratch, options: SpawnOptions = {}): { child: ChildProcess; done: Promise<Finished> } {
  const { env: extra, ...ids } = options;
  const env: Record<string, string | undefined> = { ...codexEnv(s), ...extra };
  const child = spawn(argv[0]!, argv.slice(1), { cwd: s.work, env: env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"], ...ids });
  live.add(child);
  child.once("exit", () => live.delete(child));
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Finished>((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** `node dist/bin.js run <runArgs> -- <agent>`. */
export function spawnCli(runArgs: string[], agent: string[], s: Scratch, options: SpawnOptions = {}) {
  return spawnProcess([process.execPath, CLI_BIN, "run", ...runArgs, "--", ...agent], s, options);
}

export function threadIdOf(stdout: string): string {
  const m = /"type":"thread.started","thread_id":"([0-9a-f-]{36})"/.exec(stdout);
  if (!m) throw new Error(`no thread.started in codex output:\n${stdout}`);
  return m[1]!;
}

/** Every regular file under `dir`, recursively (relative paths). */
export async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true }).catch(() => [])) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

export async function removeScratch(s: Scratch): Promise<void> {
  await rm(s.root, { recursive: true, force: true });
}

export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}
