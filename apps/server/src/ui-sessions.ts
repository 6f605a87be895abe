import { randomBytes } from "node:crypto";
import type { Principal } from "./tokens.js";

const TTL_MS = 12 * 60 * 60 * 1000;

/**
 * Web UI logins: a random session id in an HttpOnly cookie, mapped here to
 * the principal of the token that logged in. Kept in memory on purpose: the
 * token itself never goes into a cookie, and a restart logs everyone out.
 */
export class UiSessions {
  readonly #sessions = new Map<string, { principal: Principal; until: number }>();

  create(principal: Principal): string {
    this.#sweep();
    const sid = randomBytes(32).toString("base64url");
    this.#sessions.set(sid, { principal, until: Date.now() + TTL_MS });
    return sid;
  }

  get(sid: string | undefined): Principal | undefined {
    if (!sid) return undefined;
    const s = this.#sessions.get(sid);
    if (!s) return undefined;
    if (s.until < Date.now()) {
      this.#sessions.delete(sid);
      return undefined;
    }
    return s.principal;
  }

  delete(sid: string | undefined): void {
    if (sid) this.#sessions.delete(sid);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [sid, s] of this.#sessions) if (s.until < now) this.#sessions.delete(sid);
  }
}
