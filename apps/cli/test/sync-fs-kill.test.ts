process.env.TZ = "UTC";

import { spawn } from "node:child_process";
import { readdirSync, statSync, type Dirent } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { generateCodexHome, type GeneratedHome } from "@sessionvault/testing/codex-home";
import { assertCliBuilt } from "./support/process-tree.js";

const CLI_BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const KILLS = 20;

let dir: string;
let home: GeneratedHome;
beforeAll(async () => {
  assertCliBuilt(["commands/sync.ts"]);
  dir = await mkdtemp(join(tmpdir(), "sv-fs-kill-"));
  // ~300 sessions of real Codex rollouts: a sync to a directory takes a few seconds.
  home = await generateCodexHome(join(dir, "home"), { sessions: 300, repeat: 2 });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Every rollout file under a home, by path relative to it, with its size.
 * Synchronous on purpose: it is polled while the sync runs, and a walk
 * through the thread pool of a loaded machine lags behind the sync.
 */
async function rollouts(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = (d: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      // sessions/<id>/ holds sessionvault's side files, not rollouts.
      if (e.isDirectory() && depth < 3 && /^\d+$/.test(e.name)) walk(p, depth + 1);
      else if (/^rollout-.*\.jsonl$/.test(e.name)) out.set(relative(root, p), statSync(p, { throwIfNoEntry: false })?.size ?? 0);
    }
  };
  walk(join(root, "sessions"), 0);
  walk(join(root, "archived_sessions"), 3);
  return out;
}

function runSync(target: string, onSpawn?: (kill: () => void) => void): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_BIN, "sync", "--from", join(dir, "home"), "--to", target, "--json"], {
      env: { PATH: process.env.PATH, TZ: "UTC", HOME: dir },
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("exit", (code, signal) => resolve({ code, signal, out }));
    onSpawn?.(() => child.kill("SIGKILL"));
  });
}

/** Every source rollout is in the target at the same place with the same bytes, and nothing else is. */
async function expectSameRollouts(target: string): Promise<void> {
  const source = await rollouts(join(dir, "home"));
  const copied = await rollouts(target);
  // One file per session, at the same place as in the source: no duplicate session.
  expect([...copied.keys()].sort()).toEqual([...source.keys()].sort());
  for (const path of source.keys()) {
    const [a, b] = await Promise.all([readFile(join(dir, "home", path)), readFile(join(target, path))]);
    // Byte-identical, hence no line lost, torn or written twice.
    expect(b.equals(a), path).toBe(true);
  }
}

it(`an fs -> fs sync killed with SIGKILL at ${KILLS} random points and rerun: every rollout byte-identical, no duplicate line or session`, async () => {
  const sourceFiles = await rollouts(join(dir, "home"));
  const total = sourceFiles.size;
  const totalBytes = [...sourceFiles.values()].reduce((a, b) => a + b, 0);
  expect(total).toBe(home.sessions.length);
  // The byte copy moves a session in about a millisecond, and on a loaded
  // machine the kill can land a long way after its point, or after the last
  // byte: a run that completes is checked whole, and the next ones start
  // again into a fresh directory, until the sync was killed KILLS times.
  let generation = 0;
  let target = join(dir, "backup-0");
  let killed = 0;
  let progress: number[] = [];
  for (let attempt = 0; killed < KILLS; attempt++) {
    expect(attempt, "the sync kept completing before its kill point").toBeLessThan(KILLS * 4);
    const have = await rollouts(target);
    const haveBytes = [...have.values()].reduce((a, b) => a + b, 0);
    // A random point of what is left: a file count (the kill lands between
    // creating a session and filling it, or between sessions) or a byte count
    // (mid-append).
    const byFiles = attempt % 2 === 0;
    const share = 0.05 + 0.45 * Math.random();
    const filesAt = have.size + 1 + Math.floor(share * (total - have.size));
    const bytesAt = haveBytes + 1 + Math.floor(share * (totalBytes - haveBytes));
    let stop = false;
    const r = await runSync(target, (kill) => {
      void (async () => {
        for (;;) {
          const now = await rollouts(target);
          const bytes = [...now.values()].reduce((a, b) => a + b, 0);
          if (stop) return;
          if (byFiles ? now.size >= filesAt : bytes >= bytesAt) return kill();
          await new Promise((r) => setImmediate(r));
        }
      })();
    });
    stop = true;
    if (r.signal === "SIGKILL") {
      killed++;
      const after = await rollouts(target);
      progress.push([...after.values()].reduce((a, b) => a + b, 0));
      continue;
    }
    // Ended before the kill reached it: what the killed runs left was completed exactly.
    expect(r.code, `attempt ${attempt}: ${r.out}`).toBe(0);
    expect(JSON.parse(r.out).errors).toEqual([]);
    await expectSameRollouts(target);
    // Within one directory, each killed run kept what the ones before it wrote.
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
    target = join(dir, `backup-${++generation}`);
    progress = [];
  }
  for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);

  const rest = await runSync(target);
  expect(rest.code).toBe(0);
  expect(JSON.parse(rest.out).errors).toEqual([]);
  await expectSameRollouts(target);
  // A further run finds nothing to send.
  const again = await runSync(target);
  expect(again.code).toBe(0);
  expect(JSON.parse(again.out).lines_sent).toBe(0);
}, 600_000);
