import { InvalidInputError } from "@sessionvault/core/store-api";

/**
 * The listing cursor: the key (`YYYY-MM-DDThh-mm-ss-<id>`) of the last file
 * returned; the next page continues strictly after it. Encoded so callers
 * treat it as opaque.
 */
const KEY = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function encodeCursor(key: string): string {
  return Buffer.from(`fs1:${key}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const key = text.startsWith("fs1:") ? text.slice(4) : "";
  if (!KEY.test(key)) throw new InvalidInputError(`invalid cursor ${JSON.stringify(cursor)}: pass the next_cursor of a previous page`);
  return key;
}
