import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findRolloutPath, metaEventsFromRolloutLine, RolloutFollower } from "@sessionvault/core";

const fixtures = fileURLToPath(new URL("../../../fixtures/codex/", import.meta.url));

async function threadOf(version: string, label: string): Promise<string> {
  const runs = await readFile(join(fixtures, version, "runs.tsv"), "utf8");
  const row = runs.split("\n").find((l) => l.startsWith(`${label}\t`));
  return row!.split("\t")[3]!;
}

describe("meta events from real Codex rollouts", () => {
  for (const version of ["0.39.0", "0.98.0", "0.169.0"]) {
    it(`${version}: the SIGINT run yields an "interrupted" event, a clean run none`, async () => {
      const home = join(fixtures, version);
      const interruptPath = await findRolloutPath(home, await threadOf(version, "16-interrupt"));
      expect(interruptPath).not.toBeNull();
      const f = new RolloutFollower(interruptPath!);
      const events = (await f.poll()).flatMap(metaEventsFromRolloutLine);
      // 0.39.0 sometimes exits before it records turn_aborted (see the harness README); newer ones always do.
      if (version !== "0.39.0") expect(events.map((e) => e.type)).toContain("interrupted");
      for (const e of events) expect(["interrupted", "cancelled", "error", "denied"]).toContain(e.type);

      const qa = await findRolloutPath(home, await threadOf(version, "01-qa"));
      expect((await new RolloutFollower(qa!).poll()).flatMap(metaEventsFromRolloutLine)).toEqual([]);
    });
  }

  it("0.169.0: the API-error run yields an error event", async () => {
    const home = join(fixtures, "0.169.0");
    const p = await findRolloutPath(home, await threadOf("0.169.0", "14-apierror"));
    const events = (await new RolloutFollower(p!).poll()).flatMap(metaEventsFromRolloutLine);
    expect(events.some((e) => e.type === "error")).toBe(true);
  });

  it("classifies approvals and denials", () => {
    const ts = "2026-11-21T10:00:00.000Z";
    expect(
      metaEventsFromRolloutLine({ timestamp: ts, type: "event_msg", payload: { type: "exec_approval_request", call_id: "c1", command: ["rm", "-rf", "x"] } }),
    ).toMatchObject([{ type: "approval_request", call_id: "c1" }]);
    expect(
      metaEventsFromRolloutLine({
        timestamp: ts,
        type: "event_msg",
        payload: { type: "item_completed", item: { type: "CommandExecution", id: "c2", status: "declined", command: "rm x" } },
      }),
    ).toMatchObject([{ type: "denied", call_id: "c2" }]);
    expect(metaEventsFromRolloutLine({ timestamp: ts, type: "event_msg", payload: { type: "turn_aborted", reason: "replaced" } })).toMatchObject([
      { type: "cancelled", reason: "replaced" },
    ]);
    expect(
      metaEventsFromRolloutLine({
        timestamp: ts,
        type: "response_item",
        payload: { type: "function_call_output", call_id: "c3", output: "exec command rejected by user" },
      }),
    ).toMatchObject([{ type: "denied", call_id: "c3" }]);
    expect(metaEventsFromRolloutLine("garbage")).toEqual([]);
    expect(metaEventsFromRolloutLine({ type: "mystery", payload: {} })).toEqual([]);
  });
});

describe("RolloutFollower", () => {
  it("returns only complete new lines, keeps a half-written one for later and skips garbage", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sv-follow-"));
    try {
      const p = join(dir, "r.jsonl");
      await writeFile(p, '{"a":1}\nnot json\n{"b":');
      const f = new RolloutFollower(p);
      expect(await f.poll()).toEqual([{ a: 1 }]);
      expect(await f.poll()).toEqual([]);
      await appendFile(p, '2}\n\n{"c":3}\n');
      expect(await f.poll()).toEqual([{ b: 2 }, { c: 3 }]);
      const resumed = new RolloutFollower(p, { fromOffset: f.offset });
      await appendFile(p, '{"d":4}\n');
      expect(await resumed.poll()).toEqual([{ d: 4 }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
