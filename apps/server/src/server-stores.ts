import type { StoreRegistry } from "@sessionvault/core";
import { defaultStoreRegistry } from "@sessionvault/store-registry";

/**
 * The store URLs the server can serve (DESIGN.md §5): the one shared table of
 * @sessionvault/store-registry, which the CLI's `serve` uses too. `env` is the
 * process environment (S3 endpoints and keys given the AWS way). An http(s)
 * URL opens, but cannot keep the server's tokens, so the server refuses it.
 * `cacheDir` keeps the listing facts of the agent homes the server imports.
 */
export function serverStoreRegistry(env: Record<string, string | undefined> = {}, options: { cacheDir?: string } = {}): StoreRegistry {
  return defaultStoreRegistry({ env, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
}
