import type { Stats } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import type { CachedRolloutFacts } from "./summary-cache.js";

/**
 * What `list --search` needs of each rollout of a Codex home, kept in SQLite
 * in the user's cache directory, so a search over an unchanged home reads no
 * rollout at all:
 * - its search text, lower-cased with JavaScript's own `toLowerCase` as the
 *   search compares, in an FTS5 table with trigram tokens: a LIKE over it
 *   finds, through the index, the rollouts that may hold the needle;
 * - what its summary is made of (head, position, last timestamp, facts);
 * - for a Codex rollout, the search text of each line as the agent's reader
 *   gives it, in order and as written: the search's line-by-line match (and
 *   its snippet) is taken over them instead of over the file's lines.
 *
 * A row is used only while the file's inode, size, mtime and ctime are those
 * seen before it was read, so a rollout that changed is read again; one that
 * changed less than 2 s before it was read is not recorded. Which rows there
 * are and the stat each was read at is one JSON value (the manifest): every
 * search needs all of it, and one parse of it costs a third of stepping
 * through as many table rows. A missing, corrupt or foreign index file is an
 * empty index; failing to write it is ignored.
 */
export class SearchIndex {
  #db: BetterSqlite3.Database | null = null;
  /**
   * key → row id, and each row's stat numbers (ino, size, mtimeMs, ctimeMs)
   * at 4 × id in one array: 10,000 rows are two objects the collector sees,
   * not 10,000.
   */
  #files = new Map<string, number>();
  #stats = new Float64Array(0);
  #pending: Recorded[] = [];
  #entryQuery: BetterSqlite3.Statement | null = null;
  /** While a walk over the whole home runs: which rows `fresh` was asked about (by id), and how many. */
  #seen: Uint8Array | null = null;
  #seenCount = 0;

  private constructor() {}

  /**
   * Opens (or creates) the index; null when SQLite cannot be loaded or the
   * file cannot be used. `format` names what the rows were computed with (a
   * head length, a search-text version): an index of another format is emptied.
   */
  static async open(path: string, format: string): Promise<SearchIndex | null> {
    const index = new SearchIndex();
    try {
      const { default: Database } = await import("better-sqlite3");
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      index.#db = openDb(Database, path, `${VERSION}:${format}`);
      index.#load();
    } catch {
      index.#db?.close();
      return null;
    }
    return index;
  }

  /** Reads the manifest (again: another process may have written since). */
  #load(): void {
    const json = this.#db!.prepare("SELECT value FROM meta WHERE name = 'files'").pluck().get() as string | undefined;
    const rows = json === undefined ? [] : (JSON.parse(json) as ManifestRow[]);
    let maxId = 0;
    for (const row of rows) if (row[1] > maxId) maxId = row[1];
    this.#files = new Map();
    this.#stats = new Float64Array((maxId + 1) * 4);
    for (const row of rows) this.#set(...row);
  }

  #saveManifest(db: BetterSqlite3.Database): void {
    const rows: ManifestRow[] = [];
    const s = this.#stats;
    for (const [key, id] of this.#files) rows.push([key, id, s[id * 4]!, s[id * 4 + 1]!, s[id * 4 + 2]!, s[id * 4 + 3]!]);
    db.prepare("INSERT OR REPLACE INTO meta(name, value) VALUES ('files', ?)").run(JSON.stringify(rows));
  }

  /**
   * The row of `key` when it was recorded from the file as it is now: the
   * same inode, size, mtime and ctime (numbers of a plain stat, compared as
   * they are: no string or bigint made per file), else null.
   */
  fresh(key: string, st: Stats): number | null {
    const id = this.#files.get(key);
    if (id === undefined) return null;
    if (this.#seen && this.#seen[id] === 0) {
      this.#seen[id] = 1;
      this.#seenCount++;
    }
    const s = this.#stats;
    const at = id * 4;
    return s[at] === st.ino && s[at + 1] === st.size && s[at + 2] === st.mtimeMs && s[at + 3] === st.ctimeMs ? id : null;
  }

  #set(key: string, id: number, ino: number, size: number, mtimeMs: number, ctimeMs: number): void {
    if ((id + 1) * 4 > this.#stats.length) {
      const grown = new Float64Array(Math.max((id + 1) * 4, this.#stats.length * 2, 4096));
      grown.set(this.#stats);
      this.#stats = grown;
    }
    this.#files.set(key, id);
    const s = this.#stats;
    const at = id * 4;
    s[at] = ino;
    s[at + 1] = size;
    s[at + 2] = mtimeMs;
    s[at + 3] = ctimeMs;
  }

  /** The rows whose search text contains `needle` (lower-cased). */
  matching(needle: string): Set<number> {
    const like = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return new Set(this.#db!.prepare("SELECT rowid FROM docs WHERE text LIKE ? ESCAPE '\\'").pluck().all(like) as number[]);
  }

  /** What a row recorded of its rollout. */
  entry(id: number): IndexedRollout | null {
    this.#entryQuery ??= this.#db!.prepare("SELECT summary, texts FROM rollouts WHERE id = ?").raw();
    const row = this.#entryQuery.get(id) as [string, string | null] | undefined;
    if (!row) return null;
    return { facts: JSON.parse(row[0]) as CachedRolloutFacts, texts: row[1] === null ? null : (JSON.parse(row[1]) as string[]) };
  }

  /**
   * Records what was read from a file whose stat (taken before the read)
   * was `st`: `search` its whole search text, `texts` its lines' (null when
   * its match needs its agent's reader over the whole transcript). Not kept
   * when the file changed too recently to trust its times.
   */
  record(key: string, st: Stats, search: string, facts: CachedRolloutFacts, texts: readonly string[] | null, readAtMs: number): void {
    if (Math.max(st.mtimeMs, st.ctimeMs) > readAtMs - RACY_MS) return;
    this.#pending.push({
      key,
      st,
      search: search.toLowerCase(),
      facts: JSON.stringify(facts),
      texts: texts === null ? null : JSON.stringify(texts),
    });
  }

  /** How many rollouts the index knows. */
  get size(): number {
    return this.#files.size;
  }

  /** Rows recorded and not yet written. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Starts noting which rows the walk asks about (a walk over every rollout of the home). */
  noteSeen(): void {
    this.#seen = new Uint8Array(this.#stats.length / 4);
    this.#seenCount = 0;
  }

  /** After a walk over the whole home (see noteSeen): drops the rows of files it did not find. */
  dropUnseen(): void {
    const db = this.#db;
    const seen = this.#seen;
    this.#seen = null;
    if (!db || !seen || this.#seenCount === this.#files.size) return;
    const gone = [...this.#files].filter(([, id]) => seen[id] !== 1).map(([key]) => key);
    try {
      const delRollout = db.prepare("DELETE FROM rollouts WHERE id = ?");
      const delDoc = db.prepare("DELETE FROM docs WHERE rowid = ?");
      db.transaction(() => {
        this.#load();
        for (const key of gone) {
          const id = this.#files.get(key);
          if (id === undefined) continue;
          delRollout.run(id);
          delDoc.run(id);
          this.#files.delete(key);
        }
        this.#saveManifest(db);
      }).immediate();
    } catch {
      // Only an index: rows of files that are gone are never answered (the walk decides what is there).
    }
  }

  /** Writes what was recorded, in one transaction. */
  flush(): void {
    const db = this.#db;
    if (!db || this.#pending.length === 0) return;
    const pending = this.#pending;
    this.#pending = [];
    try {
      const delDoc = db.prepare("DELETE FROM docs WHERE rowid = ?");
      const addDoc = db.prepare("INSERT INTO docs(rowid, text) VALUES (?, ?)");
      const addRollout = db.prepare("INSERT INTO rollouts(summary, texts) VALUES (?, ?)");
      const putRollout = db.prepare("UPDATE rollouts SET summary = ?, texts = ? WHERE id = ?");
      db.transaction(() => {
        // The manifest as it is now, with this process's rows added: none of another's is lost.
        this.#load();
        for (const p of pending) {
          let id = this.#files.get(p.key);
          if (id !== undefined && putRollout.run(p.facts, p.texts, id).changes === 1) delDoc.run(id);
          else id = Number(addRollout.run(p.facts, p.texts).lastInsertRowid);
          addDoc.run(id, p.search);
          this.#set(p.key, id, p.st.ino, p.st.size, p.st.mtimeMs, p.st.ctimeMs);
        }
        this.#saveManifest(db);
      }).immediate();
    } catch {
      // Only an index: the next search reads those files again.
      try {
        this.#load();
      } catch {
        this.#files = new Map();
      }
    }
  }

  close(): void {
    this.flush();
    this.#db?.close();
    this.#db = null;
  }
}

/** What the index kept of one rollout. */
export interface IndexedRollout {
  facts: CachedRolloutFacts;
  /** The search text of each of its lines that has one, in order; null for a transcript matched through its reader. */
  texts: string[] | null;
}

/** One rollout in the manifest: its path in the home, its row, and the stat it was read at. */
type ManifestRow = [key: string, id: number, ino: number, size: number, mtimeMs: number, ctimeMs: number];

interface Recorded {
  key: string;
  st: Stats;
  search: string;
  facts: string;
  texts: string | null;
}

/**
 * A file changed again within the file system's timestamp granularity after
 * it was read could keep the same times and size: only files whose last
 * change is at least this much older than the read are recorded.
 */
const RACY_MS = 2000;

/**
 * 3: meta(name, value) holds the format and the manifest ('files'),
 * rollouts(id, summary, texts) what a search answers from, docs(text) with
 * rowid = rollouts.id.
 */
const VERSION = 3;

function openDb(Database: typeof BetterSqlite3, path: string, format: string): BetterSqlite3.Database {
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const version = db.pragma("user_version", { simple: true }) as number;
    const current = version === VERSION && (db.prepare("SELECT value FROM meta WHERE name = 'format'").pluck().get() as string | undefined) === format;
    if (!current) {
      db.transaction(() => {
        db.exec("DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS rollouts; DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS meta;");
        db.exec("CREATE TABLE meta(name TEXT PRIMARY KEY, value TEXT NOT NULL)");
        db.exec("CREATE TABLE rollouts(id INTEGER PRIMARY KEY, summary TEXT NOT NULL, texts TEXT)");
        db.exec("CREATE VIRTUAL TABLE docs USING fts5(text, tokenize = 'trigram')");
        db.prepare("INSERT INTO meta(name, value) VALUES ('format', ?)").run(format);
        db.pragma(`user_version = ${VERSION}`);
      }).immediate();
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
