#!/usr/bin/env node
// `sessionvault list --limit 20 --json` over every local agent home, whole process (issue 14): a
// Codex home, a Claude Code config dir and a Gemini CLI dir of BENCH_AGENT_SESSIONS sessions each
// (default 10 000), generated from the fixtures the real CLIs wrote (kept in the temp directory
// between runs), against the same command over the Codex home alone, measured in the same run,
// interleaved; median of BENCH_RUNS (default 11). Target: ≤ 1.5× the Codex-only time.
//
// Each case runs with the user's cache as a second run finds it (one run before the timed ones
// fills it); the first run over cold homes (no cache) is printed too.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateClaudeHome, generateCodexHomeFromFixtures, generateGeminiHome } from "@sessionvault/testing/agent-homes";

const SESSIONS = Number(process.env.BENCH_AGENT_SESSIONS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const TARGET = 1.5;

function homes(n) {
  const root = join(tmpdir(), `sessionvault-bench-agent-homes-${n}`);
  if (existsSync(join(root, ".complete"))) return root;
  rmSync(root, { recursive: true, force: true });
  const building = `${root}.building`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const t0 = performance.now();
  // The same number of sessions an hour for each agent (the fixture sets hold 16, 17 and 13 sessions), so their histories overlap.
  generateCodexHomeFromFixtures(join(building, "codex"), { sessions: n, copyMinutes: 16 });
  generateClaudeHome(join(building, "home", ".claude"), { sessions: n, copyMinutes: 17 });
  generateGeminiHome(join(building, "home", ".gemini"), { sessions: n, copyMinutes: 13 });
  mkdirSync(join(building, "codex-only"));
  writeFileSync(join(building, ".complete"), "");
  renameSync(building, root);
  console.log(`generated ${n} sessions of each agent in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${root}`);
  return root;
}

function wall(env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, "list", "--limit", "20", "--json"], { env, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`list exited ${r.status}: ${r.stderr}`);
  return { ms, out: JSON.parse(r.stdout.toString()) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const root = homes(SESSIONS);
const cache = join(tmpdir(), `sessionvault-bench-agent-homes-cache-${process.pid}`);
// File names of Codex rollouts are in local time; the generated ones are in UTC.
const base = { PATH: process.env.PATH, TZ: "UTC", CODEX_HOME: join(root, "codex"), XDG_CACHE_HOME: cache };
const cases = {
  "Codex home only": { ...base, HOME: join(root, "codex-only") },
  "Codex + Claude Code + Gemini CLI": { ...base, HOME: join(root, "home") },
};

rmSync(cache, { recursive: true, force: true });
const cold = Object.fromEntries(Object.entries(cases).map(([k, env]) => [k, wall(env)]));
const agents = new Set(cold["Codex + Claude Code + Gemini CLI"].out.sessions.map((s) => s.agent));
if (cold["Codex home only"].out.sessions.length !== 20) throw new Error("the Codex-only list printed fewer than 20 sessions");

const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < RUNS; r++) for (const [k, env] of Object.entries(cases)) times[k].push(wall(env).ms);
rmSync(cache, { recursive: true, force: true });

const codex = median(times["Codex home only"]);
const all = median(times["Codex + Claude Code + Gemini CLI"]);
const ratio = all / codex;
// On a shared machine the best run of each is the one least disturbed by other work.
const best = Math.min(...times["Codex + Claude Code + Gemini CLI"]) / Math.min(...times["Codex home only"]);
console.log(`\nlist --limit 20 --json, whole process, ${SESSIONS} sessions per agent, median of ${RUNS} (interleaved)`);
console.log(`  Codex home only                    ${codex.toFixed(1).padStart(7)} ms  (baseline; first run ${cold["Codex home only"].ms.toFixed(0)} ms)`);
console.log(
  `  Codex + Claude Code + Gemini CLI   ${all.toFixed(1).padStart(7)} ms  ${ratio.toFixed(2)}× (target ≤ ${TARGET}×: ${ratio <= TARGET ? "ok" : "MISSED"}; best against best ${best.toFixed(2)}×; first run, no cache: ${cold["Codex + Claude Code + Gemini CLI"].ms.toFixed(0)} ms; page holds ${[...agents].sort().join(", ")})`,
);
