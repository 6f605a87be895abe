import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./support/run-cli.ts";
import { expectedSessions, FIXTURES, homeDir, type Expected } from "./support/agent-fixtures.ts";

/**
 * A Claude Code config dir and a Gemini CLI dir are read in place like a
 * Codex home: every session of every fixture (written by the real CLIs) is
 * listed, shown, printed byte-identically by `cat` and exported, its actions
 * v1 equal to core's golden files.
 */
const exec = promisify(execFile);
const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const GOLDEN = fileURLToPath(new URL("../../../packages/core/test/golden/", import.meta.url));

const CASES = (["claude-code", "gemini-cli"] as const).flatMap((agent) => readdirSync(join(FIXTURES, agent)).map((version) => ({ agent, version })));

describe.each(CASES)("--store with a $agent $version home", ({ agent, version }) => {
  const store = homeDir(agent, version);
  let sessions: Expected[] = [];
  beforeAll(async () => {
    sessions = await expectedSessions(agent, version);
  });

  it("lists every session, newest first, each with its agent", async () => {
    expect(sessions.length).toBeGreaterThan(10);
    const r = await runCli(["list", "--store", store, "--limit", "1000", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const listed = (JSON.parse(r.out) as { sessions: { id: string; agent: string; created_at: string; title: string | null }[] }).sessions;
    expect(listed.map((s) => s.id).sort()).toEqual(sessions.map((s) => s.id).sort());
    expect(new Set(listed.map((s) => s.agent))).toEqual(new Set([agent]));
    const created = listed.map((s) => s.created_at);
    expect(created).toEqual([...created].sort().reverse());
    const table = await runCli(["list", "--store", store, "--limit", "1000"]);
    expect(table.out.split("\n")[0]).toMatch(/^ID\s+AGENT\s+CREATED/);
    for (const s of sessions) expect(table.out).toMatch(new RegExp(`^${s.id}  ${agent} `, "m"));
  });

  it("shows, cats byte-identically and exports every session; actions v1 equal the golden files", async () => {
    for (const s of sessions) {
      const shown = await runCli(["show", s.id.slice(0, 13), "--store", store, "--json"]);
      expect(shown.stderr, s.label).toBe("");
      const detail = JSON.parse(shown.out) as { id: string; agent: string; bytes: number; streams: { name: string; bytes: number }[] };
      expect(detail.id).toBe(s.id);
      expect(detail.agent).toBe(agent);
      const transcript = Buffer.concat(s.files.map((f) => readFileSync(f)));
      expect(detail.bytes).toBe(transcript.length);
      expect(detail.streams.map((x) => x.name).sort()).toEqual(["rollout", ...[...s.subAgents.keys()].map((id) => `sub-agent-${id}`)].sort());

      const cat = await runCli(["cat", s.id, "--store", store]);
      expect(cat.code, s.label).toBe(0);
      expect(cat.stdout.equals(transcript), `${s.label}: cat is the transcript`).toBe(true);
      for (const [subId, path] of s.subAgents) {
        const sub = await runCli(["cat", s.id, "--stream", `sub-agent-${subId}`, "--store", store]);
        expect(sub.stdout.equals(readFileSync(path)), `${s.label}: sub-agent ${subId}`).toBe(true);
      }

      const actions = await runCli(["export", s.id, "--store", store, "--format", "actions.v1"]);
      expect(actions.code, s.label).toBe(0);
      expect(actions.out, `${agent} ${version} ${s.label}`).toBe(readFileSync(join(GOLDEN, agent, version, `${s.label}.actions.jsonl`), "utf8"));

      const jsonl = await runCli(["export", s.id, "--store", store, "--format", "jsonl", "--no-redact"]);
      expect(jsonl.stdout.equals(transcript), `${s.label}: jsonl --no-redact is the transcript`).toBe(true);

      const md = await runCli(["export", s.id, "--store", store, "--format", "markdown"]);
      expect(md.code, s.label).toBe(0);
      expect(md.out).toContain(`- Session: \`${s.id}\``);
    }
  });
});

describe("an agent home takes only its own agent's sessions", () => {
  it("a sync into a Claude Code home leaves Codex sessions out (saying so); asked for them with --agent codex it refuses, names both, and writes nothing", async () => {
    const root = await mkdtemp(join(tmpdir(), "sv-agent-refuse-"));
    const claude = join(root, ".claude");
    await mkdir(join(claude, "projects"), { recursive: true });
    const quiet = await runCli(["sync", "--from", join(FIXTURES, "codex", "0.98.0"), "--to", claude]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toMatch(/only claude-code sessions are sent into .*\.claude/);
    expect(quiet.out).toMatch(/sent 0 of 0 sessions/);
    const r = await runCli(["sync", "--from", join(FIXTURES, "codex", "0.98.0"), "--to", claude, "--agent", "codex"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is a codex session; .*\.claude is a claude-code home, which holds only claude-code sessions/);
    expect(await readdir(join(claude, "projects"))).toEqual([]);
    await rm(root, { recursive: true, force: true });
  });
});

describe("list without --store: every local agent home (the built CLI as a process)", () => {
  let home = "";
  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first`);
    home = await mkdtemp(join(tmpdir(), "sv-agent-homes-"));
    await symlink(join(FIXTURES, "codex", "0.98.0"), join(home, ".codex"));
    await symlink(homeDir("gemini-cli", "0.61.0"), join(home, ".gemini"));
  });
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  const env = () => ({ PATH: process.env.PATH ?? "", HOME: home, CLAUDE_CONFIG_DIR: homeDir("claude-code", "2.1.332") });
  const run = async (args: string[]) => (await exec(process.execPath, [BIN, ...args], { env: env(), maxBuffer: 64 * 1024 * 1024 })).stdout;

  it("merges Codex, Claude Code ($CLAUDE_CONFIG_DIR) and Gemini CLI (~/.gemini) sessions newest first; --agent filters", async () => {
    const all = JSON.parse(await run(["list", "--all", "--limit", "1000", "--json"])) as { sessions: { id: string; agent: string; created_at: string }[] };
    const agents = new Set(all.sessions.map((s) => s.agent));
    expect(agents).toEqual(new Set(["codex", "claude-code", "gemini-cli"]));
    const created = all.sessions.map((s) => s.created_at);
    expect(created).toEqual([...created].sort().reverse());
    const claude = (await expectedSessions("claude-code", "2.1.332")).map((s) => s.id).sort();
    expect(
      all.sessions
        .filter((s) => s.agent === "claude-code")
        .map((s) => s.id)
        .sort(),
    ).toEqual(claude);

    const only = JSON.parse(await run(["list", "--agent", "gemini-cli", "--limit", "1000", "--json"])) as { sessions: { id: string; agent: string }[] };
    const gemini = (await expectedSessions("gemini-cli", "0.61.0")).map((s) => s.id).sort();
    expect(only.sessions.map((s) => s.id).sort()).toEqual(gemini);

    const table = await run(["list", "--limit", "1000"]);
    expect(table).toMatch(/ claude-code /);
    expect(table).toMatch(/ gemini-cli /);
    expect(table).toMatch(/ codex /);
  });

  it("show, cat and export find a Claude Code and a Gemini CLI session without --store", async () => {
    for (const [agent, version] of [
      ["claude-code", "2.1.332"],
      ["gemini-cli", "0.61.0"],
    ] as const) {
      const s = (await expectedSessions(agent, version)).find((x) => x.label === "04-fail")!;
      expect(JSON.parse(await run(["show", s.id, "--json"])).agent).toBe(agent);
      const { stdout } = await exec(process.execPath, [BIN, "cat", s.id], { env: env(), encoding: "buffer", maxBuffer: 64 * 1024 * 1024 });
      expect(stdout.equals(Buffer.concat(s.files.map((f) => readFileSync(f))))).toBe(true);
      expect(await run(["export", s.id, "--format", "actions.v1"])).toBe(readFileSync(join(GOLDEN, agent, version, "04-fail.actions.jsonl"), "utf8"));
    }
  });

  it("--agent takes only the agents it knows", async () => {
    const r = await runCli(["list", "--agent", "cursor"], { HOME: home });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--agent must be one of codex, claude-code, gemini-cli/);
  });
});
