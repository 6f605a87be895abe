import { fileURLToPath } from "node:url";
import { StoreRegistry } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { PgStore } from "@sessionvault/pg-store";

/**
 * The store URLs the server can serve (DESIGN.md §5): a directory, Postgres
 * or S3. (An http(s) URL would make the server a proxy of another server;
 * that is not offered.)
 */
export function serverStoreRegistry(): StoreRegistry {
  return new StoreRegistry()
    .register(["file"], (url, options) => new FsStore({ root: fileURLToPath(url), ...options }))
    .register(["postgres", "postgresql"], (url, options) => {
      const u = new URL(url.href);
      const schema = u.searchParams.get("schema") ?? undefined;
      u.searchParams.delete("schema");
      return new PgStore({ connectionString: u.href, ...(schema ? { schema } : {}), ...options });
    });
}
