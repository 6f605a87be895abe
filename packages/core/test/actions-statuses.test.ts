import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GOLDEN, project } from "./support/actions-fixtures.js";

/**
 * One real Codex 0.169.0 session (test/golden/make-statuses-session.sh) with
 * failing commands and a rejected patch (turn 1), a resumed turn that
 * succeeds (turn 2) and a resumed turn interrupted by SIGINT (turn 3).
 * Expectations written by hand from the file.
 */
const FILE = join(GOLDEN, "0.169.0", "statuses.rollout.jsonl");
const SESSION = "01a1fd85-6405-7861-ba0e-576650600211";
const T1 = "01a1fd85-6450-75d0-a6cf-fab676222d44";
const T2 = "01a1fd85-6ba9-71e2-b6a0-e26d931c604b";
const T3 = "01a1fd85-6f6a-7360-b010-f28f2aeebede";
const CWD = "/tmp/av/gen/run/work/statuses";

describe("statuses and turn ids in a resumed, partly failed, interrupted session", () => {
  it("gives every action the right status, turn id and exit code", async () => {
    const actions = await project(FILE, SESSION);
    const summary = actions.map((a) => ({
      seq: a.seq,
      type: a.action_type,
      call: a.call_id,
      turn: a.turn_id,
      status: a.status,
      exit: a.exit_code,
    }));
    expect(summary).toEqual([
      { seq: 0, type: "session_started", call: null, turn: null, status: "completed", exit: null },
      { seq: 1, type: "turn_started", call: null, turn: T1, status: "completed", exit: null },
      { seq: 2, type: "command_execution", call: "call_mock7401890002", turn: T1, status: "failed", exit: 3 },
      { seq: 3, type: "command_execution", call: "call_mock7406250006", turn: T1, status: "failed", exit: 42 },
      // apply_patch on a missing file: "apply_patch verification failed" → failed (nothing applied)
      { seq: 4, type: "file_change", call: "call_mock7409850010", turn: T1, status: "failed", exit: null },
      { seq: 5, type: "turn_completed", call: null, turn: T1, status: "completed", exit: null },
      // `codex exec resume`: the second turn lands in the same file with its own turn id
      { seq: 6, type: "turn_started", call: null, turn: T2, status: "completed", exit: null },
      { seq: 7, type: "file_change", call: "call_mock7419740017", turn: T2, status: "completed", exit: 0 },
      { seq: 8, type: "command_execution", call: "call_mock7420440022", turn: T2, status: "completed", exit: 0 },
      { seq: 9, type: "turn_completed", call: null, turn: T2, status: "completed", exit: null },
      { seq: 10, type: "turn_started", call: null, turn: T3, status: "completed", exit: null },
      // SIGINT while `sleep 25` ran: output "aborted by user"; the late CommandExecution
      // (status failed, exit_code -1, written after turn_aborted) does not override it.
      { seq: 11, type: "command_execution", call: "call_mock7429550030", turn: T3, status: "aborted", exit: null },
      { seq: 12, type: "turn_aborted", call: null, turn: T3, status: "aborted", exit: null },
    ]);
  });

  it("fills commands, paths, cwd and durations from the richest record", async () => {
    const actions = await project(FILE, SESSION);
    const byCall = new Map(actions.filter((a) => a.call_id).map((a) => [a.call_id, a]));
    expect(byCall.get("call_mock7401890002")).toMatchObject({
      tool_name: "exec_command",
      command: "ls does-not-exist; exit 3",
      argv: ["/bin/bash", "-lc", "ls does-not-exist; exit 3"],
      cwd: CWD,
      changed_paths: [],
    });
    expect(byCall.get("call_mock7409850010")).toMatchObject({ tool_name: "apply_patch", command: null, changed_paths: [`${CWD}/missing.txt`] });
    expect(byCall.get("call_mock7419740017")).toMatchObject({ changed_paths: [`${CWD}/log.txt`], duration_ms: 0 });
    // Interrupted command: duration from the CommandExecution item ({secs: 1, nanos: 408655187}),
    // not the output's rounded "Wall time: 1.6 seconds".
    const interrupted = byCall.get("call_mock7429550030")!;
    expect(interrupted.command).toBe("echo building...; sleep 25; echo built");
    expect(interrupted.duration_ms).toBe(1409);
    expect(actions.at(-1)).toMatchObject({ action_type: "turn_aborted", duration_ms: 1668 });
  });
});
