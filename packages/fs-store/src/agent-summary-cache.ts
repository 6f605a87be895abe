import { createHash, randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { SessionSummary } from "@sessionvault/core/store-api";
import type { ForkMapCache } from "./agent-home-walk.js";

/**
 * Session summaries of an agent home, kept in the user's cache directory
 * (given by the app, never inside the agent's home): one small file per
 * session, so a listing loads only the summaries its page shows. An entry is
 * used while the session's files have the size and mtime they had when it
 * was made (a grown transcript is read again); anything unreadable is a
 * miss, and a failed write only costs the next run a read. Entries are
 * small and read with the synchronous calls (a page reads a few dozen).
 */
export class AgentSummaryCache implements ForkMapCache {
  readonly #dir: string;

  constructor(cacheDir: string, home: string) {
    const key = createHash("sha256").update(resolve(home)).digest("hex").slice(0, 24);
    this.#dir = join(cacheDir, `agent-summaries-${key}`);
  }

  /** What identifies the files' content: each path with its size and mtime. Null when one is gone. */
  static async keyOf(files: readonly string[]): Promise<string | null> {
    const parts: string[] = [];
    for (const f of files) {
      const st = statSync(f, { throwIfNoEntry: false });
      if (!st) return null;
      parts.push(`${f}\0${st.size}\0${st.mtimeMs}`);
    }
    return createHash("sha256").update(parts.join("\n")).digest("hex");
  }

  async get(id: string, key: string): Promise<SessionSummary | null> {
    try {
      const entry = JSON.parse(readFileSync(this.#path(id), "utf8")) as { key?: unknown; summary?: SessionSummary };
      return entry.key === key && entry.summary?.id === id ? entry.summary : null;
    } catch {
      return null;
    }
  }

  async set(id: string, key: string, summary: SessionSummary): Promise<void> {
    await this.#write(this.#path(id), { key, summary });
  }

  /** A Claude Code project's fork map, while `key` (its transcripts' names, sizes and mtimes) is the same. */
  async getForks(folder: string, key: string): Promise<Map<string, string | null> | null> {
    try {
      const entry = JSON.parse(readFileSync(this.#forkPath(folder), "utf8")) as { key?: unknown; forks?: [string, string | null][] };
      return entry.key === key && Array.isArray(entry.forks) ? new Map(entry.forks) : null;
    } catch {
      return null;
    }
  }

  async setForks(folder: string, key: string, forks: Map<string, string | null>): Promise<void> {
    await this.#write(this.#forkPath(folder), { key, forks: [...forks] });
  }

  async #write(path: string, value: unknown): Promise<void> {
    try {
      await mkdir(this.#dir, { recursive: true, mode: 0o700 });
      const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
      await writeFile(tmp, JSON.stringify(value), { mode: 0o600 });
      await rename(tmp, path);
    } catch {
      // A cache that cannot be written is only slower.
    }
  }

  #path(id: string): string {
    return join(this.#dir, `${id.replace(/[^0-9a-zA-Z_-]/g, "_")}.json`);
  }

  #forkPath(folder: string): string {
    return join(this.#dir, `forks-${createHash("sha256").update(folder).digest("hex").slice(0, 24)}.json`);
  }
}
