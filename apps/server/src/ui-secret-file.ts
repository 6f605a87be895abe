import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidInputError } from "@sessionvault/core";

export const UI_SECRET_FILE = "ui-secret";

/**
 * The web UI signing secret kept in the data folder: made once on the first
 * start, read on every later one, so logins survive a restart without the
 * operator setting SESSIONVAULT_UI_SECRET. The secret is written whole to a
 * temporary file and linked into place, so two processes starting at once
 * agree on one secret and neither reads a half-written file.
 */
export async function uiSecretFromDataDir(dataDir: string): Promise<string> {
  const file = join(dataDir, UI_SECRET_FILE);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const tmp = join(dataDir, `.${UI_SECRET_FILE}.${randomBytes(6).toString("hex")}.tmp`);
  await writeFile(tmp, randomBytes(32).toString("base64url") + "\n", { mode: 0o600 });
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  const secret = (await readFile(file, "utf8")).trim();
  if (secret.length < 32)
    throw new InvalidInputError(`the web UI secret in the data folder (${UI_SECRET_FILE}) is shorter than 32 characters: delete it and a new one is made`);
  return secret;
}
