import { ForbiddenError, NotFoundError, type TokenRecord, type TokenScope } from "@sessionvault/core";
import type { ServerContext } from "./server-context.js";
import { isShareRecord } from "./share-links.js";
import { createApiToken, requireScope, type CreatedToken, type Principal } from "./tokens.js";

/** A token as an org's admin sees it: never its hash (the store keeps no secret to show). */
export type ListedToken = Omit<TokenRecord, "hash">;

/**
 * Token management by an org's admin, for the API (`/v1/tokens`) and the web
 * UI (`/tokens`) alike: every call needs the admin scope and only ever sees
 * or touches the caller's org.
 */
export class OrgTokens {
  readonly #ctx: Pick<ServerContext, "tokens" | "verifier">;

  constructor(ctx: Pick<ServerContext, "tokens" | "verifier">) {
    this.#ctx = ctx;
  }

  async list(p: Principal): Promise<ListedToken[]> {
    return (await this.#records(p)).map(({ hash: _hash, ...listed }) => listed);
  }

  async create(p: Principal, scopes: readonly TokenScope[], org: string = p.org): Promise<CreatedToken> {
    requireScope(p, "admin");
    if (org !== p.org) throw new ForbiddenError(`a token of org "${p.org}" cannot create tokens for org "${org}"`);
    return createApiToken(this.#ctx.tokens, p.org, scopes);
  }

  /** Revokes one of the org's tokens; this process refuses it at once (others within their cache time). */
  async revoke(p: Principal, id: string): Promise<void> {
    // Another org's token is as absent as one that never existed.
    const token = (await this.#records(p)).find((t) => t.id === id);
    if (!token || !(await this.#ctx.tokens.deleteToken(token.id))) throw new NotFoundError(`no token ${JSON.stringify(id)} in org "${p.org}"`);
    this.#ctx.verifier.forget(token.hash);
  }

  async #records(p: Principal): Promise<TokenRecord[]> {
    requireScope(p, "admin");
    return (await this.#ctx.tokens.listTokens()).filter((t) => t.org === p.org && !isShareRecord(t));
  }
}
