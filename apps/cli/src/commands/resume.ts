import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  assertIdOrPrefix,
  captureAgentOf,
  CODEX_VALUE_OPTIONS,
  findClaudeSession,
  readFileLines,
  withClaudeSessionId,
  type CaptureAgent,
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
import { findRollout } from "@sessionvault/core";
import type { CliContext } from "../io.js";
import { processesHolding, processesNaming } from "../proc-files.js";
import { openStateFile, withSlotRecording } from "../slot-recording.js";
import { claudeConfigDir, codexHomeDir, stateFilePath } from "../state-location.js";
import { openStoreArg } from "../stores.js";
import { run } from "./run.js";

export interface ResumeOptions {
  /** A slot name, or a session id / unique prefix. */
  target: string;
  /** Extra agent arguments (after "--"): `exec [options] [PROMPT]` for a non-interactive run, else TUI arguments. */
  agentArgs: string[];
  /** The agent executable (default `codex`, or `claude` for a Claude Code session, on PATH). */
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
 * TUI), a Claude Code one whose transcript is in the config dir with
 * `claude --resume <id> …`; otherwise a fresh session starts and the slot
 * is pointed at it. It always says on stderr which of the two happened, and why.
 */
export async function resume(options: ResumeOptions, ctx: CliContext): Promise<void> {
  const home = codexHomeDir(ctx, options.codexHome);
  const claudeHome = claudeConfigDir(ctx);
  const args = options.agentArgs;
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
  // The agent: the slot's, else the one --agent-bin runs, else (an id) the home that has the session.
  let agent: CaptureAgent | null = record
    ? record.agent === "claude-code"
      ? "claude-code"
      : "codex"
    : options.agentBin
      ? captureAgentOf([options.agentBin])
      : null;
  // Bad arguments are refused before anything is looked up or run.
  assertAgentArgs(agent ?? "codex", args);
  const homes: Record<CaptureAgent, Home> = {
    codex: {
      dir: home,
      find: (id) => findRollout(home, id),
      missing: (id) => `rollout of ${id} missing in ${join(home, "sessions")}`,
      holders: (found) => processesHolding(found.path),
    },
    "claude-code": {
      dir: claudeHome,
      // Claude Code has no archive.
      find: async (id) => {
        const hit = await findClaudeSession(claudeHome, id);
        return hit ? { ...hit, archived: false } : null;
      },
      missing: (id) => `transcript of ${id} missing in ${join(claudeHome, "projects")}`,
      // Claude Code does not keep its transcript open; every run of a session names it on its command line.
      holders: (found) => processesNaming(found.id),
    },
  };

  let found: Found | null = null;
  let cwd = ctx.cwd;
  if (slot) {
    if (!record) {
      say(`slot ${slot} is empty; starting fresh`);
    } else {
      const h = homes[agent ?? "codex"];
      found = await h.find(record.session_id);
      if (!found && options.restoreFrom) found = await restore(ctx, options.restoreFrom, h, record.session_id, say);
      if (found && !found.archived) {
        // The session continues where it ran, if that directory still exists.
        if (record.cwd && existsSync(record.cwd)) cwd = record.cwd;
        say(`resuming session ${found.id} from slot ${slot}`);
      } else if (found) {
        say(`slot ${slot} has no usable session (rollout ${found.path} is archived; "codex unarchive ${found.id}" restores it); starting fresh`);
        found = null;
      } else {
        say(`slot ${slot} has no usable session (${h.missing(record.session_id)}); starting fresh`);
      }
    }
  } else {
    let prefix: string;
    try {
      prefix = assertIdOrPrefix(target);
    } catch {
      throw new InvalidIdError(`${JSON.stringify(target)} is neither a slot name nor a session id`);
    }
    const order: CaptureAgent[] = agent ? [agent] : ["codex", "claude-code"];
    for (const a of order) {
      found = await homes[a].find(prefix);
      if (found) {
        agent = a;
        break;
      }
    }
    if (!found && options.restoreFrom) {
      agent ??= "codex";
      found = await restore(ctx, options.restoreFrom, homes[agent], prefix, say);
    }
    if (!found)
      throw new NotFoundError(
        `no ${order.map((a) => (a === "codex" ? `rollout for session ${target} in ${join(home, "sessions")}` : `Claude Code transcript for session ${target} in ${join(claudeHome, "projects")}`)).join(" nor ")}${options.restoreFrom ? ` nor in ${redactUrl(options.restoreFrom)}` : ""}`,
      );
    if (found.archived) throw new NotFoundError(`session ${found.id} is archived (${found.path}); run "codex unarchive ${found.id}" first`);
    if (agent === "claude-code") {
      assertAgentArgs(agent, args);
      cwd = (await transcriptCwd(found.path)) ?? cwd;
    }
    say(`resuming session ${found.id}`);
  }
  agent ??= "codex";

  const command =
    agent === "claude-code"
      ? claudeCommand(options.agentBin || "claude", args, found?.id ?? null)
      : codexCommand(options.agentBin || "codex", args, found?.id ?? null);
  if (found) await waitUntilClosed(() => homes[agent].holders(found), found.id, wait, say);

  // The agent must look in the same home as we did.
  const sub: CliContext = { ...ctx, cwd, env: options.codexHome && agent === "codex" ? { ...ctx.env, CODEX_HOME: home } : ctx.env };
  const go = () => run({ command, ...(options.persistSession ? { persistSession: true } : {}) }, sub);
  if (slot) {
    // Absolute paths: `sub` may run in another directory than the one relative paths were given in.
    await withSlotRecording({ slot, command, cwd, stateFile: stateFilePath(ctx, options), codexHome: home, extra: { started_by: "resume" } }, sub, go);
  } else {
    await go();
  }
  if (sub.exitCode !== undefined) ctx.exitCode = sub.exitCode;
}

interface Found {
  id: string;
  path: string;
  archived: boolean;
}

/** Where one agent keeps its sessions, as resume needs it. */
interface Home {
  dir: string;
  find(idOrPrefix: string): Promise<Found | null>;
  /** Why a slot's session cannot be resumed, when its file is gone. */
  missing(id: string): string;
  /** Processes still running the session. */
  holders(found: Found): Promise<number[] | null>;
}

const CLAUDE_SESSION_OPTIONS = new Set(["--resume", "-r", "--continue", "-c", "--session-id", "--fork-session"]);

/** The extra arguments must not choose the session themselves: resume does. */
function assertAgentArgs(agent: CaptureAgent, args: string[]): void {
  if (agent === "codex") {
    const exec = args[0] === "exec" || args[0] === "e";
    const sub0 = args[firstPositional(args, exec ? 1 : 0)];
    if (sub0 === "resume" || sub0 === "fork") {
      throw new UsageError(`do not put "resume" or "fork" in the agent arguments: sessionvault resume adds "resume <id>" itself`);
    }
    return;
  }
  const clash = args.find((a) => CLAUDE_SESSION_OPTIONS.has(a.includes("=") ? a.slice(0, a.indexOf("=")) : a));
  if (clash) throw new UsageError(`do not put "${clash}" in the agent arguments: sessionvault resume adds "--resume <id>" itself`);
}

/** `codex [exec] [opts] resume <id> [PROMPT]`, or the arguments as given for a fresh session. */
function codexCommand(bin: string, args: string[], id: string | null): string[] {
  const exec = args[0] === "exec" || args[0] === "e";
  return [bin, ...(id ? resumeArgs(args, exec, id) : args)];
}

/** `claude --resume <id> ARGS…`; a fresh session gets its id up front (`--session-id`) so the slot holds it at once. */
function claudeCommand(bin: string, args: string[], id: string | null): string[] {
  return id ? [bin, "--resume", id, ...args] : withClaudeSessionId([bin, ...args]).argv;
}

/** The directory a Claude Code session ran in (its records' `cwd`), if it still exists. */
async function transcriptCwd(path: string): Promise<string | null> {
  for await (const line of readFileLines(path)) {
    let record: unknown;
    try {
      record = JSON.parse(line.text);
    } catch {
      continue;
    }
    const cwd = (record as { cwd?: unknown } | null)?.cwd;
    if (typeof cwd === "string") return existsSync(cwd) ? cwd : null;
  }
  return null;
}

/**
 * A supervisor killed with kill -9 leaves its agent running, still writing
 * the session; a second agent on the same session would interleave lines
 * (Codex 0.169 refuses it, older versions do not). Wait a little for the old
 * agent to finish, then refuse with the pid to stop.
 */
async function waitUntilClosed(holdersOf: () => Promise<number[] | null>, id: string, seconds: number, say: (m: string) => void): Promise<void> {
  let holders = await holdersOf();
  if (!holders?.length) return;
  say(`session ${id} is still open in pid ${holders.join(", ")} (an agent from before the restart?); waiting up to ${seconds} s for it to exit`);
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    holders = await holdersOf();
    if (!holders?.length) return;
  }
  throw new SessionBusyError(`session ${id} is still being written by pid ${holders!.join(", ")}; stop that agent (or let it finish) and resume again`);
}

/**
 * Copies one session from an archive into the agent's home (the same sync as
 * `sessionvault sync --from URL --to <home>`, limited to that session), so
 * that the agent finds it. Null if the archive does not have it.
 */
async function restore(ctx: CliContext, url: string, home: Home, idOrPrefix: string, say: (m: string) => void): Promise<Found | null> {
  const from = await openStoreArg(ctx, url);
  const to = await openStoreArg(ctx, home.dir);
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
    say(`restored session ${session.id} from ${redactUrl(url)} into ${home.dir} (${result.lines_sent} lines)`);
    return home.find(session.id);
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
