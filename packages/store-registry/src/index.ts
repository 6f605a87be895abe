import { StoreRegistry, type FromUrlOptions } from "@sessionvault/core/store-api";

/**
 * The one table of store URL schemes (DESIGN.md §5), for the CLI and the
 * server alike. Each entry is a lazy import: opening a Codex home never
 * loads the AWS SDK, pg, kysely or the HTTP client, and each store package's
 * `fromUrl` (next to the README that documents its URL) reads the URL.
 * `defaults` reach every `fromUrl` (the process environment, a cache folder).
 */
export function defaultStoreRegistry(defaults: FromUrlOptions = {}): StoreRegistry {
  return new StoreRegistry(defaults)
    .register(["file"], () => import("@sessionvault/fs-store"))
    .register(["s3"], () => import("@sessionvault/s3-store"))
    .register(["postgres", "postgresql"], () => import("@sessionvault/pg-store"))
    .register(["http", "https"], () => import("@sessionvault/http-store"));
}
