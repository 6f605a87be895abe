import { homedir } from "node:os";
import { join } from "node:path";
import type { AgentName } from "@sessionvault/core/store-api";
import { agentHomeKind } from "./from-url.js";

/** A local agent home: where the agent keeps its sessions on this machine. */
export interface AgentHome {
  agent: AgentName;
  dir: string;
}

/** The variables that move the homes; the apps pass their environment (packages read none). */
export interface AgentHomeEnv {
  HOME?: string | undefined;
  CODEX_HOME?: string | undefined;
  CLAUDE_CONFIG_DIR?: string | undefined;
}

/**
 * The agent homes of this machine, Codex first: `$CODEX_HOME` or `~/.codex`;
 * `$CLAUDE_CONFIG_DIR` or `~/.claude` when it holds `projects/`; `~/.gemini`
 * when it holds `tmp/`. The Codex home is always there (it may be empty or
 * missing). Used by the CLI (`list`, `sync --watch`) and the server's import.
 */
export function localAgentHomes(env: AgentHomeEnv): AgentHome[] {
  const home = env.HOME || homedir();
  const out: AgentHome[] = [{ agent: "codex", dir: env.CODEX_HOME || join(home, ".codex") }];
  const claude = env.CLAUDE_CONFIG_DIR || join(home, ".claude");
  if (agentHomeKind(claude) === "claude-code") out.push({ agent: "claude-code", dir: claude });
  const gemini = join(home, ".gemini");
  if (agentHomeKind(gemini) === "gemini-cli") out.push({ agent: "gemini-cli", dir: gemini });
  return out;
}
