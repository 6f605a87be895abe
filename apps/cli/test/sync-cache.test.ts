process.env.TZ = "UTC";

import { appendFile, cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { sharedPostgres } from "@sessionvault/testing/shared-services";
import { snapshotTree } from "@sessionvault/testing/tree-snapshot";
import { FIXTURES, fixtureRollouts } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.js";

const server = sharedPostgres();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-sync-cache-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("sync keeps the source's listing cache in the user cache directory", () => {
  it("never inside the home; a rerun sends nothing, and a line appended since is sent exactly once", async () => {
    const home = join(dir, "home");
    await cp(join(FIXTURES, "0.169.0", "sessions"), join(home, "sessions"), { recursive: true });
    // Rollouts changed less than 2 s before a listing are not cached.
    await sleep(2100);
    const env = { XDG_CACHE_HOME: join(dir, "cache") };
    const pgUrl = `${server.url}?schema=${freshSchema("cache")}`;
    const before = await snapshotTree(home);
    const sync = async () => {
      const res = await runCli(["sync", "--from", home, "--to", pgUrl, "--json"], env);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      return JSON.parse(res.out) as { lines_sent: number; bytes_sent: number; sessions_sent: number };
    };
    const first = await sync();
    expect(first.lines_sent).toBeGreaterThan(0);
    expect(await snapshotTree(home)).toEqual(before);
    const cached = await readdir(join(dir, "cache", "sessionvault"));
    expect(cached).toEqual([expect.stringMatching(/^fs-summary-[0-9a-f]{24}\.json$/)]);
    const body = JSON.parse(await readFile(join(dir, "cache", "sessionvault", cached[0]!), "utf8")) as { entries: Record<string, unknown> };
    const rollouts = fixtureRollouts("0.169.0").filter((r) => !r.archived);
    expect(Object.keys(body.entries).length).toBe(rollouts.length);

    expect(await sync()).toMatchObject({ lines_sent: 0, sessions_sent: 0 });

    // A file that changed since it was cached is read again: its new line goes, once.
    const target = join(home, Object.keys(body.entries).sort()[0]!);
    const extra = '{"timestamp":"2030-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"token_count","info":null}}';
    await appendFile(target, extra + "\n");
    expect(await sync()).toMatchObject({ lines_sent: 1, bytes_sent: extra.length + 1, sessions_sent: 1 });
    expect(await sync()).toMatchObject({ lines_sent: 0 });
  });
});
