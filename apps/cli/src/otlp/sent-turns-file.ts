import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { InvalidInputError } from "@sessionvault/core";

/**
 * What `sync --to otlp+http://…` already sent: per collector and session,
 * the seq of the last action of actions v1 whose span went out. A collector
 * keeps no cursor we could ask, so the sender remembers. Written whole to a
 * temporary file and renamed, so a kill leaves the old or the new version.
 */
interface SentFile {
  version: 1;
  /** `<collector endpoint> <session id>` → last action seq sent. */
  sent: Record<string, number>;
}

export class SentTurnsFile {
  readonly path: string;
  #data: SentFile = { version: 1, sent: {} };

  constructor(path: string) {
    this.path = path;
  }

  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as SentFile;
      if (parsed?.version !== 1 || typeof parsed.sent !== "object" || parsed.sent === null) throw new Error("not a version 1 file");
      this.#data = parsed;
    } catch (cause) {
      throw new InvalidInputError(`${this.path} is not a sessionvault OTLP sync state file (move it aside to send everything again)`, { cause });
    }
  }

  lastSeq(endpoint: string, sessionId: string): number {
    return this.#data.sent[`${endpoint} ${sessionId}`] ?? -1;
  }

  async record(endpoint: string, sessionId: string, seq: number): Promise<void> {
    this.#data.sent[`${endpoint} ${sessionId}`] = seq;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.#data) + "\n", { mode: 0o600 });
    await rename(tmp, this.path);
  }
}
