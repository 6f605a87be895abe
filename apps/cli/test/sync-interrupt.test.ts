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
import { sharedPostgres } from "@sessionvault/testing/shared-services";
import { assertCliBuilt } from "./support/process-tree.js";

const CLI_BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

const server = sharedPostgres();
let dir: string;
let home: GeneratedHome;
beforeAll(async () => {
  assertCliBuilt(["commands/sync.ts"]);
  dir = await mkdtemp(join(tmpdir(), "sv-kill-"));
  // Big enough that a sync takes a few seconds: ~200 sessions, ~20 MB.
  home = await generateCodexHome(join(dir, "home"), { sessions: 200, repeat: 3 });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("a sync killed with SIGKILL at random points and rerun ends with exactly the source's lines", async () => {
  const schema = freshSchema("kill");
  const counter = lineCounter(server.url, schema);
  const url = counter.storeUrl;
  const kills: number[] = [];
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = await counter.count();
      const child = spawn(process.execPath, [CLI_BIN, "sync", "--from", join(dir, "home"), "--to", url, "--json"], {
        env: { PATH: process.env.PATH, TZ: "UTC", HOME: dir },
        stdio: "ignore",
      });
      let exitedBy: string | null = null;
      const exited = new Promise<void>((r) =>
        child.on("exit", (code, signal) => {
          exitedBy = signal ?? `exit ${code}`;
          r();
        }),
      );
      // Kill at a random point of what is left: once the target has passed
      // a random line count within the next quarter of the remaining lines.
      // The sync is stopped (SIGSTOP) while its progress is counted, so on a
      // busy machine, where one count can take longer than the rest of the
      // sync, it still moves only a few milliseconds between two counts and
      // the kill lands where it was meant to, never after the sync finished.
      const killAt = before + 1 + Math.floor((Math.random() * (home.totalLines - before)) / 4);
      while (exitedBy === null) {
        child.kill("SIGSTOP");
        if ((await counter.count()) >= killAt) break;
        child.kill("SIGCONT");
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill("SIGKILL");
      await exited;
      expect(exitedBy, "the sync must still be running when it is killed").toBe("SIGKILL");
      await counter.settle();
      kills.push(await counter.count());
    }
    // Every kill landed mid-sync, and each run made progress.
    expect(kills[kills.length - 1]!).toBeLessThan(home.totalLines);
    expect(kills[0]!).toBeGreaterThan(0);
    for (let i = 1; i < kills.length; i++) expect(kills[i]!).toBeGreaterThan(kills[i - 1]!);

    const rest = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI_BIN, "sync", "--from", join(dir, "home"), "--to", url, "--json"], {
        env: { PATH: process.env.PATH, TZ: "UTC", HOME: dir },
      });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on("exit", (code) => resolve({ code, out }));
    });
    expect(rest.code).toBe(0);
    const summary = JSON.parse(rest.out);
    expect(summary.errors).toEqual([]);
    expect(summary.lines_sent).toBe(home.totalLines - kills[kills.length - 1]!);
    expect(await counter.count()).toBe(home.totalLines);

    const store = new PgStore({ connectionString: server.url, schema });
    try {
      expect(await diffHomeAndStore(home, store)).toBeNull();
    } finally {
      await store.close();
    }
  } finally {
    await counter.close();
  }
}, 180_000);
