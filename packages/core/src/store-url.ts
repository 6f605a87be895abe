import { pathToFileURL } from "node:url";
import { UsageError } from "./errors.js";
import type { OpenStoreOptions, SessionStore, TokenStore } from "./store.js";

/**
 * Store URLs (DESIGN.md §5). Core imports no store: apps register the
 * schemes they ship (`file:`, `s3:`, `postgres:`, `http(s):`) at start-up.
 */
export type OpenedStore = SessionStore & Partial<TokenStore>;
export type StoreFactory = (url: URL, options: OpenStoreOptions) => OpenedStore;

export class StoreRegistry {
  readonly #factories = new Map<string, StoreFactory>();

  register(schemes: string[], factory: StoreFactory): this {
    for (const s of schemes) this.#factories.set(s.replace(/:$/, ""), factory);
    return this;
  }

  /** Opens a store; does no I/O (stores connect lazily). */
  open(urlOrPath: string, options: OpenStoreOptions = {}): OpenedStore {
    const url = parseStoreUrl(urlOrPath);
    const scheme = url.protocol.replace(/:$/, "");
    const factory = this.#factories.get(scheme);
    if (!factory) {
      throw new UsageError(`unsupported store URL scheme "${scheme}:" (known: ${[...this.#factories.keys()].map((k) => `${k}:`).join(", ")})`);
    }
    return factory(url, options);
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
