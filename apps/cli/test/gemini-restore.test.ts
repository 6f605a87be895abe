import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startScriptedMock, type MockServer } from "./support/codex-harness.js";
import { runCli } from "./support/run-cli.js";

/**
 * A Gemini CLI session restored on a "new machine": the real Gemini CLI (the
 * pinned devDependency, 0.61.0) against the scripted mock of the gemini
 * harness writes a chat in one `~/.gemini`; `sync` puts it into an empty
 * one (under the sha256 of its cwd); `gemini --resume <id>` there finds it
 * and appends to that same file.
 */
const CLI_DIR = fileURLToPath(new URL("../", import.meta.url));
const GEMINI_BIN = join(CLI_DIR, "node_modules/.bin/gemini");
const MOCK = fileURLToPath(new URL("./support/gemini-mock-generate.mjs", import.meta.url));
const SETTINGS = {
  security: { auth: { selectedType: "gemini-api-key" } },
  general: { disableAutoUpdate: true, disableUpdateNag: true, maxAttempts: 2 },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
};

let root: string;
let port = 0;
let mock: MockServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sv-gemini-restore-"));
  // The CLI's shell parser loads while the first answer is on its way, as with a real model.
  mock = await startScriptedMock(MOCK, root, "the Gemini API mock", "", { MOCK_FIRST_LATENCY_MS: "300" });
  port = mock.port;
});
afterAll(async () => {
  await mock.stop();
  await rm(root, { recursive: true, force: true });
});

/** Runs `gemini -p …` as the harness does: minimal environment, the scenario chosen by the base URL path. */
function gemini(home: string, cwd: string, scenario: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    LANG: "C.UTF-8",
    TERM: "dumb",
    TMPDIR: join(root, "tmp"),
    GEMINI_API_KEY: "mock-key-not-secret",
    GEMINI_CLI_NO_RELAUNCH: "true",
    GOOGLE_GEMINI_BASE_URL: `http://127.0.0.1:${port}/s/${scenario}`,
    HTTPS_PROXY: `http://127.0.0.1:${port}`,
    HTTP_PROXY: `http://127.0.0.1:${port}`,
    NO_PROXY: "127.0.0.1,localhost",
  };
  return new Promise((resolve, reject) => {
    const child = spawn(GEMINI_BIN, [...args, "-o", "stream-json", "--yolo", "--skip-trust"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function newHome(name: string): Promise<string> {
  const home = join(root, name);
  await mkdir(join(home, ".gemini"), { recursive: true });
  await writeFile(join(home, ".gemini", "settings.json"), JSON.stringify(SETTINGS));
  return home;
}

describe("restore into an empty Gemini CLI dir (real Gemini CLI)", () => {
  it("a synced chat is continued with `gemini --resume <id>` on the new machine, in the same file", async () => {
    await mkdir(join(root, "tmp"), { recursive: true });
    const work = join(root, "work", "proj");
    await mkdir(work, { recursive: true });
    const oldHome = await newHome("old");
    const first = await gemini(oldHome, work, "turn1", ["-p", "Start a log file called log.txt with one line."]);
    expect(first.code, first.stderr).toBe(0);
    const id = (JSON.parse(first.stdout.split("\n")[0]!) as { session_id: string }).session_id;

    const newGemini = join(await newHome("new"), ".gemini");
    const sync = await runCli(["sync", "--from", join(oldHome, ".gemini"), "--to", newGemini, "--json"]);
    expect(sync.code, sync.stderr).toBe(0);
    expect(JSON.parse(sync.out)).toMatchObject({ sessions_sent: 1, errors: [] });
    const chats = join(newGemini, "tmp", createHash("sha256").update(work).digest("hex"), "chats");
    const [name] = await readdir(chats);
    expect(name).toMatch(new RegExp(`^session-.*-${id.slice(0, 8)}\\.jsonl$`));
    const original = await readFile(join(chats, name!));
    expect((await runCli(["cat", id, "--store", newGemini])).stdout).toEqual(original);

    const resumed = await gemini(join(root, "new"), work, "turn3", ["-p", "Anything else left to do?", "--resume", id]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = await readFile(join(chats, name!));
    expect(after.length).toBeGreaterThan(original.length);
    expect(after.subarray(0, original.length)).toEqual(original);
    expect(after.subarray(original.length).toString("utf8")).toContain("Anything else left to do?");
    // The CLI took the restored folder as the project's: no chat in any other project folder. (A resume
    // that crosses into a later minute may also start a second file of the same session there, as the
    // CLI does at home; the store reads the session's files as one stream.)
    const everyChat: string[] = [];
    for (const p of await readdir(join(newGemini, "tmp")))
      for (const n of await readdir(join(newGemini, "tmp", p, "chats")).catch(() => [])) everyChat.push(join(newGemini, "tmp", p, "chats", n));
    expect(everyChat).toContain(join(chats, name!));
    for (const f of everyChat) {
      expect(dirname(f)).toBe(chats);
      expect(basename(f)).toMatch(new RegExp(`^session-.*-${id.slice(0, 8)}\\.jsonl$`));
    }
  }, 180_000);
});
