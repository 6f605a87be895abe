import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  assertIdOrPrefix,
  CODEX_VALUE_OPTIONS,
  InvalidIdError,
  IoError,
  SessionvaultError,
  NotFoundError,
  redactUrl,
  syncStores,
  UsageError,
  type ListQuery,
  type SessionStore,
  type SessionSummary,
  type SlotRecord,
} from "@sessionvault/core";
import { findRollout, type RolloutLocation } from "@sessionvault/core";
import type { CliContext } from "../io.js";
import { processesHolding } from "../proc-files.js";
import { openStateFile, withSlotRecording } from "../slot-recording.js";
import { codexHomeDir, stateFilePath } from "../state-location.js";
import { openStoreArg } from "../stores.js";
import { run } from "./run.js";

export interface ResumeOptions {
  /** A slot name, or a session id / unique prefix. */
  target: string;
  /** Extra agent arguments (after "--"): `exec [options] [PROMPT]` for a non-interactive run, else TUI arguments. */
  agentArgs: string[];
  /** The agent executable (default `codex` on PATH). */
  agentBin?: string;
  stateFile?: string;
  codexHome?: string;
  /** Passed on to `run`: capture the resumed session too. */
  persistSession?: boolean;
  /** A store (archive) to restore the session from when its rollout is not in the Codex home. */
  restoreFrom?: string;
  /** Seconds to wait for an agent that still has the session open (default 10). */
  wait?: number | string;
}

/** The session is still open in another agent (e.g. one that outlived a killed supervisor). */
export class SessionBusyError extends SessionvaultError {
  constructor(message: string) {
    super("CONFLICT", message);
  }
}

const SLOT = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const ID_LIKE = /^[0-9a-f-]{8,36}$/;

/**
 * `sessionvault resume SLOT_OR_ID [-- EXTRA_AGENT_ARGS...]`
 *
 * A slot whose session still has its rollout in the Codex home is resumed
 * (`codex exec resume <id> …`, or `codex resume <id> …` for the interactive
 * TUI); otherwise a fresh session starts and the slot is pointed at it. It
 * always says on stderr which of the two happened, and why.
 */
export async function resume(options: ResumeOptions, ctx: CliContext): Promise<void> {
  const home = codexHomeDir(ctx, options.codexHome);
  const agentBin = options.agentBin || "codex";
  const args = options.agentArgs;
  const exec = args[0] === "exec" || args[0] === "e";
  const sub0 = args[firstPositional(args, exec ? 1 : 0)];
  if (sub0 === "resume" || sub0 === "fork") {
    throw new UsageError(`do not put "resume" or "fork" in the agent arguments: sessionvault resume adds "resume <id>" itself`);
  }
  const say = (message: string) => ctx.stderr.write(`sessionvault: ${message}\n`);
  const wait = Number(options.wait ?? 10);
  if (!Number.isFinite(wait) || wait < 0) throw new UsageError(`--wait ${String(options.wait)}: give a number of seconds (0 or more)`);

  let slot: string | null = null;
  let record: SlotRecord | null = null;
  const target = options.target;
  if (SLOT.test(target)) {
    record = await openStateFile(ctx, options).get(target);
    // An unknown name that looks like an id is an id; anything else names a (new) slot.
    if (record || !ID_LIKE.test(target)) slot = target;
  }

  let sessionId: string | null = null;
  let rollout: string | null = null;
  let cwd = ctx.cwd;
  if (slot) {
    if (!record) {
      say(`slot ${slot} is empty; starting fresh`);
    } else {
      let found = await findRollout(home, record.session_id);
      if (!found && options.restoreFrom) found = await restore(ctx, options.restoreFrom, home, record.session_id, say);
      if (found && !found.archived) {
        sessionId = found.id;
        rollout = found.path;
        // The session continues where it ran, if that directory still exists.
        if (record.cwd && existsSync(record.cwd)) cwd = record.cwd;
        say(`resuming session ${sessionId} from slot ${slot}`);
      } else if (found) {
        say(`slot ${slot} has no usable session (rollout ${found.path} is archived; "codex unarchive ${found.id}" restores it); starting fresh`);
      } else {
        say(`slot ${slot} has no usable session (rollout of ${record.session_id} missing in ${join(home, "sessions")}); starting fresh`);
      }
    }
  } else {
    let prefix: string;
    try {
      prefix = assertIdOrPrefix(target);
    } catch {
      throw new InvalidIdError(`${JSON.stringify(target)} is neither a slot name nor a session id`);
    }
    let found = await findRollout(home, prefix);
    if (!found && options.restoreFrom) found = await restore(ctx, options.restoreFrom, home, prefix, say);
    if (!found)
      throw new NotFoundError(
        `no rollout for session ${target} in ${join(home, "sessions")}${options.restoreFrom ? ` nor in ${redactUrl(options.restoreFrom)}` : ""}`,
      );
    if (found.archived) throw new NotFoundError(`session ${found.id} is archived (${found.path}); run "codex unarchive ${found.id}" first`);
    sessionId = found.id;
    rollout = found.path;
    say(`resuming session ${sessionId}`);
  }

  if (sessionId && rollout) await waitUntilClosed(rollout, sessionId, wait, say);

  const command = [agentBin, ...(sessionId ? resumeArgs(args, exec, sessionId) : args)];
  // The agent must look in the same Codex home as we did.
  const sub: CliContext = { ...ctx, cwd, env: options.codexHome ? { ...ctx.env, CODEX_HOME: home } : ctx.env };
  const go = () => run({ command, ...(options.persistSession ? { persistSession: true } : {}) }, sub);
  if (slot) {
    // Absolute paths: `sub` may run in another directory than the one relative paths were given in.
    await withSlotRecording({ slot, command, cwd, stateFile: stateFilePath(ctx, options), codexHome: home, extra: { started_by: "resume" } }, sub, go);
  } else {
    await go();
  }
  if (sub.exitCode !== undefined) ctx.exitCode = sub.exitCode;
}

/**
 * A supervisor killed with kill -9 leaves its agent running, still writing
 * the session; a second agent on the same rollout would interleave lines
 * (Codex 0.169 refuses it, older versions do not). Wait a little for the old
 * agent to finish, then refuse with the pid to stop.
 */
async function waitUntilClosed(rollout: string, id: string, seconds: number, say: (m: string) => void): Promise<void> {
  let holders = await processesHolding(rollout);
  if (!holders?.length) return;
  say(`session ${id} is still open in pid ${holders.join(", ")} (an agent from before the restart?); waiting up to ${seconds} s for it to exit`);
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    holders = await processesHolding(rollout);
    if (!holders?.length) return;
  }
  throw new SessionBusyError(`session ${id} is still being written by pid ${holders!.join(", ")}; stop that agent (or let it finish) and resume again`);
}

/**
 * Copies one session from an archive into the Codex home (the same sync as
 * `sessionvault sync --from URL --to <home>`, limited to that session), so
 * that Codex finds its rollout. Null if the archive does not have it.
 */
async function restore(ctx: CliContext, url: string, home: string, idOrPrefix: string, say: (m: string) => void): Promise<RolloutLocation | null> {
  const from = await openStoreArg(ctx, url);
  const to = await openStoreArg(ctx, home);
  try {
    let session: SessionSummary;
    try {
      session = await from.getSession(idOrPrefix);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
    const result = await syncStores(onlySession(from, session), to);
    const failed = result.errors[0];
    if (failed) throw new IoError(`could not restore session ${session.id} from ${redactUrl(url)}: ${failed.message}`);
    say(`restored session ${session.id} from ${redactUrl(url)} into ${home} (${result.lines_sent} lines)`);
    return findRollout(home, session.id);
  } finally {
    await Promise.allSettled([from.close(), to.close()]);
  }
}

/** A view of `store` that lists only `session`, so a sync copies just that one. */
function onlySession(store: SessionStore, session: SessionSummary): SessionStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "listSessions") return async (query?: ListQuery) => ({ sessions: query?.cursor ? [] : [session], next_cursor: null });
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Index of the first positional argument at or after `from` (args.length if none). */
function firstPositional(args: string[], from: number): number {
  for (let i = from; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return i;
    if (CODEX_VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith("-")) return i;
  }
  return args.length;
}

/**
 * `exec [opts] [PROMPT]` → `exec [opts] resume <id> [PROMPT]`; TUI `[opts] [PROMPT]` →
 * `[opts] resume <id> [PROMPT]`. Options stay before the subcommand, where
 * every `exec` option is accepted.
 */
function resumeArgs(args: string[], exec: boolean, id: string): string[] {
  const at = firstPositional(args, exec ? 1 : 0);
  return [...args.slice(0, at), "resume", id, ...args.slice(at)];
}
