import { open, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { InvalidIdError, NotFoundError } from "../../errors.js";
import type { LineWarning, RawLine } from "../../jsonl-reader.js";
import { readFileLines } from "../../jsonl-reader.js";

/**
 * Where Claude Code keeps its sessions (DESIGN.md §12): under the config dir
 * (`$CLAUDE_CONFIG_DIR`, else `~/.claude`; the app resolves it, this module
 * is given the path), `projects/<cwd slug>/<sessionId>.jsonl`, one folder
 * per working directory. A session's sub-agents live beside it as
 * `agent-<id>.jsonl` (2.0.x), or under `<sessionId>/subagents/` with an
 * `agent-<id>.meta.json` each (2.1.x); 1.0.x keeps them inline.
 *
 * Everything here reads only directory listings and the first lines of
 * files, so listing a large home stays cheap.
 */
export interface ClaudeSubAgentFile {
  agentId: string;
  path: string;
  /** The parent's tool call that started it (2.1.x `meta.json` `toolUseId`), when recorded. */
  toolUseId: string | null;
  /** 2.1.x `meta.json` `agentType`. */
  agentType: string | null;
}

export interface ClaudeSessionFiles {
  sessionId: string;
  /** The `projects/<slug>` folder. */
  projectDir: string;
  /** The transcript: `<projectDir>/<sessionId>.jsonl`. */
  transcript: string;
  /** Sub-agent transcripts started by this session, warm-up agents left out. */
  subAgents: ClaudeSubAgentFile[];
  /** The session this one was forked from (`--fork-session` copies its records), when it is in the same project. */
  forkOf: string | null;
}

export interface ClaudeSessionEntry {
  /** A session's own transcript, or a sub-agent transcript whose parent session is gone (kept so nothing is lost). */
  kind: "session" | "orphan-sub-agent";
  /** The session id; for an orphan sub-agent, its agent id. */
  sessionId: string;
  /** For an orphan sub-agent: the session that started it. */
  parentSessionId: string | null;
  projectDir: string;
  transcript: string;
  bytes: number;
  mtimeMs: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AGENT_FILE = /^agent-([0-9a-zA-Z_-]+)\.jsonl$/;
/** A first record this short holds the warm-up prompt only; longer ones are read no further than this. */
const HEAD_BYTES = 64 * 1024;

/**
 * The folder name Claude Code gives a cwd (its rule in 2.1.x): every
 * character but ASCII letters and digits becomes `-`; a name longer than
 * 200 characters is cut there and gets `-<hash of the path, base 36>`
 * (Claude Code finds such a folder by its 200-character prefix, because its
 * builds do not all hash alike).
 */
export function claudeProjectSlug(cwd: string): string {
  const slug = cwd.replace(/[^a-zA-Z0-9]/g, "-");
  if (slug.length <= 200) return slug;
  let h = 0;
  for (let i = 0; i < cwd.length; i++) h = ((h << 5) - h + cwd.charCodeAt(i)) | 0;
  return `${slug.slice(0, 200)}-${Math.abs(h).toString(36)}`;
}

/**
 * `<project dir>/<sessionId>/sessionvault/`: where `sessionvault run
 * --persist-session` files a Claude Code session's captured streams (raw
 * API exchanges, debug log, meta events; names from STREAM_FILES), in the
 * per-session folder where Claude Code keeps the session's sub-agents.
 */
export const CLAUDE_CAPTURE_DIR = "sessionvault";

export function claudeCaptureDir(projectDir: string, sessionId: string): string {
  return join(projectDir, sessionId, CLAUDE_CAPTURE_DIR);
}

export class ClaudeCodeHome {
  readonly configDir: string;
  readonly projectsDir: string;

  constructor(configDir: string) {
    this.configDir = configDir;
    this.projectsDir = join(configDir, "projects");
  }

  /** Whether `configDir` looks like a Claude Code config dir (it holds `projects/`). */
  async exists(): Promise<boolean> {
    return (await stat(this.projectsDir).catch(() => null))?.isDirectory() ?? false;
  }

  /**
   * Every session transcript, project by project. Sub-agent transcripts
   * belong to their session (`sessionFiles`); one whose session file is
   * gone is listed on its own as an `orphan-sub-agent`, with a warning.
   */
  async *listSessions(options: { onWarning?: (w: LineWarning) => void } = {}): AsyncGenerator<ClaudeSessionEntry> {
    const warn = options.onWarning ?? (() => {});
    for (const project of (await readdir(this.projectsDir).catch(() => [] as string[])).sort()) {
      const projectDir = join(this.projectsDir, project);
      const names = (await readdir(projectDir).catch(() => [] as string[])).sort();
      const sessions = new Set(names.filter((n) => n.endsWith(".jsonl") && UUID.test(n.slice(0, -".jsonl".length))).map((n) => n.slice(0, -".jsonl".length)));
      for (const name of names) {
        const transcript = join(projectDir, name);
        if (name.endsWith(".jsonl") && sessions.has(name.slice(0, -".jsonl".length))) {
          const st = await stat(transcript).catch(() => null);
          if (st?.isFile())
            yield {
              kind: "session",
              sessionId: name.slice(0, -".jsonl".length),
              parentSessionId: null,
              projectDir,
              transcript,
              bytes: st.size,
              mtimeMs: st.mtimeMs,
            };
          continue;
        }
        const orphans: { agentId: string; parent: string | null; path: string }[] = [];
        const m = AGENT_FILE.exec(name);
        if (m) {
          // 2.0.x: beside the session; its records name the parent.
          const head = await firstRecord(transcript);
          if (head !== null && !head.warmup && (head.sessionId === null || !sessions.has(head.sessionId)))
            orphans.push({ agentId: m[1]!, parent: head.sessionId, path: transcript });
        } else if (UUID.test(name) && !sessions.has(name)) {
          // 2.1.x: <sessionId>/subagents/ without <sessionId>.jsonl.
          const subDir = join(transcript, "subagents");
          for (const sub of (await readdir(subDir).catch(() => [] as string[])).sort()) {
            const sm = AGENT_FILE.exec(sub);
            if (sm && !(await isWarmup(join(subDir, sub)))) orphans.push({ agentId: sm[1]!, parent: name, path: join(subDir, sub) });
          }
        }
        for (const o of orphans) {
          const st = await stat(o.path).catch(() => null);
          if (!st?.isFile()) continue;
          warn({
            kind: "sub-agent-without-parent",
            lineNo: 0,
            message: `sub-agent transcript ${o.path} has no parent session ${o.parent ?? "(unnamed)"}; listed on its own`,
          });
          yield {
            kind: "orphan-sub-agent",
            sessionId: o.agentId,
            parentSessionId: o.parent,
            projectDir,
            transcript: o.path,
            bytes: st.size,
            mtimeMs: st.mtimeMs,
          };
        }
      }
    }
  }

  /** The files that make up session `sessionId`; NotFoundError when no project holds it. */
  async sessionFiles(sessionId: string): Promise<ClaudeSessionFiles> {
    if (!UUID.test(sessionId)) throw new InvalidIdError(`not a Claude Code session id: ${JSON.stringify(sessionId)}`);
    for (const project of (await readdir(this.projectsDir).catch(() => [] as string[])).sort()) {
      const projectDir = join(this.projectsDir, project);
      const transcript = join(projectDir, `${sessionId}.jsonl`);
      if (!(await stat(transcript).catch(() => null))?.isFile()) continue;
      return { sessionId, projectDir, transcript, subAgents: await this.subAgentFiles(projectDir, sessionId), forkOf: await forkParent(projectDir, sessionId) };
    }
    throw new NotFoundError(`no Claude Code session ${sessionId} under ${this.projectsDir}`);
  }

  /** The record uuids a forked session copied from its parent (for the reader's `skipUuids`); empty when it is no fork. */
  async copiedUuids(files: ClaudeSessionFiles): Promise<Set<string>> {
    if (files.forkOf === null) return new Set();
    return claudeRecordUuids(join(files.projectDir, `${files.forkOf}.jsonl`));
  }

  /** The sub-agent transcripts session `sessionId` of `projectDir` started, warm-up agents left out. */
  async subAgentFiles(projectDir: string, sessionId: string): Promise<ClaudeSubAgentFile[]> {
    const out: ClaudeSubAgentFile[] = [];
    // 2.1.x: <sessionId>/subagents/agent-<id>.jsonl with agent-<id>.meta.json.
    const subDir = join(projectDir, sessionId, "subagents");
    for (const name of (await readdir(subDir).catch(() => [] as string[])).sort()) {
      const m = AGENT_FILE.exec(name);
      if (!m) continue;
      const path = join(subDir, name);
      const meta = await readMeta(join(subDir, `agent-${m[1]}.meta.json`));
      if (await isWarmup(path)) continue;
      out.push({ agentId: m[1]!, path, toolUseId: meta.toolUseId, agentType: meta.agentType });
    }
    // 2.0.x: agent-<id>.jsonl beside the session; the parent is the `sessionId` of its records.
    for (const name of (await readdir(projectDir).catch(() => [] as string[])).sort()) {
      const m = AGENT_FILE.exec(name);
      if (!m) continue;
      const path = join(projectDir, name);
      const head = await firstRecord(path);
      if (head === null || head.sessionId !== sessionId || head.warmup) continue;
      out.push({ agentId: m[1]!, path, toolUseId: null, agentType: null });
    }
    return out;
  }
}

/**
 * A fork starts with copies of its parent's records (same `uuid`s, its own
 * `sessionId`) and has no field naming the parent: the parent is the other
 * session of the project whose first conversation record has the same uuid
 * and that started earlier (its first line is older; a fork's first lines
 * are its own queue records, written when the fork ran).
 */
async function forkParent(projectDir: string, sessionId: string): Promise<string | null> {
  const heads = new Map<string, ClaudeSessionHead | null>();
  for (const name of (await readdir(projectDir).catch(() => [] as string[])).sort()) {
    if (!name.endsWith(".jsonl")) continue;
    const id = name.slice(0, -".jsonl".length);
    if (UUID.test(id)) heads.set(id, await claudeSessionHead(join(projectDir, name)));
  }
  return claudeForkParents(heads).get(sessionId) ?? null;
}

/**
 * The fork parent of every session of one project, from their heads, in one
 * pass: sessions sharing a first conversation record are grouped, and each
 * one's parent is the one of its group that started first, if that was
 * earlier than itself.
 */
export function claudeForkParents(heads: ReadonlyMap<string, ClaudeSessionHead | null>): Map<string, string | null> {
  const byFirst = new Map<string, { id: string; start: string }[]>();
  for (const [id, h] of heads) {
    if (h === null || h.firstUuid === null) continue;
    let group = byFirst.get(h.firstUuid);
    if (!group) byFirst.set(h.firstUuid, (group = []));
    group.push({ id, start: h.start });
  }
  const out = new Map<string, string | null>();
  for (const group of byFirst.values()) {
    if (group.length < 2) continue;
    let first: { id: string; start: string } | null = null;
    for (const g of group) if (g.start !== "" && (first === null || g.start < first.start || (g.start === first.start && g.id < first.id))) first = g;
    if (first === null) continue;
    for (const g of group) if (g.start !== "" && first.start < g.start) out.set(g.id, first.id);
  }
  return out;
}

/** The uuids of a session's records: what a fork of it copied. */
export async function claudeRecordUuids(transcript: string): Promise<Set<string>> {
  return claudeRecordUuidsOf(readFileLines(transcript));
}

/** The uuids of a transcript's records, from its lines wherever they are kept (a store's rollout stream). */
export async function claudeRecordUuidsOf(lines: AsyncIterable<string | RawLine>): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const l of lines) {
    const text = typeof l === "string" ? l : l.text;
    const at = text.indexOf('"uuid":"');
    if (at === -1) continue;
    // The record's own uuid: `"uuid":"…"` that is not `parentUuid`/`logicalParentUuid` (those keys are spelled differently).
    const m = /(?:^|[,{])"uuid":"([^"]+)"/.exec(text);
    if (m) out.add(m[1]!);
  }
  return out;
}

/** What fork detection needs of a transcript: its first line's time and its first conversation record's uuid. */
export interface ClaudeSessionHead {
  start: string;
  firstUuid: string | null;
}

/** The head of a transcript (at most its first 50 lines are read); null when it cannot be read. */
export async function claudeSessionHead(path: string): Promise<ClaudeSessionHead | null> {
  // Most heads are in the first block: one read, no stream. A longer one is read on as a stream.
  const fh = await open(path, "r").catch(() => null);
  if (!fh) return null;
  let block: Buffer;
  try {
    const buf = Buffer.allocUnsafe(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    block = buf.subarray(0, bytesRead);
  } catch {
    return null;
  } finally {
    await fh.close();
  }
  const complete = block.lastIndexOf(0x0a) + 1;
  const lines = block.subarray(0, complete).toString("utf8").split("\n");
  lines.pop();
  if (block.length === HEAD_BYTES) return headOf(lines, true) ?? headOfStream(path);
  return headOf(lines, false);
}

/** The head from the first lines; with `partial`, null when they end before it is known (read on). */
function headOf(lines: readonly string[], partial: boolean): ClaudeSessionHead | null {
  let start = "";
  let n = 0;
  for (const text of lines) {
    if (++n > 50) return { start, firstUuid: null };
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(text) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (start === "" && typeof r.timestamp === "string") start = r.timestamp;
    if ((r.type === "user" || r.type === "assistant") && typeof r.uuid === "string") return { start, firstUuid: r.uuid };
  }
  return partial ? null : { start, firstUuid: null };
}

async function headOfStream(path: string): Promise<ClaudeSessionHead | null> {
  const lines: string[] = [];
  try {
    for await (const line of readFileLines(path)) {
      lines.push(line.text);
      if (lines.length > 50) break;
    }
  } catch {
    return null;
  }
  return headOf(lines, false);
}

interface Head {
  sessionId: string | null;
  warmup: boolean;
}

/** The first record of a transcript: whose session it is, and whether it is a warm-up agent (prompt `Warmup`). */
async function firstRecord(path: string): Promise<Head | null> {
  const fh = await open(path, "r").catch(() => null);
  if (!fh) return null;
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    const text = buf.subarray(0, bytesRead).toString("utf8");
    const nl = text.indexOf("\n");
    if (nl === -1) return null;
    let rec: unknown;
    try {
      rec = JSON.parse(text.slice(0, nl));
    } catch {
      return null;
    }
    if (typeof rec !== "object" || rec === null) return null;
    const r = rec as Record<string, unknown>;
    const msg = r.message as Record<string, unknown> | undefined;
    return { sessionId: typeof r.sessionId === "string" ? r.sessionId : null, warmup: r.type === "user" && msg?.content === "Warmup" };
  } finally {
    await fh.close();
  }
}

async function isWarmup(path: string): Promise<boolean> {
  return (await firstRecord(path))?.warmup ?? false;
}

async function readMeta(path: string): Promise<{ toolUseId: string | null; agentType: string | null }> {
  try {
    const m = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
    return { toolUseId: typeof m.toolUseId === "string" ? m.toolUseId : null, agentType: typeof m.agentType === "string" ? m.agentType : null };
  } catch {
    return { toolUseId: null, agentType: null };
  }
}
