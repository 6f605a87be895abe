import { readFileLines, type SessionStore } from "@sessionvault/core";
import type { GeneratedHome } from "@sessionvault/testing/codex-home";

/**
 * Compares a store with a generated Codex home: for every session, the
 * rollout stream holds exactly the file's lines, in order (nothing lost,
 * nothing duplicated). Returns a description of the first difference, or
 * null when they match.
 */
export async function diffHomeAndStore(home: GeneratedHome, store: SessionStore): Promise<string | null> {
  for (const s of home.sessions) {
    const positions = await store.streamPositions(s.id).catch((err: Error) => err);
    if (positions instanceof Error) return `session ${s.id}: ${positions.message}`;
    const rollout = positions.find((p) => p.name === "rollout");
    if (rollout?.lines !== s.lines || rollout.bytes !== s.bytes) {
      return `session ${s.id}: store has ${rollout?.lines ?? 0} lines / ${rollout?.bytes ?? 0} bytes, file has ${s.lines} / ${s.bytes}`;
    }
    const stored = store.readStream(s.id, "rollout")[Symbol.asyncIterator]();
    let i = 0;
    for await (const line of readFileLines(s.path)) {
      const got = await stored.next();
      if (got.done) return `session ${s.id}: store ends at line ${i}`;
      if (got.value !== line.text) return `session ${s.id}: line ${i} differs`;
      i++;
    }
    if (!(await stored.next()).done) return `session ${s.id}: store has lines after ${i}`;
  }
  return null;
}
