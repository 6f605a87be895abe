import { link, lstat, readdir, symlink, unlink } from "node:fs/promises";
import { join } from "node:path";
import { assertSessionId } from "../ids.js";
import { STREAM_FILES } from "../session.js";

/** `<home>/sessions/<id>/`: the per-session directory next to Codex's dated tree. */
export function sessionDirPath(codexHome: string, sessionId: string): string {
  return join(codexHome, "sessions", assertSessionId(sessionId));
}

const DIGITS = /^\d+$/;

/**
 * The dated rollout of a session (`sessions/YYYY/MM/DD/rollout-…-<id>.jsonl`),
 * newest days first (a new session is found at once; a resumed one may be
 * older), or null when Codex has not written it (yet).
 */
export async function findRolloutPath(codexHome: string, sessionId: string, options: { newestDays?: number } = {}): Promise<string | null> {
  const id = assertSessionId(sessionId);
  for (const dir of await dayDirs(codexHome, options.newestDays)) {
    const hit = (await readdir(dir).catch(() => [] as string[])).find(
      (n) => n.startsWith("rollout-") && (n.endsWith(`-${id}.jsonl`) || n.endsWith(`-${id}.jsonl.zst`)),
    );
    if (hit) return join(dir, hit);
  }
  return null;
}

/**
 * Dated rollout files under `<home>/sessions` (to spot the one a run
 * creates). `newestDays` limits the walk to the newest day directories: a
 * file created now is there, and a large home has years of them.
 */
export async function listRolloutPaths(codexHome: string, options: { newestDays?: number } = {}): Promise<Set<string>> {
  const out = new Set<string>();
  for (const dir of await dayDirs(codexHome, options.newestDays)) {
    for (const n of await readdir(dir).catch(() => [] as string[])) {
      if (n.startsWith("rollout-") && n.endsWith(".jsonl")) out.add(join(dir, n));
    }
  }
  return out;
}

/** `sessions/YYYY/MM/DD` directories, newest first, at most `limit` of them. */
async function dayDirs(codexHome: string, limit = Infinity): Promise<string[]> {
  const root = join(codexHome, "sessions");
  const numericDesc = async (dir: string) =>
    (await readdir(dir).catch(() => [] as string[])).filter((n) => DIGITS.test(n)).sort((a, b) => Number(b) - Number(a));
  const out: string[] = [];
  for (const y of await numericDesc(root)) {
    for (const m of await numericDesc(join(root, y))) {
      for (const d of await numericDesc(join(root, y, m))) {
        if (out.length >= limit) return out;
        out.push(join(root, y, m, d));
      }
    }
  }
  return out;
}

const ROLLOUT_ID = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/;

export function sessionIdOfRolloutPath(path: string): string | null {
  return ROLLOUT_ID.exec(path)?.[1] ?? null;
}

/**
 * Makes `<sessionDir>/rollout.jsonl` point at the dated rollout: a hard link
 * (same inode, survives a move of either name) where the filesystem allows,
 * else a symlink. The dated file stays where Codex and its resume expect
 * it. Returns how it linked, or "exists" when a link is already there.
 */
export async function linkRollout(sessionDir: string, rolloutPath: string): Promise<"hard" | "symbolic" | "exists"> {
  const target = join(sessionDir, STREAM_FILES.rollout!);
  if (
    await lstat(target).then(
      () => true,
      () => false,
    )
  )
    return "exists";
  try {
    await link(rolloutPath, target);
    return "hard";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return "exists";
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
  }
  try {
    await symlink(rolloutPath, target);
    return "symbolic";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return "exists";
    throw err;
  }
}

/** Removes the link made by linkRollout (never the dated rollout itself). */
export async function unlinkRollout(sessionDir: string): Promise<void> {
  await unlink(join(sessionDir, STREAM_FILES.rollout!)).catch(() => {});
}
