import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkedStore, syncStores } from "@sessionvault/core";
import type { OpenedStore, SyncSummary } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import type { RunningServer } from "./start-server.js";
import { createApiToken, type CreatedToken } from "./tokens.js";

export const QUICKSTART_ORG = "default";
const MARKER = ".sessionvault/quickstart.json";

/**
 * `pnpm start`, first start over a data directory: create an admin token
 * (returned to be printed once; the store keeps only its hash) and leave a
 * marker that says so — never the token itself. Later starts return null.
 */
export async function quickstartToken(server: RunningServer, dataDir: string): Promise<CreatedToken | null> {
  const markerPath = join(dataDir, MARKER);
  if (await exists(markerPath)) return null;
  const token = await createApiToken(server.tokens, QUICKSTART_ORG, ["admin"]);
  await mkdir(join(dataDir, ".sessionvault"), { recursive: true });
  await writeFile(markerPath, JSON.stringify({ org: QUICKSTART_ORG, created_at: new Date().toISOString() }) + "\n", { mode: 0o600 });
  return token;
}

/**
 * Imports a Codex home into the quickstart org, incrementally: a restart
 * sends only lines that are new since the last import. Null when there is no
 * Codex home.
 */
export async function importCodexHome(server: RunningServer, codexHome: string, onStart?: () => void): Promise<SyncSummary | null> {
  if (!(await exists(join(codexHome, "sessions"))) && !(await exists(join(codexHome, "archived_sessions")))) return null;
  onStart?.();
  const from: OpenedStore = checkedStore(new FsStore({ root: codexHome }));
  try {
    return await syncStores(from, server.orgStore(QUICKSTART_ORG));
  } finally {
    await from.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
