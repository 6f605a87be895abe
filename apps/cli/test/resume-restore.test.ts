import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionStateFile } from "@sessionvault/core";
import { freshSchema } from "../../../packages/pg-store/test/support/fresh-schema.js";
import { startPostgres, type TestPostgres } from "../../../packages/pg-store/test/support/postgres.js";
import { assertCliBuilt, CODEX_BIN, runCli as spawnCli, startCodexEnv, type CodexEnv } from "./support/codex-env.js";
import { runCli } from "./support/run-cli.js";

/**
 * Restore across machines: a session written by the real Codex CLI in one
 * Codex home is synced to Postgres, restored from there into an empty Codex
 * home, and resumed there by the real Codex CLI.
 */

let cx: CodexEnv;
let pg: TestPostgres;

beforeAll(async () => {
  assertCliBuilt(["commands/resume.ts", "commands/run.ts", "slot-recording.ts", "codex-rollouts.ts", "program.ts"]);
  cx = await startCodexEnv();
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
  await cx?.stop();
});

const EXEC = ["exec", "--json", "--skip-git-repo-check"];

describe("restore a session into an empty Codex home", () => {
  it("sync out to Postgres, sync back into an empty home, and the real Codex resumes it there", async () => {
    const stateFile = join(cx.root, "state.json");
    // Machine A: a real session in a slot.
    const first = spawnCli(["run", "--slot", "laptop-1", "--state-file", stateFile, "--", CODEX_BIN, ...EXEC, ...cx.scenarioArgs("turn1"), "Start a log file called log.txt with one line."], {
      env: cx.env(),
      cwd: cx.work,
    });
    expect((await first.exited).code, first.stderr()).toBe(0);
    const id = (await new SessionStateFile(stateFile).get("laptop-1"))!.session_id;
    const [original] = cx.rollouts();
    expect(original!.endsWith(`-${id}.jsonl`)).toBe(true);
    const originalBytes = readFileSync(original!);

    // Out to the archive…
    const pgUrl = `${pg.url}?schema=${freshSchema("restore")}`;
    const up = await runCli(["sync", "--from", cx.home, "--to", pgUrl, "--json"]);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.out)).toMatchObject({ sessions_sent: 1, errors: [] });

    // …and back into an empty Codex home on "machine B" (only Codex's config, no sessions).
    const homeB = join(cx.root, "codex-home-b");
    mkdirSync(homeB);
    copyFileSync(join(cx.home, "config.toml"), join(homeB, "config.toml"));
    const down = await runCli(["sync", "--from", pgUrl, "--to", `file://${homeB}`, "--json"]);
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.out)).toMatchObject({ sessions_sent: 1, errors: [] });
    const restoredPath = join(homeB, relative(cx.home, original!));
    expect(readFileSync(restoredPath).equals(originalBytes)).toBe(true);

    // Machine B resumes the slot with the real Codex CLI.
    const resumed = spawnCli(["resume", "laptop-1", "--state-file", stateFile, "--agent-bin", CODEX_BIN, "--", ...EXEC, ...cx.scenarioArgs("turn2"), "Now add a second line to log.txt."], {
      env: cx.env({ CODEX_HOME: homeB }),
      cwd: cx.work,
    });
    expect((await resumed.exited).code, resumed.stderr()).toBe(0);
    expect(resumed.stderr()).toContain(`sessionvault: resuming session ${id} from slot laptop-1`);
    expect(resumed.stdout()).toContain(`{"type":"thread.started","thread_id":"${id}"}`);
    // The model saw the restored history (two user prompts), and the work continued.
    expect(resumed.stdout()).toContain("saw 2 user messages");
    expect(readFileSync(join(cx.work, "log.txt"), "utf8")).toBe("line one\nline two\n");
    const after = readFileSync(restoredPath);
    expect(after.length).toBeGreaterThan(originalBytes.length);
    expect(after.subarray(0, originalBytes.length).equals(originalBytes)).toBe(true);
    // Machine A's copy is untouched.
    expect(readFileSync(original!).equals(originalBytes)).toBe(true);
  }, 180_000);
});
