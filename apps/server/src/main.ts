#!/usr/bin/env node
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { isSessionvaultError, UsageError } from "@sessionvault/core";
import { localAgentHomes } from "@sessionvault/fs-store";
import { parseUiSecret, startServer } from "./start-server.js";
import { serverStoreRegistry } from "./server-stores.js";
import { QUICKSTART_ORG, quickstartToken } from "./quickstart.js";
import { startHomeImport, type HomeImport } from "./home-import.js";
import { uiSecretFromDataDir } from "./ui-secret-file.js";
import { loggerOptions } from "./logger-options.js";

/**
 * `node apps/server/dist/main.js [--store URL] [--host H] [--port P] [--quickstart] [--import DIR]… [--import-org ORG]`
 * The only place of the server that reads the environment.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      store: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      quickstart: { type: "boolean", default: false },
      import: { type: "string", multiple: true },
      "import-org": { type: "string" },
      "import-rescan": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      "usage: sessionvault-server [--store URL] [--host H] [--port P] [--quickstart] [--import DIR]... [--import-org ORG]\n" +
        "  --store       store URL or directory (default $SESSIONVAULT_STORE, else $SESSIONVAULT_DATA or ./.sessionvault-data)\n" +
        "  --host/--port where to listen (default 127.0.0.1:7420, or $HOST/$PORT)\n" +
        "  --quickstart  create an admin token on first start, and import every local agent home ($CODEX_HOME or ~/.codex,\n" +
        "                $CLAUDE_CONFIG_DIR or ~/.claude, ~/.gemini) for as long as the server runs\n" +
        "  --import DIR  keep importing this agent home (a Codex home, Claude Code config dir or Gemini CLI dir) while\n" +
        "                the server runs: new and growing sessions appear within seconds (repeat it for several homes)\n" +
        "  --import-org  the org imported sessions go to (default: default, the quickstart org)\n" +
        "  --import-rescan S  seconds between full rescans of the imported homes, for changes the watch missed (default 60)\n" +
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
  const imports = [...new Set((values.import ?? []).map((d) => resolve(d)))];
  for (const dir of imports) if (!existsSync(dir)) throw new UsageError(`--import ${dir}: no such directory`);
  if (values.quickstart) for (const h of localAgentHomes(env)) if (existsSync(h.dir) && !imports.includes(resolve(h.dir))) imports.push(resolve(h.dir));
  const importOrg = values["import-org"] ?? QUICKSTART_ORG;
  const rescanS = Number(values["import-rescan"] ?? 60);
  if (!Number.isFinite(rescanS) || rescanS < 1)
    throw new UsageError(`--import-rescan must be a number of seconds (1 or more), got ${JSON.stringify(values["import-rescan"])}`);
  const uiSecret = parseUiSecret(env.SESSIONVAULT_UI_SECRET) ?? (await uiSecretFromDataDir(dataDir));
  const logger = loggerOptions(env.LOG_LEVEL ?? "info", process.stdout.isTTY === true);
  const server = await startServer({ store, host, port, registry: serverStoreRegistry(env), processMetrics: true, logger, uiSecret });

  let homeImport: HomeImport | null = null;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, "shutting down: finishing in-flight requests");
    // The import writes to the server's stores: it stops (after its append in flight) before they close.
    (homeImport?.stop() ?? Promise.resolve())
      .then(() => server.close())
      .then(
        () => process.exit(0),
        (err) => {
          server.app.log.error({ err }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  if (imports.length > 0) {
    // The cache of listing facts is the CLI's (`sessionvault sync` shares it): never inside a home, which is only read.
    const cacheDir = join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "sessionvault");
    const cached = serverStoreRegistry(env, { cacheDir });
    const plain = serverStoreRegistry(env);
    homeImport = startHomeImport(server, {
      homes: imports,
      org: importOrg,
      rescanMs: rescanS * 1000,
      open: (home, pass) => (pass === "full" ? cached : plain).open(home),
    });
  }
  if (!values.quickstart) {
    process.stdout.write(`sessionvault server listening on ${server.url}\n`);
    if (homeImport) {
      process.stdout.write(`importing ${imports.join(", ")} into org ${importOrg}, then watching for new and growing sessions\n`);
      process.stdout.write(importedLine(await homeImport.first) + "\n");
    }
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
  if (!homeImport) {
    process.stdout.write(`  no agent home found (~/.codex, ~/.claude, ~/.gemini); sync sessions in with: sessionvault sync --to ${server.url}\n`);
    return;
  }
  process.stdout.write(`  importing sessions from ${imports.join(", ")} …\n`);
  process.stdout.write(`  ${importedLine(await homeImport.first)}\n  watching them: new and growing sessions appear in the web UI within seconds\n`);
}

function importedLine({ summary: s, failed }: Awaited<HomeImport["first"]>): string {
  const line = `imported ${s.sessions_sent} session(s), ${s.lines_sent} new line(s)${s.errors.length ? `; ${s.errors.length} could not be imported (see the log)` : ""}`;
  // A home that could not be read is retried while the server runs; the server goes on either way.
  return failed.reduce((text, f) => `${text}\n  could not import ${f.home}: ${f.message}`, line);
}

main().catch((err: unknown) => {
  if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
    process.stderr.write(`sessionvault-server: ${(err as Error).message}: another program uses that port; pick one with --port or PORT\n`);
    process.exit(1);
  }
  process.stderr.write(`sessionvault-server: ${isSessionvaultError(err) ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(isSessionvaultError(err) ? 2 : 1);
});
