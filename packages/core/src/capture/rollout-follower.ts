import { open } from "node:fs/promises";
import { parseJsonLine } from "../jsonl-reader.js";

/**
 * Reads the lines a growing rollout gains, from where the last call
 * stopped. A line without its "\n" yet (Codex is mid-write) is left for the
 * next call. Reads in bounded chunks: a rollout can be very large.
 */
export class RolloutFollower {
  readonly path: string;
  #offset: number;
  #partial: Buffer[] = [];
  #partialBytes = 0;
  readonly #maxLine: number;

  /** `fromOffset`: bytes to skip (a resumed session: only what this run adds). */
  constructor(path: string, options: { fromOffset?: number; maxLineBytes?: number } = {}) {
    this.path = path;
    this.#offset = options.fromOffset ?? 0;
    this.#maxLine = options.maxLineBytes ?? 64 * 1024 * 1024;
  }

  get offset(): number {
    return this.#offset;
  }

  /** Parsed values of the new complete lines (unparsable lines are skipped). */
  async poll(): Promise<unknown[]> {
    const out: unknown[] = [];
    let fh;
    try {
      fh = await open(this.path, "r");
    } catch {
      return out;
    }
    try {
      const buf = Buffer.alloc(1024 * 1024);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        let start = 0;
        const chunk = buf.subarray(0, bytesRead);
        for (;;) {
          const nl = chunk.indexOf(0x0a, start);
          if (nl === -1) break;
          const part = chunk.subarray(start, nl);
          const whole = this.#partial.length ? Buffer.concat([...this.#partial, part]) : part;
          this.#partial = [];
          this.#partialBytes = 0;
          try {
            const v = whole.length <= this.#maxLine ? parseJsonLine(whole.toString("utf8")) : undefined;
            if (v !== undefined) out.push(v);
          } catch {
            // A garbage line in someone's rollout is not ours to judge here.
          }
          start = nl + 1;
        }
        if (start < chunk.length) {
          this.#partialBytes += chunk.length - start;
          // A huge line (inline image) is skipped, not held in memory.
          if (this.#partialBytes <= this.#maxLine) this.#partial.push(Buffer.from(chunk.subarray(start)));
          else this.#partial = [];
        }
      }
    } finally {
      await fh.close();
    }
    return out;
  }
}
