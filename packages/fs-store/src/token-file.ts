import { appendFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { parseJsonLine, readFileLines, type TokenRecord } from "@sessionvault/core";

/**
 * API tokens (hashes only) in `<root>/.sessionvault/tokens.jsonl`, one JSON
 * record per line, file mode 0600. Tokens are shared by every org of the
 * root; each record names its org.
 */
export class TokenFile {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  async save(record: TokenRecord): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
    // One write of one short line with O_APPEND: concurrent savers cannot interleave.
    await appendFile(this.#path, JSON.stringify(record) + "\n", { mode: 0o600 });
  }

  async findByHash(hash: string): Promise<TokenRecord | null> {
    let found: TokenRecord | null = null;
    try {
      for await (const line of readFileLines(this.#path)) {
        let v: unknown;
        try {
          v = parseJsonLine(line.text);
        } catch {
          continue;
        }
        const r = v as TokenRecord | undefined;
        if (r && r.hash === hash) found = r;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    return found;
  }
}
