import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionStateFile } from "@sessionvault/core";
import { assertDistFresh, startWorker } from "./support/state-worker.js";

const ROUNDS = Number(process.env.SV_STATE_CRASH_ROUNDS ?? 25);
const idFor = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

let dir: string;
beforeAll(() => {
  assertDistFresh();
  dir = mkdtempSync(join(tmpdir(), "sv-state-crash-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Highest counter in the file after checking that the file is exactly a state the worker wrote. */
async function checkState(file: string): Promise<number> {
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch {
    return -1; // killed before the first write landed
  }
  JSON.parse(raw); // must always parse
  // Without a warning handler a corrupt file would be raised, not hidden.
  const entries = await new SessionStateFile(file).list();
  const counters = entries.map((e) => Number(e.record.counter));
  const max = Math.max(...counters);
  // After write N the worker's state is exactly: counters N, N-1, N-2 in slots s(N%3), …
  const expected = [max, max - 1, max - 2].filter((c) => c >= 0);
  expect(counters.sort((a, b) => b - a)).toEqual(expected);
  for (const { slot, record } of entries) {
    const c = Number(record.counter);
    expect(slot).toBe(`s${c % 3}`);
    expect(record.session_id).toBe(idFor(c));
    expect(record.pad).toBe("x".repeat(c % 500));
  }
  return max;
}

describe("state file under kill -9", () => {
  it(`always holds a state that was actually written (${ROUNDS} kills at random points)`, async () => {
    const file = join(dir, "state.json");
    let killedMidWrite = 0;
    let staleLocksRecovered = 0;
    let totalDone = 0;
    let previous = -1;
    for (let round = 0; round < ROUNDS; round++) {
      const w = startWorker(["crash", file]);
      await w.waitFor(/^attempt /);
      await sleep(Math.random() * 40);
      w.child.kill("SIGKILL");
      const exit = await w.exited;
      expect(exit.signal).toBe("SIGKILL");

      const lines = w.lines();
      const num = (prefix: string) => lines.filter((l) => l.startsWith(prefix)).map((l) => Number(l.slice(prefix.length)));
      const start = num("start ")[0]!;
      const attempts = num("attempt ");
      const dones = num("done ");
      const lastAttempt = Math.max(...attempts);
      const lastDone = dones.length ? Math.max(...dones) : start - 1;
      // The worker continues from the file, so every run starts right after the previous state.
      expect(start).toBe(previous + 1);
      if (lastAttempt > lastDone) killedMidWrite++;
      if (/removed a stale lock/.test(w.stderr())) staleLocksRecovered++;
      totalDone += dones.length;

      const max = await checkState(file);
      expect(max).toBeGreaterThanOrEqual(lastDone);
      expect(max).toBeLessThanOrEqual(lastAttempt);
      previous = max;
    }
    // Killed writers leave temp files; they are never mistaken for state and are swept
    // once older than staleLockMs (here: right away).
    const leftovers = readdirSync(dir).filter((n) => n !== "state.json");
    for (const n of leftovers) expect(n).toMatch(/^state\.json\.(tmp-\d+-|lock$|lock\.\d+\.|lock\.stale-\d+-)/);
    await sleep(20);
    await new SessionStateFile(file, { staleLockMs: 10, onWarning: () => {} }).set("final", { session_id: idFor(0), agent: "t", cwd: "/" });
    expect(readdirSync(dir)).toEqual(["state.json"]);
    console.log(
      `state crash test: ${ROUNDS} kills, ${killedMidWrite} inside a write, ${staleLocksRecovered} stale locks recovered, ${totalDone} completed writes`,
    );
    // The test only means something if kills land inside writes.
    expect(killedMidWrite).toBeGreaterThanOrEqual(Math.ceil(ROUNDS / 2));
  }, 180_000);
});
