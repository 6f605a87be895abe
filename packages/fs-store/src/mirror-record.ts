import { createHash, randomBytes } from "node:crypto";
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { endianness } from "node:os";
import { dirname, join, resolve } from "node:path";

/**
 * The record of a sync between two Codex homes (home-mirror.ts): per
 * session, the stats of its files on both sides as a sync left them
 * identical, and, when that was every session of the source, the two
 * homes' trees (home-tree.ts) as it left them:
 *
 *     {"format":"sessionvault-fs-mirror-2","source":…,"target":…,"endian":"LE",
 *      "tree":{"source":digest,"target":digest,"sessions":n,"agent":null} or null}\n
 *     {"sources":[rel…],"targets":[rel or null…],"extras":[[src,tgt] or null…]}\n
 *     spaces up to a multiple of 8 bytes
 *     8 float64 per session (native byte order): the source rollout's inode,
 *     size, mtimeMs, ctimeMs, then the target's
 *
 * A rerun over two unchanged homes reads the first line only. Otherwise
 * the sessions are compared one by one with 20,000 `lstat`s, so the rest
 * is laid out to cost next to nothing to read.
 *
 * A session is keyed by its source rollout's path relative to the home (it
 * names the session's id); `targets` holds the target's path where it is
 * not the same. `extras` is the rest of a session's stats, as text, for
 * the few with a `sessions/<id>/` folder or a thread name. Numbers compared
 * as numbers: formatting 80,000 of them as text took longer than the
 * `lstat`s that produced them.
 */

/** Both homes as a sync left every session of the source settled (home-tree.ts). */
export interface SettledTrees {
  source: string;
  target: string;
  /** The source's sessions. */
  sessions: number;
  /** The agent the sync was limited to (null: all). */
  agent: string | null;
}

/** A session's files on one side, as found now or as recorded. */
export interface SideState {
  /** The rollout's path relative to the home (a move or a recompression counts). */
  rel: string;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  /** The files of `sessions/<id>/` and the thread name; "" when the session has none (see extraOf). */
  extra: string;
}

/** A session's `extra`: the files of `sessions/<id>/` by name with their stats, and its thread name. */
export function extraOf(
  dirFiles: readonly (readonly [name: string, ino: number, size: number, mtimeMs: number, ctimeMs: number])[],
  threadName: string | undefined,
): string {
  let extra = "";
  if (dirFiles.length > 0)
    for (const [name, ino, size, mtimeMs, ctimeMs] of [...dirFiles].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))
      extra += `${name}:${ino}:${size}:${mtimeMs}:${ctimeMs}|`;
  return threadName === undefined ? extra : `${extra}#${threadName}`;
}

const FORMAT = "sessionvault-fs-mirror-2";
const PER_SESSION = 8;

/** Where the record of a source and target pair is kept, in the source's record folder. */
export function mirrorRecordPath(dir: string, source: string, target: string): string {
  const key = (home: string) => createHash("sha256").update(resolve(home)).digest("hex").slice(0, 16);
  return join(dir, `fs-mirror-${key(source)}-${key(target)}.rec`);
}

export class MirrorRecord {
  readonly #sources: readonly string[];
  readonly #bySource: Map<string, number>;
  readonly #targets: readonly (string | null)[];
  readonly #extras: readonly (readonly [string, string] | null)[];
  readonly #stats: Float64Array;
  readonly tree: SettledTrees | null;

  private constructor(
    sources: readonly string[],
    targets: readonly (string | null)[],
    extras: readonly (readonly [string, string] | null)[],
    stats: Float64Array,
    tree: SettledTrees | null,
  ) {
    this.tree = tree;
    this.#sources = sources;
    this.#bySource = new Map(sources.map((rel, i) => [rel, i]));
    this.#targets = targets;
    this.#extras = extras;
    this.#stats = stats;
  }

  static readonly empty = new MirrorRecord([], [], [], new Float64Array(0), null);

  /**
   * The record at `path` of these two homes; missing, corrupt, of another
   * format, byte order or pair of homes (a hash collision, a moved cache):
   * the empty record, and the sync checks every session present on both sides.
   */
  static load(path: string | null, source: string, target: string): MirrorRecord {
    if (path === null) return MirrorRecord.empty;
    try {
      const buf = readFileSync(path);
      const head = headOf(buf, source, target);
      if (head === undefined || buf.length !== head.size || buf[head.bodyEnd] !== 10) return MirrorRecord.empty;
      const { sources, targets, extras } = JSON.parse(buf.toString("utf8", head.bodyStart, head.bodyEnd)) as Record<string, unknown>;
      const n = head.entries;
      if (!Array.isArray(sources) || !Array.isArray(targets) || !Array.isArray(extras) || sources.length !== n || targets.length !== n || extras.length !== n)
        return MirrorRecord.empty;
      // A typed array over the file's own bytes where they are aligned (they usually are), else a copy.
      const stats =
        (buf.byteOffset + head.statsAt) % 8 === 0
          ? new Float64Array(buf.buffer, buf.byteOffset + head.statsAt, n * PER_SESSION)
          : new Float64Array(Uint8Array.prototype.slice.call(buf, head.statsAt).buffer);
      return new MirrorRecord(sources as string[], targets as (string | null)[], extras as ([string, string] | null)[], stats, head.tree);
    } catch {
      return MirrorRecord.empty;
    }
  }

  /** The settled trees of the record at `path`, read from its first line (and its size), or null. */
  static loadTrees(path: string, source: string, target: string): SettledTrees | null {
    let fd: number | null = null;
    try {
      fd = openSync(path, "r");
      const buf = Buffer.allocUnsafe(HEAD_MAX);
      const head = headOf(buf.subarray(0, readSync(fd, buf, 0, HEAD_MAX, 0)), source, target);
      return head !== undefined && fstatSync(fd).size === head.size ? head.tree : null;
    } catch {
      return null;
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }

  get size(): number {
    return this.#targets.length;
  }

  /** The entry of the session whose source rollout is at `rel`, or -1. */
  indexOf(rel: string): number {
    return this.#bySource.get(rel) ?? -1;
  }

  /** Whether entry `i` holds exactly these two sides. */
  matches(i: number, source: SideState, target: SideState): boolean {
    const s = this.#stats;
    const o = i * PER_SESSION;
    const extra = this.#extras[i] ?? null;
    return (
      s[o] === source.ino &&
      s[o + 1] === source.size &&
      s[o + 2] === source.mtimeMs &&
      s[o + 3] === source.ctimeMs &&
      s[o + 4] === target.ino &&
      s[o + 5] === target.size &&
      s[o + 6] === target.mtimeMs &&
      s[o + 7] === target.ctimeMs &&
      target.rel === (this.#targets[i] ?? source.rel) &&
      (extra === null ? source.extra === "" && target.extra === "" : extra[0] === source.extra && extra[1] === target.extra)
    );
  }

  /** Entry `i` as the two sides it holds. */
  entry(i: number): [SideState, SideState] {
    const sourceRel = this.#sources[i]!;
    const s = this.#stats;
    const o = i * PER_SESSION;
    const extra = this.#extras[i] ?? null;
    return [
      { rel: sourceRel, ino: s[o]!, size: s[o + 1]!, mtimeMs: s[o + 2]!, ctimeMs: s[o + 3]!, extra: extra?.[0] ?? "" },
      { rel: this.#targets[i] ?? sourceRel, ino: s[o + 4]!, size: s[o + 5]!, mtimeMs: s[o + 6]!, ctimeMs: s[o + 7]!, extra: extra?.[1] ?? "" },
    ];
  }

  static of(
    sources: readonly string[],
    targets: readonly (string | null)[],
    extras: readonly (readonly [string, string] | null)[],
    stats: Float64Array,
  ): MirrorRecord {
    return new MirrorRecord(sources, targets, extras, stats, null);
  }

  /**
   * Writes this record, with `tree` when every session of the source is
   * in it as the two homes now are. Write-then-rename: a record is whole or
   * absent. One that cannot be written is no record (the next run checks more).
   */
  save(path: string, source: string, target: string, tree: SettledTrees | null): void {
    const body = JSON.stringify({ sources: this.#sources, targets: this.#targets, extras: this.#extras });
    const head = JSON.stringify({
      format: FORMAT,
      source: resolve(source),
      target: resolve(target),
      endian: endianness(),
      tree,
      body: Buffer.byteLength(body),
      entries: this.size,
    });
    const text = `${head}\n${body}\n`;
    const textBytes = Buffer.byteLength(text);
    const padded = Buffer.alloc(align(textBytes), " ");
    padded.write(text);
    const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(tmp, Buffer.concat([padded, new Uint8Array(this.#stats.buffer, this.#stats.byteOffset, this.#stats.byteLength)]), { mode: 0o600 });
      renameSync(tmp, path);
    } catch {
      rmSync(tmp, { force: true });
    }
  }
}

/** The next record: entries of the last one kept as they are, and new pairs. */
export class NextRecord {
  readonly #kept: number[] = [];
  readonly #added: [SideState, SideState][] = [];
  readonly #from: MirrorRecord;

  constructor(from: MirrorRecord) {
    this.#from = from;
  }

  keep(i: number): void {
    this.#kept.push(i);
  }

  add(source: SideState, target: SideState): void {
    this.#added.push([source, target]);
  }

  get changed(): boolean {
    return this.#added.length > 0 || this.#kept.length !== this.#from.size;
  }

  /** The record this makes (without trees); `save` writes it with them. */
  build(): MirrorRecord {
    if (!this.changed) return this.#from;
    const pairs = [...this.#kept.map((i) => this.#from.entry(i)), ...this.#added];
    const stats = new Float64Array(pairs.length * PER_SESSION);
    for (const [i, [s, t]] of pairs.entries()) stats.set([s.ino, s.size, s.mtimeMs, s.ctimeMs, t.ino, t.size, t.mtimeMs, t.ctimeMs], i * PER_SESSION);
    return MirrorRecord.of(
      pairs.map(([s]) => s.rel),
      pairs.map(([s, t]) => (t.rel === s.rel ? null : t.rel)),
      pairs.map(([s, t]) => (s.extra === "" && t.extra === "" ? null : [s.extra, t.extra])),
      stats,
    );
  }
}

/** Where the parts of a record are, from its first line; undefined when it is not a record of these homes. */
interface Head {
  tree: SettledTrees | null;
  bodyStart: number;
  bodyEnd: number;
  statsAt: number;
  entries: number;
  /** The record's size in bytes: a file of another size is cut or corrupt. */
  size: number;
}

function headOf(buf: Buffer, source: string, target: string): Head | undefined {
  const end = buf.indexOf(10);
  if (end === -1) return undefined;
  const head = JSON.parse(buf.toString("utf8", 0, end)) as Record<string, unknown>;
  // A record of another format, byte order or pair of homes (a hash collision, a moved cache) is no record.
  if (head.format !== FORMAT || head.endian !== endianness() || head.source !== resolve(source) || head.target !== resolve(target)) return undefined;
  if (!Number.isSafeInteger(head.body) || !Number.isSafeInteger(head.entries)) return undefined;
  const entries = head.entries as number;
  const bodyEnd = end + 1 + (head.body as number);
  const statsAt = align(bodyEnd + 1);
  return { tree: treeOf(head.tree), bodyStart: end + 1, bodyEnd, statsAt, entries, size: statsAt + entries * PER_SESSION * 8 };
}

function treeOf(value: unknown): SettledTrees | null {
  const t = value as Partial<SettledTrees> | null | undefined;
  return typeof t?.source === "string" && typeof t.target === "string" && typeof t.sessions === "number" && (t.agent === null || typeof t.agent === "string")
    ? (t as SettledTrees)
    : null;
}

/** Whether two states of one side are the same. */
export function sameSide(a: SideState, b: SideState): boolean {
  return a.rel === b.rel && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.extra === b.extra;
}

const align = (n: number) => Math.ceil(n / 8) * 8;
/** A first line longer than this (home paths of 30,000 bytes) is no record: the sync compares sessions one by one. */
const HEAD_MAX = 64 * 1024;
