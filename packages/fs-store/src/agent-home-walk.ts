import { createHash } from "node:crypto";
import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { claudeCaptureDir, ClaudeCodeHome, claudeForkParents, claudeSessionHead, type ClaudeSessionHead } from "@sessionvault/core/store-api";
import type { AgentHomeKind } from "./agent-home-writer.js";

/** One session of the home: its transcript files (read in this order) and its sub-agents' files. */
export interface HomeSession {
  id: string;
  files: string[];
  /** Extra streams: `sub-agent-<id>` → its transcript; null until asked for (`AgentHomeWalk.subAgentsOf`). */
  subAgents: Map<string, string> | null;
  /** Claude Code: the folder `sessionvault run --persist-session` files the captured streams in (they may not exist). */
  captureDir: string | null;
  /** Gemini CLI: the project root its folder belongs to. */
  cwd: string | null;
  forkOf: string | null;
  /** The `projects/<slug>` (Claude Code) or `tmp/<project>/chats` (Gemini CLI) folder. */
  folder: string;
}

/** A folder of sessions (a Claude Code project, a Gemini CLI `chats/`): no session in it started after `bound` (ms). */
export interface WalkGroup {
  folder: string;
  bound: number;
}

/** Files of one session found by name; `bound` (ms) is a time its first record cannot be later than. */
export interface WalkCandidate {
  folder: string;
  /** Claude Code: the session id (the file name); Gemini CLI: null until the chat's header is read. */
  id: string | null;
  /** The first 8 characters of the id (all a Gemini CLI chat's name holds). */
  idPrefix: string;
  files: string[];
  bound: number;
  /** Claude Code: the transcript's size and mtime when listed. */
  stamp?: string;
}

/** Where fork maps are kept between runs (AgentSummaryCache). */
export interface ForkMapCache {
  getForks(folder: string, key: string): Promise<Map<string, string | null> | null>;
  setForks(folder: string, key: string, forks: Map<string, string | null>): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHAT_FILE = /^session-(\d{4}-\d\d-\d\dT\d\d-\d\d)-([0-9a-zA-Z]{8})\.jsonl?$/;
const SESSION_ID = /"sessionId"\s*:\s*"([^"\\]+)"/;
/**
 * Record times and file times come from one clock, but a record may be
 * stamped a moment after its file was created; a bound is this much later
 * than the file time it comes from.
 */
const SLACK_MS = 5_000;

/**
 * Finds an agent home's sessions from folder and file names and times only,
 * so a listing reads the transcripts of the sessions its page shows and no
 * others (docs/sessions.md "Speed"):
 *
 * - a folder's mtime is when its last entry was created, so no session in it
 *   started later than that (plus `SLACK_MS`);
 * - Claude Code: a transcript's mtime is its last write, so its first record
 *   is not later than that;
 * - Gemini CLI: a chat's name holds the minute it started (UTC).
 *
 * Folder listings and their fork maps are kept for the life of the walk
 * (the store starts a new one after it writes). The listings, stats and
 * chat heads are read with the synchronous calls: hundreds of tiny
 * metadata reads cost less that way than through the thread pool, and each
 * takes microseconds.
 */
export class AgentHomeWalk {
  readonly agent: AgentHomeKind;
  readonly dir: string;
  readonly #expanded = new Map<string, Promise<WalkCandidate[]>>();
  readonly #forks = new Map<string, Promise<Map<string, string | null>>>();
  #roots: Promise<Map<string, string>> | null = null;

  readonly #cache: ForkMapCache | null;

  constructor(agent: AgentHomeKind, dir: string, cache: ForkMapCache | null = null) {
    this.agent = agent;
    this.dir = dir;
    this.#cache = cache;
  }

  /** Every session folder with its bound. */
  async groups(): Promise<WalkGroup[]> {
    const base = this.agent === "claude-code" ? join(this.dir, "projects") : join(this.dir, "tmp");
    const out: WalkGroup[] = [];
    for (const name of list(base)) {
      const folder = this.agent === "claude-code" ? join(base, name) : join(base, name, "chats");
      const st = statSync(folder, { throwIfNoEntry: false });
      if (st?.isDirectory()) out.push({ folder, bound: st.mtimeMs + SLACK_MS });
    }
    return out.sort((a, b) => b.bound - a.bound || (a.folder < b.folder ? -1 : 1));
  }

  /** The sessions of one folder, by their files' names (and, for Claude Code, their mtimes). */
  expand(folder: string): Promise<WalkCandidate[]> {
    let p = this.#expanded.get(folder);
    if (!p) {
      p = this.agent === "claude-code" ? this.#claudeFolder(folder) : this.#geminiFolder(folder);
      this.#expanded.set(folder, p);
    }
    return p;
  }

  /** The sessions a candidate's files hold, with their sub-agents and (Claude Code) the session each forked from. */
  async resolve(c: WalkCandidate): Promise<HomeSession[]> {
    if (this.agent === "claude-code") {
      const id = c.id!;
      const forkOf = (await this.#forkParents(c.folder)).get(id) ?? null;
      return [{ id, files: c.files, subAgents: null, captureDir: claudeCaptureDir(c.folder, id), cwd: null, forkOf, folder: c.folder }];
    }
    const cwd = await this.#projectRoot(join(c.folder, ".."));
    const byId = new Map<string, string[]>();
    for (const f of c.files) {
      const id = headSessionId(f);
      if (id === null) continue;
      let files = byId.get(id);
      if (!files) byId.set(id, (files = []));
      files.push(f);
    }
    return [...byId].map(([id, files]) => ({ id, files, subAgents: null, captureDir: null, cwd, forkOf: null, folder: c.folder }));
  }

  /** Claude Code: the sub-agent transcripts beside or under the session, warm-ups left out; Gemini CLI: `chats/<id>/*.jsonl`. */
  async subAgentsOf(s: HomeSession): Promise<Map<string, string>> {
    if (this.agent === "claude-code") {
      const subs = await new ClaudeCodeHome(this.dir).subAgentFiles(s.folder, s.id);
      return new Map(subs.map((a) => [a.agentId, a.path]));
    }
    const subDir = join(s.folder, s.id);
    const names = (await readdir(subDir).catch(() => [] as string[])).filter((n) => n.endsWith(".jsonl")).sort();
    return new Map(names.map((n) => [n.slice(0, -".jsonl".length), join(subDir, n)]));
  }

  /** The candidates whose id may start with `prefix` (at least 8 characters), from every folder. */
  async candidatesFor(prefix: string): Promise<WalkCandidate[]> {
    const want = prefix.toLowerCase();
    const out: WalkCandidate[] = [];
    for (const g of await this.groups()) {
      if (this.agent === "gemini-cli") {
        for (const c of await this.expand(g.folder)) if (want.startsWith(c.idPrefix.toLowerCase())) out.push(c);
        continue;
      }
      // Only the names that match are looked at (a restore looks sessions up one by one in a growing home).
      for (const name of list(g.folder)) {
        if (!name.endsWith(".jsonl") || !name.toLowerCase().startsWith(want)) continue;
        const id = name.slice(0, -".jsonl".length);
        const path = join(g.folder, name);
        if (UUID.test(id) && statSync(path, { throwIfNoEntry: false })?.isFile())
          out.push({ folder: g.folder, id, idPrefix: id.slice(0, 8), files: [path], bound: Number.POSITIVE_INFINITY });
      }
    }
    return out;
  }

  async #claudeFolder(folder: string): Promise<WalkCandidate[]> {
    const out: WalkCandidate[] = [];
    for (const name of list(folder)) {
      if (!name.endsWith(".jsonl") || !UUID.test(name.slice(0, -".jsonl".length))) continue;
      const path = join(folder, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st?.isFile()) continue;
      const id = name.slice(0, -".jsonl".length);
      out.push({ folder, id, idPrefix: id.slice(0, 8), files: [path], bound: st.mtimeMs + SLACK_MS, stamp: `${id}\0${st.size}\0${st.mtimeMs}` });
    }
    return out;
  }

  async #geminiFolder(folder: string): Promise<WalkCandidate[]> {
    const byPrefix = new Map<string, WalkCandidate>();
    // Name order is start order: a session's first file comes first.
    for (const name of list(folder).sort()) {
      const m = CHAT_FILE.exec(name);
      if (!m) continue;
      const [date, time] = m[1]!.split("T") as [string, string];
      const started = Date.parse(`${date}T${time.replace("-", ":")}:00.000Z`);
      // The chat started within that minute, so its first record is no later. Files sharing the
      // 8 characters may hold different sessions: the bound is the latest file's, which covers them all.
      const bound = Number.isNaN(started) ? Number.POSITIVE_INFINITY : started + 60_000 + SLACK_MS;
      let c = byPrefix.get(m[2]!);
      if (!c) {
        c = { folder, id: null, idPrefix: m[2]!, files: [], bound };
        byPrefix.set(m[2]!, c);
      }
      c.bound = Math.max(c.bound, bound);
      c.files.push(join(folder, name));
    }
    return [...byPrefix.values()];
  }

  /**
   * Fork parents of a project's sessions, from the heads of its transcripts
   * (read once per project), or from the cache while no transcript of the
   * project changed.
   */
  #forkParents(folder: string): Promise<Map<string, string | null>> {
    let p = this.#forks.get(folder);
    if (!p) {
      p = (async () => {
        const candidates = await this.expand(folder);
        const key = createHash("sha256")
          .update(
            candidates
              .map((c) => c.stamp ?? "")
              .sort()
              .join("\n"),
          )
          .digest("hex");
        const cached = await this.#cache?.getForks(folder, key);
        if (cached) return cached;
        const heads = new Map<string, ClaudeSessionHead | null>();
        for (const c of candidates) heads.set(c.id!, await claudeSessionHead(c.files[0]!));
        const forks = claudeForkParents(heads);
        await this.#cache?.setForks(folder, key, forks);
        return forks;
      })();
      this.#forks.set(folder, p);
    }
    return p;
  }

  /** `projects.json` (Gemini CLI 0.5x on) maps a root to its folder name; else the folder's `.project_root`. */
  async #projectRoot(projectDir: string): Promise<string | null> {
    this.#roots ??= readFile(join(this.dir, "projects.json"), "utf8").then(
      (text) => {
        const out = new Map<string, string>();
        const doc = JSON.parse(text) as { projects?: Record<string, unknown> };
        for (const [root, name] of Object.entries(doc.projects ?? {})) if (typeof name === "string") out.set(name, root);
        return out;
      },
      () => new Map<string, string>(),
    );
    const name = projectDir.slice(join(this.dir, "tmp").length + 1);
    return (
      (await this.#roots).get(name) ??
      (await readFile(join(projectDir, ".project_root"), "utf8").then(
        (s) => s.trim(),
        () => null,
      ))
    );
  }
}

/** The `sessionId` in the first 16 KiB of a chat (its header line). */
function headSessionId(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const buf = Buffer.allocUnsafe(16 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return SESSION_ID.exec(buf.subarray(0, n).toString("utf8"))?.[1] ?? null;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** A folder's entries; none when it is gone or unreadable. */
function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
