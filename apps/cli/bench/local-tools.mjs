#!/usr/bin/env node
// `list --search` and fs → fs `sync` against the tools a user would otherwise
// reach for (issue 16): ripgrep and rsync, each measured in the same run over
// the same generated Codex home, as whole processes (wall time and peak RSS
// from /usr/bin/time), warm page cache.
//
// The home: SV_BENCH_SESSIONS (default 10 000) rollouts copied from the real
// Codex fixtures (fixtures/codex/*/sessions and archived_sessions), each with a
// fresh UUIDv7 id (written into the file wherever the fixture's own id was)
// and laid out as Codex does (sessions/YYYY/MM/DD/rollout-<local time>-<id>.jsonl,
// 5 % in archived_sessions/, a session_index.jsonl naming every tenth).
// Every session gets one extra user message (a response_item shaped as the fixtures' own) saying
// "please run the benchmark <n>", and exactly one says "zanzibar" too. It is
// generated once into $SV_BENCH_DIR/sv-bench-codex-v2-<n> and reused.
//
//   0. the first list --search over the home, which builds its search index (shown, no target)
//   1. list --search zanzibar (one session)           vs rg -l -i zanzibar   (target ≤ 2×, RSS < 150 MB)
//   2. list --search benchmark --limit 1000 (all)     vs rg -l -i benchmark  (target ≤ 2×, RSS < 150 MB)
//   3. sync --from home --to <empty dir>              vs rsync -a            (target ≤ 3×, RSS < 150 MB;
//      the file system's dirty pages are flushed with sync(1) before each copy, ours and rsync's)
//   4. the same sync again, nothing changed           vs rsync -a            (target ≤ 3×)
//   5. node -e "" and the CLI's --version: what a process costs before any work.
//
// SV_BENCH_CLI points at another build of bin.js (e.g. main's, for before
// figures). Each figure is a median: of SV_BENCH_PAIRED_ROUNDS (default 9)
// runs for 1, 2 and 4, ours and the peer's taken in turn; of SV_BENCH_ROUNDS
// (default 3) for 3 (a sync to an empty dir runs once per round into a fresh
// dir) and 5. Wall times are this process's clock around each run.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..", "..");
const CLI = process.env.SV_BENCH_CLI ?? join(here, "..", "dist", "bin.js");
const SESSIONS = Number(process.env.SV_BENCH_SESSIONS ?? 10_000);
const ROUNDS = Number(process.env.SV_BENCH_ROUNDS ?? 3);
const PAIRED_ROUNDS = Number(process.env.SV_BENCH_PAIRED_ROUNDS ?? 9);
const BASE = process.env.SV_BENCH_DIR ?? tmpdir();
const ONLY = (process.env.SV_BENCH_ONLY ?? "search,sync").split(",");

// The peers (ripgrep, rsync) and the RSS meter (GNU time) come from Debian: installed when missing
// and this process may (root with apt-get), as .ci/run does; otherwise the bench says what to install.
const missing = [
  ["rg", "ripgrep"],
  ["rsync", "rsync"],
  ["/usr/bin/time", "time"],
].filter(([tool]) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
if (missing.length > 0) {
  const pkgs = missing.map(([, pkg]) => pkg);
  const canInstall = process.getuid?.() === 0 && spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
  if (canInstall) {
    console.log(`bench: installing ${pkgs.join(", ")} (the peers this bench compares with)`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    spawnSync("apt-get", ["install", "-y", "-qq", ...pkgs], { stdio: "inherit", env });
  }
  const still = missing.filter(([tool]) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
  if (still.length > 0) {
    console.error(
      `bench: ${still.map(([tool]) => tool).join(", ")} missing; this bench compares with them. Install: apt-get install -y ${still.map(([, p]) => p).join(" ")}`,
    );
    process.exit(2);
  }
}

// ---- the generated home ------------------------------------------------------

function fixtureRollouts() {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^rollout-.*-([0-9a-f-]{36})\.jsonl$/.test(e.name) && /(^|\/)(sessions|archived_sessions)\//.test(p)) out.push(p);
    }
  };
  walk(join(repo, "fixtures", "codex"));
  // The enveloped rollouts with UUIDv7 ids, as current Codex writes them (not the early bare-line builds).
  return out
    .sort()
    .flatMap((path) => {
      const first = readFileSync(path, "utf8").slice(0, 4096);
      return /^\{"timestamp":"[^"]*",(?:"ordinal":0,)?"type":"session_meta","payload":\{/.test(first) ? [path] : [];
    })
    .map((path) => {
      const id = /([0-9a-f-]{36})\.jsonl$/.exec(path)[1];
      const text = readFileSync(path, "utf8");
      const userLine = text.split("\n").find((l) => /"type":"response_item".*"role":"user".*"input_text","text":"[^<]/.test(l));
      const metaTs = JSON.parse(text.slice(0, text.indexOf("\n"))).payload.timestamp;
      return { id, text: text.endsWith("\n") ? text : text + "\n", userLine, metaTs };
    });
}

function uuidV7(ms) {
  const b = randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g;
const pad = (n, w = 2) => String(n).padStart(w, "0");
const stamp = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}-${pad(d.getMinutes())}-${pad(d.getSeconds())}`;

function generateHome(n) {
  const home = join(BASE, `sv-bench-codex-v2-${n}`);
  if (existsSync(join(home, ".complete"))) return home;
  rmSync(home, { recursive: true, force: true });
  const tmp = `${home}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const fixtures = fixtureRollouts();
  // A fixture without such a line (0.39's) gets the line shape of another one.
  const userShape = fixtures.find((f) => f.userLine).userLine;
  const start = Date.UTC(2026, 0, 1, 8);
  const step = Math.floor((330 * 86400_000) / n);
  const index = [];
  const one = Math.floor(n / 3);
  for (let i = 0; i < n; i++) {
    const f = fixtures[i % fixtures.length];
    const created = new Date(start + i * step + (i % 997));
    const id = uuidV7(created.getTime());
    // Codex names the file after session_meta's timestamp: every timestamp moves with the session.
    const delta = created.getTime() - Date.parse(f.metaTs);
    let text = f.text
      .split(f.id)
      .join(id)
      .replace(ISO, (t) => new Date(Date.parse(t) + delta).toISOString());
    const said = `please run the benchmark ${i}${i === one ? " and the zanzibar migration" : ""}`;
    const user = JSON.parse(f.userLine ?? userShape);
    user.timestamp = new Date(Date.parse(f.userLine ? user.timestamp : f.metaTs) + delta + 1).toISOString();
    user.payload.content = [{ type: "input_text", text: said }];
    text += JSON.stringify(user) + "\n";
    const archived = i % 20 === 7;
    const dir = archived
      ? join(tmp, "archived_sessions")
      : join(tmp, "sessions", pad(created.getFullYear(), 4), pad(created.getMonth() + 1), pad(created.getDate()));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `rollout-${stamp(created)}-${id}.jsonl`), text);
    if (i % 10 === 3) index.push(JSON.stringify({ id, thread_name: `bench thread ${i}`, updated_at: created.toISOString() }));
  }
  writeFileSync(join(tmp, "session_index.jsonl"), index.join("\n") + "\n");
  renameSync(tmp, home);
  writeFileSync(join(home, ".complete"), "");
  return home;
}

// ---- measuring -----------------------------------------------------------------

/** Runs a whole process under /usr/bin/time: wall seconds, peak RSS in MB, stdout. */
// Wall time from this process's clock (GNU time's %e has 10 ms steps: too coarse for a 0.05 s run);
// peak RSS and CPU from GNU time, which wraps ours and the peers alike.
function run(cmd, args, env = {}) {
  const started = performance.now();
  const r = spawnSync("/usr/bin/time", ["-f", "\n%e %M %U %S", cmd, ...args], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  const wall = (performance.now() - started) / 1000;
  const m = /\n(\d+(?:\.\d+)?) (\d+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`${cmd} ${args.join(" ")}: no timing (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  const errText = r.stderr.slice(0, m.index);
  if (r.status !== 0 && !(cmd === "rg" && r.status === 1)) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${errText.slice(-2000)}`);
  return { s: wall, mb: Number(m[2]) / 1024, cpu: Number(m[3]) + Number(m[4]), out: r.stdout, err: errText };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function measure(rounds, fn) {
  const runs = [];
  for (let i = 0; i < rounds; i++) runs.push(fn(i));
  return pick(runs);
}
/**
 * Runs that take a fraction of a second, ours and the peer's taken in turn (SV_BENCH_PAIRED_ROUNDS,
 * default 9): a moment of load elsewhere on the machine lands on both, not on one side's median.
 */
function measurePair(a, b) {
  const ours = [];
  const peer = [];
  for (let i = 0; i < PAIRED_ROUNDS; i++) {
    ours.push(a());
    peer.push(b());
  }
  return [pick(ours), pick(peer)];
}
function pick(runs) {
  return { s: median(runs.map((r) => r.s)), mb: Math.max(...runs.map((r) => r.mb)), cpu: median(runs.map((r) => r.cpu)), last: runs[runs.length - 1] };
}
const sv = (args, cache) => run(process.execPath, [CLI, ...args], { XDG_CACHE_HOME: cache, NO_COLOR: "1" });

const rows = [];
function row(what, ours, peer, peerName, maxRatio, maxMb) {
  const ratio = ours.s / peer.s;
  const ok = ratio <= maxRatio && (maxMb === undefined || ours.mb < maxMb);
  rows.push({ what, ours, peer, peerName, ratio, maxRatio, maxMb, ok });
  console.log(
    `${what}: sessionvault ${ours.s.toFixed(3)} s (${ours.cpu.toFixed(2)} s CPU, of which ~${startup.cpu.toFixed(2)} s starting the CLI), ${ours.mb.toFixed(0)} MB RSS; ${peerName} ${peer.s.toFixed(3)} s (${peer.cpu.toFixed(2)} s CPU), ${peer.mb.toFixed(0)} MB; ratio ${ratio.toFixed(1)}x wall, ${(ours.cpu / Math.max(peer.cpu, 0.01)).toFixed(1)}x CPU (target <= ${maxRatio}x${maxMb ? `, < ${maxMb} MB` : ""}) ${ok ? "OK" : "ABOVE TARGET"}`,
  );
}

const home = generateHome(SESSIONS);
const scratch = mkdtempSync(join(BASE, "sv-bench-local-"));
mkdirSync(join(scratch, "empty"));
const cache = join(scratch, "cache");
const du = spawnSync("du", ["-sm", home], { encoding: "utf8" }).stdout.split("\t")[0];
console.log(`home: ${SESSIONS} sessions, ${du} MB (${home}); cli: ${CLI}`);

const node = measure(ROUNDS, () => run(process.execPath, ["-e", ""]));
const startup = measure(ROUNDS, () => sv(["list", "--store", join(scratch, "empty"), "--json"], cache));
console.log(
  `process start: node -e "" ${node.s.toFixed(3)} s (${node.cpu.toFixed(2)} s CPU), ${node.mb.toFixed(0)} MB; sessionvault list of an empty dir ${startup.s.toFixed(3)} s (${startup.cpu.toFixed(2)} s CPU), ${startup.mb.toFixed(0)} MB: module loading, part of every figure below`,
);

try {
  if (ONLY.includes("search")) {
    // Warm the page cache the same way for both.
    run("rg", ["-l", "-i", "zanzibar", home]);
    // The first search over a home reads it whole and records it in the search index (the user's
    // cache directory); the rounds below measure the searches after it, as a user's next ones.
    const first = sv(["list", "--store", home, "--all", "--search", "zanzibar", "--json"], cache);
    const rgFirst = run("rg", ["-l", "-i", "zanzibar", home]);
    console.log(
      `list --search, the first over this home (builds the search index): sessionvault ${first.s.toFixed(2)} s (${first.cpu.toFixed(2)} s CPU), ${first.mb.toFixed(0)} MB RSS; rg -l -i ${rgFirst.s.toFixed(2)} s; ratio ${(first.s / rgFirst.s).toFixed(1)}x (once per home; no target)`,
    );
    const [one, rgOne] = measurePair(
      () => sv(["list", "--store", home, "--all", "--search", "zanzibar", "--json"], cache),
      () => run("rg", ["-l", "-i", "zanzibar", home]),
    );
    const found = JSON.parse(one.last.out).sessions.length;
    const rgFound = rgOne.last.out.trim().split("\n").filter(Boolean).length;
    row(`list --search, a string in exactly one session (found ${found}; rg ${rgFound})`, one, rgOne, "rg -l -i", 2, 150);
    const [all, rgAll] = measurePair(
      () => sv(["list", "--store", home, "--all", "--limit", "1000", "--search", "benchmark", "--json"], cache),
      () => run("rg", ["-l", "-i", "benchmark", home]),
    );
    const foundAll = JSON.parse(all.last.out).sessions.length;
    const rgFoundAll = rgAll.last.out.trim().split("\n").filter(Boolean).length;
    row(`list --search --limit 1000, a string in every session (found ${foundAll}; rg ${rgFoundAll})`, all, rgAll, "rg -l -i", 2, 150);
  }
  if (ONLY.includes("sync")) {
    const fresh = [];
    const rsyncFresh = [];
    let target = null;
    let rsyncTarget = null;
    for (let i = 0; i < ROUNDS; i++) {
      target = join(scratch, `to-${i}`);
      rsyncTarget = join(scratch, `rsync-${i}`);
      // Each round starts with no listing cache, as a first backup would.
      rmSync(cache, { recursive: true, force: true });
      // Each copy starts with no dirty pages waiting to be written back (the previous
      // round wrote and deleted 2 × 380 MB): otherwise the kernel's writeback of one
      // run's files lands in the next run's time, whichever tool that is.
      spawnSync("sync");
      fresh.push(sv(["sync", "--from", home, "--to", target, "--json"], cache));
      spawnSync("sync");
      rsyncFresh.push(run("rsync", ["-a", home + "/", rsyncTarget + "/"]));
      if (i < ROUNDS - 1) {
        rmSync(target, { recursive: true, force: true });
        rmSync(rsyncTarget, { recursive: true, force: true });
      }
    }
    const summary = JSON.parse(pick(fresh).last.out);
    row(
      `sync to an empty dir (${summary.sessions_sent} sessions, ${(summary.bytes_sent / 1e6).toFixed(0)} MB sent)`,
      pick(fresh),
      pick(rsyncFresh),
      "rsync -a",
      3,
      150,
    );
    const [again, rsyncAgain] = measurePair(
      () => sv(["sync", "--from", home, "--to", target, "--json"], cache),
      () => run("rsync", ["-a", home + "/", rsyncTarget + "/"]),
    );
    const s2 = JSON.parse(again.last.out);
    row(`sync again, nothing changed (${s2.sessions_sent} sent)`, again, rsyncAgain, "rsync -a", 3, 150);
    const diff = spawnSync("diff", ["-rq", "-x", ".complete", "-x", "session_index.jsonl", home, target], { encoding: "utf8" });
    const onlyOurs = diff.stdout
      .split("\n")
      .filter((l) => l && !/^Only in .*: (\.sessionvault|\.complete)$/.test(l) && !/^Only in [^:]*\/sessions: [0-9a-f-]{36}$/.test(l));
    console.log(`target vs source rollouts: ${onlyOurs.length === 0 ? "byte-identical" : `DIFFER:\n${onlyOurs.slice(0, 10).join("\n")}`}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const bad = rows.filter((r) => !r.ok).length;
console.log(`${rows.length - bad} of ${rows.length} within target`);
