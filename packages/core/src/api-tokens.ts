import { createHash, randomBytes } from "node:crypto";
import { InvalidInputError, UnsupportedError } from "./errors.js";
import { assertSlug } from "./ids.js";
import type { TokenRecord, TokenScope, TokenStore } from "./store.js";
import { isTokenStore } from "./store-capabilities.js";
import type { CheckedStore } from "./checked-store.js";

/**
 * The archive server's API tokens, made and hashed in core so that the CLI's
 * `token` commands and the server agree without the CLI loading the server.
 */
export const TOKEN_SCOPES: readonly TokenScope[] = ["read", "write", "admin"];

export interface CreatedToken {
  token: string;
  /** What `token list` shows and `token revoke` takes; not a secret. */
  id: string;
  org: string;
  scopes: TokenScope[];
}

/** Stores keep only this: the sha256 (hex) of the token. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function parseScopes(values: readonly string[]): TokenScope[] {
  const scopes = new Set<TokenScope>();
  for (const raw of values.flatMap((v) => v.split(","))) {
    const s = raw.trim();
    if (!(TOKEN_SCOPES as readonly string[]).includes(s)) {
      throw new InvalidInputError(`unknown scope ${JSON.stringify(s)}: use read, write or admin`);
    }
    scopes.add(s as TokenScope);
  }
  if (scopes.size === 0) throw new InvalidInputError("a token needs at least one scope (read, write or admin)");
  return [...scopes];
}

/**
 * Creates an API token. Only its sha256 is stored: the plain token exists in
 * the return value and nowhere else, so the caller prints it once.
 */
export async function createApiToken(store: TokenStore, org: string, scopes: readonly TokenScope[]): Promise<CreatedToken> {
  assertSlug(org, "org");
  const token = `sv_${randomBytes(32).toString("base64url")}`;
  const record: TokenRecord = {
    id: `tok_${randomBytes(8).toString("hex")}`,
    org,
    scopes: [...scopes],
    hash: hashToken(token),
    created_at: new Date().toISOString(),
  };
  await store.saveToken(record);
  return { token, id: record.id, org, scopes: [...scopes] };
}

/**
 * Whether a token record is an API token. A token store also keeps the
 * server's share links, as records without scopes (apps/server/src/share-links.ts),
 * which never authenticate and are not listed as tokens.
 */
export function isApiTokenRecord(record: Pick<TokenRecord, "scopes">): boolean {
  return record.scopes.length > 0;
}

/** The store's tokens, or an UnsupportedError naming the store. */
export function tokenStoreOf(store: CheckedStore, url: string): CheckedStore & TokenStore {
  if (!isTokenStore(store)) throw new UnsupportedError(`the store at ${url} cannot keep API tokens`);
  return store;
}
