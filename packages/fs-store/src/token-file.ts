import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { parseJsonLine, readFileLines, type TokenRecord } from "@sessionvault/core/store-api";
import { withLock, type LockOptions } from "./file-lock.js";
import { appendRecord } from "./stream-file.js";

/** A line that revokes the token with this id. */
interface Revocation {
  id: string;
  deleted_at: string;
}

/**
 * API tokens (hashes only) in `<root>/.sessionvault/tokens.jsonl`, one JSON
 * record per line, file mode 0600. Tokens are shared by every org of the
 * root; each record names its org.
 *
 * The file is only ever appended to, under a lock (`lockPath`), so
 * concurrent writers never lose each other's lines: a later record with the
 * same id replaces an earlier one, and a revocation line `{"id",
 * "deleted_at"}` removes it. A torn last line (a full disk, a crash) is cut
 * before the next record is written, so a revocation is never glued onto it.
 */
export class TokenFile {
  readonly #path: string;
  readonly #lockPath: string;
  readonly #lockOptions: LockOptions;

  constructor(path: string, lockPath: string, lockOptions: LockOptions = {}) {
    this.#path = path;
    this.#lockPath = lockPath;
    this.#lockOptions = lockOptions;
  }

  save(record: TokenRecord): Promise<void> {
    return this.#append(record);
  }

  async findByHash(hash: string): Promise<TokenRecord | null> {
    for (const r of (await this.#current()).values()) if (r.hash === hash) return r;
    return null;
  }

  async list(): Promise<TokenRecord[]> {
    return [...(await this.#current()).values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  delete(id: string): Promise<boolean> {
    return this.#locked(async () => {
      if (!(await this.#current()).has(id)) return false;
      const revocation: Revocation = { id, deleted_at: new Date().toISOString() };
      await appendRecord(this.#path, revocation, { durable: true });
      return true;
    });
  }

  #append(value: TokenRecord | Revocation): Promise<void> {
    // Durable: a token printed once, or a revocation answered, must survive a power loss.
    return this.#locked(() => appendRecord(this.#path, value, { durable: true }));
  }

  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
    return withLock(this.#lockPath, fn, this.#lockOptions);
  }

  /** The live tokens by id. */
  async #current(): Promise<Map<string, TokenRecord>> {
    const tokens = new Map<string, TokenRecord>();
    try {
      for await (const line of readFileLines(this.#path)) {
        let v: unknown;
        try {
          v = parseJsonLine(line.text);
        } catch {
          continue; // a torn or foreign line hides no other token
        }
        const r = v as Partial<TokenRecord & Revocation> | null;
        if (!r || typeof r.id !== "string") continue;
        if (typeof r.hash === "string") {
          tokens.set(r.id, r as TokenRecord);
        } else if (typeof r.deleted_at === "string") {
          tokens.delete(r.id);
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return tokens;
      throw err;
    }
    return tokens;
  }
}
