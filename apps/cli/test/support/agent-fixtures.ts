import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ClaudeCodeHome, GeminiCliHome } from "@sessionvault/core";

/** The Claude Code and Gemini CLI fixture homes (written by the real CLIs) and what core's home layouts say they hold. */
export const FIXTURES = fileURLToPath(new URL("../../../../fixtures/", import.meta.url));

export type Agent = "claude-code" | "gemini-cli";

export interface Expected {
  id: string;
  label: string;
  files: string[];
  /** Sub-agent id → its transcript: the session's `sub-agent-<id>` streams. */
  subAgents: Map<string, string>;
}

/** The harness's label of each session id (runs.tsv: label, name, exit, id, …), first run first. */
function labels(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(join(dir, "runs.tsv"), "utf8").split("\n")) {
    const [label, , , id] = line.split("\t");
    if (label && id && !out.has(id)) out.set(id, label);
  }
  return out;
}

export function homeDir(agent: Agent, version: string): string {
  return agent === "claude-code" ? join(FIXTURES, agent, version) : join(FIXTURES, agent, version, "gemini");
}

/** What the home layouts of core say each fixture holds: the oracle the CLI's answers are checked against. */
export async function expectedSessions(agent: Agent, version: string): Promise<Expected[]> {
  const byId = labels(join(FIXTURES, agent, version));
  const out: Expected[] = [];
  if (agent === "claude-code") {
    const home = new ClaudeCodeHome(homeDir(agent, version));
    for await (const s of home.listSessions()) {
      if (s.kind !== "session") continue;
      const files = await home.sessionFiles(s.sessionId);
      out.push({
        id: s.sessionId,
        label: byId.get(s.sessionId) ?? s.sessionId,
        files: [s.transcript],
        subAgents: new Map(files.subAgents.map((a) => [a.agentId, a.path])),
      });
    }
  } else {
    for await (const s of new GeminiCliHome(homeDir(agent, version)).listSessions()) {
      out.push({
        id: s.sessionId,
        label: byId.get(s.sessionId) ?? s.sessionId,
        files: s.files,
        subAgents: new Map(s.subAgents.map((a) => [a.sessionId, a.path])),
      });
    }
  }
  return out;
}

/**
 * The bytes a store keeps of a transcript read from these files: each
 * committed line followed by "\n". That is the files' bytes, except that a
 * Gemini CLI `.json` chat (one document, written without a final newline)
 * gets one: a stream is lines, each ending with "\n" (docs/sessions.md).
 */
export function storedBytes(files: readonly string[]): Buffer {
  return Buffer.concat(
    files.map((f) => {
      const bytes = readFileSync(f);
      if (f.endsWith(".json")) return bytes.length > 0 && bytes[bytes.length - 1] !== 10 ? Buffer.concat([bytes, Buffer.from("\n")]) : bytes;
      return bytes.subarray(0, bytes.lastIndexOf(10) + 1);
    }),
  );
}
