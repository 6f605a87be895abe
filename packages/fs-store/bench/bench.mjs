// fs-store benchmarks (run by `pnpm bench`): every figure is printed next to
// a baseline measured in the same run on the same disk.
//
//   1. WriterQueue → FsStore throughput vs a raw fs.writeSync loop over the same lines (target ≥ 0.8×)
//   2. durable (fsync) mode: WriterQueue lines/s vs one fsync per line (target ≥ 20×)
//   3. first page of listSessions over generated homes of 1k, 10k, 100k sessions (target < 100 ms, flat)
//
// Sizes scale with env vars: SV_BENCH_LINES (default 200000), SV_BENCH_DURABLE_LINES (2000),
// SV_BENCH_LIST_COUNTS ("1000,10000,100000"), SV_BENCH_DIR (scratch dir, default the OS temp dir).
// Generated homes are cached in $SV_BENCH_DIR/sv-bench-homes/<count> and reused by later runs.
import { closeSync, existsSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { WriterQueue } from "@sessionvault/core";
import { FsStore } from "../dist/index.js";

const LINES = Number(process.env.SV_BENCH_LINES ?? 200_000);
const DURABLE_LINES = Number(process.env.SV_BENCH_DURABLE_LINES ?? 2_000);
const LIST_COUNTS = (process.env.SV_BENCH_LIST_COUNTS ?? "1000,10000,100000")
  .split(",")
  .map(Number)
  .filter((n) => n > 0);
const BASE = process.env.SV_BENCH_DIR ?? tmpdir();
const scratch = mkdtempSync(join(BASE, "sv-bench-"));

const ts = (i) => new Date(Date.UTC(2026, 10, 21, 9, 0, 0) + i).toISOString();
/** Rollout-like lines of ~220 bytes. */
function makeLines(n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = JSON.stringify({
      timestamp: ts(i),
      type: "event_msg",
      payload: { type: "agent_message", message: `step ${i}: the quick brown fox jumps over the lazy dog`, seq: i, pad: "x".repeat(60) },
    });
  }
  return out;
}
let nextId = 1;
const newId = () => `01a1fd77-0000-7000-8000-${String(nextId++).padStart(12, "0")}`;
const sessionInput = (id) => ({
  id,
  created_at: ts(0),
  cwd: "/bench",
  title: "bench",
  archived: false,
  source: "exec",
  originator: "bench",
  cli_version: "0.169.0",
  model_provider: "mock",
  git: null,
  parent_id: null,
  forked_from_id: null,
});

function rawLoop(path, lines, fsyncEach) {
  const fd = openSync(path, "a", 0o600);
  const t0 = performance.now();
  for (const line of lines) {
    writeSync(fd, line + "\n");
    if (fsyncEach) fdatasyncSync(fd);
  }
  const ms = performance.now() - t0;
  closeSync(fd);
  return ms;
}

async function queueRun(lines, durable) {
  const store = new FsStore({ root: join(scratch, `home-${durable ? "durable" : "fast"}-${nextId}`) });
  const id = newId();
  await store.putSession(sessionInput(id));
  const queue = new WriterQueue({ store, sessionId: id, stream: "rollout", startSeq: 0, durable });
  const t0 = performance.now();
  for (const line of lines) await queue.write(line);
  await queue.shutdown();
  const ms = performance.now() - t0;
  const appends = queue.appends;
  await store.close();
  return { ms, appends };
}

const fmt = (n) => Math.round(n).toLocaleString("en-US");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function benchThroughput() {
  const lines = makeLines(LINES);
  const raws = [];
  const queued = [];
  let appends = 0;
  for (let round = 0; round < 3; round++) {
    raws.push(rawLoop(join(scratch, `raw-${round}.jsonl`), lines, false));
    const q = await queueRun(lines, false);
    queued.push(q.ms);
    appends = q.appends;
  }
  const raw = median(raws);
  const q = median(queued);
  const ratio = raw / q;
  console.log(
    `writer-queue -> fs-store: ${fmt((LINES / q) * 1000)} lines/s (${appends} appends for ${fmt(LINES)} lines); raw fs.writeSync loop: ${fmt((LINES / raw) * 1000)} lines/s; ratio ${ratio.toFixed(2)}x (target >= 0.8x) ${ratio >= 0.8 ? "OK" : "BELOW TARGET"}`,
  );
  return { raw_lines_per_s: (LINES / raw) * 1000, queue_lines_per_s: (LINES / q) * 1000, ratio };
}

async function benchDurable() {
  const lines = makeLines(DURABLE_LINES);
  const raw = rawLoop(join(scratch, "raw-fsync.jsonl"), lines, true);
  const q = await queueRun(lines, true);
  const ratio = raw / q.ms;
  console.log(
    `durable: writer-queue ${fmt((DURABLE_LINES / q.ms) * 1000)} lines/s (${q.appends} fsynced appends); one fsync per line: ${fmt((DURABLE_LINES / raw) * 1000)} lines/s; ratio ${ratio.toFixed(1)}x (target >= 20x) ${ratio >= 20 ? "OK" : "BELOW TARGET"}`,
  );
  return { fsync_per_line_lines_per_s: (DURABLE_LINES / raw) * 1000, queue_lines_per_s: (DURABLE_LINES / q.ms) * 1000, ratio };
}

/** A Codex home with `count` sessions, 96 per day folder, written directly in Codex's layout (cached). */
function generatedHome(count) {
  const home = join(BASE, "sv-bench-homes", String(count));
  if (existsSync(join(home, ".complete"))) return { home, generatedMs: 0 };
  rmSync(home, { recursive: true, force: true });
  const t0 = performance.now();
  const start = Date.UTC(2020, 0, 1);
  let dir = "";
  for (let i = 0; i < count; i++) {
    const created = new Date(start + i * 15 * 60_000);
    const p2 = (n) => String(n).padStart(2, "0");
    const day = join(home, "sessions", String(created.getFullYear()), p2(created.getMonth() + 1), p2(created.getDate()));
    if (day !== dir) {
      mkdirSync(day, { recursive: true, mode: 0o700 });
      dir = day;
    }
    const id = `01a1fd77-${String(i >> 16).padStart(4, "0")}-7000-8000-${String(i).padStart(12, "0")}`;
    const stamp = `${created.getFullYear()}-${p2(created.getMonth() + 1)}-${p2(created.getDate())}T${p2(created.getHours())}-${p2(created.getMinutes())}-${p2(created.getSeconds())}`;
    const iso = created.toISOString();
    const text =
      [
        JSON.stringify({
          timestamp: iso,
          type: "session_meta",
          payload: {
            id,
            timestamp: iso,
            cwd: `/work/project-${i % 7}`,
            originator: "codex_exec",
            cli_version: "0.169.0",
            source: "exec",
            model_provider: "openai",
          },
        }),
        JSON.stringify({
          timestamp: iso,
          type: "response_item",
          payload: { type: "message", role: "user", content: [{ type: "input_text", text: `task number ${i}` }] },
        }),
        JSON.stringify({ timestamp: iso, type: "event_msg", payload: { type: "agent_message", message: "done" } }),
      ].join("\n") + "\n";
    writeFileSync(join(day, `rollout-${stamp}-${id}.jsonl`), text, { mode: 0o600 });
  }
  writeFileSync(join(home, ".complete"), "");
  return { home, generatedMs: performance.now() - t0 };
}

async function benchList() {
  const results = [];
  // Warm up the module code paths (JIT) so the first home's figure is not a cold-start figure.
  if (LIST_COUNTS.length) {
    const warm = new FsStore({ root: generatedHome(LIST_COUNTS[0]).home });
    for (let i = 0; i < 3; i++) await warm.listSessions({ limit: 50 });
  }
  for (const count of LIST_COUNTS) {
    const { home, generatedMs } = generatedHome(count);
    const times = [];
    for (let i = 0; i < 7; i++) {
      const store = new FsStore({ root: home }); // a fresh store: no warm in-process caches
      const t0 = performance.now();
      const page = await store.listSessions({ limit: 50 });
      times.push(performance.now() - t0);
      if (page.sessions.length !== Math.min(50, count)) throw new Error(`expected a full page, got ${page.sessions.length}`);
      await store.close();
    }
    results.push({ count, ms: median(times), generatedMs });
  }
  const base = results[0];
  const parts = results.map(
    (r) =>
      `${fmt(r.count)} sessions: ${r.ms.toFixed(1)} ms${r === base ? " (baseline)" : ` (${(r.ms / base.ms).toFixed(2)}x of ${fmt(base.count)})`}${r.generatedMs ? `, home generated in ${(r.generatedMs / 1000).toFixed(1)} s` : ""}`,
  );
  const worst = Math.max(...results.map((r) => r.ms));
  console.log(`list first page (50, median of 7, fresh store each): ${parts.join("; ")}; target < 100 ms and flat: ${worst < 100 ? "OK" : "ABOVE TARGET"}`);
  return results;
}

try {
  console.log(`fs-store bench: node ${process.version}, scratch ${scratch}`);
  const out = { throughput: await benchThroughput(), durable: await benchDurable(), list: await benchList() };
  mkdirSync(new URL("../bench-results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("../bench-results/fs-store.json", import.meta.url), JSON.stringify(out, null, 2) + "\n");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
