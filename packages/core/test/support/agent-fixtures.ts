import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ActionV1 } from "../../src/actions/action-v1.js";
import { projectActions } from "../../src/actions/project-actions.js";
import type { AgentName } from "../../src/agents/agent-readers.js";
import { ClaudeCodeHome } from "../../src/agents/claude-code/claude-home.js";
import { GeminiCliHome, readGeminiChatLines } from "../../src/agents/gemini-cli/gemini-home.js";
import type { LineWarning, RawLine } from "../../src/jsonl-reader.js";
import { readFileLines } from "../../src/jsonl-reader.js";

export const AGENT_FIXTURES = fileURLToPath(new URL("../../../../fixtures/", import.meta.url));
export const AGENT_GOLDEN = fileURLToPath(new URL("../golden/", import.meta.url));

/** One transcript of a fixture as a session of its own: a main session or a sub-agent's. */
export interface FixtureSession {
  agent: Exclude<AgentName, "codex">;
  version: string;
  /** The golden file's name: the harness label of the run that made it, `-sub-<id>` for a sub-agent. */
  label: string;
  sessionId: string;
  files: string[];
  skipUuids?: Set<string>;
  cwd?: string | null;
}

function labels(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(join(dir, "runs.tsv"), "utf8").split("\n")) {
    const [label, , , id] = line.split("\t");
    if (label && id && !out.has(id)) out.set(id, label);
  }
  return out;
}

export function fixtureVersions(agent: "claude-code" | "gemini-cli"): string[] {
  try {
    return readdirSync(join(AGENT_FIXTURES, agent)).sort();
  } catch {
    return [];
  }
}

/** Every session of every Claude Code and Gemini CLI fixture, found through the agents' home layouts. */
export async function fixtureSessions(): Promise<FixtureSession[]> {
  const out: FixtureSession[] = [];
  for (const version of fixtureVersions("claude-code")) {
    const dir = join(AGENT_FIXTURES, "claude-code", version);
    const byId = labels(dir);
    const home = new ClaudeCodeHome(dir);
    for await (const s of home.listSessions()) {
      if (s.kind !== "session") continue;
      const files = await home.sessionFiles(s.sessionId);
      const label = byId.get(s.sessionId) ?? s.sessionId;
      out.push({ agent: "claude-code", version, label, sessionId: s.sessionId, files: [s.transcript], skipUuids: await home.copiedUuids(files) });
      for (const sub of files.subAgents)
        out.push({ agent: "claude-code", version, label: `${label}-sub-${sub.agentId}`, sessionId: sub.agentId, files: [sub.path] });
    }
  }
  for (const version of fixtureVersions("gemini-cli")) {
    const dir = join(AGENT_FIXTURES, "gemini-cli", version);
    const byId = labels(dir);
    const home = new GeminiCliHome(join(dir, "gemini"));
    for await (const s of home.listSessions()) {
      const label = byId.get(s.sessionId) ?? s.sessionId;
      out.push({ agent: "gemini-cli", version, label, sessionId: s.sessionId, files: s.files, cwd: s.cwd });
      for (const sub of s.subAgents)
        out.push({ agent: "gemini-cli", version, label: `${label}-sub-${sub.sessionId.slice(0, 8)}`, sessionId: sub.sessionId, files: [sub.path], cwd: s.cwd });
    }
  }
  return out.sort((a, b) => `${a.agent}/${a.version}/${a.label}`.localeCompare(`${b.agent}/${b.version}/${b.label}`));
}

/** The lines of a session's files, one after the other. */
export async function* sessionLines(files: string[]): AsyncGenerator<RawLine> {
  if (files.some((f) => f.endsWith(".json"))) yield* readGeminiChatLines(files);
  else for (const f of files) yield* readFileLines(f);
}

export async function projectFixture(s: FixtureSession, onWarning?: (w: LineWarning) => void): Promise<ActionV1[]> {
  const out: ActionV1[] = [];
  for await (const a of projectActions(sessionLines(s.files), { sessionId: s.sessionId, agent: s.agent, skipUuids: s.skipUuids, cwd: s.cwd, onWarning }))
    out.push(a);
  return out;
}

export function goldenPath(s: FixtureSession): string {
  return join(AGENT_GOLDEN, s.agent, s.version, `${s.label}.actions.jsonl`);
}
