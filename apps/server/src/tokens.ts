import { timingSafeEqual } from "node:crypto";
import { hashToken, UnauthorizedError, ForbiddenError } from "@sessionvault/core";
import type { TokenScope, TokenStore } from "@sessionvault/core";
import { isShareRecord } from "./share-links.js";

// Token hashing and creation live in core (the CLI's token commands use them without loading the server).
export { TOKEN_SCOPES, hashToken, parseScopes, createApiToken, type CreatedToken } from "@sessionvault/core";

/** Who a request acts as, after its token was checked. */
export interface Principal {
  tokenId: string;
  org: string;
  scopes: readonly TokenScope[];
}

/** admin ⊃ write ⊃ read. */
export function hasScope(principal: Principal, needed: TokenScope): boolean {
  const rank = { read: 0, write: 1, admin: 2 } as const;
  return principal.scopes.some((s) => rank[s] >= rank[needed]);
}

export function requireScope(principal: Principal, needed: TokenScope): void {
  if (!hasScope(principal, needed)) throw new ForbiddenError(`this token lacks the "${needed}" scope`);
}

const POSITIVE_TTL_MS = 60_000;
const NEGATIVE_TTL_MS = 2_000;
const MAX_CACHED = 10_000;

/**
 * Checks bearer tokens against the store's hashed records. Lookups are
 * cached briefly because every API request needs one and the store may be a
 * file or a remote database; a short TTL keeps servers stateless enough that
 * a token saved through another process works within seconds.
 */
export class TokenVerifier {
  readonly #store: TokenStore;
  readonly #cache = new Map<string, { principal: Principal | null; until: number }>();

  constructor(store: TokenStore) {
    this.#store = store;
  }

  async verify(token: string | undefined): Promise<Principal> {
    if (!token || token.length > 512) throw new UnauthorizedError();
    return this.verifyHash(hashToken(token));
  }

  /** The principal of the token with this sha256 (a web UI login carries the hash, never the token). */
  async verifyHash(hash: string): Promise<Principal> {
    const now = Date.now();
    const hit = this.#cache.get(hash);
    let principal: Principal | null;
    if (hit && hit.until > now) {
      principal = hit.principal;
    } else {
      const record = await this.#store.findTokenByHash(hash);
      // A share link's record (no scopes, see ShareLinks) is never an API token or a login.
      principal = record && sameHash(record.hash, hash) && !isShareRecord(record) ? { tokenId: record.id, org: record.org, scopes: record.scopes } : null;
      if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
      this.#cache.set(hash, { principal, until: now + (principal ? POSITIVE_TTL_MS : NEGATIVE_TTL_MS) });
    }
    if (!principal) throw new UnauthorizedError("invalid bearer token");
    return principal;
  }

  /** Drops a cached check, so a token revoked through this process is refused at once (others within a minute). */
  forget(hash: string): void {
    this.#cache.delete(hash);
  }
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token from an `Authorization: Bearer …` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
