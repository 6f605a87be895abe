import { posix } from "node:path";
import { shellScript } from "./command-display.js";

/**
 * apply_patch in its different costumes: the freeform tool's input, the JSON
 * function's `{"input": patch}`, and — in versions without an apply_patch
 * tool — a shell call `["apply_patch", patch]` or `bash -lc "apply_patch <<'EOF' … EOF"`
 * that Codex intercepts and applies itself.
 */
const HEREDOC = /^\s*apply_patch\s*<<\s*['"]?([A-Za-z_]\w*)['"]?\s*\n([\s\S]*?)\n\1\s*$/;

/** The patch text when `argv` invokes apply_patch, else null. */
export function patchFromArgv(argv: readonly string[]): string | null {
  if (argv.length === 2 && (argv[0] === "apply_patch" || argv[0] === "applypatch")) return argv[1]!;
  const script = shellScript(argv);
  if (script !== null) {
    const m = HEREDOC.exec(script);
    if (m) return m[2]!;
  }
  return null;
}

const HEADER = /^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+?)\s*$/gm;

/** Paths named by the patch's `*** Add/Update/Delete File:` and `*** Move to:` headers. */
export function patchPaths(patch: string): string[] {
  const out: string[] = [];
  for (const m of patch.matchAll(HEADER)) out.push(m[1]!);
  return out;
}

/** Paths of a `changes` map (FileChange item, patch_apply_end): its keys plus any move destination. */
export function changesMapPaths(changes: unknown): string[] {
  if (!changes || typeof changes !== "object" || Array.isArray(changes)) return [];
  const out: string[] = [];
  for (const [path, change] of Object.entries(changes as Record<string, unknown>)) {
    out.push(path);
    if (change && typeof change === "object") {
      const c = change as Record<string, unknown>;
      const move = c.move_path ?? (c.update && typeof c.update === "object" ? (c.update as Record<string, unknown>).move_path : undefined);
      if (typeof move === "string" && move !== "") out.push(move);
    }
  }
  return out;
}

/**
 * Resolves against the call's cwd (patch headers are usually relative, the
 * changes map absolute), so the same edit gives the same paths whichever
 * record Codex wrote; then de-duplicates and sorts for a stable order.
 */
export function normalizePaths(paths: readonly string[], cwd: string | null): string[] {
  const set = new Set<string>();
  for (const p of paths) {
    if (p.startsWith("/")) set.add(posix.normalize(p));
    else if (cwd && cwd.startsWith("/")) set.add(posix.join(cwd, p));
    else set.add(p);
  }
  return [...set].sort();
}
