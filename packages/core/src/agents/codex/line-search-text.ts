import { searchTextOf } from "../../session-model/search-text.js";
import { CodexReader } from "./codex-reader.js";

/**
 * The search text of one rollout line on its own (a store indexes lines as
 * they are appended, before the rest of the session exists): the line read
 * through the Codex reader, then `searchTextOf` each model event it gives.
 */
export function codexLineSearchText(text: string): string | null {
  const reader = new CodexReader({ text: true });
  // Line 2: a lone line is never taken for the file's meta line.
  reader.push("{}", 1);
  reader.push(text, 2);
  reader.finish();
  const parts: string[] = [];
  for (const e of reader.take()) {
    const t = searchTextOf(e);
    if (t !== null && t !== "") parts.push(t);
  }
  return parts.length ? parts.join("\n") : null;
}
