import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, test } from "vitest";
import { raceAppends, type RaceFigures } from "./support/append-race.js";
import { startTestServer, type TestServer } from "./support/server.js";

/**
 * Issue 12, item 2: archiving renames the rollout. Appenders racing archive
 * toggles (`PUT /v1/sessions/{id}` with `{"archived": …}`) over real HTTP
 * must lose and double nothing they were told was stored, and get no error
 * but conflicts.
 */
const RUNS = 5;
const APPENDERS = 6;
const BATCHES = 15;
const MAX_TOGGLES = 10_000;

let t: TestServer;
let token: string;

beforeAll(async () => {
  t = await startTestServer();
  token = await t.token("acme", ["admin"]);
});
afterAll(async () => {
  await t?.stop();
});

test(`appends racing archive/unarchive toggles: 0 lost, 0 duplicated, over ${RUNS} runs`, async () => {
  const all: (RaceFigures & { toggles: number })[] = [];
  for (let run = 0; run < RUNS; run++) {
    const id = randomUUID();
    const summary = { created_at: "2026-11-21T09:36:57.445Z", cwd: "/w", title: `race ${run}` };
    const put = (archived: boolean) =>
      fetch(`${t.url}/v1/sessions/${id}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ ...summary, archived }),
      });
    expect((await put(false)).status).toBe(200);
    let toggles = 0;
    const toggleErrors: string[] = [];
    const figures = await raceAppends({
      urls: [t.url],
      token,
      sessionId: id,
      stream: "rollout",
      appenders: APPENDERS,
      batches: BATCHES,
      linesPerBatch: 3,
      // Flips as fast as answers come, until the appenders are done.
      alongside: async (done) => {
        for (let archived = true; !done() && toggles < MAX_TOGGLES; archived = !archived) {
          const res = await put(archived);
          toggles++;
          if (res.status !== 200) toggleErrors.push(`${res.status} ${(await res.text()).slice(0, 200)}`);
          else await res.arrayBuffer();
        }
      },
    });
    all.push({ ...figures, toggles });
    expect({ run, lost: figures.lost, duplicated: figures.duplicated }).toEqual({ run, lost: 0, duplicated: 0 });
    expect(toggleErrors, `run ${run}: archive toggles refused`).toEqual([]);
    expect(figures.unexpected, `run ${run}: appends answered with an error`).toEqual([]);
    expect(figures.lines).toBe(APPENDERS * BATCHES * 3);
    expect(toggles, "the toggles overlapped the appends").toBeGreaterThan(1);
  }
  const sum = (k: "appends" | "lines" | "lost" | "duplicated" | "conflicts" | "toggles") => all.reduce((n, f) => n + f[k], 0);
  console.log(
    `archive race: ${RUNS} runs, ${sum("appends")} appends (${sum("lines")} lines), ${sum("toggles")} archive toggles, ${sum("conflicts")} conflicts, lost ${sum("lost")}, duplicated ${sum("duplicated")}`,
  );
}, 300_000);
