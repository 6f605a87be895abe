import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { StoreRegistry, type OpenedStore } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { warn, type CliContext } from "./io.js";
import { PgStore } from "@sessionvault/pg-store";

/**
 * The store URLs this binary understands (DESIGN.md §5). Each store package
 * registers itself here; this is the only place that knows them all.
 */
export function storeRegistry(ctx: CliContext): StoreRegistry {
  const registry = new StoreRegistry();
  // Registrations are added by each store's integration (fs, s3, postgres, http).
  registry.register(["file"], (url, options) => new FsStore({ root: fileURLToPath(url), ...(options.org ? { org: options.org } : {}), onWarning: (m) => warn(ctx, m) }));
  void ctx;
  registry.register(["postgres", "postgresql"], (url, options) => {
    // `?schema=` is ours, not libpq's: take it out of the connection string.
    const conn = new URL(url.href);
    const schema = conn.searchParams.get("schema");
    conn.searchParams.delete("schema");
    return new PgStore({ connectionString: conn.href, ...(schema ? { schema } : {}), ...(options.org ? { org: options.org } : {}) });
  });
  return registry;
}

/** `--store` default: $CODEX_HOME, else ~/.codex. */
export function defaultStoreUrl(ctx: CliContext): string {
  return ctx.env.CODEX_HOME || join(ctx.env.HOME || homedir(), ".codex");
}

/**
 * Opens `--store` (a URL, or a path: relative to the command's cwd, `~/…`
 * expanded), defaulting to the Codex home.
 */
export function openStoreArg(ctx: CliContext, store: string | undefined): OpenedStore {
  let value = store ?? defaultStoreUrl(ctx);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    if (value === "~" || value.startsWith("~/")) value = join(ctx.env.HOME || homedir(), value.slice(1));
    if (!isAbsolute(value)) value = resolve(ctx.cwd, value);
  }
  return storeRegistry(ctx).open(value);
}
