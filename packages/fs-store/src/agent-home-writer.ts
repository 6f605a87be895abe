import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { mkdir, open, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  claudeCaptureDir,
  claudeProjectSlug,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  STREAM_FILES,
  STREAMS,
  UnsupportedError,
  type AppendOptions,
  type AppendResult,
  type SessionInput,
} from "@sessionvault/core/store-api";
import { withLock } from "./file-lock.js";
import { appendAt, countPosition, openStoreFile, PositionCache, validateLines, type FilePosition } from "./stream-file.js";

export type AgentHomeKind = "claude-code" | "gemini-cli";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SUB_AGENT = /^sub-agent-([0-9a-zA-Z_-]+)$/;
const CAPTURED: ReadonlySet<string> = new Set([STREAMS.rawApi, STREAMS.debugLog, STREAMS.metaEvents]);
const GEMINI_CHAT = /^session-.+\.jsonl?$/;

/**
 * Puts sessions back where their agent finds them (a restore: `sync --to`
 * an agent's home), byte-exact, with the store contract's positions:
 *
 * - Claude Code: the transcript `projects/<cwd slug>/<sessionId>.jsonl`
 *   (created empty by `putSession`, which fixes the project folder from the
 *   session's cwd); a sub-agent where the session's CLI version keeps it
 *   (2.0.x `agent-<id>.jsonl` beside the transcript, 2.1.x on
 *   `<sessionId>/subagents/agent-<id>.jsonl`).
 * - Gemini CLI (JSONL chats): `tmp/<project>/chats/session-<start>-<id8>.jsonl`,
 *   `<project>` the folder `projects.json` names for the cwd, else the sha256
 *   of the cwd with a `.project_root` naming the cwd, which Gemini CLI 0.5x
 *   then takes as the project's folder (without it, the CLI copies the
 *   folder to a new short name and resumes there). The `rollout` stream is the session's chat files one after
 *   the other, so a header line whose start time names another file starts
 *   that file, as the CLI did. A single-JSON chat (0.20.x) is one document
 *   the CLI rewrites whole: it cannot be appended to, and is refused.
 *
 * Every write holds the session's OS lock (`.sessionvault/locks/<id>.lock`
 * in the home, the only thing sessionvault adds there besides the
 * sessions), counts the position under it, cuts a torn tail left by a
 * crashed writer, and refuses a wrong position with ConflictError.
 */
export class AgentHomeWriter {
  readonly agent: AgentHomeKind;
  readonly dir: string;
  readonly #positions = new PositionCache(10_000);
  /** Gemini CLI: the cwd `putSession` was given, until the first chat file exists. */
  readonly #pendingCwd = new Map<string, string | null>();
  readonly #lockTimeoutMs: number | undefined;
  /** Claude Code: a session's transcript; Gemini CLI: its `chats/` folder — as last found. */
  readonly #places = new Map<string, string>();

  constructor(agent: AgentHomeKind, dir: string, options: { lockTimeoutMs?: number } = {}) {
    this.agent = agent;
    this.dir = dir;
    this.#lockTimeoutMs = options.lockTimeoutMs;
  }

  /** Makes the session's place in the home (Claude Code: its empty transcript). Idempotent. */
  async putSession(input: SessionInput): Promise<void> {
    const id = input.id;
    const agent = (input as { agent?: string }).agent ?? input.facts?.agent;
    if (agent !== undefined && agent !== this.agent)
      throw new UnsupportedError(`session ${id} is a ${agent} session; ${this.dir} is a ${this.agent} home, which holds only ${this.agent} sessions`);
    if (!UUID.test(id)) throw new InvalidInputError(`session id ${JSON.stringify(id)} is not a ${this.agent} session id (a UUID)`);
    await this.#locked(id, async () => {
      if (this.agent === "gemini-cli") {
        if ((await this.#geminiFiles(id)) === null) this.#pendingCwd.set(id, input.cwd);
        return;
      }
      if ((await this.#claudeTranscript(id)) !== null) return;
      // No cwd (an empty transcript, a 1.0.x title-only file): its lines name the project when they come.
      if (input.cwd === null) this.#pendingCwd.set(id, null);
      else await this.#createClaudeTranscript(id, input.cwd);
    });
  }

  async #createClaudeTranscript(id: string, cwd: string | null, lines: readonly string[] = []): Promise<string> {
    const folder = cwd !== null ? await this.#claudeProjectFolder(cwd) : await this.#claudeFolderOfLines(id, lines);
    const projectDir = join(this.dir, "projects", folder);
    await mkdir(projectDir, { recursive: true, mode: 0o700 });
    const path = join(projectDir, `${id}.jsonl`);
    // Exclusive: a transcript the agent itself created meanwhile is never truncated.
    await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600).then(
      (fh) => fh.close(),
      (err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      },
    );
    this.#pendingCwd.delete(id);
    this.#places.set(id, path);
    return path;
  }

  /**
   * The project of a session put without a cwd: the first `cwd` its lines
   * record, else (a 1.0.x title-only file, `{"type":"summary","leafUuid"}`)
   * the project of this home holding the record it titles.
   */
  async #claudeFolderOfLines(id: string, lines: readonly string[]): Promise<string> {
    for (const line of lines) {
      const m = /"cwd"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(line);
      if (m) return this.#claudeProjectFolder(JSON.parse(m[1]!) as string);
    }
    const leaf = /"leafUuid"\s*:\s*"([^"\\]+)"/.exec(lines[0] ?? "")?.[1];
    if (leaf !== undefined) {
      const projects = join(this.dir, "projects");
      for (const project of (await readdir(projects).catch(() => [] as string[])).sort()) {
        for (const name of await readdir(join(projects, project)).catch(() => [] as string[])) {
          if (!name.endsWith(".jsonl")) continue;
          const text = await readFile(join(projects, project, name), "utf8").catch(() => "");
          if (text.includes(`"uuid":"${leaf}"`)) return project;
        }
      }
      // Not permanent: once the titled session is restored, a rerun puts the title beside it.
      throw new NotFoundError(
        `Claude Code session ${id} only titles record ${leaf}, which no session of ${this.dir} holds yet; a rerun puts it beside that session`,
      );
    }
    throw new InvalidInputError(
      `Claude Code session ${id} records no cwd (and titles no session of this home): its project folder under ${this.dir}/projects cannot be named; restore the session it belongs to first`,
    );
  }

  async append(sessionId: string, stream: string, expectedSeq: number, lines: readonly string[], options: AppendOptions = {}): Promise<AppendResult> {
    validateLines(lines);
    if (!Number.isInteger(expectedSeq) || expectedSeq < 0) throw new InvalidInputError(`expected position must be a non-negative integer, got ${expectedSeq}`);
    if (!UUID.test(sessionId)) throw new NotFoundError(`no ${this.agent} session ${sessionId} in ${this.dir}`);
    const sub = SUB_AGENT.exec(stream);
    // What `run --persist-session` captured beside a Claude Code transcript goes back where it was captured.
    const captured = this.agent === "claude-code" && CAPTURED.has(stream);
    if (stream !== "rollout" && !sub && !captured)
      throw new UnsupportedError(
        `${this.dir} is a ${this.agent} home: it holds a session's transcript (rollout)${this.agent === "claude-code" ? ", what capture recorded beside it (raw-api, debug-log, meta-events)" : ""} and its sub-agents (sub-agent-<id>), not "${stream}"`,
      );
    const durable = options.durable === true;
    return this.#locked(sessionId, async () => {
      if (this.agent === "claude-code") {
        if (!sub && expectedSeq === 0 && lines.length > 0) refuseForeignFirstLine(this.agent, sessionId, lines[0]!);
        let transcript = await this.#claudeTranscript(sessionId);
        if (transcript === null && this.#pendingCwd.has(sessionId) && !sub && expectedSeq === 0 && lines.length > 0)
          transcript = await this.#createClaudeTranscript(sessionId, null, lines);
        if (transcript === null) throw new NotFoundError(`no Claude Code session ${sessionId} in ${this.dir}: put the session first`);
        if (captured) {
          const dir = claudeCaptureDir(join(transcript, ".."), sessionId);
          await mkdir(dir, { recursive: true, mode: 0o700 });
          return appendAt(join(dir, STREAM_FILES[stream]!), expectedSeq, lines, this.#positions, { durable, create: true });
        }
        if (!sub) {
          return appendAt(transcript, expectedSeq, lines, this.#positions, { durable });
        }
        const path = await this.#claudeSubAgentPath(transcript, sessionId, sub[1]!, lines);
        await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
        return appendAt(path, expectedSeq, lines, this.#positions, { durable, create: true });
      }
      const files = await this.#geminiFiles(sessionId);
      if (sub) {
        if (files === null || files.files.length === 0)
          throw new NotFoundError(`no Gemini CLI session ${sessionId} in ${this.dir}: its chat comes before its sub-agents`);
        const subDir = join(files.chatsDir, sessionId);
        await mkdir(subDir, { recursive: true, mode: 0o700 });
        return appendAt(join(subDir, `${sub[1]}.jsonl`), expectedSeq, lines, this.#positions, { durable, create: true });
      }
      return this.#appendGeminiChat(sessionId, files, expectedSeq, lines, durable);
    });
  }

  /** The committed lines and bytes of a session's transcript (all its chat files); 0 before it has any. */
  async rolloutPosition(id: string): Promise<{ seq: number; bytes: number }> {
    const files = this.agent === "claude-code" ? [await this.#claudeTranscript(id)].filter((f) => f !== null) : ((await this.#geminiFiles(id))?.files ?? []);
    let seq = 0;
    let bytes = 0;
    for (const f of files) {
      const pos = await this.#position(f);
      seq += pos.seq;
      bytes += pos.committed;
    }
    return { seq, bytes };
  }

  #locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return withLock(join(this.dir, ".sessionvault", "locks", `${id}.lock`), fn, { timeoutMs: this.#lockTimeoutMs });
  }

  /** `projects/*\/<id>.jsonl`, or null. */
  async #claudeTranscript(id: string): Promise<string | null> {
    // Where an earlier call found it (a sync appends batch after batch), while it is still there.
    const known = this.#places.get(id);
    if (known !== undefined && (await stat(known).catch(() => null))?.isFile()) return known;
    const projects = join(this.dir, "projects");
    for (const project of await readdir(projects).catch(() => [] as string[])) {
      const path = join(projects, project, `${id}.jsonl`);
      if ((await stat(path).catch(() => null))?.isFile()) {
        this.#places.set(id, path);
        return path;
      }
    }
    return null;
  }

  /**
   * The project folder of `cwd`: Claude Code's slug, or, for a path too long
   * for it, the folder of this home already named by the slug's first 200
   * characters (Claude Code adds a hash of the path there and finds such a
   * folder by that prefix).
   */
  async #claudeProjectFolder(cwd: string): Promise<string> {
    const slug = claudeProjectSlug(cwd);
    const long = cwd.replace(/[^a-zA-Z0-9]/g, "-");
    if (slug === long) return slug;
    const prefix = `${long.slice(0, 200)}-`;
    const existing = (await readdir(join(this.dir, "projects")).catch(() => [] as string[])).find((n) => n.startsWith(prefix));
    return existing ?? slug;
  }

  /** Where sub-agent `agentId` goes: its file if it exists, else where the session's CLI version keeps sub-agents. */
  async #claudeSubAgentPath(transcript: string, sessionId: string, agentId: string, lines: readonly string[]): Promise<string> {
    const projectDir = join(transcript, "..");
    const nested = join(projectDir, sessionId, "subagents", `agent-${agentId}.jsonl`);
    const beside = join(projectDir, `agent-${agentId}.jsonl`);
    for (const p of [nested, beside]) if ((await stat(p).catch(() => null))?.isFile()) return p;
    const version = versionOf(lines[0]) ?? versionOf(await head(transcript));
    // 2.0.x kept sub-agents beside the session; 2.1.x moved them under `<sessionId>/subagents/`.
    return version !== null && (version[0] < 2 || (version[0] === 2 && version[1] < 1)) ? beside : nested;
  }

  /** The session's chat files (name order = time order) and their folder; null when none exists yet. */
  async #geminiFiles(id: string): Promise<{ chatsDir: string; files: string[] } | null> {
    const short = id.slice(0, 8);
    const inFolder = async (chatsDir: string) => {
      const names = (await readdir(chatsDir).catch(() => [] as string[])).filter((n) => GEMINI_CHAT.test(n) && n.includes(short)).sort();
      const files: string[] = [];
      for (const n of names) if ((await head(join(chatsDir, n)))?.includes(`"${id}"`)) files.push(join(chatsDir, n));
      return files.length > 0 ? { chatsDir, files } : null;
    };
    // The folder an earlier call found it in (a sync appends batch after batch), while it still holds it.
    const known = this.#places.get(id);
    const again = known !== undefined ? await inFolder(known) : null;
    if (again) return again;
    const tmp = join(this.dir, "tmp");
    for (const project of (await readdir(tmp).catch(() => [] as string[])).sort()) {
      const found = await inFolder(join(tmp, project, "chats"));
      if (found) {
        this.#places.set(id, found.chatsDir);
        return found;
      }
    }
    return null;
  }

  async #appendGeminiChat(
    id: string,
    found: { chatsDir: string; files: string[] } | null,
    expectedSeq: number,
    lines: readonly string[],
    durable: boolean,
  ): Promise<AppendResult> {
    const files = found?.files ?? [];
    const json = files.find((f) => f.endsWith(".json"));
    if (json !== undefined) throw singleJsonChat(id, `${json} is one`);
    // Committed lines of every file; only the last may end in a torn write (files are written in order).
    const positions: FilePosition[] = [];
    for (const f of files) positions.push(await this.#position(f));
    const total = positions.reduce((n, p) => n + p.seq, 0);
    if (expectedSeq !== total) throw new ConflictError(`append at position ${expectedSeq} refused: the stream is at ${total}`, total);
    if (lines.length === 0) return { seq: total };
    let chatsDir = found?.chatsDir ?? null;
    let current = files.at(-1) ?? null;
    let currentSeq = positions.at(-1)?.seq ?? 0;
    let seq = total;
    let batch: string[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await appendAt(current!, currentSeq, batch, this.#positions, { durable, create: true });
      currentSeq += batch.length;
      seq += batch.length;
      batch = [];
    };
    for (const line of lines) {
      const header = chatHeader(line);
      if (current === null) {
        if (header === null) {
          if (line.trimStart().startsWith("{") && !line.trimEnd().endsWith("}")) throw singleJsonChat(id, "its first line opens a JSON document");
          throw new UnsupportedError(
            `session ${id} does not start with a Gemini CLI chat header line ({"sessionId", "startTime", …}); refusing to write it as a chat`,
          );
        }
        if (header.sessionId !== id) throw new InvalidInputError(`the chat header names session ${header.sessionId}, not ${id}`);
        chatsDir = await this.#geminiChatsDir(id, header.projectHash);
      }
      if (header !== null && header.sessionId === id) {
        const name = join(chatsDir!, geminiChatName(id, header.startTime));
        // A header naming another minute is the file the CLI started there (a resume in a later minute).
        if (current === null || name > current) {
          await flush();
          current = name;
          currentSeq = 0;
        }
      }
      batch.push(line);
    }
    await flush();
    this.#pendingCwd.delete(id);
    return { seq };
  }

  /** `tmp/<project>/chats` for a new session: the folder `projects.json` gives its cwd, else the sha256 of the cwd (the header's `projectHash`). */
  async #geminiChatsDir(id: string, projectHash: string | null): Promise<string> {
    const cwd = this.#pendingCwd.get(id) ?? null;
    let project: string | null = null;
    if (cwd !== null) {
      const named = await readFile(join(this.dir, "projects.json"), "utf8").then(
        (t) => (JSON.parse(t) as { projects?: Record<string, unknown> }).projects?.[cwd],
        () => undefined,
      );
      if (typeof named === "string" && /^[^/\\.][^/\\]*$/.test(named) && (await stat(join(this.dir, "tmp", named)).catch(() => null))?.isDirectory())
        project = named;
      project ??= createHash("sha256").update(cwd).digest("hex");
    } else if (projectHash !== null && /^[0-9a-f]{64}$/.test(projectHash)) {
      project = projectHash;
    }
    if (project === null)
      throw new InvalidInputError(`Gemini CLI session ${id} names no project (no cwd, no projectHash): its folder under ${this.dir}/tmp cannot be named`);
    const projectDir = join(this.dir, "tmp", project);
    const chatsDir = join(projectDir, "chats");
    await mkdir(chatsDir, { recursive: true, mode: 0o700 });
    if (cwd !== null) {
      // The root the folder belongs to, as Gemini CLI records it beside its own folders: it makes the CLI adopt this folder.
      await writeFile(join(projectDir, ".project_root"), cwd, { flag: "wx", mode: 0o600 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      });
    }
    return chatsDir;
  }

  async #position(path: string): Promise<FilePosition> {
    const fh = await openStoreFile(path, constants.O_RDONLY);
    if (!fh) return { seq: 0, committed: 0, size: 0, lastLineStart: 0 };
    try {
      const { size } = await fh.stat();
      const pos = await countPosition(fh, size, this.#positions.get(path));
      this.#positions.set(path, pos);
      return pos;
    } finally {
      await fh.close();
    }
  }
}

function singleJsonChat(id: string, why: string): UnsupportedError {
  return new UnsupportedError(
    `session ${id} is a single-JSON Gemini CLI chat (${why}): Gemini CLI (0.20.x) rewrites such a file whole, so it cannot be appended to line by line; restore it into a store (a folder, Postgres, S3) instead`,
  );
}

/** A Gemini CLI JSONL chat's header line (`{"sessionId", "projectHash", "startTime", …, "kind"}`), or null. */
function chatHeader(line: string): { sessionId: string; startTime: string; projectHash: string | null } | null {
  if (!line.startsWith('{"sessionId"')) return null;
  let r: unknown;
  try {
    r = JSON.parse(line);
  } catch {
    return null;
  }
  const o = r as Record<string, unknown>;
  if (typeof o.sessionId !== "string" || typeof o.startTime !== "string" || "type" in o) return null;
  return { sessionId: o.sessionId, startTime: o.startTime, projectHash: typeof o.projectHash === "string" ? o.projectHash : null };
}

/** `session-<YYYY-MM-DDTHH-MM of the start, UTC>-<first 8 of the id>.jsonl`, as Gemini CLI names a chat. */
export function geminiChatName(id: string, startTime: string): string {
  const t = Date.parse(startTime);
  if (Number.isNaN(t)) throw new InvalidInputError(`the chat header of session ${id} has no valid startTime: ${JSON.stringify(startTime)}`);
  return `session-${new Date(t).toISOString().slice(0, 16).replace(/:/g, "-")}-${id.slice(0, 8)}.jsonl`;
}

/** A Codex or Gemini CLI line arriving as a Claude Code transcript's first line: the session is another agent's. */
function refuseForeignFirstLine(agent: AgentHomeKind, id: string, line: string): void {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  if (typeof o !== "object" || o === null) return;
  const codex = "payload" in o || "record_type" in o || ("instructions" in o && "id" in o);
  const gemini = "projectHash" in o;
  if (codex || gemini)
    throw new UnsupportedError(`session ${id} is a ${codex ? "codex" : "gemini-cli"} session (its first line); a ${agent} home holds only ${agent} sessions`);
}

/** `[major, minor]` of a Claude Code record's `"version"`, or null. */
function versionOf(text: string | null | undefined): [number, number] | null {
  const m = text ? /"version"\s*:\s*"(\d+)\.(\d+)\./.exec(text) : null;
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** The first 64 KiB of a file as text, or null. */
async function head(path: string): Promise<string | null> {
  const fh = await open(path, "r").catch(() => null);
  if (!fh) return null;
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString("utf8");
  } finally {
    await fh.close();
  }
}
