import { randomBytes } from "node:crypto";
import type { Principal, TokenVerifier } from "./tokens.js";

const TTL_MS = 12 * 60 * 60 * 1000;
const VALUE = /^v1\.([0-9a-f]{64})\.(\d{1,15})\.([A-Za-z0-9_-]{16,64})$/;

/**
 * Web UI logins, carried by the cookie itself so that every instance serving
 * one store accepts a login made on another (no sticky sessions), as long as
 * they share the signing secret (`SESSIONVAULT_UI_SECRET`).
 *
 * The cookie value is `v1.<sha256 of the token>.<expiry>.<nonce>`, signed
 * with HMAC-SHA256 by @fastify/cookie: never the token itself, and useless to
 * the API, which wants the token. Each request checks the token behind it in
 * the store again (cached for a minute, like API tokens), so a login ends
 * within a minute of its token disappearing. A logout clears the cookie in
 * the browser and remembers its nonce in this process until it expires.
 */
export class UiSessions {
  readonly #verifier: TokenVerifier;
  readonly #loggedOut = new Map<string, number>();

  constructor(verifier: TokenVerifier) {
    this.#verifier = verifier;
  }

  /** The (unsigned) cookie value for a login with the token of this sha256. */
  create(tokenHash: string): { value: string; maxAgeSeconds: number } {
    const until = Date.now() + TTL_MS;
    return { value: `v1.${tokenHash}.${until}.${randomBytes(16).toString("base64url")}`, maxAgeSeconds: TTL_MS / 1000 };
  }

  /** Who a verified cookie value logs in as; undefined when it is malformed, expired, logged out or its token is gone. */
  async principal(value: string | undefined): Promise<Principal | undefined> {
    const m = value ? VALUE.exec(value) : null;
    if (!m) return undefined;
    const until = Number(m[2]);
    if (until < Date.now() || this.#loggedOut.has(m[3]!)) return undefined;
    try {
      return await this.#verifier.verifyHash(m[1]!);
    } catch {
      return undefined;
    }
  }

  logout(value: string | undefined): void {
    const m = value ? VALUE.exec(value) : null;
    if (!m) return;
    const now = Date.now();
    for (const [nonce, until] of this.#loggedOut) if (until < now) this.#loggedOut.delete(nonce);
    this.#loggedOut.set(m[3]!, Number(m[2]));
  }
}
