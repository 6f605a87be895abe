import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { createApiToken } from "../src/tokens.js";
import { raceAppends, type RaceFigures } from "./support/append-race.js";
import { spawnServer, type ServerProcess } from "./support/server-process.js";

/**
 * Issue 12, item 3: two servers sharing one fs store from separate PID
 * namespaces (two containers on one volume: both are PID 1). Appends spread
 * over both must lose and double nothing.
 */
const RUNS = 5;
const UNSHARE = ["unshare", "--pid", "--fork", "--kill-child=SIGTERM"];

/** Why separate PID namespaces cannot be made here, or null when they can. */
function unshareMissing(): string | null {
  try {
    const pid = execFileSync(UNSHARE[0]!, [...UNSHARE.slice(1), "sh", "-c", "echo $$"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    return pid === "1" ? null : `unshare --pid --fork ran its child as pid ${pid}, not 1`;
  } catch (err) {
    return `unshare --pid --fork does not work here (needs util-linux and CAP_SYS_ADMIN): ${String((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`;
  }
}
const skip = unshareMissing();

describe.skipIf(skip !== null)(`two servers in separate PID namespaces over one fs store${skip ? ` (skipped: ${skip})` : ""}`, () => {
  let dir: string;
  let token: string;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sv-pidns-"));
    const tokens = new FsStore({ root: dir });
    token = (await createApiToken(tokens, "acme", ["admin"])).token;
    await tokens.close();
    // Each is PID 1 of its own namespace, as the main process of a container is.
    [a, b] = await Promise.all([spawnServer(dir, {}, [], UNSHARE), spawnServer(dir, {}, [], UNSHARE)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test(`appends spread over both: 0 lost, 0 duplicated, over ${RUNS} runs`, async () => {
    const all: RaceFigures[] = [];
    for (let run = 0; run < RUNS; run++) {
      const id = randomUUID();
      const put = await fetch(`${a.url}/v1/sessions/${id}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ created_at: "2026-11-21T09:36:57.445Z", cwd: "/w", title: `pid namespaces ${run}` }),
      });
      expect(put.status, await put.clone().text()).toBe(200);
      const figures = await raceAppends({ urls: [a.url, b.url], token, sessionId: id, stream: "rollout", appenders: 8, batches: 25, linesPerBatch: 2 });
      all.push(figures);
      expect({ run, lost: figures.lost, duplicated: figures.duplicated }).toEqual({ run, lost: 0, duplicated: 0 });
      expect(figures.unexpected, `run ${run}: appends answered with an error`).toEqual([]);
      expect(figures.lines).toBe(8 * 25 * 2);
    }
    const sum = (k: "appends" | "lines" | "lost" | "duplicated" | "conflicts") => all.reduce((n, f) => n + f[k], 0);
    console.log(
      `pid namespaces: ${RUNS} runs, ${sum("appends")} appends (${sum("lines")} lines) over 2 servers, ${sum("conflicts")} conflicts, lost ${sum("lost")}, duplicated ${sum("duplicated")}`,
    );
  }, 300_000);
});
