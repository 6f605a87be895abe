import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "@sessionvault/core";
import type { CliContext } from "../io.js";
import { openStoreArg, storeArg, storeRegistry } from "../stores.js";

export interface ServeOptions {
  store?: string;
  host?: string;
  port?: string | number;
  /** Stops the server when aborted; without it SIGINT/SIGTERM do. */
  signal?: AbortSignal;
  /** Called with the URL once the server listens (tests use it with port 0). */
  onListening?: (url: string) => void;
  /** Agent homes to keep importing while the server runs. */
  import?: string[];
  /** The org imported sessions go to (default "default"). */
  importOrg?: string;
  /** Seconds between full rescans of the imported homes (default 60). */
  importRescan?: string | number;
}

/** The store `serve` and `token create` use when --store is not given: the server's data folder. */
export function defaultServerStore(ctx: CliContext): string {
  return ctx.env.SESSIONVAULT_STORE || resolve(ctx.cwd, ctx.env.SESSIONVAULT_DATA || ".sessionvault-data");
}

/** `sessionvault serve`: runs the archive server until interrupted, then drains in-flight appends. */
export async function serve(options: ServeOptions, ctx: CliContext): Promise<void> {
  const port = options.port === undefined ? 7420 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port ${JSON.stringify(options.port)}`);
  const store = options.store ?? defaultServerStore(ctx);
  // The server (fastify and its plugins) is loaded only by the command that runs it.
  const imports = [...new Set((options.import ?? []).map((d) => storeArg(ctx, d)))];
  for (const dir of imports) if (!existsSync(dir)) throw new UsageError(`--import ${dir}: no such directory`);
  const rescanS = Number(options.importRescan ?? 60);
  if (!Number.isFinite(rescanS) || rescanS < 1)
    throw new UsageError(`--import-rescan must be a number of seconds (1 or more), got ${JSON.stringify(String(options.importRescan))}`);
  const { parseUiSecret, startHomeImport, startServer } = await import("@sessionvault/server");
  const uiSecret = parseUiSecret(ctx.env.SESSIONVAULT_UI_SECRET);
  const server = await startServer({
    store,
    host: options.host ?? "127.0.0.1",
    port,
    registry: storeRegistry(ctx),
    processMetrics: true,
    logger: { level: ctx.env.LOG_LEVEL ?? "info" },
    ...(uiSecret ? { uiSecret } : {}),
  });
  ctx.stderr.write(`sessionvault: serving ${store} at ${server.url}\n`);
  const homeImport =
    imports.length > 0
      ? startHomeImport(server, {
          homes: imports,
          org: options.importOrg ?? "default",
          rescanMs: rescanS * 1000,
          open: (home, pass) => openStoreArg(ctx, home, pass === "full" ? { summaryCache: true } : {}),
        })
      : null;
  if (homeImport)
    ctx.stderr.write(`sessionvault: importing ${imports.join(", ")} into org ${options.importOrg ?? "default"}, then watching for new and growing sessions\n`);
  options.onListening?.(server.url);
  await new Promise<void>((done) => {
    if (options.signal) {
      if (options.signal.aborted) done();
      else options.signal.addEventListener("abort", () => done(), { once: true });
      return;
    }
    process.once("SIGINT", () => done());
    process.once("SIGTERM", () => done());
  });
  // The import writes to the server's stores: it stops (after its append in flight) before they close.
  await homeImport?.stop();
  await server.close();
}
