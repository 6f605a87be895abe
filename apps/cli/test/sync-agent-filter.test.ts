import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./support/run-cli.ts";

/**
 * Restoring from a mixed archive: a store directory holding Codex, Claude
 * Code and Gemini CLI sessions, synced into a Claude Code home, sends the
 * Claude Code sessions only (a Claude Code home cannot hold the others)
 * and succeeds; `--agent` picks one agent's sessions for any target.
 */
const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
let scratch: string;
let archive: string;
const ids: Record<string, string[]> = {};

interface Listed {
  sessions: { id: string; agent: string }[];
}

async function listIds(store: string): Promise<{ id: string; agent: string }[]> {
  const r = await runCli(["list", "--store", store, "--limit", "1000", "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.out) as Listed).sessions.map((s) => ({ id: s.id, agent: s.agent }));
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "sv-sync-agent-"));
  archive = join(scratch, "archive");
  for (const home of [join(FIXTURES, "codex", "0.171.0"), join(FIXTURES, "claude-code", "2.1.332"), join(FIXTURES, "gemini-cli", "0.61.0", "gemini")]) {
    const r = await runCli(["sync", "--from", home, "--to", archive, "--json"]);
    expect(r.code, r.stderr).toBe(0);
  }
  for (const s of await listIds(archive)) (ids[s.agent] ??= []).push(s.id);
  expect(Object.keys(ids).sort()).toEqual(["claude-code", "codex", "gemini-cli"]);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("sync --agent", () => {
  it("into a Claude Code home takes only the archive's Claude Code sessions, and exits 0", async () => {
    const claude = join(scratch, "restored", ".claude");
    const r = await runCli(["sync", "--from", archive, "--to", claude, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.out) as { sessions_scanned: number; errors: unknown[] };
    expect(summary.errors).toEqual([]);
    expect(summary.sessions_scanned).toBe(ids["claude-code"]!.length);
    expect((await listIds(claude)).map((s) => s.id).sort()).toEqual([...ids["claude-code"]!].sort());
  });

  it("--agent picks one agent's sessions for a directory store; an unknown agent is a usage error", async () => {
    const only = join(scratch, "only-gemini");
    const r = await runCli(["sync", "--from", archive, "--to", only, "--agent", "gemini-cli", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const stored = await listIds(only);
    expect(stored.map((s) => s.id).sort()).toEqual([...ids["gemini-cli"]!].sort());
    expect(new Set(stored.map((s) => s.agent))).toEqual(new Set(["gemini-cli"]));
    const bad = await runCli(["sync", "--from", archive, "--to", only, "--agent", "cursor"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--agent must be one of codex, claude-code, gemini-cli/);
  });
});
