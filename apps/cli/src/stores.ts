import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { StoreRegistry, type OpenedStore } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { PgStore } from "@sessionvault/pg-store";
import { S3Store } from "@sessionvault/s3-store";
import { warn, type CliContext } from "./io.js";
import { HttpStore } from "./stores/http-store.js";

/**
 * The store URLs this binary understands (DESIGN.md §5). Each store package
 * registers itself here; this is the only place that knows them all.
 */
export interface FsOpenOptions {
  /** Keep listing facts in the user's cache directory (see `fsSummaryCachePath`). */
  summaryCache?: boolean;
  /** See FsStoreOptions.reuseWalkMs: for a sync that writes a whole home. */
  reuseWalkMs?: number;
}

export function storeRegistry(ctx: CliContext, fsOptions: FsOpenOptions = {}): StoreRegistry {
  const registry = new StoreRegistry();
  // Registrations are added by each store's integration (fs, s3, postgres, http).
  registry.register(["http", "https"], (url) => new HttpStore({ baseUrl: url.href, ...(ctx.env.SESSIONVAULT_TOKEN ? { token: ctx.env.SESSIONVAULT_TOKEN } : {}) }));
  registry.register(["file"], (url, options) => {
    const root = fileURLToPath(url);
    const cache = fsOptions.summaryCache ? { summaryCache: fsSummaryCachePath(ctx, root, options.org) } : {};
    const reuse = fsOptions.reuseWalkMs ? { reuseWalkMs: fsOptions.reuseWalkMs } : {};
    return new FsStore({ root, ...(options.org ? { org: options.org } : {}), ...cache, ...reuse, onWarning: (m) => warn(ctx, m) });
  });
  registry.register(["postgres", "postgresql"], (url, options) => {
    // `?schema=` is ours, not libpq's: take it out of the connection string.
    const conn = new URL(url.href);
    const schema = conn.searchParams.get("schema");
    conn.searchParams.delete("schema");
    return new PgStore({ connectionString: conn.href, ...(schema ? { schema } : {}), ...(options.org ? { org: options.org } : {}) });
  });
  registry.register(["s3"], (url, options) => s3Store(ctx, url, options.org));
  void ctx;
  return registry;
}

/**
 * `s3://bucket/prefix?endpoint=…&region=…&force_path_style=true`. Credentials
 * come from the standard AWS chain; keys in the command's environment are
 * passed on explicitly (the store package never reads the environment).
 */
function s3Store(ctx: CliContext, url: URL, org: string | undefined): S3Store {
  const q = url.searchParams;
  const env = ctx.env;
  const endpoint = q.get("endpoint") ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? undefined;
  const pathStyle = q.get("force_path_style");
  // The SDK warns on every run under Node < 22 that *future* SDK releases will need it; the version we
  // ship is pinned and supports Node 20, so the warning is noise on a CLI's stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return new S3Store({
    bucket: decodeURIComponent(url.hostname),
    prefix: decodeURIComponent(url.pathname.replace(/^\/+/, "")),
    ...(org ? { org } : {}),
    ...(endpoint ? { endpoint } : {}),
    region: q.get("region") ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    // A custom endpoint (MinIO, a local emulator) rarely has per-bucket DNS names.
    forcePathStyle: pathStyle === null ? endpoint !== undefined : pathStyle === "true" || pathStyle === "1",
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } }
      : {}),
  });
}

/**
 * Where a Codex home's listing cache lives: the user's cache directory
 * (`$XDG_CACHE_HOME`, else `~/.cache`), never inside the home itself, which
 * sessionvault only reads. One file per home (and org).
 */
export function fsSummaryCachePath(ctx: CliContext, root: string, org?: string): string {
  const base = ctx.env.XDG_CACHE_HOME || join(ctx.env.HOME || homedir(), ".cache");
  const key = createHash("sha256").update(`${resolve(root)}\0${org ?? ""}`).digest("hex").slice(0, 24);
  return join(base, "sessionvault", `fs-summary-${key}.json`);
}

/** `--store` default: $CODEX_HOME, else ~/.codex. */
export function defaultStoreUrl(ctx: CliContext): string {
  return ctx.env.CODEX_HOME || join(ctx.env.HOME || homedir(), ".codex");
}

/**
 * Opens `--store` (a URL, or a path: relative to the command's cwd, `~/…`
 * expanded), defaulting to the Codex home.
 */
export function openStoreArg(ctx: CliContext, store: string | undefined, fsOptions: FsOpenOptions = {}): OpenedStore {
  let value = store ?? defaultStoreUrl(ctx);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    if (value === "~" || value.startsWith("~/")) value = join(ctx.env.HOME || homedir(), value.slice(1));
    if (!isAbsolute(value)) value = resolve(ctx.cwd, value);
  }
  return storeRegistry(ctx, fsOptions).open(value);
}
