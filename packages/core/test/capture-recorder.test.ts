import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DirectorySink, SessionRecorder, type StreamSink } from "@sessionvault/core";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-recorder-"));
});
afterEach(async () => {
  await chmod(dir, 0o700).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

const fixed = () => new Date("2026-11-21T10:00:00.000Z");

describe("SessionRecorder + DirectorySink", () => {
  it("writes the three side streams to their files in order, whole lines, created 0700/0600", async () => {
    const sessionDir = join(dir, "sessions", "01a1fd82-54c7-72f2-8c3e-d68bacf1c447");
    const rec = new SessionRecorder({ sink: new DirectorySink(sessionDir), now: fixed });
    for (let i = 0; i < 500; i++) rec.meta({ type: "tick", i });
    rec.log("info", "hello\nworld");
    rec.log("debug", "dropped at info level");
    rec.log("warn", "token=abcdef0123456789 in a log line");
    rec.rawApi({ ts: "t", exchange: "x", method: "GET", url: "u", type: "error", status: null, message: "m" });
    await rec.close();
    const meta = (await readFile(join(sessionDir, "session_meta.log"), "utf8")).split("\n");
    expect(meta.pop()).toBe("");
    expect(meta.map((l) => JSON.parse(l).i)).toEqual([...Array(500).keys()]);
    expect(JSON.parse(meta[0]!)).toEqual({ ts: "2026-11-21T10:00:00.000Z", type: "tick", i: 0 });
    const log = await readFile(join(sessionDir, "session.log"), "utf8");
    expect(log).toBe(
      "2026-11-21T10:00:00.000Z  INFO sessionvault: hello\n2026-11-21T10:00:00.000Z  INFO sessionvault: world\n2026-11-21T10:00:00.000Z  WARN sessionvault: token=[REDACTED] in a log line\n",
    );
    expect(JSON.parse(await readFile(join(sessionDir, "session_oai_raw.log"), "utf8")).type).toBe("error");
    expect((await stat(sessionDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(sessionDir, "session.log"))).mode & 0o777).toBe(0o600);
  });

  it("holds lines until a sink is attached, then writes them first", async () => {
    const rec = new SessionRecorder({ now: fixed });
    rec.meta({ type: "started" });
    rec.log("info", "before");
    expect(rec.attached).toBe(false);
    const sinkDir = join(dir, "s");
    rec.attach(new DirectorySink(sinkDir));
    rec.meta({ type: "exited", code: 0 });
    await rec.close();
    const meta = (await readFile(join(sinkDir, "session_meta.log"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).type);
    expect(meta).toEqual(["started", "exited"]);
    expect(await readFile(join(sinkDir, "session.log"), "utf8")).toContain("before");
  });

  it("a relative debug-log path stays inside the directory, an absolute one is used as given", async () => {
    const abs = join(dir, "elsewhere.log");
    const a = new DirectorySink(join(dir, "a"), { paths: { "debug-log": "logs-debug.txt" } });
    const b = new DirectorySink(join(dir, "b"), { paths: { "debug-log": abs } });
    expect(a.pathOf("debug-log")).toBe(join(dir, "a", "logs-debug.txt"));
    await b.append("debug-log", ["x"]);
    await b.close();
    expect(await readFile(abs, "utf8")).toBe("x\n");
  });

  it("ends a torn last line left by a crash before appending, so new lines stay whole", async () => {
    const sinkDir = join(dir, "t");
    await mkdir(sinkDir);
    await writeFile(join(sinkDir, "session_meta.log"), '{"type":"started"}\n{"type":"exi');
    const sink = new DirectorySink(sinkDir);
    await sink.append("meta-events", ['{"type":"resumed"}']);
    await sink.close();
    expect(await readFile(join(sinkDir, "session_meta.log"), "utf8")).toBe('{"type":"started"}\n{"type":"exi\n{"type":"resumed"}\n');
  });

  it("reports a failing sink once, stops writing and discard() leaves no file behind", async () => {
    // A directory where the session file should be: every write fails (also as root).
    const sinkDir = join(dir, "f");
    await mkdir(join(sinkDir, "session_meta.log"), { recursive: true });
    const errors: unknown[] = [];
    const sink = new DirectorySink(sinkDir);
    const rec = new SessionRecorder({ sink, onError: (e) => errors.push(e) });
    rec.log("info", "goes to session.log first");
    await rec.flush();
    rec.meta({ type: "started" });
    rec.meta({ type: "more" });
    await rec.flush();
    rec.meta({ type: "after failure" });
    await rec.close();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: "IO" });
    expect(rec.failure).toBe(errors[0]);
    await sink.discard();
    expect(await readdir(sinkDir)).toEqual(["session_meta.log"]);
  });

  it("discard() removes the directory it created and only files it created", async () => {
    const parent = join(dir, "sessions");
    await mkdir(parent);
    const existing = join(dir, "keep.log");
    await writeFile(existing, "kept\n");
    const sink: StreamSink = new DirectorySink(join(parent, "new"), { paths: { "debug-log": existing } });
    await sink.append("raw-api", ["{}"]);
    await sink.append("debug-log", ["more"]);
    await sink.discard();
    expect(await readdir(parent)).toEqual([]);
    expect(await readFile(existing, "utf8")).toBe("kept\nmore\n");
  });
});
