import type { BigIntStats } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";

/**
 * The search text of each rollout of a Codex home, kept in an SQLite FTS5
 * table (trigram tokens, so any substring of three characters or more is
 * found through the index), in the user's cache directory. `list --search`
 * then decides most files without reading them: a file whose inode, size,
 * mtime and ctime are those recorded passes when its recorded text holds the
 * needle; any other file is read and tested as before, and recorded.
 *
 * The text is lower-cased with JavaScript's own `toLowerCase`, as the
 * search compares, so a LIKE over it is the search's substring test. It is
 * a pre-filter like the byte test: the files that pass are still matched
 * line by line for the result and its snippet. A missing, corrupt or
 * foreign index file is an empty index; failing to write it is ignored.
 */
export class SearchIndex {
  #db: BetterSqlite3.Database | null = null;
  #files = new Map<string, { ino: string; size: string; mtime: string; ctime: string; doc: number }>();
  #pending: { key: string; st: BigIntStats; text: string }[] = [];

  private constructor() {}

  /** Opens (or creates) the index; null when SQLite cannot be loaded or the file cannot be used. */
  static async open(path: string): Promise<SearchIndex | null> {
    const index = new SearchIndex();
    try {
      const { default: Database } = await import("better-sqlite3");
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      index.#db = openDb(Database, path);
    } catch {
      return null;
    }
    for (const r of index.#db.prepare("SELECT key, ino, size, mtime, ctime, doc FROM files").all() as Row[]) index.#files.set(r.key, r);
    return index;
  }

  /** Whether the recorded text of `key` is that of the file as it is now. */
  fresh(key: string, st: BigIntStats): boolean {
    const f = this.#files.get(key);
    return f !== undefined && f.ino === String(st.ino) && f.size === String(st.size) && f.mtime === String(st.mtimeNs) && f.ctime === String(st.ctimeNs);
  }

  /** The keys whose recorded text contains `needle` (lower-cased). */
  matching(needle: string): Set<string> {
    const like = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = this.#db!.prepare("SELECT f.key AS key FROM docs JOIN files f ON f.doc = docs.rowid WHERE docs.text LIKE ? ESCAPE '\\'").all(like) as {
      key: string;
    }[];
    return new Set(rows.map((r) => r.key));
  }

  /**
   * Records the text read from a file whose stat (taken before the read) was
   * `st`; not kept when the file changed too recently to trust its times.
   */
  record(key: string, st: BigIntStats, text: string, readAtMs: number): void {
    // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
    const changedMs = (st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs) / 1_000_000n;
    if (changedMs > BigInt(Math.floor(readAtMs)) - 2000n) return;
    this.#pending.push({ key, st, text: text.toLowerCase() });
  }

  /** Texts recorded and not yet written. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Writes what was recorded, in one transaction. */
  flush(): void {
    const db = this.#db;
    if (!db || this.#pending.length === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    try {
      const delDoc = db.prepare("DELETE FROM docs WHERE rowid = ?");
      const addDoc = db.prepare("INSERT INTO docs(text) VALUES (?)");
      const putFile = db.prepare("INSERT OR REPLACE INTO files(key, ino, size, mtime, ctime, doc) VALUES (?, ?, ?, ?, ?, ?)");
      db.transaction(() => {
        for (const p of pending) {
          const old = this.#files.get(p.key);
          if (old) delDoc.run(old.doc);
          const doc = Number(addDoc.run(p.text).lastInsertRowid);
          const row = { key: p.key, ino: String(p.st.ino), size: String(p.st.size), mtime: String(p.st.mtimeNs), ctime: String(p.st.ctimeNs), doc };
          putFile.run(row.key, row.ino, row.size, row.mtime, row.ctime, row.doc);
          this.#files.set(p.key, row);
        }
      })();
    } catch {
      // Only an index: the next search reads those files again.
    }
  }

  close(): void {
    this.flush();
    this.#db?.close();
    this.#db = null;
  }
}

interface Row {
  key: string;
  ino: string;
  size: string;
  mtime: string;
  ctime: string;
  doc: number;
}

/** 1: files(key, ino, size, mtime, ctime, doc) and docs(text), trigram FTS5. */
const VERSION = 1;

function openDb(Database: typeof BetterSqlite3, path: string): BetterSqlite3.Database {
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version !== VERSION) {
      db.exec("DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS docs;");
      db.exec("CREATE TABLE files(key TEXT PRIMARY KEY, ino TEXT, size TEXT, mtime TEXT, ctime TEXT, doc INTEGER)");
      db.exec("CREATE VIRTUAL TABLE docs USING fts5(text, tokenize = 'trigram')");
      db.pragma(`user_version = ${VERSION}`);
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
