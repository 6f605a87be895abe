process.env.TZ = "UTC";

import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFileSync, readdirSync, statSync, type Dirent } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { FIXTURES, fixtureRollouts } from "@sessionvault/testing/codex-fixtures";
import { generateCodexHome } from "@sessionvault/testing/codex-home";
import { assertCliBuilt } from "./support/process-tree.js";

const CLI_BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
/** Every wait below is for an event or a file; this only bounds a broken run. */
const DEADLINE_MS = 60_000;

let dir: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  assertCliBuilt(["commands/sync-watch.ts"]);
  dir = await mkdtemp(join(tmpdir(), "sv-sync-watch-"));
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface WatchEvent {
  event: string;
  session_id?: string;
  lines_sent?: number;
  new?: boolean;
  [k: string]: unknown;
}

/** `sessionvault sync --watch --json` as a child process, its events parsed as they come. */
class WatchRun {
  readonly child: ChildProcess;
  readonly events: WatchEvent[] = [];
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: (() => void)[] = [];

  constructor(args: string[], home = dir, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [CLI_BIN, "sync", "--watch", "--json", ...args], {
      env: { PATH: process.env.PATH, TZ: "UTC", HOME: home, XDG_CACHE_HOME: join(dir, "cache"), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buf = "";
    this.child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
        this.events.push(JSON.parse(buf.slice(0, nl)) as WatchEvent);
        buf = buf.slice(nl + 1);
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString("utf8")));
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => {
      for (const w of this.#waiters.splice(0)) w();
    });
    children.push(this.child);
  }

  /** Resolves once the events seen so far satisfy `done`; fails if the process exits first or the deadline passes. */
  async until(what: string, done: (events: WatchEvent[]) => boolean): Promise<void> {
    const deadline = Date.now() + DEADLINE_MS;
    while (!done(this.events)) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`sync --watch exited before ${what}:\n${this.stderr}\n${JSON.stringify(this.events)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${DEADLINE_MS} ms:\n${this.stderr}\n${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Lines sent for one session, over every `session` event so far. */
  linesSent(id: string): number {
    return this.events.filter((e) => e.event === "session" && e.session_id === id).reduce((n, e) => n + (e.lines_sent ?? 0), 0);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal);
    return this.exited;
  }
}

/** Rollout files of a Codex home by session id (every path found: a duplicate would show as two). */
function rolloutsById(home: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (d: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      const m = /^rollout-.*-([0-9a-f-]{36})\.jsonl$/.exec(e.name);
      if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), p]);
      else if (e.isDirectory() && /^\d+$/.test(e.name)) walk(p);
    }
  };
  walk(join(home, "sessions"));
  walk(join(home, "archived_sessions"));
  return out;
}

async function expectSameRollout(source: string, target: string, id: string): Promise<void> {
  const theirs = rolloutsById(target).get(id);
  expect(theirs, `session ${id} in the target`).toHaveLength(1);
  expect((await readFile(theirs![0]!)).equals(await readFile(source)), `rollout ${id} byte-identical`).toBe(true);
}

/** Real Codex lines (the body of the longest fixture rollout) to append to a rollout. */
async function codexLines(): Promise<string[]> {
  let best: string[] = [];
  for (const r of fixtureRollouts("0.169.0")) {
    const lines = (await readFile(r.path, "utf8")).split("\n").filter((l) => l !== "" && !l.includes('"session_meta"'));
    if (lines.length > best.length) best = lines;
  }
  return best;
}

test("a Codex session appended to while sync --watch runs reaches the target line by line, and a new session in a new day folder appears whole", async () => {
  const home = join(dir, "grow-home");
  const target = join(dir, "grow-target");
  await cp(join(FIXTURES, "0.169.0"), home, { recursive: true });
  // No rescan during the test: what arrives comes through the watch.
  const run = new WatchRun(["--from", home, "--to", target, "--rescan", "3600"]);
  await run.until("the first sync and the watch", (ev) => ev.some((e) => e.event === "watching"));
  expect(run.events.find((e) => e.event === "synced")).toMatchObject({ first: true, sessions_sent: 16, errors: [] });

  const growing = fixtureRollouts("0.169.0").find((r) => !r.archived)!;
  const rollout = join(home, growing.path.slice(join(FIXTURES, "0.169.0").length));
  const lines = (await codexLines()).slice(0, 20);
  expect(lines).toHaveLength(20);
  let appended = 0;
  // Five turns, written a line at a time as Codex does; the last line of each lands in two writes (a reader may see it half-written).
  for (let turn = 0; turn < 5; turn++) {
    for (const [i, line] of lines.slice(turn * 4, turn * 4 + 4).entries()) {
      if (i === 3) {
        appendFileSync(rollout, line.slice(0, 10));
        appendFileSync(rollout, line.slice(10) + "\n");
      } else appendFileSync(rollout, line + "\n");
      appended++;
    }
    const want = appended;
    await run.until(`turn ${turn} of ${growing.id} in the target`, () => run.linesSent(growing.id) === want);
  }
  expect(run.linesSent(growing.id)).toBe(20);
  await expectSameRollout(rollout, target, growing.id);

  // A session started while the watch runs, in a day folder that does not exist yet.
  const template = fixtureRollouts("0.169.0").find((r) => !r.archived)!;
  const id = `01a1fd77-${randomUUID().slice(9, 13)}-7${randomUUID().slice(15)}`;
  const text = (await readFile(template.path, "utf8")).replaceAll(template.id, id);
  const day = join(home, "sessions", "2026", "12", "02");
  await mkdir(day, { recursive: true });
  const fresh = join(day, `rollout-2026-12-02T07-00-00-${id}.jsonl`);
  await writeFile(fresh, text);
  await run.until(`new session ${id}`, (ev) => ev.some((e) => e.event === "session" && e.session_id === id && e.new === true));
  expect(run.linesSent(id)).toBe(text.split("\n").length - 1);
  await expectSameRollout(fresh, target, id);
  // Only the changed sessions were sent: no other session appears in any event.
  const touched = new Set(run.events.filter((e) => e.event === "session").map((e) => e.session_id));
  expect([...touched].sort()).toEqual([growing.id, id].sort());

  expect(await run.stop("SIGINT")).toEqual({ code: 0, signal: null });
  expect(run.events.at(-1)).toMatchObject({ event: "stopped", signal: "SIGINT" });
}, 120_000);

test("sync --watch between two Codex homes copies bytes as sync does: a line that is not UTF-8 arrives byte for byte, in the first pass and through the watch", async () => {
  const home = join(dir, "bytes-home");
  const target = join(dir, "bytes-target");
  await cp(join(FIXTURES, "0.169.0"), home, { recursive: true });
  const [before, during] = fixtureRollouts("0.169.0").filter((r) => !r.archived);
  const at = (r: { path: string }) => join(home, r.path.slice(join(FIXTURES, "0.169.0").length));
  // A line holding a byte that is not UTF-8 (a decoded copy would turn it into U+FFFD).
  const notUtf8 = (n: number) =>
    Buffer.concat([
      Buffer.from(`{"timestamp":"2026-11-21T09:5${n}:00.000Z","type":"event_msg","payload":{"type":"agent_message","message":"caf`),
      Buffer.from([0xe9, 0xff]),
      Buffer.from('"}}\n'),
    ]);
  appendFileSync(at(before!), notUtf8(0));

  const run = new WatchRun(["--from", home, "--to", target, "--rescan", "3600"]);
  await run.until("the first sync and the watch", (ev) => ev.some((e) => e.event === "watching"));
  await expectSameRollout(at(before!), target, before!.id);

  appendFileSync(at(during!), notUtf8(1));
  await run.until(`the line of ${during!.id}`, () => run.linesSent(during!.id) === 1);
  await expectSameRollout(at(during!), target, during!.id);
  expect(await run.stop("SIGINT")).toEqual({ code: 0, signal: null });
}, 120_000);

test("SIGTERM in the middle of the first sync, then again while watching, then a rerun: every rollout byte-identical, none twice", async () => {
  const home = join(dir, "kill-home");
  const target = join(dir, "kill-target");
  // ~300 sessions: the first sync takes long enough to be cut in the middle.
  const generated = await generateCodexHome(home, { sessions: 300, repeat: 2 });

  const first = new WatchRun(["--from", home, "--to", target]);
  // Cut as soon as the first lines have landed (a session's file is created before its first append).
  await expect.poll(() => [...rolloutsById(target).values()].some((paths) => statSize(paths[0]!) > 0), { timeout: DEADLINE_MS, interval: 20 }).toBe(true);
  expect(await first.stop()).toEqual({ code: 0, signal: null });
  const stopped = first.events.at(-1)!;
  expect(stopped).toMatchObject({ event: "stopped", signal: "SIGTERM" });
  // It was cut before the first sync ended, and it says what it sent.
  expect(first.events.some((e) => e.event === "synced")).toBe(false);
  expect(stopped.lines_sent as number).toBeLessThan(generated.totalLines);
  expect(stopped.lines_sent as number).toBeGreaterThan(0);

  // Rerun: it completes the first sync, then a session grows while it watches, and it is stopped again.
  const second = new WatchRun(["--from", home, "--to", target]);
  await second.until("the first sync and the watch", (ev) => ev.some((e) => e.event === "watching"));
  const synced = second.events.find((e) => e.event === "synced")!;
  expect(synced.lines_sent as number).toBe(generated.totalLines - (stopped.lines_sent as number));
  const growing = generated.sessions.find((s) => !s.archived)!;
  const more = (await codexLines()).slice(0, 12);
  for (const line of more) appendFileSync(growing.path, line + "\n");
  await second.until(`the new lines of ${growing.id}`, () => second.linesSent(growing.id) === more.length);
  for (const line of more) appendFileSync(growing.path, line + "\n");
  // Stopped right after the second burst: whatever it sent of it, a rerun sends the rest and nothing twice.
  expect(await second.stop()).toEqual({ code: 0, signal: null });

  const third = new WatchRun(["--from", home, "--to", target]);
  await third.until("the first sync and the watch", (ev) => ev.some((e) => e.event === "watching"));
  expect(await third.stop()).toEqual({ code: 0, signal: null });
  const sent = second.linesSent(growing.id) + (third.events.find((e) => e.event === "synced")!.lines_sent as number);
  expect(sent).toBe(more.length * 2);

  const targetFiles = rolloutsById(target);
  expect(targetFiles.size).toBe(generated.sessions.length);
  for (const s of generated.sessions) await expectSameRollout(s.path, target, s.id);
}, 240_000);

test("--watch refuses --dry-run and an OpenTelemetry target; --help explains it", async () => {
  const { runCli } = await import("./support/run-cli.js");
  const dry = await runCli(["sync", "--watch", "--dry-run", "--from", dir, "--to", join(dir, "x")]);
  expect(dry.code).toBe(2);
  expect(dry.stderr).toContain("--dry-run cannot be combined with --watch");
  const otlp = await runCli(["sync", "--watch", "--from", dir, "--to", "otlp+http://127.0.0.1:4318"]);
  expect(otlp.code).toBe(2);
  const rescan = await runCli(["sync", "--watch", "--rescan", "0", "--from", dir, "--to", join(dir, "x")]);
  expect(rescan.code).toBe(2);
  expect(rescan.stderr).toContain("--rescan must be a number of seconds");
  const help = await runCli(["sync", "--help"]);
  expect(help.out).toMatch(/--watch/);
  expect(help.out).toMatch(/--rescan <seconds>/);
});

test("with no --from, every local agent home is watched (here a Codex home and a Claude Code config dir)", async () => {
  const home = join(dir, "default-home");
  await cp(join(FIXTURES, "0.169.0"), join(home, ".codex"), { recursive: true });
  await cp(join(FIXTURES, "..", "claude-code", "2.1.332", "projects"), join(home, ".claude", "projects"), { recursive: true });
  const run = new WatchRun(["--to", join(dir, "default-target")], home);
  await run.until("both homes watched", (ev) => ev.filter((e) => e.event === "watching").length === 2);
  const watching = run.events.filter((e) => e.event === "watching").map((e) => [e.agent, e.dir]);
  expect(watching.sort()).toEqual([
    ["claude-code", join(home, ".claude", "projects")],
    ["codex", join(home, ".codex")],
  ]);
  expect(run.events.find((e) => e.event === "synced" && e.agent === "codex")).toMatchObject({ sessions_sent: 16 });
  expect(await run.stop()).toEqual({ code: 0, signal: null });
});

test("serve --import keeps importing a Codex home into the org while it serves, and stops with the server", async () => {
  const { serve } = await import("../src/commands/serve.js");
  const { FsStore } = await import("@sessionvault/fs-store");
  const { PassThrough } = await import("node:stream");
  const home = join(dir, "serve-home");
  await cp(join(FIXTURES, "0.169.0"), home, { recursive: true });
  const data = join(dir, "serve-data");
  const stderr = new PassThrough();
  let err = "";
  stderr.on("data", (c: Buffer) => (err += c.toString()));
  const ctx = { stdout: new PassThrough(), stderr, env: { HOME: dir, LOG_LEVEL: "silent", XDG_CACHE_HOME: join(dir, "cache") }, cwd: dir };
  const abort = new AbortController();
  let url = "";
  const serving = serve(
    { store: data, port: 0, signal: abort.signal, import: [home], importOrg: "acme", importRescan: "3600", onListening: (u) => (url = u) },
    ctx,
  );
  await expect.poll(() => url, { timeout: DEADLINE_MS }).not.toBe("");
  expect(err).toContain(`importing ${home} into org acme`);

  const acme = new FsStore({ root: data, org: "acme" });
  const count = async () => (await acme.listSessions({ archived: "all", limit: 100 })).sessions.length;
  await expect.poll(count, { timeout: DEADLINE_MS }).toBe(16);
  // A session written while it serves: the watch (no rescan in this test) brings it in.
  const template = fixtureRollouts("0.169.0").find((r) => !r.archived)!;
  const id = `01a1fd77-${randomUUID().slice(9, 13)}-7${randomUUID().slice(15)}`;
  const text = (await readFile(template.path, "utf8")).replaceAll(template.id, id);
  await mkdir(join(home, "sessions", "2026", "12", "03"), { recursive: true });
  await writeFile(join(home, "sessions", "2026", "12", "03", `rollout-2026-12-03T07-00-00-${id}.jsonl`), text);
  await expect.poll(async () => (await acme.getSession(id).catch(() => null))?.lines ?? 0, { timeout: DEADLINE_MS }).toBe(text.split("\n").length - 1);
  await acme.close();
  abort.abort();
  await serving;
});

test("the archive server going away while sync --watch runs: the pass is retried, and the lines arrive once it is back", async () => {
  const { createApiToken, startServer } = await import("@sessionvault/server");
  const { FsStore } = await import("@sessionvault/fs-store");
  const data = join(dir, "retry-data");
  let server = await startServer({ store: data, port: 0, logger: false });
  const port = Number(new URL(server.url).port);
  const { token } = await createApiToken(server.tokens, "acme", ["write"]);
  const home = join(dir, "retry-home");
  await cp(join(FIXTURES, "0.169.0"), home, { recursive: true });
  const run = new WatchRun(["--from", home, "--to", server.url, "--rescan", "3600"], dir, { SESSIONVAULT_TOKEN: token });
  try {
    await run.until("the first sync and the watch", (ev) => ev.some((e) => e.event === "watching"));
    await server.close();

    const growing = fixtureRollouts("0.169.0").find((r) => !r.archived)!;
    const rollout = join(home, growing.path.slice(join(FIXTURES, "0.169.0").length));
    const more = (await codexLines()).slice(0, 5);
    for (const line of more) appendFileSync(rollout, line + "\n");
    await run.until("a failed pass to be retried", (ev) => ev.some((e) => e.event === "warning" && /retrying in \d+ s: cannot reach/.test(String(e.message))));
    expect(run.linesSent(growing.id)).toBe(0);

    server = await startServer({ store: data, port, logger: false });
    await run.until(`the lines of ${growing.id} once the server is back`, () => run.linesSent(growing.id) === more.length);
    const stored = new FsStore({ root: data, org: "acme" });
    const lines: string[] = [];
    for await (const l of stored.readStream(growing.id, "rollout")) lines.push(l);
    await stored.close();
    expect(lines.join("\n") + "\n").toBe(await readFile(rollout, "utf8"));
    expect(await run.stop()).toEqual({ code: 0, signal: null });
  } finally {
    await server.close();
  }
}, 120_000);

test("a session written while a pass runs is synced right after that pass, with no further change to wake the watch", async () => {
  const home = join(dir, "during-home");
  const target = join(dir, "during-target");
  // Enough sessions that the first pass is still running after its first session has landed.
  const generated = await generateCodexHome(home, { sessions: 300, repeat: 2 });
  // The first pass goes newest first: the newest session lands early.
  const newest = generated.sessions.filter((s) => !s.archived).at(-1)!;
  const run = new WatchRun(["--from", home, "--to", target, "--rescan", "3600"]);
  await expect.poll(() => rolloutsById(target).get(newest.id)?.length ?? 0, { timeout: DEADLINE_MS, interval: 10 }).toBe(1);
  await expect.poll(() => statSize(rolloutsById(target).get(newest.id)![0]!), { timeout: DEADLINE_MS, interval: 10 }).toBe(newest.bytes);
  const more = (await codexLines()).slice(0, 3);
  for (const line of more) appendFileSync(newest.path, line + "\n");
  // The append came while the first pass was still running, after it had sent this session.
  expect(run.events.some((e) => e.event === "synced")).toBe(false);
  await run.until(`the lines appended to ${newest.id} during the first pass`, () => run.linesSent(newest.id) === more.length);
  await expectSameRollout(newest.path, target, newest.id);
  expect(await run.stop()).toEqual({ code: 0, signal: null });
}, 120_000);

function statSize(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? -1;
}

test("without --json: the summary of the first sync, the watching line, one line per session sent, and a closing line", async () => {
  const home = join(dir, "text-home");
  const target = join(dir, "text-target");
  await cp(join(FIXTURES, "0.169.0"), home, { recursive: true });
  const child = spawn(process.execPath, [CLI_BIN, "sync", "--watch", "--from", home, "--to", target, "--rescan", "3600"], {
    env: { PATH: process.env.PATH, TZ: "UTC", HOME: dir, XDG_CACHE_HOME: join(dir, "cache") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const waitFor = (re: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${re} within ${DEADLINE_MS} ms:\n${out}`)), DEADLINE_MS);
      const check = () => {
        if (!re.test(out)) return;
        clearTimeout(timer);
        child.stdout!.off("data", check);
        resolve();
      };
      child.stdout!.on("data", check);
      check();
    });
  child.stdout!.on("data", (d: Buffer) => (out += d.toString("utf8")));
  await waitFor(/watching .* \(codex\) for new and growing sessions/);
  expect(out).toContain(`sent 16 of 16 sessions, 424 lines (775.0 KiB) from ${home} to ${target}`);
  const growing = fixtureRollouts("0.169.0").find((r) => !r.archived)!;
  const rollout = join(home, growing.path.slice(join(FIXTURES, "0.169.0").length));
  for (const line of (await codexLines()).slice(0, 2)) appendFileSync(rollout, line + "\n");
  await waitFor(new RegExp(`^\\d\\d:\\d\\d:\\d\\d codex ${growing.id} \\+2 line\\(s\\) \\(\\d+(\\.\\d)? KiB\\)$`, "m"));
  child.kill("SIGTERM");
  expect(await exited).toBe(0);
  expect(out).toMatch(/^stopped \(SIGTERM\): sent 426 lines \(.*\) in 17 session update\(s\)$/m);
});
