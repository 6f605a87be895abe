#!/usr/bin/env node
// Start-up cost of the CLI, whole process (issue 18): each figure is the median wall time of
// BENCH_RUNS runs (default 15), interleaved with the baseline `node -e 0` measured in the same run,
// so a busy machine slows both alike.
//
// 1. `sessionvault list --limit 20 --json` over a generated Codex home of BENCH_SESSIONS sessions
//    (default 100 000; kept in the temp directory between runs). Target ≤ 2× `node -e 0`.
// 2. `sessionvault --help`. Target ≤ 1.5× `node -e 0`.
// 3. For reference: importing commander alone, and the core package alone.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sessionHeadLines } from "@sessionvault/core";

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const HERE = fileURLToPath(new URL(".", import.meta.url));

function codexHome(n) {
  const home = join(tmpdir(), `sessionvault-bench-codex-home-${n}`);
  if (existsSync(join(home, ".complete"))) return home;
  rmSync(home, { recursive: true, force: true });
  const building = `${home}.building`;
  rmSync(building, { recursive: true, force: true });
  const t0 = performance.now();
  // 300 sessions a day, newest last, ending yesterday: a heavy user's year-plus of history.
  const start = Date.UTC(2026, 0, 1) - Math.ceil(n / 300) * 86_400_000;
  let dir = "";
  for (let i = 0; i < n; i++) {
    const at = new Date(start + Math.floor(i / 300) * 86_400_000 + (i % 300) * 240_000);
    const iso = at.toISOString();
    const day = `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}`;
    const d = join(building, "sessions", day);
    if (d !== dir) {
      mkdirSync(d, { recursive: true });
      dir = d;
    }
    const hex = i.toString(16).padStart(12, "0");
    const id = `${at.getTime().toString(16).padStart(12, "0").slice(0, 8)}-${at.getTime().toString(16).padStart(12, "0").slice(8, 12)}-7000-8000-${hex}`;
    const input = {
      id,
      created_at: iso,
      cwd: `/home/dev/project-${i % 40}`,
      title: `task ${i}: fix the flaky test`,
      archived: false,
      source: "cli",
      originator: "codex_cli_rs",
      cli_version: "0.98.0",
      model_provider: "openai",
      git: null,
      parent_id: null,
      forked_from_id: null,
    };
    const name = `rollout-${iso.slice(0, 19).replace(/:/g, "-")}-${id}.jsonl`;
    writeFileSync(join(d, name), sessionHeadLines(input).join("\n") + "\n");
  }
  writeFileSync(join(building, ".complete"), "");
  renameSync(building, home);
  console.log(`generated a Codex home of ${n} sessions in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${home}`);
  return home;
}

function wall(args, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const home = codexHome(SESSIONS);
// No listing cache from an earlier run: each `list` reads the home as a first run does.
const env = { ...process.env, CODEX_HOME: home, XDG_CACHE_HOME: join(tmpdir(), "sessionvault-bench-no-cache") };
const cases = {
  "node -e 0": ["-e", "0"],
  "sessionvault list --limit 20 --json": [BIN, "list", "--limit", "20", "--json"],
  "sessionvault --help": [BIN, "--help"],
  "import commander": ["--input-type=module", "-e", "await import('commander')"],
  "import @sessionvault/core": ["--input-type=module", "-e", "await import('@sessionvault/core')"],
};
const out = execFileSync(process.execPath, [BIN, "list", "--limit", "20", "--json"], { env, maxBuffer: 64 * 1024 * 1024 }).toString();
const listed = JSON.parse(out).sessions.length;
if (listed !== 20) throw new Error(`list printed ${listed} sessions, expected 20`);

const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < 2; i++) for (const args of Object.values(cases)) wall(args, env); // warm the file cache
for (let r = 0; r < RUNS; r++) for (const [k, args] of Object.entries(cases)) times[k].push(wall(args, { ...env, PWD: HERE }));

const base = median(times["node -e 0"]);
const targets = { "sessionvault list --limit 20 --json": 2, "sessionvault --help": 1.5 };
console.log(`\nstart-up, whole process, median of ${RUNS} (interleaved), Codex home of ${SESSIONS} sessions`);
for (const [k, xs] of Object.entries(times)) {
  const m = median(xs);
  const ratio = m / base;
  const target = targets[k];
  const verdict = target === undefined ? "" : ratio <= target ? `  (target ≤ ${target}×: ok)` : `  (target ≤ ${target}×: MISSED)`;
  console.log(`  ${k.padEnd(38)} ${m.toFixed(1).padStart(7)} ms  ${ratio.toFixed(2)}× node -e 0${verdict}`);
}
