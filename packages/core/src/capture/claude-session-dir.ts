import { readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { claudeCaptureDir, claudeProjectSlug, ClaudeCodeHome } from "../agents/claude-code/claude-home.js";
import { AmbiguousIdError, NotFoundError } from "../errors.js";
import { assertSessionId, isSessionId } from "../ids.js";

/**
 * Where a Claude Code session's transcript lives, or null when no project
 * holds it (yet): `<config dir>/projects/<slug>/<sessionId>.jsonl`.
 */
export async function findClaudeTranscript(configDir: string, sessionId: string): Promise<string | null> {
  try {
    return (await new ClaudeCodeHome(configDir).sessionFiles(assertSessionId(sessionId))).transcript;
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

/**
 * A Claude Code session by full id or unique prefix (`resume`, `state set`):
 * its id and transcript, null when no project holds it, AmbiguousIdError
 * when the prefix names more than one.
 */
export async function findClaudeSession(configDir: string, idOrPrefix: string): Promise<{ id: string; path: string } | null> {
  if (isSessionId(idOrPrefix)) {
    const path = await findClaudeTranscript(configDir, idOrPrefix);
    return path ? { id: idOrPrefix, path } : null;
  }
  const hits: { id: string; path: string }[] = [];
  for await (const e of new ClaudeCodeHome(configDir).listSessions()) {
    if (e.kind === "session" && e.sessionId.startsWith(idOrPrefix)) hits.push({ id: e.sessionId, path: e.transcript });
  }
  if (hits.length > 1)
    throw new AmbiguousIdError(
      idOrPrefix,
      hits.map((h) => h.id),
    );
  return hits[0] ?? null;
}

/** The project folder Claude Code uses for a run in `cwd` (the CLI sees the real path, symlinks resolved). */
export async function claudeProjectDir(configDir: string, cwd: string): Promise<string> {
  const real = await realpath(cwd).catch(() => cwd);
  return join(configDir, "projects", claudeProjectSlug(real));
}

/**
 * `<config dir>/projects/<slug>/<sessionId>/sessionvault/` (claudeCaptureDir)
 * for a session of a run in `cwd`. The transcript's own folder
 * wins when it exists; a session not written yet goes where a run in `cwd`
 * will write it.
 */
export async function claudeCaptureDirPath(configDir: string, cwd: string, sessionId: string): Promise<string> {
  const transcript = await findClaudeTranscript(configDir, sessionId);
  const projectDir = transcript ? join(transcript, "..") : await claudeProjectDir(configDir, cwd);
  return claudeCaptureDir(projectDir, sessionId);
}

/** The session transcripts of one project folder with their sizes and modification times. */
export async function listClaudeTranscripts(projectDir: string): Promise<Map<string, { path: string; size: number; mtimeMs: number }>> {
  const out = new Map<string, { path: string; size: number; mtimeMs: number }>();
  for (const name of await readdir(projectDir).catch(() => [] as string[])) {
    if (!name.endsWith(".jsonl")) continue;
    const id = name.slice(0, -".jsonl".length);
    if (!isSessionId(id)) continue;
    const path = join(projectDir, name);
    const st = await stat(path).catch(() => null);
    if (st?.isFile()) out.set(id, { path, size: st.size, mtimeMs: st.mtimeMs });
  }
  return out;
}
