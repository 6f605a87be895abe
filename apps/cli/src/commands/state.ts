import { resolve } from "node:path";
import { assertIdOrPrefix, isSessionId, NotFoundError } from "@sessionvault/core";
import { findClaudeSession, findRollout } from "@sessionvault/core";
import { printJson, type CliContext } from "../io.js";
import { terminalSafe } from "../terminal-text.js";
import { openStateFile } from "../slot-recording.js";
import { claudeConfigDir, codexHomeDir } from "../state-location.js";

/** Options every `state` subcommand understands. */
export interface StateOptions {
  stateFile?: string;
  codexHome?: string;
  json?: boolean;
}

/** `sessionvault state list [--json]`: every slot, sorted by name. */
export async function stateList(options: StateOptions, ctx: CliContext): Promise<void> {
  const entries = await openStateFile(ctx, options).list();
  if (options.json) {
    printJson(ctx, { slots: entries.map(({ slot, record }) => ({ slot, ...record })) });
    return;
  }
  if (entries.length === 0) {
    ctx.stderr.write("sessionvault: no slots\n");
    return;
  }
  const width = Math.max(4, ...entries.map((e) => e.slot.length));
  // "claude-code" is wider than "codex": the column grows with what it holds.
  const agentWidth = Math.max(6, ...entries.map((e) => e.record.agent.length));
  ctx.stdout.write(`${"SLOT".padEnd(width)}  SESSION                               ${"AGENT".padEnd(agentWidth)}  UPDATED                   CWD\n`);
  for (const { slot, record } of entries) {
    // A state file is written by whoever can write it: its text reaches the terminal escaped, as every stored text does.
    ctx.stdout.write(
      terminalSafe(
        `${slot.padEnd(width)}  ${record.session_id.padEnd(36)}  ${record.agent.padEnd(agentWidth)}  ${record.updated_at.padEnd(24)}  ${record.cwd}`,
      ) + "\n",
    );
  }
}

/** `sessionvault state get SLOT [--json]`: the session id (plain, for scripts) or the whole record. */
export async function stateGet(options: StateOptions & { slot: string }, ctx: CliContext): Promise<void> {
  const record = await openStateFile(ctx, options).get(options.slot);
  if (!record) throw new NotFoundError(`slot ${options.slot} is empty`);
  if (options.json) printJson(ctx, { slot: options.slot, ...record });
  else ctx.stdout.write(`${record.session_id}\n`);
}

/**
 * `sessionvault state set SLOT ID [--agent A] [--cwd DIR] [--json]`. ID is a
 * full session id, or a unique prefix of a session in the Codex home (with
 * `--agent claude-code`, in the Claude Code config dir).
 */
export async function stateSet(options: StateOptions & { slot: string; id: string; agent?: string; cwd?: string }, ctx: CliContext): Promise<void> {
  let id = assertIdOrPrefix(options.id);
  if (!isSessionId(id)) {
    const home = options.agent === "claude-code" ? claudeConfigDir(ctx) : codexHomeDir(ctx, options.codexHome);
    const found = options.agent === "claude-code" ? await findClaudeSession(home, id) : await findRollout(home, id);
    if (!found) throw new NotFoundError(`no session starting with ${id} in ${home} (give the full id to record a session that is not there)`);
    id = found.id;
  }
  const record = await openStateFile(ctx, options).set(options.slot, {
    session_id: id,
    agent: options.agent ?? "codex",
    cwd: resolve(ctx.cwd, options.cwd ?? "."),
  });
  if (options.json) printJson(ctx, { slot: options.slot, ...record });
}

/** `sessionvault state clear SLOT [--json]`: idempotent; clearing an empty slot is not an error. */
export async function stateClear(options: StateOptions & { slot: string }, ctx: CliContext): Promise<void> {
  const cleared = await openStateFile(ctx, options).clear(options.slot);
  if (options.json) printJson(ctx, { slot: options.slot, cleared });
  else if (!cleared) ctx.stderr.write(`sessionvault: slot ${options.slot} was already empty\n`);
}
