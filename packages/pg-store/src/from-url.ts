import type { FromUrlOptions } from "@sessionvault/core";
import { PgStore } from "./pg-store.js";

/**
 * `postgres://user@host:port/db?schema=…` (see README "Store URL"). `schema`
 * is ours, not libpq's: it is taken out of the connection string; every
 * other parameter goes to pg as it is. Credentials come from the URL or the
 * usual libpq environment, which pg reads itself.
 */
export function fromUrl(url: URL, options: FromUrlOptions = {}): PgStore {
  const conn = new URL(url.href);
  const schema = conn.searchParams.get("schema");
  conn.searchParams.delete("schema");
  return new PgStore({ connectionString: conn.href, ...(schema ? { schema } : {}), ...(options.org ? { org: options.org } : {}) });
}
