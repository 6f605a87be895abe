import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
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

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
