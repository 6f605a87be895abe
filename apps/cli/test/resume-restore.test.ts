import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionStateFile } from "@sessionvault/core";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { sharedPostgres } from "@sessionvault/testing/shared-services";
import {
  CLI_BIN,
  CODEX_BIN,
  codexExecArgs,
  listFiles,
  makeScratch,
  removeScratch,
  spawnProcess,
  startMock,
  type MockServer,
  type Scratch,
} from "./support/codex-harness.js";
import { assertCliBuilt } from "./support/process-tree.js";
import { runCli } from "./support/run-cli.js";

/**
 * Restore across machines: a session written by the real Codex CLI in one
 * Codex home is synced to Postgres, restored from there into an empty Codex
 * home, and resumed there by the real Codex CLI.
 */

let mockDir: string;
let mock: MockServer;
let s: Scratch;
const pg = sharedPostgres();

beforeAll(async () => {
  assertCliBuilt(["commands/resume.ts", "commands/run.ts", "slot-recording.ts", "codex-rollouts.ts", "program.ts"]);
  mockDir = mkdtempSync(join(tmpdir(), "sv-restore-mock-"));
  mock = await startMock(mockDir);
  s = await makeScratch(mock);
});
afterAll(async () => {
  await mock?.stop();
  if (s) await removeScratch(s);
  if (mockDir) rmSync(mockDir, { recursive: true, force: true });
});

/** Machine A: a real Codex session in a slot, synced out to a fresh Postgres schema. */
async function sessionInArchive(slot: string, stateFile: string) {
  const rolloutsOf = async () => (await listFiles(join(s.codexHome, "sessions"))).filter((f) => /(^|\/)rollout-.*\.jsonl$/.test(f));
  const before = new Set(await rolloutsOf());
  const first = await spawnProcess(
    [
      process.execPath,
      CLI_BIN,
      "run",
      "--slot",
      slot,
      "--state-file",
      stateFile,
      "--",
      ...codexExecArgs(mock, "turn1", ["Start a log file called log.txt with one line."]),
    ],
    s,
  ).done;
  expect(first.code, first.stderr).toBe(0);
  const id = (await new SessionStateFile(stateFile).get(slot))!.session_id;
  const created = (await rolloutsOf()).filter((f) => !before.has(f));
  expect(created).toHaveLength(1);
  const rel = created[0]!;
  expect(rel.endsWith(`-${id}.jsonl`)).toBe(true);
  const original = join(s.codexHome, "sessions", rel);

  const pgUrl = `${pg.url}?schema=${freshSchema("restore")}`;
  const up = await runCli(["sync", "--from", s.codexHome, "--to", pgUrl, "--json"]);
  expect(up.code, up.stderr).toBe(0);
  expect(JSON.parse(up.out)).toMatchObject({ sessions_sent: before.size + 1, errors: [] });
  return { id, rel, original, originalBytes: readFileSync(original), pgUrl };
}

/** An empty Codex home on "machine B": only Codex's config, no sessions. */
function emptyHome(name: string): string {
  const home = join(s.root, name);
  mkdirSync(home);
  copyFileSync(join(s.codexHome, "config.toml"), join(home, "config.toml"));
  return home;
}

async function resumeOn(home: string, args: string[]) {
  return spawnProcess(
    [
      process.execPath,
      CLI_BIN,
      "resume",
      ...args,
      "--agent-bin",
      CODEX_BIN,
      "--",
      ...codexExecArgs(mock, "turn2", ["Now add a second line to log.txt."]).slice(1),
    ],
    {
      ...s,
      codexHome: home,
    },
  ).done;
}

describe("restore a session into an empty Codex home", () => {
  it("sync out to Postgres, sync back into an empty home, and the real Codex resumes it there", async () => {
    const stateFile = join(s.root, "state-1.json");
    const { id, rel, original, originalBytes, pgUrl } = await sessionInArchive("laptop-1", stateFile);

    const homeB = emptyHome("codex-home-b");
    const down = await runCli(["sync", "--from", pgUrl, "--to", `file://${homeB}`, "--json"]);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.out)).toMatchObject({ sessions_sent: 1, errors: [] });
    const restoredPath = join(homeB, "sessions", rel);
    expect(readFileSync(restoredPath).equals(originalBytes)).toBe(true);

    // Machine B resumes the slot with the real Codex CLI.
    const resumed = await resumeOn(homeB, ["laptop-1", "--state-file", stateFile]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`sessionvault: resuming session ${id} from slot laptop-1`);
    expect(resumed.stdout).toContain(`{"type":"thread.started","thread_id":"${id}"}`);
    // The model saw the restored history (two user prompts), and the work continued.
    expect(resumed.stdout).toContain("saw 2 user messages");
    expect(readFileSync(join(s.work, "log.txt"), "utf8")).toBe("line one\nline two\n");
    const after = readFileSync(restoredPath);
    expect(after.length).toBeGreaterThan(originalBytes.length);
    expect(after.subarray(0, originalBytes.length).equals(originalBytes)).toBe(true);
    // Machine A's copy is untouched.
    expect(readFileSync(original).equals(originalBytes)).toBe(true);
  }, 180_000);

  it("resume --restore-from fetches a missing session from the archive, says so, and resumes it", async () => {
    const stateFile = join(s.root, "state-2.json");
    const { id, rel, originalBytes, pgUrl } = await sessionInArchive("laptop-2", stateFile);
    const homeC = emptyHome("codex-home-c");

    const resumed = await resumeOn(homeC, ["laptop-2", "--state-file", stateFile, "--restore-from", pgUrl]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`sessionvault: restored session ${id} from postgres://\\S+ into ${homeC} \\(\\d+ lines\\)\\n`));
    expect(resumed.stderr).toContain(`sessionvault: resuming session ${id} from slot laptop-2`);
    expect(resumed.stdout).toContain(`{"type":"thread.started","thread_id":"${id}"}`);
    // Only that session was restored, not the whole archive.
    expect((await listFiles(join(homeC, "sessions"))).filter((f) => /(^|\/)rollout-.*\.jsonl$/.test(f))).toEqual([rel]);
    const restored = readFileSync(join(homeC, "sessions", rel));
    expect(restored.subarray(0, originalBytes.length).equals(originalBytes)).toBe(true);
    expect(restored.length).toBeGreaterThan(originalBytes.length);

    // An id the archive does not have either is a clear not-found (exit 4), and nothing runs.
    const unknown = await resumeOn(homeC, ["019a0000-0000-7000-8000-00000000dead", "--restore-from", pgUrl]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/^sessionvault: no rollout for session 019a0000-0000-7000-8000-00000000dead in \S+ nor in postgres:\/\/\S+\n$/);
  }, 180_000);
});
