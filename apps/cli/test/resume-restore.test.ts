import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionStateFile } from "@sessionvault/core";
import { freshSchema } from "../../../packages/pg-store/test/support/fresh-schema.js";
import { startPostgres, type TestPostgres } from "../../../packages/pg-store/test/support/postgres.js";
import { CLI_BIN, CODEX_BIN, codexExecArgs, listFiles, makeScratch, removeScratch, spawnProcess, startMock, type MockServer, type Scratch } from "./support/codex-harness.js";
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
let pg: TestPostgres;

beforeAll(async () => {
  assertCliBuilt(["commands/resume.ts", "commands/run.ts", "slot-recording.ts", "codex-rollouts.ts", "program.ts"]);
  mockDir = mkdtempSync(join(tmpdir(), "sv-restore-mock-"));
  mock = await startMock(mockDir);
  s = await makeScratch(mock);
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
  await mock?.stop();
  if (s) await removeScratch(s);
  if (mockDir) rmSync(mockDir, { recursive: true, force: true });
});

describe("restore a session into an empty Codex home", () => {
  it("sync out to Postgres, sync back into an empty home, and the real Codex resumes it there", async () => {
    const stateFile = join(s.root, "state.json");
    // Machine A: a real session in a slot.
    const first = await spawnProcess([process.execPath, CLI_BIN, "run", "--slot", "laptop-1", "--state-file", stateFile, "--", ...codexExecArgs(mock, "turn1", ["Start a log file called log.txt with one line."])], s).done;
    expect(first.code, first.stderr).toBe(0);
    const id = (await new SessionStateFile(stateFile).get("laptop-1"))!.session_id;
    const files = (await listFiles(join(s.codexHome, "sessions"))).filter((f) => f.endsWith(".jsonl"));
    expect(files).toHaveLength(1);
    const rel = files[0]!;
    expect(rel.endsWith(`-${id}.jsonl`)).toBe(true);
    const original = join(s.codexHome, "sessions", rel);
    const originalBytes = readFileSync(original);

    // Out to the archive…
    const pgUrl = `${pg.url}?schema=${freshSchema("restore")}`;
    const up = await runCli(["sync", "--from", s.codexHome, "--to", pgUrl, "--json"]);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.out)).toMatchObject({ sessions_sent: 1, errors: [] });

    // …and back into an empty Codex home on "machine B" (only Codex's config, no sessions).
    const homeB = join(s.root, "codex-home-b");
    mkdirSync(homeB);
    copyFileSync(join(s.codexHome, "config.toml"), join(homeB, "config.toml"));
    const down = await runCli(["sync", "--from", pgUrl, "--to", `file://${homeB}`, "--json"]);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.out)).toMatchObject({ sessions_sent: 1, errors: [] });
    const restoredPath = join(homeB, "sessions", rel);
    expect(readFileSync(restoredPath).equals(originalBytes)).toBe(true);

    // Machine B resumes the slot with the real Codex CLI.
    const machineB: Scratch = { ...s, codexHome: homeB };
    const resumed = await spawnProcess(
      [process.execPath, CLI_BIN, "resume", "laptop-1", "--state-file", stateFile, "--agent-bin", CODEX_BIN, "--", ...codexExecArgs(mock, "turn2", ["Now add a second line to log.txt."]).slice(1)],
      machineB,
    ).done;
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
});
