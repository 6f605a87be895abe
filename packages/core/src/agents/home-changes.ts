import { open } from "node:fs/promises";
import { join, sep } from "node:path";
import type { AgentName } from "./agent-readers.js";

/**
 * Which session a file that changed in an agent's home belongs to, so that a
 * watcher syncs that session alone instead of listing the home again. Each
 * agent's layout is described in its home module (codex-home.ts,
 * claude-home.ts, gemini-home.ts); this is the inverse, path → session.
 *
 * Answers: a session id; `"rescan"` when the change may touch sessions that
 * cannot be named from the path (Codex's `session_index.jsonl`, which renames
 * threads); null for a file that holds no session (logs, settings, locks, a
 * chat file not written far enough to say whose it is: its next write is
 * another change).
 */
export type ChangedSession = string | "rescan" | null;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TRANSCRIPT_FILE = /^[a-z][a-z-]*-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl(?:\.zst)?$/i;
const CLAUDE_AGENT_FILE = /^agent-[0-9a-zA-Z_-]+\.jsonl$/;
const GEMINI_CHAT_FILE = /^session-.+\.jsonl?$/;
const SESSION_ID = /"sessionId"\s*:\s*"([0-9a-fA-F-]{36})"/;
/** Claude Code's and Gemini CLI's first record names the session well within this. */
const HEAD_BYTES = 64 * 1024;

/** The folder to watch for an agent's sessions: the files outside it (Claude Code's todos, debug logs, file history) never hold one. */
export function sessionsRoot(agent: AgentName, home: string): string {
  switch (agent) {
    case "codex":
      // session_index.jsonl sits at the top, beside sessions/ and archived_sessions/.
      return home;
    case "claude-code":
      return join(home, "projects");
    case "gemini-cli":
      return join(home, "tmp");
  }
}

/** The session of `relPath` (relative to `sessionsRoot(agent, home)`). */
export async function changedSession(agent: AgentName, home: string, relPath: string): Promise<ChangedSession> {
  const parts = relPath.split(sep).filter((p) => p !== "");
  const name = parts[parts.length - 1] ?? "";
  switch (agent) {
    case "codex": {
      if (parts.length === 1 && name === "session_index.jsonl") return "rescan";
      if (parts[0] !== "sessions" && parts[0] !== "archived_sessions") return null;
      // rollout-<time>-<id>.jsonl[.zst]; a store directory keeps other agents' transcripts beside them
      // under the same scheme with the agent's name in front.
      const transcript = TRANSCRIPT_FILE.exec(name);
      if (transcript) return transcript[1]!.toLowerCase();
      // sessions/<id>/: sessionvault's side streams and sidecar.
      if (parts[0] === "sessions" && parts.length >= 3 && UUID.test(parts[1]!)) return parts[1]!.toLowerCase();
      return null;
    }
    case "claude-code": {
      // <slug>/<sessionId>.jsonl; <slug>/<sessionId>/subagents/… (2.1.x); <slug>/agent-<id>.jsonl (2.0.x, its records name the session).
      if (parts.length === 2 && name.endsWith(".jsonl") && UUID.test(name.slice(0, -".jsonl".length))) return name.slice(0, -".jsonl".length);
      if (parts.length >= 3 && UUID.test(parts[1]!)) return parts[1]!;
      if (parts.length === 2 && CLAUDE_AGENT_FILE.test(name)) return headSessionId(join(sessionsRoot(agent, home), relPath));
      return null;
    }
    case "gemini-cli": {
      // <project>/chats/session-….json[l] (the file name holds 8 digits of the id: its head holds all of it);
      // <project>/chats/<parent sessionId>/<child>.jsonl for a sub-agent.
      if (parts[1] !== "chats") return null;
      if (parts.length === 3 && GEMINI_CHAT_FILE.test(name)) return headSessionId(join(sessionsRoot(agent, home), relPath));
      if (parts.length === 4 && UUID.test(parts[2]!)) return parts[2]!;
      return null;
    }
  }
}

async function headSessionId(path: string): Promise<string | null> {
  const fh = await open(path, "r").catch(() => null);
  if (!fh) return null;
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return SESSION_ID.exec(buf.subarray(0, bytesRead).toString("utf8"))?.[1] ?? null;
  } catch {
    // A folder where a file was (EISDIR) or a file gone since: nothing to sync from it.
    return null;
  } finally {
    await fh.close();
  }
}
