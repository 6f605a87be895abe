import { constants } from "node:fs";
import { mkdir, open, rmdir, stat, unlink, type FileHandle } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { IoError } from "../errors.js";
import { assertSlug } from "../ids.js";
import { STREAM_FILES } from "../session.js";
import type { StreamSink } from "./stream-sink.js";

export interface DirectorySinkOptions {
  /** Per-stream file overrides; a relative path resolves inside the directory. */
  paths?: Record<string, string>;
}

interface OpenFile {
  fh: FileHandle;
  path: string;
  created: boolean;
  /** A write failed part-way (a full disk): the file may end inside a line. */
  torn: boolean;
}

/**
 * Writes each stream to its file in a session directory
 * (`<home>/sessions/<id>/session.log`, …, names from STREAM_FILES). Files are
 * opened O_APPEND and each batch is one write, so lines land whole and in
 * order; `close()` fsyncs. The directory is created (0700) on the first
 * append, not by the constructor.
 */
export class DirectorySink implements StreamSink {
  readonly dir: string;
  readonly #paths: Record<string, string>;
  readonly #files = new Map<string, Promise<OpenFile>>();
  #createdDir: string | undefined;
  #dirReady: Promise<void> | undefined;

  constructor(dir: string, options: DirectorySinkOptions = {}) {
    this.dir = resolve(dir);
    this.#paths = options.paths ?? {};
  }

  /** The file a stream is written to. */
  pathOf(stream: string): string {
    const override = this.#paths[stream];
    if (override) return isAbsolute(override) ? override : join(this.dir, override);
    return join(this.dir, STREAM_FILES[stream] ?? `${assertSlug(stream, "stream name")}.log`);
  }

  /** Creates the directory now (0700); rejects with IoError when it cannot. */
  ensureDir(): Promise<void> {
    this.#dirReady ??= (async () => {
      try {
        this.#createdDir = await mkdir(this.dir, { recursive: true, mode: 0o700 });
      } catch (cause) {
        throw new IoError(`cannot create session directory ${this.dir}: ${(cause as Error).message}`, { cause });
      }
    })();
    return this.#dirReady;
  }

  async append(stream: string, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const file = await this.#open(stream);
    const buf = Buffer.from(lines.join("\n") + "\n", "utf8");
    try {
      if (file.torn) {
        await terminateTornLine(file.fh, file.path, (await file.fh.stat()).size);
        file.torn = false;
      }
      let off = 0;
      while (off < buf.length) {
        const { bytesWritten } = await file.fh.write(buf, off, buf.length - off);
        off += bytesWritten;
      }
    } catch (cause) {
      // What did land ends inside a line: the next batch must not be glued onto it.
      file.torn = true;
      throw new IoError(`cannot write ${file.path}: ${(cause as Error).message}`, { cause });
    }
  }

  async close(): Promise<void> {
    const files = await Promise.allSettled(this.#files.values());
    this.#files.clear();
    let firstError: unknown;
    for (const f of files) {
      if (f.status !== "fulfilled") continue;
      try {
        await f.value.fh.sync();
      } catch (err) {
        firstError ??= err;
      }
      await f.value.fh.close().catch(() => {});
    }
    if (firstError) throw new IoError(`cannot sync session files in ${this.dir}: ${(firstError as Error).message}`, { cause: firstError });
  }

  async discard(): Promise<void> {
    const files = await Promise.allSettled(this.#files.values());
    this.#files.clear();
    for (const f of files) {
      if (f.status !== "fulfilled") continue;
      await f.value.fh.close().catch(() => {});
      if (f.value.created) await unlink(f.value.path).catch(() => {});
    }
    // Only a directory this sink created goes, and only when nothing else is in it.
    if (this.#createdDir) await rmdir(this.dir).catch(() => {});
  }

  #open(stream: string): Promise<OpenFile> {
    let p = this.#files.get(stream);
    if (!p) {
      p = (async () => {
        const path = this.pathOf(stream);
        if (path.startsWith(this.dir + "/")) await this.ensureDir();
        const existed = await stat(path).then(
          (s) => s.size,
          () => -1,
        );
        let fh: FileHandle;
        try {
          fh = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
        } catch (cause) {
          throw new IoError(`cannot open ${path}: ${(cause as Error).message}`, { cause });
        }
        if (existed > 0) await terminateTornLine(fh, path, existed);
        return { fh, path, created: existed < 0, torn: false };
      })();
      this.#files.set(stream, p);
      // A failed open is not cached: discard() must not trip over it.
      p.catch(() => this.#files.delete(stream));
    }
    return p;
  }
}

/**
 * A file left by a crash mid-write may end without "\n"; appending to it
 * would glue the next line onto the torn one. Ending it first keeps every
 * new line whole (the torn fragment stays a separate, unparsable line).
 */
async function terminateTornLine(fh: FileHandle, path: string, size: number): Promise<void> {
  if (size === 0) return;
  const r = await open(path, "r");
  try {
    const last = Buffer.alloc(1);
    await r.read(last, 0, 1, size - 1);
    if (last[0] !== 0x0a) await fh.write("\n");
  } finally {
    await r.close();
  }
}
