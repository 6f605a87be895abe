import { createHash, randomBytes } from "node:crypto";
import { assertSessionId, InvalidInputError, NotFoundError, type TokenRecord, type TokenStore } from "@sessionvault/core";
import type { Principal } from "./tokens.js";

/** How long a new link may live, as the form offers it. */
export const SHARE_EXPIRIES = { "1h": 3_600_000, "1d": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 } as const;
export type ShareExpiry = keyof typeof SHARE_EXPIRIES;

export interface ShareLink {
  id: string;
  session_id: string;
  created_at: string;
  expires_at: string;
}

const PREFIX = "shr_";
// shr_<session id>_<expiry, ms since epoch>_<random>
const ID = /^shr_([0-9a-f-]{36})_(\d{13})_([0-9a-f]{16})$/;

/**
 * Read-only links to one session, kept in the store's token records (the
 * store contract is unchanged): a link is a record with no scopes whose id
 * names the session and the expiry, and whose hash is the sha256 of the
 * link's secret. TokenVerifier refuses such records, so a link's secret is
 * never an API token or a login. Each open of a link reads the store (no
 * cache), so a revoked or expired link stops at once on every process.
 */
export class ShareLinks {
  readonly #tokens: TokenStore;

  constructor(tokens: TokenStore) {
    this.#tokens = tokens;
  }

  async create(p: Principal, sessionId: string, expiry: string, now = Date.now()): Promise<ShareLink & { secret: string }> {
    if (!(expiry in SHARE_EXPIRIES)) throw new InvalidInputError(`unknown expiry ${JSON.stringify(expiry)}: use ${Object.keys(SHARE_EXPIRIES).join(", ")}`);
    assertSessionId(sessionId);
    const expires = now + SHARE_EXPIRIES[expiry as ShareExpiry];
    const secret = `svs_${randomBytes(32).toString("base64url")}`;
    const record: TokenRecord = {
      id: `${PREFIX}${sessionId}_${expires}_${randomBytes(8).toString("hex")}`,
      org: p.org,
      scopes: [],
      hash: hashOf(secret),
      created_at: new Date(now).toISOString(),
    };
    await this.#tokens.saveToken(record);
    return { ...linkOf(record)!, secret };
  }

  /** The org's links, newest first, expired ones included (until revoked). */
  async list(p: Principal): Promise<ShareLink[]> {
    return (await this.#tokens.listTokens())
      .filter((t) => t.org === p.org)
      .map(linkOf)
      .filter((l): l is ShareLink => l !== null)
      .reverse();
  }

  async revoke(p: Principal, id: string): Promise<void> {
    const mine = (await this.list(p)).some((l) => l.id === id);
    if (!mine || !(await this.#tokens.deleteToken(id))) throw new NotFoundError(`no share link ${JSON.stringify(id)} in org "${p.org}"`);
  }

  /** The org and session a link's secret opens, or null when it is unknown, revoked or expired (the caller answers all alike). */
  async open(secret: string, now = Date.now()): Promise<{ org: string; sessionId: string; expiresAt: string } | null> {
    if (!secret.startsWith("svs_") || secret.length > 128) return null;
    const record = await this.#tokens.findTokenByHash(hashOf(secret));
    const link = record ? linkOf(record) : null;
    if (!record || !link || Date.parse(link.expires_at) <= now) return null;
    return { org: record.org, sessionId: link.session_id, expiresAt: link.expires_at };
  }
}

export function isShareRecord(record: TokenRecord): boolean {
  return record.id.startsWith(PREFIX);
}

function linkOf(record: TokenRecord): ShareLink | null {
  const m = ID.exec(record.id);
  if (!m) return null;
  return { id: record.id, session_id: m[1]!, created_at: record.created_at, expires_at: new Date(Number(m[2])).toISOString() };
}

function hashOf(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}
