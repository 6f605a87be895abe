import { createHash } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { FromUrlOptions } from "@sessionvault/core/store-api";
import { AgentHomeStore } from "./agent-home-store.js";
import { FsStore } from "./fs-store.js";

/**
 * `file:///path`: a Codex home, or, in place, a Claude Code config dir
 * (it holds `projects/` and no Codex `sessions/YYYY/` tree, or is named
 * `.claude`) or a Gemini CLI dir (`tmp/`, or named `.gemini`); see README
 * "Store URL". With `cacheDir`, the
 * listing facts of this home (and org) are kept in one file there, never
 * inside the home, which sessionvault only reads.
 */
export function fromUrl(url: URL, options: FromUrlOptions = {}): FsStore | AgentHomeStore {
  const root = fileURLToPath(url);
  const agent = storeHomeKind(root);
  if (agent !== null) return new AgentHomeStore(agent, root, options.cacheDir ? { cacheDir: options.cacheDir } : {});
  return new FsStore({
    root,
    ...(options.org ? { org: options.org } : {}),
    ...(options.cacheDir
      ? {
          summaryCache: summaryCachePath(options.cacheDir, root, options.org),
          searchIndex: searchIndexPath(options.cacheDir, root, options.org),
          mirrorRecords: options.cacheDir,
        }
      : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    ...(options.reuseWalkMs ? { reuseWalkMs: options.reuseWalkMs } : {}),
  });
}

/** One cache file per home and org, named by a hash of both. */
export function summaryCachePath(cacheDir: string, root: string, org?: string): string {
  return join(cacheDir, `fs-summary-${homeKey(root, org)}.json`);
}

/** The search index of a home and org, beside its summary cache. */
export function searchIndexPath(cacheDir: string, root: string, org?: string): string {
  return join(cacheDir, `fs-search-${homeKey(root, org)}.db`);
}

function homeKey(root: string, org?: string): string {
  return createHash("sha256")
    .update(`${resolve(root)}\0${org ?? ""}`)
    .digest("hex")
    .slice(0, 24);
}

/** What kind of home `root` is when it is not a Codex one; null for a Codex home (or a folder that will become one). */
export function agentHomeKind(root: string): "claude-code" | "gemini-cli" | null {
  const isDir = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
  const isFile = (p: string) => statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
  if (isDir(join(root, "archived_sessions"))) return null;
  // The real Codex CLI makes `tmp/` (and `config.toml`) before it writes any session, so a `~/.codex`
  // holding only those must not be taken for a Gemini CLI dir by the `tmp/` rule below.
  if (basename(resolve(root)) === ".codex" || isFile(join(root, "config.toml"))) return null;
  // Claude Code 2.1.x makes an empty `sessions/` of its own (it holds running sessions' pid files), so
  // only Codex's dated tree (`sessions/YYYY/`) makes a folder that also holds `projects/` a Codex home.
  if (isDir(join(root, "sessions")) && (!isDir(join(root, "projects")) || hasYearDir(join(root, "sessions")))) return null;
  if (isDir(join(root, "projects"))) return "claude-code";
  if (isDir(join(root, "tmp"))) return "gemini-cli";
  return null;
}

function hasYearDir(dir: string): boolean {
  try {
    return readdirSync(dir).some((n) => /^\d{4}$/.test(n));
  } catch {
    return false;
  }
}

/**
 * The agent a store folder belongs to: what it holds (`agentHomeKind`), else,
 * for a folder that holds none of it yet (a new machine's config dir, or one
 * that does not exist), its name: `.claude` is a Claude Code config dir,
 * `.gemini` a Gemini CLI dir. Anything else is a Codex home.
 */
export function storeHomeKind(root: string): "claude-code" | "gemini-cli" | null {
  const held = agentHomeKind(root);
  if (held !== null) return held;
  const isDir = (p: string) => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
  if (isDir(join(root, "sessions")) || isDir(join(root, "archived_sessions"))) return null;
  const name = basename(resolve(root));
  return name === ".claude" ? "claude-code" : name === ".gemini" ? "gemini-cli" : null;
}
