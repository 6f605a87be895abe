import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SessionStateFile } from "@sessionvault/core";
import { runCli } from "./support/run-cli.js";

/**
 * How `resume` composes the agent command line, checked with a stand-in
 * `codex` that only records its argv and cwd. (What the real Codex CLI does
 * with those command lines is covered by resume.test.ts.)
 */

const ID = "019a0000-0000-7000-8000-00000000c0de";

let root: string;
let home: string;
let bin: string;
let argvFile: string;
let stateFile: string;
let sessionCwd: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "sv-resume-args-"));
  home = join(root, "codex-home");
  sessionCwd = join(root, "project");
  mkdirSync(sessionCwd);
  const day = join(home, "sessions", "2026", "11", "21");
  mkdirSync(day, { recursive: true });
  writeFileSync(
    join(day, `rollout-2026-11-21T10-00-00-${ID}.jsonl`),
    JSON.stringify({ timestamp: "2026-11-21T10:00:00.000Z", type: "session_meta", payload: { id: ID, cwd: sessionCwd } }) + "\n",
  );
  mkdirSync(join(root, "bin"));
  bin = join(root, "bin", "codex");
  argvFile = join(root, "argv.json");
  writeFileSync(
    bin,
    `#!/usr/bin/env node\nrequire("fs").writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd() }));\nprocess.exit(Number(process.env.FAKE_EXIT || 0));\n`,
  );
  chmodSync(bin, 0o755);
  stateFile = join(root, "state.json");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function resume(args: string[], extra: string[] = [], env: Record<string, string> = {}) {
  const r = await runCli(
    ["resume", ...args, "--state-file", stateFile, "--agent-bin", bin, "--", ...extra],
    { CODEX_HOME: home, HOME: root, PATH: process.env.PATH ?? "", ...env },
    root,
  );
  const ran = existsSync(argvFile) ? (JSON.parse(readFileSync(argvFile, "utf8")) as { argv: string[]; cwd: string }) : null;
  rmSync(argvFile, { force: true });
  return { ...r, ran };
}

async function slot(name: string, sessionId = ID, cwd = sessionCwd) {
  await new SessionStateFile(stateFile).set(name, { session_id: sessionId, agent: "codex", cwd });
}

describe("resume command lines", () => {
  it("exec: `resume <id>` goes after the exec options and before the prompt; the session's cwd is used", async () => {
    await slot("pane-1");
    const r = await resume(["pane-1"], ["exec", "-s", "workspace-write", "-m", "gpt-5.5", "--json", "-c", "a=1", "fix the tests"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.ran).toEqual({ argv: ["exec", "-s", "workspace-write", "-m", "gpt-5.5", "--json", "-c", "a=1", "resume", ID, "fix the tests"], cwd: sessionCwd });
    expect(r.stderr).toContain(`sessionvault: resuming session ${ID} from slot pane-1\n`);
    expect(r.stderr).toContain(`slot pane-1 now holds session ${ID}`);
  });

  it("a relative --state-file means the caller's directory even though the agent runs in the session's", async () => {
    await slot("pane-1");
    const r = await runCli(
      ["resume", "pane-1", "--state-file", "state.json", "--agent-bin", bin, "--", "exec", "x"],
      { CODEX_HOME: home, HOME: root, PATH: process.env.PATH ?? "" },
      root,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(argvFile, "utf8")).cwd).toBe(sessionCwd);
    expect((await new SessionStateFile(stateFile).get("pane-1"))?.started_by).toBe("resume");
    expect(existsSync(join(sessionCwd, "state.json"))).toBe(false);
  });

  it("exec without a prompt, and `e` as the exec alias", async () => {
    await slot("pane-1");
    expect((await resume(["pane-1"], ["exec", "--json"])).ran?.argv).toEqual(["exec", "--json", "resume", ID]);
    expect((await resume(["pane-1"], ["e", "go"])).ran?.argv).toEqual(["e", "resume", ID, "go"]);
  });

  it("interactive: no extra args is `codex resume <id>`; TUI options stay in front", async () => {
    await slot("pane-1");
    expect((await resume(["pane-1"])).ran?.argv).toEqual(["resume", ID]);
    expect((await resume(["pane-1"], ["-m", "gpt-5.5", "continue please"])).ran?.argv).toEqual(["-m", "gpt-5.5", "resume", ID, "continue please"]);
  });

  it("fresh start passes the extra args through unchanged and leaves the slot alone when no session appears", async () => {
    const r = await resume(["pane-9"], ["exec", "--json", "hello"]);
    expect(r.code).toBe(0);
    expect(r.ran?.argv).toEqual(["exec", "--json", "hello"]);
    expect(r.stderr).toContain("sessionvault: slot pane-9 is empty; starting fresh\n");
    expect(r.stderr).toContain("slot pane-9 was not changed");
    expect(await new SessionStateFile(stateFile).get("pane-9")).toBeNull();
  });

  it("an archived rollout is not resumable: it says so and starts fresh", async () => {
    const other = "019a0000-0000-7000-8000-0000000a5c1d";
    mkdirSync(join(home, "archived_sessions"));
    writeFileSync(join(home, "archived_sessions", `rollout-2026-11-20T10-00-00-${other}.jsonl`), "{}\n");
    await slot("pane-2", other);
    const r = await resume(["pane-2"], ["exec", "hi"]);
    expect(r.ran?.argv).toEqual(["exec", "hi"]);
    expect(r.stderr).toContain(
      `sessionvault: slot pane-2 has no usable session (rollout ${join(home, "archived_sessions", `rollout-2026-11-20T10-00-00-${other}.jsonl`)} is archived; "codex unarchive ${other}" restores it); starting fresh`,
    );
  });

  it("the agent's exit status is passed through", async () => {
    await slot("pane-1");
    expect((await resume(["pane-1"], ["exec", "x"], { FAKE_EXIT: "3" })).code).toBe(3);
  });

  it("refuses resume/fork in the extra args, unknown ids and bad names, without running anything", async () => {
    await slot("pane-1");
    const twice = await resume(["pane-1"], ["exec", "resume", "--last"]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/^sessionvault: do not put "resume" or "fork" in the agent arguments/);
    const unknown = await resume(["0123abcd"], ["exec", "x"]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain("sessionvault: no rollout for session 0123abcd");
    const bad = await resume(["../../etc/passwd"], ["exec", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^sessionvault: "..\/..\/etc\/passwd" is neither a slot name nor a session id\n$/);
    const badWait = await runCli(["resume", "pane-1", "--wait", "soon"], { CODEX_HOME: home, HOME: root }, root);
    expect(badWait.code).toBe(2);
    expect(badWait.stderr).toBe("sessionvault: --wait soon: give a number of seconds (0 or more)\n");
    expect(bad.ran ?? twice.ran ?? unknown.ran).toBeNull();
  });

  it("a session id (or unique prefix) resumes without touching any slot", async () => {
    const r = await resume([ID.slice(0, 8)], ["exec", "x"]);
    expect(r.ran?.argv).toEqual(["exec", "resume", ID, "x"]);
    expect(r.stderr).toBe(`sessionvault: resuming session ${ID}\n`);
    expect(existsSync(stateFile)).toBe(false);
  });
});
