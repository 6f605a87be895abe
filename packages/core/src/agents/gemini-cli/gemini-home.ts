import { open, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { InvalidIdError, NotFoundError } from "../../errors.js";
import type { LineWarning, RawLine } from "../../jsonl-reader.js";
import { readFileLines } from "../../jsonl-reader.js";

/**
 * Where Gemini CLI keeps its chats (DESIGN.md §12): `~/.gemini/tmp/<project>/chats/`
 * (the app resolves the `.gemini` dir; this module is given it).
 * `<project>` is the sha256 of the project root (0.20.x) or a short name
 * mapped in `projects.json` (0.5x on); a chat is `session-<time>-<first 8 of
 * id>.json` (one document, older) or `.jsonl` (an append log). One session
 * may span several files (a new file after a compression, a stub at a
 * resume): they are grouped by the `sessionId` they hold. A sub-agent's chat
 * is `chats/<parent sessionId>/<child sessionId>.jsonl`.
 *
 * Only listings and the first bytes of files are read.
 */
export interface GeminiSessionFiles {
  sessionId: string;
  /** The `tmp/<project>` folder. */
  projectDir: string;
  /** The project root the chats belong to, when the home records it. */
  cwd: string | null;
  /** The session's chat files, oldest first: feed them to one reader in this order. */
  files: string[];
  /** Sub-agent chats it started (`chats/<sessionId>/*.jsonl`). */
  subAgents: { sessionId: string; path: string }[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHAT_FILE = /^session-.+\.jsonl?$/;
const SESSION_ID = /"sessionId"\s*:\s*"([^"\\]+)"/;
const HEAD_BYTES = 16 * 1024;

export class GeminiCliHome {
  readonly geminiDir: string;
  readonly tmpDir: string;

  constructor(geminiDir: string) {
    this.geminiDir = geminiDir;
    this.tmpDir = join(geminiDir, "tmp");
  }

  /** Whether `geminiDir` looks like a Gemini CLI dir (it holds `tmp/`). */
  async exists(): Promise<boolean> {
    return (await stat(this.tmpDir).catch(() => null))?.isDirectory() ?? false;
  }

  /** Every main session, its files grouped. */
  async *listSessions(): AsyncGenerator<GeminiSessionFiles> {
    const roots = await this.#projectRoots();
    for (const project of (await readdir(this.tmpDir).catch(() => [] as string[])).sort()) {
      yield* (await this.#projectSessions(project, roots)).values();
    }
  }

  /** The files of session `sessionId`; NotFoundError when no project holds it. */
  async sessionFiles(sessionId: string): Promise<GeminiSessionFiles> {
    if (!UUID.test(sessionId)) throw new InvalidIdError(`not a Gemini CLI session id: ${JSON.stringify(sessionId)}`);
    const roots = await this.#projectRoots();
    const short = sessionId.slice(0, 8);
    for (const project of (await readdir(this.tmpDir).catch(() => [] as string[])).sort()) {
      const names = await readdir(join(this.tmpDir, project, "chats")).catch(() => [] as string[]);
      if (!names.some((n) => CHAT_FILE.test(n) && n.includes(short))) continue;
      const hit = (await this.#projectSessions(project, roots)).get(sessionId);
      if (hit) return hit;
    }
    throw new NotFoundError(`no Gemini CLI session ${sessionId} under ${this.tmpDir}`);
  }

  async #projectSessions(project: string, roots: Map<string, string>): Promise<Map<string, GeminiSessionFiles>> {
    const projectDir = join(this.tmpDir, project);
    const chats = join(projectDir, "chats");
    const cwd =
      roots.get(project) ??
      (await readFile(join(projectDir, ".project_root"), "utf8").then(
        (s) => s.trim(),
        () => null,
      ));
    const out = new Map<string, GeminiSessionFiles>();
    // File names start with the start time, so name order is time order.
    for (const name of (await readdir(chats).catch(() => [] as string[])).sort()) {
      if (!CHAT_FILE.test(name)) continue;
      const path = join(chats, name);
      const id = await headSessionId(path);
      if (id === null) continue;
      let s = out.get(id);
      if (!s) {
        const subDir = join(chats, id);
        const subs = (await readdir(subDir).catch(() => [] as string[])).filter((n) => n.endsWith(".jsonl")).sort();
        s = { sessionId: id, projectDir, cwd, files: [], subAgents: subs.map((n) => ({ sessionId: n.slice(0, -".jsonl".length), path: join(subDir, n) })) };
        out.set(id, s);
      }
      s.files.push(path);
    }
    return out;
  }

  /** `projects.json` (0.5x on): project root → folder name; inverted here. */
  async #projectRoots(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    try {
      const doc = JSON.parse(await readFile(join(this.geminiDir, "projects.json"), "utf8")) as { projects?: Record<string, unknown> };
      for (const [root, name] of Object.entries(doc.projects ?? {})) if (typeof name === "string") out.set(name, root);
    } catch {
      // No map (0.20.x): the folder is a hash, `.project_root` may still name the root.
    }
    return out;
  }
}

async function headSessionId(path: string): Promise<string | null> {
  const fh = await open(path, "r").catch(() => null);
  if (!fh) return null;
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return SESSION_ID.exec(buf.subarray(0, bytesRead).toString("utf8"))?.[1] ?? null;
  } finally {
    await fh.close();
  }
}

/**
 * The lines of a session's chat files, one file after the other, for a
 * `GeminiCliReader`. A `.json` file is one document that Gemini CLI rewrites
 * whole and ends without a newline: its last line is a committed line here,
 * not a torn write.
 */
export async function* readGeminiChatLines(files: readonly string[], options: { onWarning?: (w: LineWarning) => void } = {}): AsyncGenerator<RawLine> {
  for (const path of files) {
    if (path.endsWith(".json")) {
      const text = await readFile(path, "utf8");
      let lineNo = 0;
      for (const line of text.split("\n")) {
        lineNo++;
        if (line !== "" || lineNo === 1) yield { lineNo, text: line, byteLength: Buffer.byteLength(line) };
      }
    } else {
      yield* readFileLines(path, options);
    }
  }
}
