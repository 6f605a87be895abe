import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { parseJsonLine, readFileLines, type TokenRecord } from "@sessionvault/core";

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
 * The file is only ever appended to, so concurrent writers never lose each
 * other's lines: a later record with the same id replaces an earlier one, and
 * a revocation line `{"id", "deleted_at"}` removes it.
 */
export class TokenFile {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
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

  async delete(id: string): Promise<boolean> {
    if (!(await this.#current()).has(id)) return false;
    const revocation: Revocation = { id, deleted_at: new Date().toISOString() };
    await this.#append(revocation);
    return true;
  }

  async #append(value: TokenRecord | Revocation): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
    // One write of one short line with O_APPEND: concurrent writers cannot interleave.
    await appendFile(this.#path, JSON.stringify(value) + "\n", { mode: 0o600 });
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
