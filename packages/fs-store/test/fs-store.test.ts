import { spawn } from "node:child_process";
import { lstatSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { appendFile, cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ConflictError, IoError, type SessionInput } from "@sessionvault/core";
import { sessionHeadLines } from "@sessionvault/core/conformance";
import { FsStore } from "@sessionvault/fs-store";
import { zstdRawFrame } from "./support/zstd-frame.ts";

const FIXTURES = fileURLToPath(new URL("../../../fixtures/codex/", import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempHome(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "sv-fs-"));
  dirs.push(d);
  return d;
}

function input(id: string, over: Partial<SessionInput> = {}): SessionInput {
  return {
    id,
    created_at: "2026-11-21T09:36:57.445Z",
    cwd: "/w",
    title: "first task",
    archived: false,
    source: "exec",
    originator: "codex_exec",
    cli_version: "0.169.0",
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
    ...over,
  };
}

const pad = (n: number) => String(n).padStart(2, "0");

describe("fs-store writes Codex's layout", () => {
  it("creates the dated file (0600) in dated folders (0700), session_meta first, and links it from sessions/<id>/", async () => {
    const root = await tempHome();
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7240";
    const inp = input(id);
    await store.putSession(inp);
    await store.append(id, "rollout", 0, sessionHeadLines(inp));
    const c = new Date(inp.created_at);
    const day = join(root, "sessions", String(c.getFullYear()), pad(c.getMonth() + 1), pad(c.getDate()));
    const name = `rollout-${c.getFullYear()}-${pad(c.getMonth() + 1)}-${pad(c.getDate())}T${pad(c.getHours())}-${pad(c.getMinutes())}-${pad(c.getSeconds())}-${id}.jsonl`;
    const file = join(day, name);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    for (const d of [day, join(day, ".."), join(day, "../.."), join(root, "sessions", id)]) expect((await stat(d)).mode & 0o777).toBe(0o700);
    const first = JSON.parse(readFileSync(file, "utf8").split("\n")[0]!);
    expect(first).toMatchObject({ type: "session_meta", payload: { id, cwd: "/w" } });
    const link = join(root, "sessions", id, "rollout.jsonl");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(realpathSync(link)).toBe(realpathSync(file));
    expect(readlinkSync(link).startsWith("/")).toBe(false);
    expect(await store.streamFile(id, "rollout")).toBe(file);
  });

  it("writes other streams to sessions/<id>/ under Codex's file names", async () => {
    const root = await tempHome();
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7241";
    await store.putSession(input(id));
    await store.append(id, "debug-log", 0, ["boot"]);
    await store.append(id, "raw-api", 0, ['{"direction":"request"}']);
    await store.append(id, "meta-events", 0, ['{"event":"start"}']);
    await store.append(id, "notes", 0, ["n"]);
    const dir = join(root, "sessions", id);
    expect(readFileSync(join(dir, "session.log"), "utf8")).toBe("boot\n");
    expect(readFileSync(join(dir, "session_oai_raw.log"), "utf8")).toBe('{"direction":"request"}\n');
    expect(readFileSync(join(dir, "session_meta.log"), "utf8")).toBe('{"event":"start"}\n');
    expect(readFileSync(join(dir, "notes.jsonl"), "utf8")).toBe("n\n");
    expect((await stat(join(dir, "session.log"))).mode & 0o777).toBe(0o600);
  });

  it("archiving moves the file to archived_sessions/ and back", async () => {
    const root = await tempHome();
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7242";
    const inp = input(id);
    await store.putSession(inp);
    await store.append(id, "rollout", 0, sessionHeadLines(inp));
    await store.putSession({ ...inp, archived: true });
    const path = (await store.streamFile(id, "rollout"))!;
    expect(path.startsWith(join(root, "archived_sessions") + "/")).toBe(true);
    expect((await store.getSession(id)).archived).toBe(true);
    expect(realpathSync(join(root, "sessions", id, "rollout.jsonl"))).toBe(realpathSync(path));
    await store.putSession(inp);
    expect((await store.getSession(id)).archived).toBe(false);
    expect((await store.getSession(id)).lines).toBe(3);
  });

  it("reads a rollout that another process moved after this store listed it, and says NotFound once it is gone", async () => {
    const root = await tempHome();
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7243";
    const inp = input(id);
    await store.putSession(inp);
    await store.append(id, "rollout", 0, sessionHeadLines(inp));
    expect((await store.listSessions({})).sessions.map((s) => s.id)).toEqual([id]);
    const path = (await store.streamFile(id, "rollout"))!;
    // Codex archives it behind our back: the listed path no longer exists.
    await mkdir(join(root, "archived_sessions"), { recursive: true });
    const moved = join(root, "archived_sessions", path.slice(path.lastIndexOf("/") + 1));
    await rename(path, moved);
    const lines: string[] = [];
    for await (const l of store.readStream(id, "rollout")) lines.push(l);
    expect(lines).toEqual(sessionHeadLines(inp));
    await rm(moved);
    await expect(async () => {
      for await (const _ of store.readStream(id, "rollout")) void _;
    }).rejects.toThrow(/no session/);
  });

  it("takes thread names from session_index.jsonl, last line per id wins", async () => {
    const root = await tempHome();
    await cp(join(FIXTURES, "0.169.0", "sessions"), join(root, "sessions"), { recursive: true });
    const store = new FsStore({ root });
    const [a, b] = (await store.listSessions({ limit: 2 })).sessions;
    await writeFile(
      join(root, "session_index.jsonl"),
      [
        JSON.stringify({ id: a!.id, thread_name: "old name", updated_at: "2026-11-21T10:00:00Z" }),
        "garbage line",
        JSON.stringify({ id: a!.id, thread_name: "Renamed thread", updated_at: "2026-11-21T10:01:00Z" }),
      ].join("\n") + "\n",
    );
    const page = (await store.listSessions({ limit: 2 })).sessions;
    expect(page[0]!.title).toBe("Renamed thread");
    expect(page[1]!.title).toBe(b!.title);
    expect((await store.getSession(a!.id)).title).toBe("Renamed thread");
  });
});

describe("fs-store appends", () => {
  it("cuts a torn last line (a crashed writer's) before appending, so the file reads cleanly", async () => {
    const root = await tempHome();
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7243";
    const inp = input(id);
    await store.putSession(inp);
    const head = sessionHeadLines(inp);
    await store.append(id, "rollout", 0, head);
    const path = (await store.streamFile(id, "rollout"))!;
    await appendFile(path, '{"timestamp":"2026-11-21T09:40:00.000Z","type":"event_m');
    // The torn tail is not committed: position and reads ignore it.
    expect((await store.getSession(id)).lines).toBe(3);
    const read: string[] = [];
    for await (const l of store.readStream(id, "rollout")) read.push(l);
    expect(read).toEqual(head);
    const bytes: Buffer[] = [];
    for await (const b of store.readStreamBytes(id, "rollout")) bytes.push(Buffer.from(b));
    expect(Buffer.concat(bytes).toString("utf8")).toBe(head.join("\n") + "\n");
    await expect(store.append(id, "rollout", 4, ["x"])).rejects.toMatchObject({ currentSeq: 3 });
    await store.append(id, "rollout", 3, ['{"timestamp":"2026-11-21T09:41:00.000Z","type":"event_msg","payload":{"type":"x"}}']);
    expect(readFileSync(path, "utf8")).toBe([...head, '{"timestamp":"2026-11-21T09:41:00.000Z","type":"event_msg","payload":{"type":"x"}}'].join("\n") + "\n");
    expect((await store.getSession(id)).updated_at).toBe("2026-11-21T09:41:00.000Z");
  });

  it("a line that is not UTF-8 keeps its position in readStream (replaced and reported) and its bytes in readStreamBytes", async () => {
    const root = await tempHome();
    const warnings: string[] = [];
    const store = new FsStore({ root, onWarning: (m) => warnings.push(m) });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7248";
    await store.putSession(input(id));
    await store.append(id, "rollout", 0, ["a"]);
    const path = (await store.streamFile(id, "rollout"))!;
    await appendFile(path, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    await store.append(id, "rollout", 2, ["c"]);
    const lines: string[] = [];
    for await (const l of store.readStream(id, "rollout")) lines.push(l);
    expect(lines).toEqual(["a", "caf\ufffd", "c"]);
    expect(warnings).toEqual([expect.stringMatching(/line 2 is not valid UTF-8/)]);
    const tail: string[] = [];
    for await (const l of store.readStream(id, "rollout", { fromSeq: 2 })) tail.push(l);
    expect(tail).toEqual(["c"]);
    const bytes: Buffer[] = [];
    for await (const b of store.readStreamBytes(id, "rollout")) bytes.push(Buffer.from(b));
    expect(Buffer.concat(bytes).equals(Buffer.from([0x61, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a, 0x63, 0x0a]))).toBe(true);
  });

  it("recounts when another program appended to the file behind its back", async () => {
    const root = await tempHome();
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7244";
    await store.putSession(input(id));
    await store.append(id, "rollout", 0, ["a", "b"]);
    await appendFile((await store.streamFile(id, "rollout"))!, "c\nd\n");
    await expect(store.append(id, "rollout", 2, ["x"])).rejects.toBeInstanceOf(ConflictError);
    expect(await store.append(id, "rollout", 4, ["e"])).toEqual({ seq: 5 });
  });

  it("two stores racing at the same position: exactly one wins", async () => {
    const root = await tempHome();
    const a = new FsStore({ root });
    const b = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7245";
    await a.putSession(input(id));
    for (let seq = 0; seq < 20; seq++) {
      const results = await Promise.allSettled([a.append(id, "debug-log", seq, [`a${seq}`]), b.append(id, "debug-log", seq, [`b${seq}`])]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(lost.reason).toBeInstanceOf(ConflictError);
      expect(lost.reason.currentSeq).toBe(seq + 1);
    }
    const lines = readFileSync(join(root, "sessions", id, "session.log"), "utf8").split("\n");
    expect(lines).toHaveLength(21);
  });

  it("a lock file left by a killed writer never blocks; a live holder (an OS lock, whatever its pid) makes an append wait, then fail naming it", async () => {
    const root = await tempHome();
    const store = new FsStore({ root, lockTimeoutMs: 300 });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7246";
    await store.putSession(input(id));
    const path = (await store.streamFile(id, "rollout"))!;
    const lockPath = join(root, ".sessionvault", "locks", `${id}.lock`);
    // A holder that is SIGKILLed while holding the lock: the kernel drops its lock with it.
    const killed = await holdLock(lockPath, "4242");
    killed.kill("SIGKILL");
    await new Promise((r) => killed.once("exit", r));
    expect(readFileSync(lockPath, "utf8")).toBe("elsewhere pid 4242 owner test");
    expect(await store.append(id, "rollout", 0, ["one"])).toEqual({ seq: 1 });

    // A live holder, even one whose lock file names our own pid (as PID 1 in two containers would).
    const live = await holdLock(lockPath, String(process.pid));
    try {
      const err = await store.append(id, "rollout", 1, ["two"]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IoError);
      expect((err as Error).message).toContain(`is held by elsewhere pid ${process.pid} owner test for more than 300 ms`);
      expect(readFileSync(path, "utf8")).toBe("one\n");
    } finally {
      live.kill("SIGKILL");
      await new Promise((r) => live.once("exit", r));
    }
    expect(await store.append(id, "rollout", 1, ["two"], { durable: true })).toEqual({ seq: 2 });
  });
});

/** A separate process that holds the OS lock on `lockPath` (naming `pid` as its holder in it) until killed. */
async function holdLock(lockPath: string, pid: string): Promise<ReturnType<typeof spawn>> {
  const script = `
    const fs = require("node:fs");
    const { lock } = require("os-lock");
    const fd = fs.openSync(process.argv[1], "w+");
    lock(fd, { exclusive: true, immediate: true }).then(() => {
      fs.writeSync(fd, process.argv[2]);
      process.stdout.write("locked\\n");
      setInterval(() => {}, 1000);
    });`;
  await mkdir(join(lockPath, ".."), { recursive: true });
  const child = spawn(process.execPath, ["-e", script, lockPath, `elsewhere pid ${pid} owner test`], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => d.toString().includes("locked") && resolve());
    child.once("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

describe("fs-store reads archived .jsonl.zst rollouts", () => {
  it("lists, counts and reads a zstd-compressed archived rollout transparently", async () => {
    const root = await tempHome();
    const src = join(FIXTURES, "0.169.0", "archived_sessions");
    const [name] = (await import("node:fs")).readdirSync(src);
    const bytes = readFileSync(join(src, name!));
    await mkdir(join(root, "archived_sessions"), { recursive: true });
    await writeFile(join(root, "archived_sessions", name + ".zst"), zstdRawFrame(bytes));
    const store = new FsStore({ root });
    const [s] = (await store.listSessions({ archived: "archived" })).sessions;
    expect(s).toMatchObject({
      id: name!.slice(-42, -6),
      archived: true,
      bytes: bytes.length,
      lines: bytes.toString().split("\n").length - 1,
      title: "Quick one before I archive this session: what is 2 + 2?",
    });
    let text = "";
    for await (const l of store.readStream(s!.id, "rollout")) text += l + "\n";
    expect(Buffer.from(text).equals(bytes)).toBe(true);
    await expect(store.append(s!.id, "rollout", s!.lines, ["x"])).rejects.toMatchObject({ code: "UNSUPPORTED" });
  });
});

describe("fs-store tokens and orgs", () => {
  it("keeps token hashes in <root>/.sessionvault/tokens.jsonl (0600), shared by orgs", async () => {
    const root = await tempHome();
    const acme = new FsStore({ root, org: "acme" });
    const rec = { id: "tok1", org: "acme", scopes: ["read" as const], hash: "a".repeat(64), created_at: "2026-11-21T00:00:00.000Z" };
    await acme.saveToken(rec);
    const file = join(root, ".sessionvault", "tokens.jsonl");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await new FsStore({ root }).findTokenByHash("a".repeat(64))).toEqual(rec);
    expect(await acme.findTokenByHash("b".repeat(64))).toBeNull();
  });

  it("keeps each org's sessions in <root>/orgs/<org>/", async () => {
    const root = await tempHome();
    const acme = new FsStore({ root, org: "acme" });
    const other = new FsStore({ root, org: "globex" });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7247";
    const inp = input(id);
    await acme.putSession(inp);
    await acme.append(id, "rollout", 0, sessionHeadLines(inp));
    expect((await acme.listSessions()).sessions.map((s) => s.id)).toEqual([id]);
    expect((await other.listSessions()).sessions).toEqual([]);
    await expect(other.getSession(id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await stat(join(root, "orgs", "acme", "sessions", id))).isDirectory()).toBe(true);
    expect(() => new FsStore({ root, org: "../x" })).toThrow(/invalid org name/);
  });
});

describe("fs-store listing cost", () => {
  it("does not open sessions beyond the page", async () => {
    const root = await tempHome();
    const store = new FsStore({ root });
    // 30 days of sessions; a corrupt file far down must not be touched by a first page.
    for (let d = 1; d <= 30; d++) {
      const id = `01a1fd77-5062-78c3-9c88-3${String(d).padStart(11, "0")}`;
      const inp = input(id, { created_at: `2026-10-${pad(d)}T12:00:00.000Z` });
      await store.putSession(inp);
      await store.append(id, "rollout", 0, sessionHeadLines(inp));
    }
    const oldest = (await store.streamFile("01a1fd77-5062-78c3-9c88-300000000001", "rollout"))!;
    await rm(oldest);
    await mkdir(oldest); // a directory where a file should be: reading it would warn
    const warnings: string[] = [];
    const fresh = new FsStore({ root, onWarning: (m) => warnings.push(m) });
    const page = await fresh.listSessions({ limit: 5 });
    expect(page.sessions.map((s) => s.created_at.slice(0, 10))).toEqual(["2026-10-30", "2026-10-29", "2026-10-28", "2026-10-27", "2026-10-26"]);
    expect(warnings).toEqual([]);
    let all = 0;
    let cursor = page.next_cursor;
    while (cursor) {
      const p = await fresh.listSessions({ limit: 7, cursor });
      all += p.sessions.length;
      cursor = p.next_cursor;
    }
    expect(all).toBe(24);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/rollout-2026-10-01.* is a folder, not a file; skipped$/);
    await expect(readFile(oldest)).rejects.toMatchObject({ code: "EISDIR" });
  });
});

describe("fs-store listing filters", () => {
  it("since/until bound created_at, repo/branch/model_provider match the summary", async () => {
    const root = await tempHome();
    const store = new FsStore({ root });
    const made: string[] = [];
    for (let d = 1; d <= 9; d++) {
      const id = `01a1fd77-5062-78c3-9c88-4${String(d).padStart(11, "0")}`;
      const inp = input(id, {
        created_at: `2026-09-0${d}T12:00:00.000Z`,
        model_provider: d % 2 ? "openai" : "azure",
        git: {
          commit_hash: "abc",
          branch: d % 3 ? "main" : "feature",
          repository_url: d <= 4 ? "https://github.com/acme/api.git" : "https://github.com/acme/web.git",
        },
      });
      await store.putSession(inp);
      await store.append(id, "rollout", 0, sessionHeadLines(inp));
      made.push(id);
    }
    const ids = async (q: Parameters<FsStore["listSessions"]>[0]) => (await store.listSessions(q)).sessions.map((s) => s.created_at.slice(8, 10));
    expect(await ids({ since: "2026-09-07T00:00:00Z" })).toEqual(["09", "08", "07"]);
    expect(await ids({ until: "2026-09-02T23:00:00Z" })).toEqual(["02", "01"]);
    expect(await ids({ since: "2026-09-03T00:00:00Z", until: "2026-09-05T23:59:59Z" })).toEqual(["05", "04", "03"]);
    expect(await ids({ repo: "acme/api" })).toEqual(["04", "03", "02", "01"]);
    expect(await ids({ branch: "feature" })).toEqual(["09", "06", "03"]);
    expect(await ids({ model_provider: "azure", limit: 2 })).toEqual(["08", "06"]);
    await expect(store.listSessions({ since: "yesterday-ish" })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(store.listSessions({ limit: 0 })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect(made).toHaveLength(9);
  });
});
