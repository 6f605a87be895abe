import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionStateFile } from "@sessionvault/core";
import { assertDistFresh, startWorker } from "./support/state-worker.js";

const UPDATES = Number(process.env.SV_STATE_UPDATES ?? 1000);

let dir: string;
beforeAll(() => {
  assertDistFresh();
  dir = mkdtempSync(join(tmpdir(), "sv-state-conc-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("two processes writing the same state file", () => {
  it(`each update ${UPDATES} times, different slots: no update is lost`, async () => {
    const file = join(dir, "state.json");
    const a = startWorker(["concurrent", file, "a", String(UPDATES)]);
    const b = startWorker(["concurrent", file, "b", String(UPDATES)]);

    // Meanwhile a lock-free reader must never see a broken file or a counter going back
    // (a lost update would show up as a slot reverting to an older counter).
    const reader = new SessionStateFile(file);
    const seen = new Map<string, number>();
    let reads = 0;
    let running = true;
    void Promise.all([a.exited, b.exited]).then(() => (running = false));
    while (running) {
      for (const { slot, record } of await reader.list()) {
        const c = Number(record.counter);
        expect(c, `slot ${slot} went back`).toBeGreaterThanOrEqual(seen.get(slot) ?? -1);
        seen.set(slot, c);
      }
      reads++;
      await sleep(5);
    }
    expect((await a.exited).code, a.stderr()).toBe(0);
    expect((await b.exited).code, b.stderr()).toBe(0);

    const final = new Map((await reader.list()).map((e) => [e.slot, Number(e.record.counter)]));
    const slotsPerWriter = Math.min(50, UPDATES);
    expect(final.size).toBe(2 * slotsPerWriter);
    for (const p of ["a", "b"]) {
      for (let j = 0; j < slotsPerWriter; j++) {
        // the last counter i < UPDATES with i % 50 == j
        const last = j + 50 * Math.floor((UPDATES - 1 - j) / 50);
        expect(final.get(`${p}-${j}`), `${p}-${j}`).toBe(last);
      }
    }
    expect(reads).toBeGreaterThan(1);
  }, 180_000);
});
