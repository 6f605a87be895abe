import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { CliContext } from "./io.js";

/** The Codex home: --codex-home, else $CODEX_HOME, else ~/.codex (Codex's own rule). */
export function codexHomeDir(ctx: CliContext, override?: string): string {
  return resolve(ctx.cwd, override || ctx.env.CODEX_HOME || join(ctx.env.HOME || homedir(), ".codex"));
}

/** The session-state file: --state-file, else $SESSIONVAULT_STATE, else <codex home>/sessionvault/state.json. */
export function stateFilePath(ctx: CliContext, options: { stateFile?: string; codexHome?: string } = {}): string {
  const explicit = options.stateFile || ctx.env.SESSIONVAULT_STATE;
  return explicit ? resolve(ctx.cwd, explicit) : join(codexHomeDir(ctx, options.codexHome), "sessionvault", "state.json");
}

/** The Claude Code config dir: $CLAUDE_CONFIG_DIR, else ~/.claude (Claude Code's own rule). */
export function claudeConfigDir(ctx: CliContext): string {
  return resolve(ctx.cwd, ctx.env.CLAUDE_CONFIG_DIR || join(ctx.env.HOME || homedir(), ".claude"));
}
