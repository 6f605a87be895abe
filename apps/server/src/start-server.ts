import type { FastifyInstance } from "fastify";
import { tokenStoreOf } from "@sessionvault/core";
import type { OpenedStore, StoreRegistry, TokenStore } from "@sessionvault/core";
import { buildApp, type AppOptions } from "./build-app.js";
import { OrgStores } from "./org-stores.js";
import { serverStoreRegistry } from "./server-stores.js";

export interface StartServerOptions {
  /** Store URL or directory (DESIGN.md §5). */
  store: string;
  host?: string;
  /** 0 picks a free port. Default 7420. */
  port?: number;
  /** Store URL schemes; default: the shared table (file, s3, postgres). */
  registry?: StoreRegistry;
  logger?: AppOptions["logger"];
  maxAppendBytes?: number;
  processMetrics?: boolean;
  /** Signs web UI logins; the same on every instance of one store (see AppOptions.uiSecret). */
  uiSecret?: AppOptions["uiSecret"];
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:7420 */
  url: string;
  app: FastifyInstance;
  /** The store opened without an org: holds the tokens. */
  tokens: TokenStore;
  /** The store of one org (the same instance the server uses). */
  orgStore(org: string): OpenedStore;
  /** Stops accepting, lets in-flight requests and appends finish, closes the stores. */
  close(): Promise<void>;
}

/** `SESSIONVAULT_UI_SECRET` as the apps read it: one secret, or a comma-separated list for rotation (the first signs). */
export function parseUiSecret(value: string | undefined): string[] | undefined {
  const secrets = (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return secrets.length ? secrets : undefined;
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const registry = options.registry ?? serverStoreRegistry();
  // The backend's code is loaded once here; each org's store then opens without I/O.
  const open = await registry.opener(options.store);
  const root = open();
  const tokens = tokenStoreOf(root, options.store);
  const stores = new OrgStores((org) => open({ org }));
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp({
      stores,
      tokens,
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(options.maxAppendBytes !== undefined ? { maxAppendBytes: options.maxAppendBytes } : {}),
      ...(options.processMetrics !== undefined ? { processMetrics: options.processMetrics } : {}),
      ...(options.uiSecret !== undefined ? { uiSecret: options.uiSecret } : {}),
    });
    await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 7420 });
  } catch (err) {
    await app?.close();
    await root.close();
    throw err;
  }
  const server = app;
  const addr = server.server.address();
  const host = options.host ?? "127.0.0.1";
  const port = typeof addr === "object" && addr ? addr.port : options.port;
  const shownHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}`,
    app: server,
    tokens,
    orgStore: (org) => stores.get(org),
    close() {
      closing ??= (async () => {
        // The app's onClose hook drains appends and closes the org stores.
        await server.close();
        await root.close();
      })();
      return closing;
    },
  };
}
