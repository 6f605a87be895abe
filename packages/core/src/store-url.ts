import { pathToFileURL } from "node:url";
import { checkedStore, type CheckedStore } from "./checked-store.js";
import { UsageError } from "./errors.js";
import type { OpenStoreOptions, SessionStore, TokenStore } from "./store.js";

/**
 * Store URLs (DESIGN.md §5). Core imports no store: each store package owns
 * its URL (a `fromUrl` next to the README that documents it) and the apps
 * register a loader per scheme, `() => import("@sessionvault/x-store")`, so a
 * command loads only the backend its URL names (docs/architecture.md).
 */
export type OpenedStore = CheckedStore;

/** What a store driver may offer beyond `SessionStore`; the checked layer exposes it through typed guards. */
export type StoreDriver = SessionStore & Partial<TokenStore>;

/** What every store package's `fromUrl` receives. Packages never read `process.env`: the app passes it. */
export interface FromUrlOptions extends OpenStoreOptions {
  /** The process environment, for settings given the usual way (AWS keys, a token). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where a store may keep a cache of its own (fs-store: listing facts), never inside the data. */
  cacheDir?: string;
  /** Non-fatal problems with the data (a skipped file, say). */
  onWarning?: (message: string) => void;
  /** fs-store: reuse one walk of a directory for this long (a sync writing many new sessions into it). */
  reuseWalkMs?: number;
  /** http-store: ask the archive server for summaries as stored, not redacted (it answers only an admin token). */
  unredacted?: boolean;
}

/** The module a scheme's loader resolves to: a store package's entry point. */
export interface StoreModule {
  fromUrl(url: URL, options: FromUrlOptions): StoreDriver;
}

export type StoreLoader = () => Promise<StoreModule>;

/** Opens stores of one URL: the backend module is loaded once, then each open is synchronous and does no I/O. */
export type StoreOpener = (options?: FromUrlOptions) => OpenedStore;

export class StoreRegistry {
  readonly #loaders = new Map<string, StoreLoader>();
  readonly #defaults: FromUrlOptions;

  constructor(defaults: FromUrlOptions = {}) {
    this.#defaults = defaults;
  }

  register(schemes: string[], loader: StoreLoader): this {
    for (const s of schemes) this.#loaders.set(s.replace(/:$/, ""), loader);
    return this;
  }

  /** Loads the backend of `urlOrPath` (only that one) and returns an opener for it. */
  async opener(urlOrPath: string): Promise<StoreOpener> {
    const url = parseStoreUrl(urlOrPath);
    const scheme = url.protocol.replace(/:$/, "");
    const loader = this.#loaders.get(scheme);
    if (!loader) {
      throw new UsageError(`unsupported store URL scheme "${scheme}:" (known: ${[...this.#loaders.keys()].map((k) => `${k}:`).join(", ")})`);
    }
    const mod = await loader();
    return (options = {}) => checkedStore(mod.fromUrl(new URL(url.href), { ...this.#defaults, ...options }));
  }

  /** Opens a store through the checked layer; the only I/O is loading the backend's code. */
  async open(urlOrPath: string, options: FromUrlOptions = {}): Promise<OpenedStore> {
    return (await this.opener(urlOrPath))(options);
  }
}

/** A plain path (absolute, relative or `~/…`) becomes a file: URL. */
export function parseStoreUrl(urlOrPath: string, homeDir?: string): URL {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(urlOrPath)) {
    try {
      return new URL(urlOrPath);
    } catch (cause) {
      throw new UsageError(`invalid store URL ${JSON.stringify(urlOrPath)}: ${(cause as Error).message}`);
    }
  }
  let p = urlOrPath;
  if (homeDir && (p === "~" || p.startsWith("~/"))) p = homeDir + p.slice(1);
  return pathToFileURL(p);
}
