// fs-store retention benchmark (run by `pnpm bench` after bench.mjs): what applyRetention costs on
// a Codex home, each figure next to a baseline measured in the same run on the same disk.
//
//   1. dry run over N expired sessions vs listing all N sessions (the summaries retention must read anyway)
//   2. soft delete of N sessions (audit record fsynced, two renames, trash record) vs N bare renames
//   3. purge of N soft-deleted sessions vs `rm -r` of the same trash tree
//
// Sizes scale with env vars: SV_BENCH_RETENTION_SESSIONS (default 2000), SV_BENCH_DIR (scratch dir).
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { applyRetention, DAY_MS } from "@sessionvault/core";
import { FsStore } from "../dist/index.js";

const N = Number(process.env.SV_BENCH_RETENTION_SESSIONS ?? 2000);
const scratch = mkdtempSync(join(process.env.SV_BENCH_DIR ?? tmpdir(), "sv-bench-ret-"));
const pad = (n, w = 2) => String(n).padStart(w, "0");

/** A Codex home of N sessions, 60 days old, each with a 20-line rollout and a raw-api stream. */
function makeHome(dir) {
  const created = new Date(Date.now() - 60 * DAY_MS);
  for (let i = 0; i < N; i++) {
    const at = new Date(created.getTime() + i * 1000);
    const id = `01a1fd77-0000-7000-8000-${pad(i, 12)}`;
    const day = join(dir, "sessions", pad(at.getFullYear(), 4), pad(at.getMonth() + 1), pad(at.getDate()));
    mkdirSync(day, { recursive: true });
    const stamp = `${pad(at.getFullYear(), 4)}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}-${pad(at.getMinutes())}-${pad(at.getSeconds())}`;
    const lines = [
      JSON.stringify({
        timestamp: at.toISOString(),
        type: "session_meta",
        payload: { id, timestamp: at.toISOString(), cwd: "/bench", originator: "bench", cli_version: "0.169.0" },
      }),
    ];
    lines.push(JSON.stringify({ timestamp: at.toISOString(), type: "event_msg", payload: { type: "user_message", message: `task ${i}` } }));
    for (let j = 0; j < 18; j++)
      lines.push(
        JSON.stringify({ timestamp: at.toISOString(), type: "event_msg", payload: { type: "agent_message", message: `step ${j}`, pad: "x".repeat(120) } }),
      );
    writeFileSync(join(day, `rollout-${stamp}-${id}.jsonl`), lines.join("\n") + "\n");
    mkdirSync(join(dir, "sessions", id));
    writeFileSync(join(dir, "sessions", id, "session_oai_raw.log"), '{"direction":"response","status":200}\n'.repeat(10));
  }
}

const ms = (t0) => performance.now() - t0;
const fmt = (x) => `${x.toFixed(0)} ms`;
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;

const template = join(scratch, "template");
makeHome(template);
const home = join(scratch, "home");
cpSync(template, home, { recursive: true });
const policy = { name: "bench", defaultTtlMs: 30 * DAY_MS, graceMs: 7 * DAY_MS };

// 1. dry run vs a full listing
let store = new FsStore({ root: home });
let t0 = performance.now();
let listed = 0;
for (let cursor = null; ; ) {
  const page = await store.listSessions({ limit: 1000, cursor });
  listed += page.sessions.length;
  cursor = page.next_cursor;
  if (!cursor) break;
}
const listMs = ms(t0);
await store.close();
store = new FsStore({ root: home });
t0 = performance.now();
const dry = await applyRetention(store, policy, { dryRun: true });
const dryMs = ms(t0);
await store.close();
if (listed !== N || dry.expired.length !== N) throw new Error(`expected ${N} sessions, listed ${listed}, dry run expired ${dry.expired.length}`);

// 2. soft delete vs bare renames of the same files
const renameHome = join(scratch, "renames");
cpSync(template, renameHome, { recursive: true });
const { readdirSync } = await import("node:fs");
const files = readdirSync(join(renameHome, "sessions"), { recursive: true }).filter((f) => f.endsWith(".jsonl"));
mkdirSync(join(renameHome, "moved"));
t0 = performance.now();
for (const [i, f] of files.entries()) {
  renameSync(join(renameHome, "sessions", f), join(renameHome, "moved", `${i}.jsonl`));
  const id = f.slice(-42, -6);
  renameSync(join(renameHome, "sessions", id), join(renameHome, "moved", id));
}
const renameMs = ms(t0);
store = new FsStore({ root: home });
t0 = performance.now();
const run = await applyRetention(store, policy);
const softMs = ms(t0);
if (run.expired.length !== N) throw new Error(`soft delete expired ${run.expired.length} of ${N}`);

// 3. purge vs rm -r of a copy of the trash
const trashCopy = join(scratch, "trash-copy");
cpSync(join(home, ".sessionvault", "trash"), trashCopy, { recursive: true });
t0 = performance.now();
rmSync(trashCopy, { recursive: true });
const rmMs = ms(t0);
t0 = performance.now();
const later = await applyRetention(store, policy, { now: new Date(Date.now() + 8 * DAY_MS) });
const purgeMs = ms(t0);
await store.close();
if (later.purged.length !== N) throw new Error(`purge removed ${later.purged.length} of ${N}`);

console.log(`fs-store retention over ${N} expired sessions (${(dry.bytes_freed / 1024 / 1024).toFixed(1)} MiB)`);
console.log(`  dry run        ${fmt(dryMs)}   baseline: list all sessions ${fmt(listMs)}   ratio ${ratio(dryMs, listMs)}`);
console.log(
  `  soft delete    ${fmt(softMs)} (${(softMs / N).toFixed(2)} ms/session)   baseline: 2 bare renames per session ${fmt(renameMs)}   ratio ${ratio(softMs, renameMs)}`,
);
console.log(
  `  purge          ${fmt(purgeMs)} (${(purgeMs / N).toFixed(2)} ms/session)   baseline: rm -r of the trash ${fmt(rmMs)}   ratio ${ratio(purgeMs, rmMs)}`,
);
rmSync(scratch, { recursive: true, force: true });
