process.env.TZ = "UTC";

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PgStore } from "@sessionvault/pg-store";
import { afterAll, beforeAll, expect, it } from "vitest";
import { generateCodexHome, type GeneratedHome } from "@sessionvault/testing/codex-home";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { diffHomeAndStore } from "./support/home-in-store.js";
import { lineCounter } from "@sessionvault/testing/line-count";
import { startPostgres, type TestPostgres } from "@sessionvault/testing/postgres";

const CLI_BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

// This file owns its server: it stops and restarts it.
let server: TestPostgres;
let dir: string;
let home: GeneratedHome;
beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(join(tmpdir(), "sv-restart-"));
  home = await generateCodexHome(join(dir, "home"), { sessions: 150, repeat: 3 });
});
afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function runSync(url: string): { done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [CLI_BIN, "sync", "--from", join(dir, "home"), "--to", url, "--json"], {
    env: { PATH: process.env.PATH, TZ: "UTC", HOME: dir },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return { done: new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr }))) };
}

it.skipIf(!!process.env.DATABASE_URL)(
  "Postgres stopped mid-sync: a clear one-line error and a non-zero exit; after a restart the rerun completes",
  async () => {
    const schema = freshSchema("restart");
    const counter = lineCounter(server.url, schema);
    const url = counter.storeUrl;
    const first = runSync(url);
    try {
      while ((await counter.count()) === 0) await new Promise((r) => setTimeout(r, 10));
    } finally {
      await counter.close();
    }
    await server.pauseServer();
    const failed = await first.done;
    expect(failed.code).toBe(11);
    expect(failed.stdout).toBe("");
    const lines = failed.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sessionvault: postgres at 127\.0\.0\.1:\d+\/postgres is unavailable: .+/);

    await server.resumeServer();
    const rerun = await runSync(url).done;
    expect(rerun.stderr).toBe("");
    expect(rerun.code).toBe(0);
    const summary = JSON.parse(rerun.stdout);
    expect(summary.errors).toEqual([]);
    expect(summary.lines_sent).toBeGreaterThan(0);
    expect(summary.lines_sent).toBeLessThan(home.totalLines);

    const store = new PgStore({ connectionString: server.url, schema });
    try {
      expect(await diffHomeAndStore(home, store)).toBeNull();
    } finally {
      await store.close();
    }
  },
  180_000,
);
