import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findRolloutPath, listRolloutPaths, SessionCapture } from "@sessionvault/core";

const ID = "01a1fd82-54c7-72f2-8c3e-d68bacf1c447";
const SUB = "01a1fd82-9999-7000-8000-000000000001";
let home: string;
let dated: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "sv-capture-"));
  await mkdir(join(home, "sessions/2026/11/21"), { recursive: true });
  dated = join(home, "sessions/2026/11/21", `rollout-2026-11-21T10-00-00-${ID}.jsonl`);
  await writeFile(dated, JSON.stringify({ timestamp: "2026-11-21T10:00:00.000Z", type: "session_meta", payload: { id: ID } }) + "\n");
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const line = (payload: object) => JSON.stringify({ timestamp: "2026-11-21T10:00:01.000Z", type: "event_msg", payload }) + "\n";

describe("SessionCapture", () => {
  it("holds lines until the session is named, links the rollout, follows it and files sub-agent exchanges apart", async () => {
    const warnings: string[] = [];
    // A new session: its rollout appears after the run started.
    await rm(dated);
    const capture = new SessionCapture({ codexHome: home, onWarning: (m) => warnings.push(m), pollMs: 20 });
    await capture.start();
    await writeFile(dated, JSON.stringify({ timestamp: "2026-11-21T10:00:00.000Z", type: "session_meta", payload: { id: ID } }) + "\n");
    capture.meta({ type: "started" });
    capture.log("info", "before the id");
    capture.onRecord({ ts: "t", exchange: "e0", method: "GET", url: "u", type: "error", status: null, message: "no id yet" }, null);
    capture.onRecord({ ts: "t", exchange: "e1", method: "POST", url: "u", type: "error", status: null, message: "parent" }, ID);
    capture.onRecord({ ts: "t", exchange: "e2", method: "POST", url: "u", type: "error", status: null, message: "child" }, SUB);
    await writeFile(dated, line({ type: "turn_aborted", reason: "interrupted", turn_id: "t1" }), { flag: "a" });
    await capture.poll();
    capture.meta({ type: "exited", code: 1, signal: null });
    await capture.finish();

    expect(warnings).toEqual([]);
    expect(capture.sessionIds).toEqual([ID, SUB]);
    const dir = join(home, "sessions", ID);
    expect((await readdir(dir)).sort()).toEqual(["rollout.jsonl", "session.log", "session_meta.log", "session_oai_raw.log"]);
    expect((await stat(join(dir, "rollout.jsonl"))).ino).toBe((await stat(dated)).ino);
    const meta = (await readFile(join(dir, "session_meta.log"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(meta.map((m) => m.type)).toEqual(["started", "subagent", "interrupted", "exited"]);
    const raw = (await readFile(join(dir, "session_oai_raw.log"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).message);
    expect(raw).toEqual(["no id yet", "parent"]);
    // The sub-agent has no rollout here: only its raw exchanges, in its own directory.
    expect(await readdir(join(home, "sessions", SUB))).toEqual(["session_oai_raw.log"]);
  });

  it("a write failure mid-run warns once and removes what it created, never the rollout", async () => {
    // A directory where session_meta.log belongs: its first append fails, the other streams worked before.
    await mkdir(join(home, "sessions", ID, "session_meta.log"), { recursive: true });
    const warnings: string[] = [];
    const capture = new SessionCapture({ codexHome: home, onWarning: (m) => warnings.push(m), pollMs: 20 });
    await capture.start({ resumeId: ID });
    capture.log("info", "written first");
    await capture.poll();
    await capture.recorder.flush();
    expect((await readdir(join(home, "sessions", ID))).sort()).toEqual(["rollout.jsonl", "session.log", "session_meta.log"]);
    capture.meta({ type: "resumed" });
    capture.meta({ type: "exited", code: 0, signal: null });
    await capture.finish();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^cannot write the session directory for ${ID}: .*; the agent keeps running without session capture$`));
    expect(await readdir(join(home, "sessions", ID))).toEqual(["session_meta.log"]);
    expect(JSON.parse(await readFile(dated, "utf8")).payload.id).toBe(ID);
  });

  it("finds the session from a new rollout file when no request named it", async () => {
    const capture = new SessionCapture({ codexHome: home, onWarning: () => {}, pollMs: 20 });
    await capture.start();
    const id2 = "01a1fd82-0000-7000-8000-0000000000aa";
    await writeFile(join(home, "sessions/2026/11/21", `rollout-2026-11-21T10-00-05-${id2}.jsonl`), "");
    capture.meta({ type: "started" });
    await capture.poll();
    await capture.finish();
    expect(capture.sessionId).toBe(id2);
    expect((await readdir(join(home, "sessions", id2))).sort()).toEqual(["rollout.jsonl", "session_meta.log"]);
  });

  it("looks for a new rollout only in the newest day directories", async () => {
    const old = "01a1fd82-0000-7000-8000-0000000000bb";
    await mkdir(join(home, "sessions/2026/11/19"), { recursive: true });
    await mkdir(join(home, "sessions/2026/11/20"), { recursive: true });
    await mkdir(join(home, "sessions/2025/12/31"), { recursive: true });
    await writeFile(join(home, "sessions/2026/11/19", `rollout-2026-11-19T10-00-00-${old}.jsonl`), "");
    expect(await findRolloutPath(home, old, { newestDays: 2 })).toBeNull();
    expect(await findRolloutPath(home, old)).toMatch(/2026\/11\/19\/rollout-/);
    expect([...(await listRolloutPaths(home, { newestDays: 1 }))]).toEqual([dated]);
    expect((await listRolloutPaths(home)).size).toBe(2);
  });
});
