import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { AgentName } from "../src/agents/agent-readers.js";
import { ClaudeCodeHome } from "../src/agents/claude-code/claude-home.js";
import { walkRollouts } from "../src/agents/codex/codex-home.js";
import { GeminiCliHome } from "../src/agents/gemini-cli/gemini-home.js";
import { changedSession, sessionsRoot } from "../src/agents/home-changes.js";

/**
 * The watcher of `sync --watch` syncs the session a changed file belongs to.
 * Over every fixture home the real CLIs wrote: each file the home's own
 * layout module counts as part of a session (its transcript, chat files,
 * sub-agent transcripts) maps to that session; any other file maps to no
 * session or to one the home has (a warm-up agent's parent).
 */
const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
const AGENT_DIRS: Record<AgentName, string> = { codex: "codex", "claude-code": "claude-code", "gemini-cli": "gemini-cli" };

function files(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(root);
  return out;
}

/** Each session-owned file of a home, with its session, from the agent's own layout module. */
async function ownedFiles(agent: AgentName, home: string): Promise<Map<string, string>> {
  const owned = new Map<string, string>();
  if (agent === "codex") {
    for await (const r of walkRollouts(home)) owned.set(r.path, r.id);
  } else if (agent === "claude-code") {
    const h = new ClaudeCodeHome(home);
    for await (const e of h.listSessions()) {
      if (e.kind !== "session") continue;
      const f = await h.sessionFiles(e.sessionId);
      owned.set(f.transcript, e.sessionId);
      for (const a of f.subAgents) owned.set(a.path, e.sessionId);
    }
  } else {
    for await (const s of new GeminiCliHome(home).listSessions()) {
      for (const f of s.files) owned.set(f, s.sessionId);
      for (const a of s.subAgents) owned.set(a.path, s.sessionId);
    }
  }
  return owned;
}

const homes = (Object.keys(AGENT_DIRS) as AgentName[]).flatMap((agent) =>
  readdirSync(join(FIXTURES, AGENT_DIRS[agent]), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    // A Gemini CLI fixture keeps its `.gemini` folder as `gemini/`.
    .map((e) => ({ agent, version: e.name, home: join(FIXTURES, AGENT_DIRS[agent], e.name, agent === "gemini-cli" ? "gemini" : "") })),
);

describe.each(homes)("changed files of the $agent $version fixture home", ({ agent, home }) => {
  it("map to the session they belong to", async () => {
    const owned = await ownedFiles(agent, home);
    expect(owned.size).toBeGreaterThan(0);
    const sessions = new Set(owned.values());
    const root = sessionsRoot(agent, home);
    let mapped = 0;
    for (const path of files(root)) {
      const got = await changedSession(agent, home, relative(root, path));
      const want = owned.get(path);
      if (want !== undefined) {
        expect(got, relative(home, path)).toBe(want);
        mapped++;
      } else if (got !== null && got !== "rescan") {
        // Not part of a session's streams (a warm-up agent): at most a resync of a session the home has.
        expect(sessions.has(got), `${relative(home, path)} → ${got}`).toBe(true);
      }
    }
    expect(mapped).toBe(owned.size);
  });
});

it("Codex's session_index.jsonl (thread renames) asks for a rescan; logs and settings name no session", async () => {
  const home = join(FIXTURES, "codex", "0.169.0");
  expect(await changedSession("codex", home, "session_index.jsonl")).toBe("rescan");
  expect(await changedSession("codex", home, "history.jsonl")).toBeNull();
  expect(await changedSession("codex", home, join("log", "codex-tui.log"))).toBeNull();
  expect(await changedSession("codex", home, join("sessions", "2026", "11"))).toBeNull();
  expect(await changedSession("codex", home, join("sessions", "01a1fd77-5062-78c3-9c88-31a6914d7240", "session_oai_raw.log"))).toBe(
    "01a1fd77-5062-78c3-9c88-31a6914d7240",
  );
  // A store directory keeps other agents' transcripts beside Codex rollouts, named the same way with the agent in front.
  expect(
    await changedSession("codex", home, join("sessions", "2026", "12", "02", "claude-code-2026-12-02T07-00-00-d1d92c81-fee7-4cd3-b28d-fcc1f8fde7ec.jsonl")),
  ).toBe("d1d92c81-fee7-4cd3-b28d-fcc1f8fde7ec");
  expect(await changedSession("codex", home, join("archived_sessions", "rollout-2026-11-21T09-37-09-01a1fd77-80a6-72b2-a6e8-01a6febdb0b1.jsonl.zst"))).toBe(
    "01a1fd77-80a6-72b2-a6e8-01a6febdb0b1",
  );
  expect(await changedSession("codex", home, join("sessions", "2026", "12", "02", "notes-d1d92c81-fee7-4cd3-b28d-fcc1f8fde7ec.jsonl"))).toBeNull();
  expect(sessionsRoot("claude-code", "/h")).toBe(join("/h", "projects"));
  expect(sessionsRoot("gemini-cli", "/h")).toBe(join("/h", "tmp"));
  // A chat file not written far enough to name its session (just created, empty): its next write is another change.
  expect(await changedSession("gemini-cli", "/nonexistent", join("p", "chats", "session-2026-12-02T07-00-abcdef12.jsonl"))).toBeNull();
});
