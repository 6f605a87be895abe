// Generated agent homes for tests and benchmarks (plain JS, so a bench script runs it without a build):
// many copies of the sessions the real agent CLIs wrote (fixtures/), each copy with its own ids, its
// own project folders (one of `groups` variants of every fixture project) and its timestamps moved
// so that copy k starts `k × copyMinutes` after `start` (default 2026-01-05): the files look like a
// long history of work, and homes generated with the same start and rate overlap in time.
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?Z/g;
const MINUTE = 60_000;
const START = Date.parse("2026-01-05T08:00:00.000Z");

/** How far to move a template's times so that its first one is `start`. */
function offsetTo(start, texts) {
  let first = Number.POSITIVE_INFINITY;
  for (const t of texts) for (const m of t.match(ISO) ?? []) first = Math.min(first, Date.parse(m));
  return start - first;
}

function files(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** A copy's transform of text and paths: UUIDs start with the copy number, times move, the harness run folder names the group. */
function copier(k, group, shiftMs) {
  const hex = (k & 0xffff).toString(16).padStart(4, "0");
  const code = `g${String(group).padStart(5, "0")}`;
  const uuid = (s) =>
    s.replace(UUID, (u) => `${hex}${u.slice(4)}`).replace(/(session-[^/]*-)([0-9a-f]{8})(\.jsonl?)$/, (_m, a, id8, b) => `${a}${hex}${id8.slice(4)}${b}`);
  const run = (s) => s.replace(/(claude|gemini)-harness-run([.-])[A-Za-z0-9]{6}/g, (_m, agent, sep) => `${agent}-harness-run${sep}${code}`);
  const time = (s) => s.replace(ISO, (t) => new Date(Date.parse(t) + shiftMs).toISOString());
  return { text: (s) => time(run(uuid(s))), path: (s) => run(uuid(s)) };
}

/** `YYYY-MM-DDTHH-MM[-SS]` stamps in file names move with the copy's times. */
function shiftNameStamp(name, shiftMs) {
  // Seconds only when a `-` follows (Codex: `T09-36-58-<uuid>`); a Gemini CLI chat's id may start with digits.
  return name.replace(/(\d{4})-(\d\d)-(\d\d)T(\d\d)-(\d\d)(-(\d\d)(?=-))?/, (_m, y, mo, d, h, mi, _s, s) => {
    const t = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, s ? +s : 0) + shiftMs).toISOString();
    return `${t.slice(0, 10)}T${t.slice(11, 13)}-${t.slice(14, 16)}${s ? `-${t.slice(17, 19)}` : ""}`;
  });
}

/** Written files by path: the first and last time they record (ms). */
const written = new Map();

function writeCopy(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  const times = text.match(ISO);
  if (times) written.set(path, [Date.parse(times[0]), Date.parse(times[times.length - 1])]);
}

/**
 * File and folder times as the agent would have left them: a file was last
 * written at its last record, a folder last changed when its newest entry
 * was created (at that entry's first record).
 */
function settleTimes(home) {
  const dirs = new Map();
  for (const [path, [first, last]] of written) {
    if (!path.startsWith(home)) continue;
    utimesSync(path, new Date(last), new Date(last));
    for (let d = dirname(path); d.length >= home.length; d = dirname(d)) dirs.set(d, Math.max(dirs.get(d) ?? 0, first));
  }
  for (const [d, t] of [...dirs].sort((a, b) => b[0].length - a[0].length)) utimesSync(d, new Date(t), new Date(t));
  for (const p of [...written.keys()]) if (p.startsWith(home)) written.delete(p);
}

/**
 * A Claude Code config dir of about `sessions` sessions, from the 2.1.112 fixture (every
 * `bigEvery`-th copy from 2.1.332, whose transcripts are ten times bigger). Returns the ids written.
 */
export function generateClaudeHome(home, { sessions, groups = 20, copyMinutes = 10, bigEvery = 10, start = START }) {
  const ids = [];
  const templates = ["2.1.112", "2.1.332"].map((v) => {
    const root = join(FIXTURES, "claude-code", v);
    return { root, files: files(join(root, "projects")).map((p) => ({ rel: relative(root, p), text: readFileSync(p, "utf8") })) };
  });
  for (const t of templates)
    t.offset = offsetTo(
      start,
      t.files.map((f) => f.text),
    );
  for (let k = 0; ids.length < sessions; k++) {
    const t = templates[bigEvery > 0 && k % bigEvery === bigEvery - 1 ? 1 : 0];
    const c = copier(k, k % groups, t.offset + k * copyMinutes * MINUTE);
    // The last copy is cut at `sessions`: a session left out leaves out its sub-agents too.
    const copy = t.files.map((f) => ({ rel: c.path(f.rel), text: f.text }));
    const keep = new Set();
    for (const f of copy) {
      const m = /^projects\/[^/]+\/([0-9a-f-]{36})\.jsonl$/.exec(f.rel);
      if (m && ids.length < sessions) {
        ids.push(m[1]);
        keep.add(m[1]);
      }
    }
    for (const f of copy) {
      const owner = /^projects\/[^/]+\/([0-9a-f-]{36})[./]/.exec(f.rel)?.[1];
      if (owner === undefined || keep.has(owner)) writeCopy(join(home, f.rel), c.text(f.text));
    }
  }
  settleTimes(home);
  return ids;
}

/** A Gemini CLI dir of about `sessions` sessions from the 0.61.0 fixture (JSONL chats, `projects.json`). */
export function generateGeminiHome(home, { sessions, groups = 20, copyMinutes = 10, start = START }) {
  const root = join(FIXTURES, "gemini-cli", "0.61.0", "gemini");
  const registry = JSON.parse(readFileSync(join(root, "projects.json"), "utf8")).projects;
  const tpl = files(join(root, "tmp")).map((p) => ({ rel: relative(root, p), text: readFileSync(p, "utf8") }));
  const projects = {};
  const ids = new Set();
  const offset = offsetTo(
    start,
    tpl.map((f) => f.text),
  );
  for (let k = 0; ids.size < sessions; k++) {
    const group = k % groups;
    // Whole minutes, so a chat's name (its start minute) moves with its header.
    const shift = Math.round((offset + k * copyMinutes * MINUTE) / MINUTE) * MINUTE;
    const c = copier(k, group, shift);
    for (const [path, name] of Object.entries(registry)) projects[c.text(path)] = `${name}-${group}`;
    const copy = [];
    for (const f of tpl) {
      const parts = f.rel.split("/");
      // tmp/<project>/…: the project folder is the group's variant of it.
      if (parts.length < 3 || parts[1] === "background-processes") continue;
      parts[1] = `${parts[1]}-${group}`;
      const last = parts.length - 1;
      parts[last] = shiftNameStamp(parts[last], shift);
      const text = c.text(f.text);
      const main = /^session-.*\.jsonl$/.test(parts[last]) ? /"sessionId":"([0-9a-f-]{36})"/.exec(text)?.[1] : undefined;
      // A sub-agent's chat is in chats/<parent id>/: it goes with its parent.
      const owner = main ?? (parts[2] === "chats" && parts.length === 5 ? c.path(parts[3]) : undefined);
      copy.push({ rel: c.path(parts.join("/")), text, main, owner });
    }
    // The last copy is cut at `sessions`: a session left out leaves out its other files and sub-agents too.
    for (const f of copy) if (f.main !== undefined && !ids.has(f.main) && ids.size < sessions) ids.add(f.main);
    for (const f of copy) if (f.owner === undefined || ids.has(f.owner)) writeCopy(join(home, f.rel), f.text);
  }
  writeCopy(join(home, "projects.json"), `${JSON.stringify({ projects }, null, 2)}\n`);
  settleTimes(home);
  return [...ids];
}

/** A Codex home of `sessions` rollouts from the 0.169.0 fixture, in dated folders named in UTC (run readers with TZ=UTC). */
export function generateCodexHomeFromFixtures(home, { sessions, copyMinutes = 10, start = START }) {
  const root = join(FIXTURES, "codex", "0.169.0");
  const tpl = files(join(root, "sessions")).map((p) => ({ name: p.split("/").pop(), text: readFileSync(p, "utf8") }));
  const ids = [];
  const offset = offsetTo(
    start,
    tpl.map((f) => f.text),
  );
  for (let k = 0; ids.length < sessions; k++) {
    // Whole seconds, so a rollout's name moves with its times.
    const shift = Math.round((offset + k * copyMinutes * MINUTE) / 1000) * 1000;
    const c = copier(k, 0, shift);
    for (const f of tpl) {
      if (ids.length >= sessions) break;
      const name = c.path(shiftNameStamp(f.name, shift));
      const m = /^rollout-(\d{4})-(\d\d)-(\d\d)T.*-([0-9a-f-]{36})\.jsonl$/.exec(name);
      ids.push(m[4]);
      writeCopy(join(home, "sessions", m[1], m[2], m[3], name), c.text(f.text));
    }
  }
  settleTimes(home);
  return ids;
}

/** Total bytes of the files under `dir`. */
export function treeBytes(dir) {
  return files(dir).reduce((n, p) => n + statSync(p).size, 0);
}
