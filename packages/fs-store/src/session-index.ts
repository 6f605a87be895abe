import { readFileSync, statSync } from "node:fs";
import { parseJsonLine, readFileLines } from "@sessionvault/core/store-api";

const SMALL = 1024 * 1024;

/**
 * Thread names from Codex's `session_index.jsonl` (`{"id", "thread_name",
 * "updated_at"}` per line, appended on every rename: the last line per id
 * wins). Re-read only when the file's size or mtime changed.
 */
export class SessionIndex {
  readonly #path: string;
  #stamp = "";
  #names = new Map<string, string>();

  constructor(path: string) {
    this.#path = path;
  }

  async names(): Promise<Map<string, string>> {
    // A direct call: a sync asks for every new session (a trip through the thread pool costs more than the stat).
    let st: ReturnType<typeof statSync> | null = null;
    try {
      st = statSync(this.#path, { throwIfNoEntry: false }) ?? null;
    } catch {}
    const stamp = st ? `${st.size}:${st.mtimeMs}` : "";
    if (stamp === this.#stamp) return this.#names;
    const names = new Map<string, string>();
    if (st) {
      // A few renames a day: one direct read (a sync asks at its start); a big one is streamed.
      const lines = st.size <= SMALL ? readFileSync(this.#path, "utf8").split("\n") : readFileLines(this.#path);
      for await (const line of lines) {
        let v: unknown;
        try {
          v = parseJsonLine(typeof line === "string" ? line : line.text);
        } catch {
          continue; // a garbage line in the index must not hide the other names
        }
        if (typeof v !== "object" || v === null) continue;
        const { id, thread_name: name } = v as { id?: unknown; thread_name?: unknown };
        if (typeof id !== "string") continue;
        if (typeof name === "string" && name.trim() !== "") names.set(id, name);
        else names.delete(id);
      }
    }
    this.#names = names;
    this.#stamp = stamp;
    return names;
  }
}
