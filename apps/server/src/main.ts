#!/usr/bin/env node
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { isSessionvaultError } from "@sessionvault/core";
import { parseUiSecret, startServer } from "./start-server.js";
import { serverStoreRegistry } from "./server-stores.js";
import { importCodexHome, QUICKSTART_ORG, quickstartToken } from "./quickstart.js";
import { uiSecretFromDataDir } from "./ui-secret-file.js";
import { loggerOptions } from "./logger-options.js";

/**
 * `node apps/server/dist/main.js [--store URL] [--host H] [--port P] [--quickstart]`
 * The only place of the server that reads the environment.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      quickstart: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      "usage: sessionvault-server [--store URL] [--host H] [--port P] [--quickstart]\n" +
        "  --store       store URL or directory (default $SESSIONVAULT_STORE, else $SESSIONVAULT_DATA or ./.sessionvault-data)\n" +
        "  --host/--port where to listen (default 127.0.0.1:7420, or $HOST/$PORT)\n" +
        "  --quickstart  create an admin token on first start and import ~/.codex ($CODEX_HOME)\n" +
        "  $SESSIONVAULT_UI_SECRET signs web UI logins (32+ characters); give every instance of one store the same\n" +
        "                (default: made once and kept in the data folder as ui-secret)\n" +
        "  $LOG_LEVEL    info (default) or debug (adds per-request lines); logs are readable on a terminal, JSON otherwise\n",
    );
    return;
  }
  const env = process.env;
  const dataDir = resolve(env.SESSIONVAULT_DATA || ".sessionvault-data");
  const store = values.store ?? env.SESSIONVAULT_STORE ?? dataDir;
  const port = Number(values.port ?? env.PORT ?? 7420);
  const host = values.host ?? env.HOST ?? "127.0.0.1";
  const uiSecret = parseUiSecret(env.SESSIONVAULT_UI_SECRET) ?? (await uiSecretFromDataDir(dataDir));
  const logger = loggerOptions(env.LOG_LEVEL ?? "info", process.stdout.isTTY === true);
  const server = await startServer({ store, host, port, registry: serverStoreRegistry(env), processMetrics: true, logger, uiSecret });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, "shutting down: finishing in-flight requests");
    server.close().then(
      () => process.exit(0),
      (err) => {
        server.app.log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  if (!values.quickstart) {
    process.stdout.write(`sessionvault server listening on ${server.url}\n`);
    return;
  }
  const token = await quickstartToken(server, dataDir);
  const lines = ["", `  sessionvault is running at ${server.url}`];
  if (token) {
    lines.push(`  admin token (shown once, keep it): ${token.token}`);
    lines.push(`  open ${server.url}/login and paste it; for the CLI: export SESSIONVAULT_TOKEN=<token>`);
  } else {
    lines.push("  log in with the token printed on the first start, or create another one:");
    lines.push(`    pnpm sessionvault token create --store ${store} --org ${QUICKSTART_ORG} --scope admin`);
  }
  process.stdout.write(lines.join("\n") + "\n\n");
  const codexHome = env.CODEX_HOME || join(env.HOME || homedir(), ".codex");
  const imported = await importCodexHome(server, codexHome, () => process.stdout.write(`  importing Codex sessions from ${codexHome} …\n`));
  process.stdout.write(
    imported
      ? `  imported ${imported.sessions_sent} session(s), ${imported.lines_sent} new line(s)${imported.errors.length ? `; ${imported.errors.length} could not be imported (see the log)` : ""}\n`
      : `  no Codex home at ${codexHome}; sync sessions in with: sessionvault sync --to ${server.url}\n`,
  );
  for (const e of imported?.errors ?? []) server.app.log.warn({ session_id: e.session_id }, e.message);
}

main().catch((err: unknown) => {
  if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
    process.stderr.write(`sessionvault-server: ${(err as Error).message}: another program uses that port; pick one with --port or PORT\n`);
    process.exit(1);
  }
  process.stderr.write(`sessionvault-server: ${isSessionvaultError(err) ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(isSessionvaultError(err) ? 2 : 1);
});
