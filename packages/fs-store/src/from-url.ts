import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { FromUrlOptions } from "@sessionvault/core/store-api";
import { FsStore } from "./fs-store.js";

/**
 * `file:///path` (a Codex home; see README "Store URL"). With `cacheDir`, the
 * listing facts of this home (and org) are kept in one file there, never
 * inside the home, which sessionvault only reads.
 */
export function fromUrl(url: URL, options: FromUrlOptions = {}): FsStore {
  const root = fileURLToPath(url);
  return new FsStore({
    root,
    ...(options.org ? { org: options.org } : {}),
    ...(options.cacheDir ? { summaryCache: summaryCachePath(options.cacheDir, root, options.org) } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    ...(options.reuseWalkMs ? { reuseWalkMs: options.reuseWalkMs } : {}),
  });
}

/** One cache file per home and org, named by a hash of both. */
export function summaryCachePath(cacheDir: string, root: string, org?: string): string {
  const key = createHash("sha256")
    .update(`${resolve(root)}\0${org ?? ""}`)
    .digest("hex")
    .slice(0, 24);
  return join(cacheDir, `fs-summary-${key}.json`);
}
