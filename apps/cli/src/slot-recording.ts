import { readdir, realpath } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  captureAgentOf,
  claudeProjectDir,
  listClaudeTranscripts,
  parseClaudeInvocation,
  parseCodexInvocation,
  SessionStateFile,
  assertSlug,
  type SlotInput,
} from "@sessionvault/core";
import { rolloutIdOf } from "@sessionvault/core";
import { mtimeMs, readRolloutHead } from "./codex-rollouts.js";
import type { CliContext } from "./io.js";
import { filesOpenByDescendants } from "./proc-files.js";
import { claudeConfigDir, codexHomeDir, stateFilePath } from "./state-location.js";

export interface SlotRecordingOptions {
  slot: string;
  /** The agent command line about to run. */
  command: string[];
  stateFile?: string;
  codexHome?: string;
  /** Where the agent runs (its session's cwd). */
  cwd: string;
  /** Extra fields for the slot record (e.g. how the session was started). */
  extra?: Record<string, unknown>;
}

const POLL_MS = 200;

export function openStateFile(ctx: CliContext, options: { stateFile?: string; codexHome?: string }): SessionStateFile {
  return new SessionStateFile(stateFilePath(ctx, options), {
    onWarning: (message) => ctx.stderr.write(`sessionvault: warning: ${message}\n`),
  });
}

/**
 * Runs `body` (which runs the agent) while keeping `slot` pointed at the
 * agent's session, so that a supervisor killed at any moment after the
 * session started finds it in the slot:
 *
 * - `codex … resume <id>`: the slot is written before the agent starts;
 * - otherwise the Codex home is watched for the rollout the run creates
 *   (its session_meta names the same cwd and no parent thread), or for
 *   `resume --last`, the rollout the run appends to; the slot is written
 *   as soon as it shows up, and checked once more when the agent exits.
 */
export async function withSlotRecording<T>(options: SlotRecordingOptions, ctx: CliContext, body: () => Promise<T>): Promise<T> {
  const slot = assertSlug(options.slot, "slot name");
  const state = openStateFile(ctx, options);
  const home = codexHomeDir(ctx, options.codexHome);
  const captured = captureAgentOf(options.command);
  const codex = captured === "codex";
  const agent = captured ?? basename(options.command[0] ?? "agent");
  const invocation = codex ? parseCodexInvocation(options.command) : null;
  const claude = captured === "claude-code" ? parseClaudeInvocation(options.command) : null;

  let recorded: string | null = null;
  const record = async (sessionId: string, how: string) => {
    if (recorded === sessionId) return;
    const fields: SlotInput = { ...options.extra, session_id: sessionId, agent, cwd: options.cwd };
    await state.set(slot, fields);
    recorded = sessionId;
    ctx.stderr.write(`sessionvault: slot ${slot} now holds session ${sessionId} (${how})\n`);
  };

  if (invocation?.resumeId) {
    await record(invocation.resumeId, "resumed by id");
    return body();
  }
  if (claude && !claude.fork && (claude.sessionId || claude.resumeId)) {
    await record((claude.sessionId ?? claude.resumeId)!, claude.sessionId ? "the id it was started with" : "resumed by id");
    return body();
  }
  if (!codex && !claude) {
    ctx.stderr.write(`sessionvault: warning: ${agent} is neither Codex nor Claude Code; slot ${slot} is only recorded for their sessions\n`);
    return body();
  }

  const watch: SessionWatch = claude
    ? new ClaudeTranscriptWatch(await claudeProjectDir(claudeConfigDir(ctx), options.cwd))
    : new RolloutWatch(home, options.cwd, invocation?.resume === true);
  await watch.start();
  let stopped = false;
  let failure: unknown = null;
  const poll = async (): Promise<void> => {
    try {
      const found = await watch.check(stopped);
      if (found)
        await record(
          found,
          claude ? "from the transcript this run writes" : invocation?.resume ? "from the rollout this run appends to" : "from the rollout this run created",
        );
    } catch (err) {
      failure ??= err;
    }
  };
  const loop = (async () => {
    while (!stopped && !recorded) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      if (!stopped) await poll();
    }
  })();
  try {
    return await body();
  } finally {
    stopped = true;
    await loop;
    if (!recorded) await poll();
    if (!recorded && failure) ctx.stderr.write(`sessionvault: warning: could not record the session in slot ${slot}: ${(failure as Error).message}\n`);
    else if (!recorded) ctx.stderr.write(`sessionvault: warning: no session ${watch.where}; slot ${slot} was not changed\n`);
  }
}

interface SessionWatch {
  /** Says where the session was looked for, for the warning when none showed up. */
  readonly where: string;
  start(): Promise<void>;
  check(final: boolean): Promise<string | null>;
}

/**
 * Spots the transcript a Claude Code run writes when its command line names
 * no session (`--continue`, a `--resume` picker, `--fork-session`): in the
 * project folder of its cwd, the transcript that is new or grew since the
 * run began, the most recently written one first.
 */
class ClaudeTranscriptWatch implements SessionWatch {
  readonly #projectDir: string;
  readonly #before = new Map<string, number>();

  constructor(projectDir: string) {
    this.#projectDir = projectDir;
  }

  get where(): string {
    return `transcript was written in ${this.#projectDir}`;
  }

  async start(): Promise<void> {
    for (const [id, t] of await listClaudeTranscripts(this.#projectDir)) this.#before.set(id, t.size);
  }

  async check(): Promise<string | null> {
    let best: { id: string; mtimeMs: number } | null = null;
    for (const [id, t] of await listClaudeTranscripts(this.#projectDir)) {
      if (this.#before.get(id) === t.size) continue;
      if (!best || t.mtimeMs > best.mtimeMs) best = { id, mtimeMs: t.mtimeMs };
    }
    return best?.id ?? null;
  }
}

/** Spots the rollout a Codex run creates (or, for `resume --last`, appends to). */
class RolloutWatch implements SessionWatch {
  readonly #home: string;
  readonly #cwd: string;
  readonly #appends: boolean;
  #cwdReal = "";
  #startedAt = 0;
  readonly #before = new Map<string, number | null>();

  constructor(home: string, cwd: string, appends: boolean) {
    this.#home = home;
    this.#cwd = cwd;
    this.#appends = appends;
  }

  get where(): string {
    return `rollout appeared in ${join(this.#home, "sessions")}`;
  }

  async start(): Promise<void> {
    this.#startedAt = Date.now();
    this.#cwdReal = await realpath(this.#cwd).catch(() => this.#cwd);
    for (const path of await this.#recentFiles()) this.#before.set(path, this.#appends ? await mtimeMs(path) : null);
  }

  /**
   * The session of the run, once its rollout exists. While the agent runs,
   * a candidate must be open in one of this process's descendants (Codex
   * keeps its rollout open), so two agents started at the same moment in
   * the same directory are told apart; where /proc is missing, and after the
   * agent exited (`final`), the cwd and the time of creation decide.
   */
  async check(final: boolean): Promise<string | null> {
    const candidates: string[] = [];
    for (const path of await this.#recentFiles()) {
      if (this.#before.has(path)) {
        const was = this.#before.get(path);
        const now = this.#appends ? await mtimeMs(path) : null;
        if (!this.#appends || was === now || now === null) continue;
      }
      const head = await readRolloutHead(path);
      if (!head || head.child || head.id !== rolloutIdOf(basename(path))) continue;
      if (head.cwd && head.cwd !== this.#cwd && head.cwd !== this.#cwdReal) continue;
      candidates.push(path);
    }
    if (candidates.length === 0) return null;
    const open = final ? null : await filesOpenByDescendants();
    const pick = open ? await findAsync(candidates, async (p) => open.has(await realpath(p).catch(() => p))) : candidates[0];
    return pick ? rolloutIdOf(basename(pick)) : null;
  }

  /** Rollouts in the day directories (local time, as Codex names them) around the run. */
  async #recentFiles(): Promise<string[]> {
    const days = new Set<string>();
    for (const t of [this.#startedAt - 86_400_000, this.#startedAt, Date.now(), Date.now() + 86_400_000]) {
      const d = new Date(t);
      days.add(join(this.#home, "sessions", String(d.getFullYear()), pad(d.getMonth() + 1), pad(d.getDate())));
    }
    const out: string[] = [];
    for (const dir of days) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (rolloutIdOf(n)) out.push(join(dir, n));
    }
    return out;
  }
}

async function findAsync<T>(items: T[], test: (item: T) => Promise<boolean>): Promise<T | undefined> {
  for (const item of items) if (await test(item)) return item;
  return undefined;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}
