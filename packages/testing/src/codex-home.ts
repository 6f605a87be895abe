import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { FIXTURES } from "./codex-fixtures.js";

/**
 * Generates a Codex home for tests and benchmarks from the rollouts the real
 * Codex CLI 0.169.0 wrote (fixtures/codex/0.169.0): each generated session is
 * one of those files with a new id and new timestamps, its turns repeated
 * `repeat` times, so the line mix (big session_meta, reasoning, tool calls,
 * token counts) is Codex's own.
 */
export interface GenerateOptions {
  sessions: number;
  /** How many times each template's body (everything after the head) is written; default 1. */
  repeat?: number;
  /** Every n-th session goes to archived_sessions/ (0: none). Default 10. */
  archivedEvery?: number;
  /** created_at of session 0; the others follow one second apart. */
  start?: Date;
}

export interface GeneratedHome {
  sessions: { id: string; path: string; lines: number; bytes: number; archived: boolean }[];
  totalLines: number;
  totalBytes: number;
}

const TEMPLATES = join(FIXTURES, "0.169.0");
const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;
/** Lines kept as the head: session_meta up to and including the first user message. */
const HEAD_LINES = 4;

let templates: { id: string; lines: string[] }[] | null = null;

async function loadTemplates(): Promise<{ id: string; lines: string[] }[]> {
  if (templates) return templates;
  const out: { id: string; lines: string[] }[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (/^rollout-.*\.jsonl$/.test(e.name)) {
        const lines = (await readFile(p, "utf8")).split("\n").filter((l) => l !== "");
        const id = /([0-9a-f-]{36})\.jsonl$/.exec(e.name)![1]!;
        if (lines.length > HEAD_LINES + 2) out.push({ id, lines });
      }
    }
  };
  await walk(join(TEMPLATES, "sessions"));
  out.sort((a, b) => a.id.localeCompare(b.id));
  templates = out;
  return out;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");
/** Codex names files and day folders in local time. */
const localStamp = (d: Date) =>
  `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}-${pad(d.getMinutes())}-${pad(d.getSeconds())}`;

export async function generateCodexHome(home: string, options: GenerateOptions): Promise<GeneratedHome> {
  const tpls = await loadTemplates();
  const repeat = options.repeat ?? 1;
  const archivedEvery = options.archivedEvery ?? 10;
  const start = (options.start ?? new Date("2026-01-05T08:00:00.000Z")).getTime();
  const result: GeneratedHome = { sessions: [], totalLines: 0, totalBytes: 0 };
  for (let i = 0; i < options.sessions; i++) {
    const tpl = tpls[i % tpls.length]!;
    const id = randomUUID();
    const created = new Date(start + i * 1000);
    let tick = 0;
    // Each line gets its own millisecond after created_at, in order.
    const retime = (line: string) => line.replace(ISO, () => new Date(created.getTime() + tick).toISOString());
    const archived = archivedEvery > 0 && i % archivedEvery === archivedEvery - 1;
    const dir = archived
      ? join(home, "archived_sessions")
      : join(home, "sessions", pad(created.getFullYear(), 4), pad(created.getMonth() + 1), pad(created.getDate()));
    await mkdir(dir, { recursive: true });
    const path = join(dir, `rollout-${localStamp(created)}-${id}.jsonl`);
    const out = createWriteStream(path);
    let lines = 0;
    let bytes = 0;
    const write = async (line: string) => {
      const text = retime(line.split(tpl.id).join(id)) + "\n";
      tick++;
      lines++;
      bytes += Buffer.byteLength(text);
      if (!out.write(text)) await new Promise<void>((r) => out.once("drain", () => r()));
    };
    for (const l of tpl.lines.slice(0, HEAD_LINES)) await write(l);
    for (let r = 0; r < repeat; r++) for (const l of tpl.lines.slice(HEAD_LINES)) await write(l);
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    result.sessions.push({ id, path, lines, bytes, archived });
    result.totalLines += lines;
    result.totalBytes += bytes;
  }
  return result;
}
