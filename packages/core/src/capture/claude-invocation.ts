import { randomUUID } from "node:crypto";
import { basename } from "node:path";
import { isSessionId } from "../ids.js";

/**
 * What a Claude Code command line says about its session (checked against
 * `claude --help` of 2.1.332): `--resume <id>` / `-r <id>` continues a
 * session, `--continue` / `-c` the newest one of the directory, a bare
 * `--resume` (or one with a search term) opens a picker, `--fork-session`
 * copies the resumed session into a new one, and `--session-id <uuid>`
 * starts a session under a chosen id.
 */
export interface ClaudeInvocation {
  /** The session named by `--resume <uuid>` (the fork's parent with `--fork-session`). */
  resumeId: string | null;
  /** `--session-id <uuid>`. */
  sessionId: string | null;
  /** `--continue`, or `--resume` without an id: which session continues is only known once it runs. */
  continuesUnnamed: boolean;
  fork: boolean;
}

/** True when argv[0] runs the Claude Code CLI (`claude`, a path to it, or the npm package's native binary). */
export function isClaudeCommand(argv: readonly string[]): boolean {
  const prog = argv[0];
  if (!prog) return false;
  const b = basename(prog);
  return b === "claude" || b === "claude.exe";
}

export function parseClaudeInvocation(argv: readonly string[]): ClaudeInvocation {
  const out: ClaudeInvocation = { resumeId: null, sessionId: null, continuesUnnamed: false, fork: false };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    // Everything after "--" is a prompt, never an option.
    if (a === "--") break;
    const [name, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    if (name === "--resume" || name === "-r") {
      const next = inline ?? (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("-") ? argv[i + 1] : undefined);
      if (inline === undefined && next !== undefined) i++;
      const id = next?.toLowerCase();
      if (id !== undefined && isSessionId(id)) out.resumeId = id;
      else out.continuesUnnamed = true;
    } else if (name === "--continue" || name === "-c") {
      out.continuesUnnamed = true;
    } else if (name === "--fork-session") {
      out.fork = true;
    } else if (name === "--session-id") {
      const v = (inline ?? argv[++i])?.toLowerCase();
      if (v !== undefined && isSessionId(v)) out.sessionId = v;
    }
  }
  return out;
}

/**
 * A fresh Claude Code run (no resume, no continue, no chosen id) gets
 * `--session-id <new uuid>` right after the program, so the session id is
 * known before the agent starts: a supervisor killed a moment later already
 * finds it in its slot, and the agent's processes can be recognised by it.
 * Other command lines are returned unchanged, with the id they name (null
 * when only the run itself will tell).
 */
export function withClaudeSessionId(argv: readonly string[], newId: () => string = randomUUID): { argv: string[]; sessionId: string | null } {
  const inv = parseClaudeInvocation(argv);
  if (inv.sessionId) return { argv: [...argv], sessionId: inv.sessionId };
  if (inv.fork || inv.continuesUnnamed) return { argv: [...argv], sessionId: null };
  if (inv.resumeId) return { argv: [...argv], sessionId: inv.resumeId };
  const id = newId();
  return { argv: [argv[0]!, "--session-id", id, ...argv.slice(1)], sessionId: id };
}
