import { posix } from "node:path";
import { shellScript } from "./command-display.js";
import type { FileDiff } from "../../session-model/session-event.js";

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
    else if (cwd?.startsWith("/")) set.add(posix.join(cwd, p));
    else set.add(p);
  }
  return [...set].sort();
}

/** Codex's `*** Begin Patch` format, split per file (the body keeps its `+`/`-`/` `/`@@` lines). */
export function patchFiles(patch: string): FileDiff[] {
  const files: FileDiff[] = [];
  let cur: FileDiff | null = null;
  const body: string[] = [];
  const flush = () => {
    if (cur) {
      cur.diff = body.join("\n");
      files.push(cur);
    }
    body.length = 0;
  };
  for (const line of patch.split("\n")) {
    const h = /^\*\*\* (Add|Update|Delete) File: (.+?)\s*$/.exec(line);
    if (h) {
      flush();
      cur = { path: h[2]!, kind: h[1] === "Add" ? "add" : h[1] === "Delete" ? "delete" : "update", movePath: null, diff: "" };
      continue;
    }
    const mv = /^\*\*\* Move to: (.+?)\s*$/.exec(line);
    if (mv && cur) {
      cur.movePath = mv[1]!;
      cur.kind = "move";
      continue;
    }
    if (line.startsWith("*** ")) continue;
    if (cur) body.push(line);
  }
  flush();
  return files;
}

/** The per-file diffs of a `changes` map (FileChange item, patch_apply_end). */
export function changesMapFiles(changes: unknown): FileDiff[] {
  if (!changes || typeof changes !== "object" || Array.isArray(changes)) return [];
  const files: FileDiff[] = [];
  for (const [path, raw] of Object.entries(changes as Record<string, unknown>)) {
    const ch = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
    const update = (ch.update && typeof ch.update === "object" ? ch.update : null) as Record<string, unknown> | null;
    const type = typeof ch.type === "string" ? ch.type : ch.add ? "add" : ch.delete ? "delete" : "update";
    const content = typeof ch.content === "string" ? ch.content : null;
    const move = typeof ch.move_path === "string" ? ch.move_path : typeof update?.move_path === "string" ? update.move_path : null;
    const unified = typeof ch.unified_diff === "string" ? ch.unified_diff : typeof update?.unified_diff === "string" ? update.unified_diff : "";
    if (type === "add") files.push({ path, kind: "add", movePath: null, diff: prefixLines(content ?? "", "+") });
    else if (type === "delete") files.push({ path, kind: "delete", movePath: null, diff: prefixLines(content ?? "", "-") });
    else files.push({ path, kind: move ? "move" : "update", movePath: move, diff: unified });
  }
  return files;
}

function prefixLines(text: string, prefix: string): string {
  if (!text) return "";
  const lines = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text.split("\n");
  return lines.map((l) => prefix + l).join("\n");
}
