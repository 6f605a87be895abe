import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { syncStores } from "@sessionvault/core";
import type { OpenedStore, SyncSummary } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import type { RunningServer } from "./start-server.js";
import { createApiToken, type CreatedToken } from "./tokens.js";

export interface QuickstartOptions {
  /** The data directory the default fs store lives in. */
  dataDir: string;
  /** The user's Codex home, imported when it exists. */
  codexHome: string | null;
  org?: string;
  log(message: string): void;
}

export interface QuickstartResult {
  /** Only on the first start: the admin token, shown once. */
  token: CreatedToken | null;
  imported: SyncSummary | null;
}

const MARKER = ".sessionvault/quickstart.json";

/**
 * `pnpm start`: on the first start over a data directory, create an admin
 * token (printed once; only its hash is stored) and remember that we did —
 * never the token itself. Every start imports the Codex home incrementally
 * (a rerun sends only new lines).
 */
export async function quickstart(server: RunningServer, options: QuickstartOptions): Promise<QuickstartResult> {
  const org = options.org ?? "default";
  const markerPath = join(options.dataDir, MARKER);
  let token: CreatedToken | null = null;
  if (!(await exists(markerPath))) {
    token = await createApiToken(server.tokens, org, ["admin"]);
    await mkdir(join(options.dataDir, ".sessionvault"), { recursive: true });
    await writeFile(markerPath, JSON.stringify({ org, created_at: new Date().toISOString() }) + "\n", { mode: 0o600 });
  }
  let imported: SyncSummary | null = null;
  if (options.codexHome && (await exists(join(options.codexHome, "sessions")) || await exists(join(options.codexHome, "archived_sessions")))) {
    options.log(`importing Codex sessions from ${options.codexHome} …`);
    const from: OpenedStore = new FsStore({ root: options.codexHome });
    try {
      imported = await syncStores(from, server.orgStore(org), {});
    } finally {
      await from.close();
    }
    options.log(`imported ${imported.sessions_sent} session(s), ${imported.lines_sent} new line(s)${imported.errors.length ? `, ${imported.errors.length} error(s)` : ""}`);
  }
  return { token, imported };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
