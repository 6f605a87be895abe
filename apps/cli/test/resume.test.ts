import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionStateFile } from "@sessionvault/core";
import {
  CLI_BIN,
  CODEX_BIN,
  codexExecArgs,
  listFiles,
  makeScratch,
  removeScratch,
  spawnProcess,
  startMock,
  waitFor,
  type Finished,
  type MockServer,
  type Scratch,
} from "./support/codex-harness.js";
import { assertCliBuilt, descendants, killAll, runsProgram } from "./support/process-tree.js";

/**
 * Done-when tests of issue 5 with the real Codex CLI (0.171.0, a devDependency)
 * against the scripted mock Responses API: kill the agent or the supervisor
 * mid-turn, resume the slot, and check that the same rollout goes on.
 */

let mockDir: string;
let mock: MockServer;
let s: Scratch;
let stateFile: string;

beforeAll(async () => {
  assertCliBuilt(["commands/resume.ts", "commands/run.ts", "commands/state.ts", "slot-recording.ts", "codex-rollouts.ts", "program.ts"]);
  mockDir = mkdtempSync(join(tmpdir(), "sv-resume-mock-"));
  mock = await startMock(mockDir);
  s = await makeScratch(mock);
  stateFile = join(s.root, "state", "state.json");
});
afterAll(async () => {
  await mock?.stop();
  if (s) await removeScratch(s);
  if (mockDir) rmSync(mockDir, { recursive: true, force: true });
});

const idOf = (path: string) => path.slice(-42, -6);
const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean);
const kinds = (path: string) => lines(path).map((l) => JSON.parse(l) as { type: string; payload: { type?: string } });
const slotOf = async (slot: string) => (await new SessionStateFile(stateFile).get(slot))?.session_id ?? null;
const rollouts = async () =>
  (await listFiles(join(s.codexHome, "sessions"))).filter((f) => /rollout-.*\.jsonl$/.test(f)).map((f) => join(s.codexHome, "sessions", f));
/** The agent arguments after `--` for a Codex exec run of a mock scenario (without the program). */
const execArgs = (scenario: string, prompt: string) => codexExecArgs(mock, scenario, [prompt]).slice(1);

function cli(args: string[]) {
  return spawnProcess([process.execPath, CLI_BIN, ...args], s);
}

/** Starts `sessionvault run --slot SLOT -- codex exec … "Run the slow build"` and waits until Codex is inside the `sleep 300` (which outlasts the test). */
async function startSlowRun(slot: string) {
  const before = new Set(await rollouts());
  const run = cli(["run", "--slot", slot, "--state-file", stateFile, "--", ...codexExecArgs(mock, "hold", ["Run the slow build"])]);
  const rollout = await waitFor(async () => (await rollouts()).find((r) => !before.has(r)));
  // Mid-turn: the shell command has been called and its `sleep` runs, so every process of the agent is one that lives until killed.
  await waitFor(async () => lines(rollout).some((l) => l.includes('"function_call"')) && runsProgram(run.child.pid!, "sleep"));
  const id = idOf(rollout);
  await waitFor(async () => (await slotOf(slot)) === id);
  return { run, id, rollout };
}

/** `sessionvault resume SLOT -- exec … "PROMPT"` with a quick mock script; returns the finished run. */
async function resumeSlot(slot: string, scenario: string, prompt: string): Promise<Finished> {
  const r = await cli(["resume", slot, "--state-file", stateFile, "--agent-bin", CODEX_BIN, "--", ...execArgs(scenario, prompt)]).done;
  expect(r.code, r.stderr).toBe(0);
  return r;
}

function expectContinued(rollout: string, before: Buffer, id: string, resumed: Finished): void {
  // Appended: the earlier bytes are untouched and new lines follow them.
  const after = readFileSync(rollout);
  expect(after.length).toBeGreaterThan(before.length);
  expect(after.subarray(0, before.length).equals(before)).toBe(true);
  const records = kinds(rollout);
  expect(records.filter((r) => r.type === "session_meta")).toHaveLength(1);
  expect((records[0]!.payload as { id?: string }).id).toBe(id);
  // The killed turn and the resumed one.
  expect(records.filter((r) => r.type === "event_msg" && r.payload.type === "task_started").length).toBeGreaterThanOrEqual(2);
  expect(readFileSync(rollout, "utf8")).toContain("Run the slow build");
  // Codex itself reports the same thread.
  expect(resumed.stdout).toContain(`{"type":"thread.started","thread_id":"${id}"}`);
  expect(resumed.stdout).toContain("third turn");
}

describe("resume with the real Codex CLI", () => {
  it("kill -9 of the agent mid-turn, then resume the slot: same session, same rollout, earlier turns kept", async () => {
    const { run, id, rollout } = await startSlowRun("pane-1");
    const agent = descendants(run.child.pid!);
    killAll(agent);
    const exit = await run.done;
    expect(exit.code).toBe(137); // the supervisor passes the agent's SIGKILL on, like a shell
    const before = readFileSync(rollout);
    const files = (await rollouts()).length;

    const resumed = await resumeSlot("pane-1", "turn3", "Continue where you stopped.");
    expect(resumed.stderr).toContain(`sessionvault: resuming session ${id} from slot pane-1`);
    expectContinued(rollout, before, id, resumed);
    expect(await rollouts()).toHaveLength(files);
    expect(await slotOf("pane-1")).toBe(id);
  }, 120_000);

  it("kill -9 of the supervisor (sessionvault run) mid-turn, then restart it: same session, same rollout", async () => {
    const { run, id, rollout } = await startSlowRun("pane-2");
    const agent = descendants(run.child.pid!);
    run.child.kill("SIGKILL");
    // The agent outlives its supervisor and still writes the session: a restart must not put a
    // second agent on the same rollout. It waits (--wait), then names the pid to stop.
    await waitFor(async () => !isAlive(run.child.pid!));
    expect(agent.every(isAlive)).toBe(true);
    const busy = await cli(["resume", "pane-2", "--state-file", stateFile, "--agent-bin", CODEX_BIN, "--wait", "1", "--", ...execArgs("turn3", "Continue.")])
      .done;
    expect(busy.code).toBe(5);
    expect(busy.stderr).toMatch(new RegExp(`sessionvault: session ${id} is still open in pid (\\d+)\\b.*waiting up to 1 s`));
    const holder = Number(/still open in pid (\d+)/.exec(busy.stderr)![1]);
    expect(agent).toContain(holder);
    expect(busy.stderr).toContain(`sessionvault: session ${id} is still being written by pid ${holder}`);
    // Once the old agent is gone (the pane/job that held it is torn down), the restart resumes.
    killAll(agent);
    await run.done;
    await waitFor(async () => agent.every((p) => !isAlive(p)));
    const before = readFileSync(rollout);
    const files = (await rollouts()).length;

    const resumed = await resumeSlot("pane-2", "turn3", "Continue after the restart.");
    expect(resumed.stderr).toContain(`sessionvault: resuming session ${id} from slot pane-2`);
    expectContinued(rollout, before, id, resumed);
    expect(await rollouts()).toHaveLength(files);
  }, 120_000);

  it("a slot whose rollout was deleted starts fresh, says so, and then holds the new session", async () => {
    const first = await cli(["run", "--slot", "pane-3", "--state-file", stateFile, "--", ...codexExecArgs(mock, "qa", ["What is the capital of France?"])])
      .done;
    expect(first.code, first.stderr).toBe(0);
    const oldId = (await slotOf("pane-3"))!;
    const oldRollout = (await rollouts()).find((r) => idOf(r) === oldId)!;
    expect(oldRollout).toBeTruthy();
    rmSync(oldRollout);

    const before = new Set(await rollouts());
    const fresh = await resumeSlot("pane-3", "qa", "And the capital of Italy?");
    expect(fresh.stderr).toContain(
      `sessionvault: slot pane-3 has no usable session (rollout of ${oldId} missing in ${join(s.codexHome, "sessions")}); starting fresh`,
    );
    const created = (await rollouts()).filter((r) => !before.has(r));
    expect(created).toHaveLength(1);
    const newId = idOf(created[0]!);
    expect(newId).not.toBe(oldId);
    expect(fresh.stdout).toContain(`"thread_id":"${newId}"`);
    expect(fresh.stderr).toContain(`slot pane-3 now holds session ${newId}`);
    expect(await slotOf("pane-3")).toBe(newId);

    // …and the next resume continues that new session.
    const again = await resumeSlot("pane-3", "turn3", "Anything else?");
    expect(again.stderr).toContain(`sessionvault: resuming session ${newId} from slot pane-3`);
    expect((await rollouts()).filter((r) => !before.has(r))).toHaveLength(1);
  }, 120_000);

  it("two supervisors started at once in the same directory each record their own session", async () => {
    const before = new Set(await rollouts());
    const runs = ["tmux-a", "tmux-b"].map((slot) => ({
      slot,
      run: cli(["run", "--slot", slot, "--state-file", stateFile, "--", ...codexExecArgs(mock, "interrupt", ["Run the slow build"])]),
    }));
    let ids: string[] = [];
    try {
      ids = await waitFor(async () => {
        const got = await Promise.all(runs.map((r) => slotOf(r.slot)));
        return got.every(Boolean) && (await rollouts()).filter((r) => !before.has(r)).length === 2 ? (got as string[]) : null;
      });
    } finally {
      for (const { run } of runs) killAll([...descendants(run.child.pid!), run.child.pid!]);
    }
    expect(new Set(ids).size).toBe(2);
    // Each slot holds the thread its own Codex reported.
    for (const [i, { run }] of runs.entries()) expect((await run.done).stdout).toContain(`{"type":"thread.started","thread_id":"${ids[i]}"}`);
  }, 120_000);

  it("run --slot with `codex exec resume --last` records the session Codex appended to", async () => {
    const before = new Set(await rollouts());
    const r = await cli([
      "run",
      "--slot",
      "last-1",
      "--state-file",
      stateFile,
      "--",
      ...codexExecArgs(mock, "turn3", ["resume", "--last", "Anything else left to do?"]),
    ]).done;
    expect(r.code, r.stderr).toBe(0);
    const thread = /"type":"thread\.started","thread_id":"([0-9a-f-]{36})"/.exec(r.stdout)![1]!;
    expect(await rollouts()).toEqual([...before]); // appended, nothing new
    expect(await slotOf("last-1")).toBe(thread);
    expect(r.stderr).toContain(`slot last-1 now holds session ${thread} (from the rollout this run appends to)`);
  }, 120_000);

  it("an empty slot starts fresh and records the session; a session id resumes without a slot", async () => {
    const before = new Set(await rollouts());
    const fresh = await resumeSlot("ci-job-17", "turn1", "Start a log file called log.txt with one line.");
    expect(fresh.stderr).toContain("sessionvault: slot ci-job-17 is empty; starting fresh");
    const created = (await rollouts()).filter((r) => !before.has(r));
    expect(created).toHaveLength(1);
    const id = idOf(created[0]!);
    expect(await slotOf("ci-job-17")).toBe(id);

    const byId = await cli([
      "resume",
      id.slice(0, 13),
      "--state-file",
      stateFile,
      "--agent-bin",
      CODEX_BIN,
      "--",
      ...execArgs("turn2", "Now add a second line to log.txt."),
    ]).done;
    expect(byId.code, byId.stderr).toBe(0);
    expect(byId.stderr).toContain(`sessionvault: resuming session ${id}\n`);
    expect(readFileSync(join(s.work, "log.txt"), "utf8")).toBe("line one\nline two\n");
    expect(kinds(created[0]!).filter((r) => r.type === "session_meta")).toHaveLength(1);
  }, 120_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
