import type { BigIntStats } from "node:fs";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { dirname } from "node:path";
import type { RolloutHead, SessionFacts } from "@sessionvault/core/store-api";
import type { FilePosition } from "./stream-file.js";

/** What a listing learns from reading a whole rollout, worth keeping between runs. */
export interface CachedRolloutFacts {
  pos: FilePosition;
  head: RolloutHead | null;
  lastTs: string | null;
  /** The session facts of the committed lines (agent, model, outcome, turns, tokens, …); null when the listing did not read them. */
  facts: SessionFacts | null;
}

interface Entry extends CachedRolloutFacts {
  /** The file's identity when it was read: any write, truncate, rename or utimes changes one of these. */
  ino: string;
  size: number;
  mtimeNs: string;
  ctimeNs: string;
}

interface CacheFile {
  version: number;
  headLines: number;
  entries: Record<string, Entry>;
}

/** 2: entries carry the session facts. */
const VERSION = 2;
/**
 * A file changed again within the file system's timestamp granularity after
 * we read it could keep the same times and size; an entry is only kept for a
 * file whose last change is at least this much older than the read.
 */
const RACY_MS = 2000n;

/**
 * The facts a listing reads from each rollout (line count, head, last
 * timestamp), persisted in one file so a later process (a re-sync, the next
 * `list`) needs only a stat per unchanged file instead of reading it whole.
 *
 * An entry is used only while the file's inode, size, mtime and ctime (in
 * nanoseconds) are exactly those seen when it was read; ctime cannot be set
 * back by a user, so a changed file is always read again. The file is a
 * cache: a missing, corrupt or foreign one is an empty cache, and failing
 * to write it (a read-only home) is ignored.
 */
export class SummaryCache {
  readonly #path: string;
  readonly #headLines: number;
  #entries = new Map<string, Entry>();
  /** Keys looked up or stored by this process (the rest may be files that are gone). */
  readonly #touched = new Set<string>();
  #loaded: Promise<void> | null = null;
  #dirty = false;
  /** Lookups answered from an entry (no read of the file) and lookups that sent the caller to the file. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(path: string, headLines: number) {
    this.#path = path;
    this.#headLines = headLines;
  }

  load(): Promise<void> {
    this.#loaded ??= this.#read();
    return this.#loaded;
  }

  async #read(): Promise<void> {
    let parsed: CacheFile;
    try {
      // Read once per process, through the thread pool: readFileSync's string of a
      // 6.5 MB cache (10,000 rollouts) left the process ~28 MB bigger.
      parsed = JSON.parse(await readFile(this.#path, "utf8")) as CacheFile;
    } catch {
      return;
    }
    if (parsed?.version !== VERSION || parsed.headLines !== this.#headLines || typeof parsed.entries !== "object" || parsed.entries === null) return;
    for (const [k, e] of Object.entries(parsed.entries)) if (validEntry(e)) this.#entries.set(k, e);
  }

  /** The facts for `key` if the file is exactly as it was when they were read (and, `withFacts`, its session facts were). */
  get(key: string, st: BigIntStats, withFacts = true): CachedRolloutFacts | undefined {
    this.#touched.add(key);
    const e = this.#entries.get(key);
    if (!e) {
      this.stats.misses++;
      return undefined;
    }
    if (e.ino !== String(st.ino) || e.size !== Number(st.size) || e.mtimeNs !== String(st.mtimeNs) || e.ctimeNs !== String(st.ctimeNs)) {
      this.#entries.delete(key);
      this.#dirty = true;
      this.stats.misses++;
      return undefined;
    }
    if (withFacts && e.facts === null) {
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    return { pos: { ...e.pos }, head: e.head, lastTs: e.lastTs, facts: e.facts };
  }

  /**
   * Records the facts read from a file whose stat (taken before the read)
   * was `st`, at wall-clock `readAtMs`. Not kept when the read saw another
   * size than the stat, or when the file changed too recently to trust its times.
   */
  set(key: string, st: BigIntStats, facts: CachedRolloutFacts, readAtMs: number): void {
    this.#touched.add(key);
    if (facts.pos.size !== Number(st.size)) return;
    // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
    const changedMs = (st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs) / 1_000_000n;
    if (changedMs > BigInt(Math.floor(readAtMs)) - RACY_MS) return;
    this.#entries.set(key, {
      ...facts,
      pos: { ...facts.pos },
      ino: String(st.ino),
      size: Number(st.size),
      mtimeNs: String(st.mtimeNs),
      ctimeNs: String(st.ctimeNs),
    });
    this.#dirty = true;
  }

  delete(key: string): void {
    if (this.#entries.delete(key)) this.#dirty = true;
  }

  /**
   * Writes the cache if anything changed (write-then-rename: a concurrent
   * reader sees the old or the new file, never half of one). After a walk of
   * every rollout (`complete`), entries for files not seen are dropped.
   */
  async save(complete: boolean): Promise<void> {
    if (complete) {
      for (const k of this.#entries.keys()) {
        if (!this.#touched.has(k)) {
          this.#entries.delete(k);
          this.#dirty = true;
        }
      }
    }
    if (!this.#dirty) return;
    this.#dirty = false;
    const body: CacheFile = { version: VERSION, headLines: this.#headLines, entries: Object.fromEntries(this.#entries) };
    const tmp = `${this.#path}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
      await writeFile(tmp, JSON.stringify(body), { mode: 0o600 });
      await rename(tmp, this.#path);
    } catch {
      // Only a cache: the next run reads the files again.
      await unlink(tmp).catch(() => {});
      this.#dirty = true;
    }
  }
}

function validEntry(e: unknown): e is Entry {
  if (typeof e !== "object" || e === null) return false;
  const x = e as Partial<Entry>;
  const p = x.pos;
  return (
    typeof x.ino === "string" &&
    typeof x.size === "number" &&
    typeof x.mtimeNs === "string" &&
    typeof x.ctimeNs === "string" &&
    typeof p === "object" &&
    p !== null &&
    [p.seq, p.committed, p.size, p.lastLineStart].every((n) => Number.isSafeInteger(n) && n >= 0) &&
    p.size === x.size &&
    (x.lastTs === null || typeof x.lastTs === "string") &&
    typeof x.facts === "object" &&
    (x.facts === null || (typeof x.facts.agent === "string" && typeof x.facts.turns === "number" && Array.isArray(x.facts.children))) &&
    (x.head === null || (typeof x.head === "object" && typeof x.head.id === "string"))
  );
}
