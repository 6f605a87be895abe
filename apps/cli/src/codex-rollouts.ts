import { stat } from "node:fs/promises";
import { parseJsonLine, readFileLines, reduceSource, sessionMetaOf } from "@sessionvault/core";

export interface RolloutHeadInfo {
  id: string;
  cwd: string | null;
  /** A sub-agent's or other child thread's rollout (never what a slot should point at). */
  child: boolean;
}

/** The session_meta of a rollout's first line, or null while it is not written yet. */
export async function readRolloutHead(path: string): Promise<RolloutHeadInfo | null> {
  try {
    for await (const line of readFileLines(path)) {
      const p = sessionMetaOf(parseJsonLine(line.text));
      if (!p) return null;
      const child = typeof p.parent_thread_id === "string" || reduceSource(p.source) === "subagent";
      return { id: p.id, cwd: typeof p.cwd === "string" ? p.cwd : null, child };
    }
  } catch {
    // Being written or vanished: the caller looks again later.
  }
  return null;
}

export async function mtimeMs(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}
