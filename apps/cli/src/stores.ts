import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { NotFoundError, type OpenedStore, type StoreRegistry } from "@sessionvault/core/store-api";
import { localAgentHomes as fsLocalAgentHomes, type AgentHome } from "@sessionvault/fs-store";
import { defaultStoreRegistry } from "@sessionvault/store-registry";
import { warn, type CliContext } from "./io.js";

/**
 * The store URLs this binary understands (DESIGN.md §5) come from the one
 * shared table in @sessionvault/store-registry; each backend is imported only
 * when a URL names it.
 */
export interface FsOpenOptions {
  /** Keep listing facts in the user's cache directory (see `fsSummaryCacheDir`). */
  summaryCache?: boolean;
  /** A Codex home: reuse one walk of its folders for this long (see FsStoreOptions.reuseWalkMs). */
  reuseWalkMs?: number;
  /** The archive server: summaries as stored (`--no-redact`; the server answers only an admin token). */
  unredacted?: boolean;
}

export function storeRegistry(ctx: CliContext, fsOptions: FsOpenOptions = {}): StoreRegistry {
  // The SDK warns on every run under Node < 22 that *future* SDK releases will need it; the version we
  // ship is pinned and supports Node 20, so the warning is noise on a CLI's stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return defaultStoreRegistry({
    env: ctx.env,
    onWarning: (m) => warn(ctx, m),
    ...(fsOptions.summaryCache ? { cacheDir: fsSummaryCacheDir(ctx) } : {}),
    ...(fsOptions.reuseWalkMs ? { reuseWalkMs: fsOptions.reuseWalkMs } : {}),
    ...(fsOptions.unredacted ? { unredacted: true } : {}),
  });
}

/**
 * Where a Codex home's listing cache lives: the user's cache directory
 * (`$XDG_CACHE_HOME`, else `~/.cache`), never inside the home itself, which
 * sessionvault only reads. fs-store keeps one file there per home (and org).
 */
export function fsSummaryCacheDir(ctx: CliContext): string {
  const base = ctx.env.XDG_CACHE_HOME || join(ctx.env.HOME || homedir(), ".cache");
  return join(base, "sessionvault");
}

/** `--store` default: $CODEX_HOME, else ~/.codex. */
export function defaultStoreUrl(ctx: CliContext): string {
  return ctx.env.CODEX_HOME || join(ctx.env.HOME || homedir(), ".codex");
}

/** A `--store` value as a URL or an absolute path (relative to the command's cwd, `~/…` expanded). */
export function storeArg(ctx: CliContext, store: string | undefined): string {
  let value = store ?? defaultStoreUrl(ctx);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    if (value === "~" || value.startsWith("~/")) value = join(ctx.env.HOME || homedir(), value.slice(1));
    if (!isAbsolute(value)) value = resolve(ctx.cwd, value);
  }
  return value;
}

/** Opens `--store`, defaulting to the Codex home; loads only that store's backend. */
export function openStoreArg(ctx: CliContext, store: string | undefined, fsOptions: FsOpenOptions = {}): Promise<OpenedStore> {
  return storeRegistry(ctx, fsOptions).open(storeArg(ctx, store));
}

export type { AgentHome } from "@sessionvault/fs-store";

/** The agent homes of this machine, Codex first (fs-store's `localAgentHomes`, over this command's environment). */
export function localAgentHomes(ctx: CliContext): AgentHome[] {
  return fsLocalAgentHomes(ctx.env);
}

/**
 * The store holding session `id`: `--store` when given, else the first local
 * agent home that has it (Codex, Claude Code, Gemini CLI).
 */
export async function openSessionStore(ctx: CliContext, store: string | undefined, id: string, options: FsOpenOptions = {}): Promise<OpenedStore> {
  if (store !== undefined) return openStoreArg(ctx, store, options);
  let firstMiss: unknown = null;
  for (const home of localAgentHomes(ctx)) {
    const opened = await openStoreArg(ctx, home.dir);
    try {
      await opened.getSession(id);
      return opened;
    } catch (err) {
      await opened.close();
      if (!(err instanceof NotFoundError)) throw err;
      firstMiss ??= err;
    }
  }
  throw firstMiss;
}
