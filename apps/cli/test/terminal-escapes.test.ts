import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { sessionHeadLines } from "@sessionvault/core/conformance";
import type { SessionInput } from "@sessionvault/core";
import { runCli } from "./support/run-cli.js";

// Anyone who can write a session can plant terminal control sequences in its title or cwd
// (retitle the window, clear the screen, write the clipboard with OSC 52, hide text with CR).
// No output of the CLI that prints stored text may pass them through raw.

const RETITLE = "\x1b]0;pwn\x07";
const CLEAR = "\x1b[2J";
const CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x1b\\";
const C1_CSI = "\u009b31m";
const ID = "01a1fd77-5062-78c3-9c88-31a6914d7288";
const INPUT: SessionInput = {
  id: ID,
  created_at: "2026-11-21T09:00:00.000Z",
  cwd: `/work/${CLEAR}x`,
  title: `harmless ${RETITLE}title${CLEAR} ${CLIPBOARD} ${C1_CSI}red\rhidden`,
  archived: false,
  source: "exec",
  originator: "codex_exec",
  cli_version: "0.169.0",
  model_provider: "openai",
  git: { commit_hash: null, branch: `main${RETITLE}`, repository_url: "https://example.com/r.git" },
  parent_id: null,
  forked_from_id: null,
};

/** ESC, BEL, CSI (C1) and CR: none may reach a terminal from stored text. */
const RAW_CONTROL = /[\x07\x0d\x1b\x9b]/;

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "sv-escapes-"));
  const fs = new FsStore({ root: home });
  try {
    await fs.putSession(INPUT);
    await fs.append(ID, "rollout", 0, sessionHeadLines(INPUT));
  } finally {
    await fs.close();
  }
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe("control characters in stored text", () => {
  it("are escaped by list, show and export --format markdown (stdout and -o FILE), and shown as \\x1b", async () => {
    for (const args of [["list"], ["show", ID], ["export", ID, "--format", "markdown"]]) {
      const res = await runCli([...args, "--store", home]);
      expect(res.code, args.join(" ")).toBe(0);
      expect(res.out, args.join(" ")).not.toMatch(RAW_CONTROL);
      expect(res.out, args.join(" ")).toContain("\\x1b]0;pwn\\x07");
    }
    const file = join(home, "transcript.md");
    expect((await runCli(["export", ID, "--format", "markdown", "-o", file, "--store", home])).code).toBe(0);
    const md = await readFile(file, "utf8");
    expect(md).not.toMatch(RAW_CONTROL);
    expect(md).toContain("\\x1b[2J");
    expect(md).toContain("\\x9b31m");
  });

  it("are escaped by state list (a slot records the session's cwd)", async () => {
    const stateFile = join(home, "state.json");
    expect((await runCli(["state", "set", "pane-1", ID, "--state-file", stateFile, "--cwd", `/work/${CLEAR}x`])).code).toBe(0);
    const res = await runCli(["state", "list", "--state-file", stateFile]);
    expect(res.code).toBe(0);
    expect(res.out).toContain("\\x1b[2J");
    expect(res.out).not.toMatch(RAW_CONTROL);
  });

  it("keep JSON outputs exact (JSON escapes them itself)", async () => {
    const res = await runCli(["show", ID, "--json", "--store", home]);
    expect((JSON.parse(res.out) as { title: string }).title).toContain(RETITLE);
  });

  it("are escaped in error messages that quote stored text", async () => {
    // A store path is quoted by the error; it may hold anything a directory name can.
    const odd = join(home, `not-a-home${RETITLE}`);
    await mkdir(join(odd, "junk"), { recursive: true });
    const res = await runCli(["list", "--store", odd]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("\\x1b]0;pwn");
    expect(res.stderr).not.toMatch(RAW_CONTROL);
  });
});
