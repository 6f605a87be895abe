import {
  createApiToken,
  isApiTokenRecord,
  NotFoundError,
  parseScopes,
  tokenStoreOf,
  UsageError,
  type CreatedToken,
  type TokenRecord,
  type TokenScope,
} from "@sessionvault/core";
import { HttpStore } from "@sessionvault/http-store";
import type { CliContext } from "../io.js";
import { printJson } from "../io.js";
import { storeArg, storeRegistry } from "../stores.js";
import { defaultServerStore } from "./serve.js";

export interface TokenCreateOptions {
  store?: string;
  org?: string;
  scope?: string[];
  json?: boolean;
}

export interface TokenListOptions {
  store?: string;
  org?: string;
  json?: boolean;
}

export interface TokenRevokeOptions {
  store?: string;
  json?: boolean;
}

type ListedToken = Omit<TokenRecord, "hash">;

/**
 * What the token commands need, from the store the server serves (direct
 * access, every org) or from the server itself (`--store http://…` with an
 * admin $SESSIONVAULT_TOKEN, that token's org only).
 */
interface TokenAdmin {
  create(org: string | undefined, scopes: TokenScope[]): Promise<CreatedToken>;
  list(): Promise<ListedToken[]>;
  revoke(id: string): Promise<boolean>;
}

/** Opens the server's store (default: the one `serve` would serve) for the length of `fn`. */
async function withTokenAdmin<T>(storeUrl: string | undefined, ctx: CliContext, fn: (admin: TokenAdmin) => Promise<T>): Promise<T> {
  const url = storeArg(ctx, storeUrl ?? defaultServerStore(ctx));
  const store = await storeRegistry(ctx).open(url);
  try {
    const server = store.driver;
    if (server instanceof HttpStore) {
      return await fn({ create: (org, scopes) => server.createToken(scopes, org), list: () => server.listOrgTokens(), revoke: (id) => server.revokeToken(id) });
    }
    const tokens = tokenStoreOf(store, url);
    return await fn({
      create: (org, scopes) => {
        if (!org) throw new UsageError("token create needs --org ORG");
        return createApiToken(tokens, org, scopes);
      },
      list: async () => (await tokens.listTokens()).filter(isApiTokenRecord).map(({ hash: _hash, ...listed }) => listed),
      revoke: (id) => tokens.deleteToken(id),
    });
  } finally {
    await store.close();
  }
}

/**
 * `sessionvault token create`: makes an API token for the archive server in
 * the store it serves. The token is printed once; the store keeps only its
 * sha256.
 */
export async function tokenCreate(options: TokenCreateOptions, ctx: CliContext): Promise<void> {
  if (!options.scope?.length) throw new UsageError("token create needs --scope read|write|admin");
  const scopes = parseScopes(options.scope);
  const created = await withTokenAdmin(options.store, ctx, (admin) => admin.create(options.org, scopes));
  if (options.json) {
    printJson(ctx, created);
  } else {
    ctx.stdout.write(`${created.token}\n`);
    ctx.stderr.write(`sessionvault: token ${created.id} for org "${created.org}" with scopes ${created.scopes.join(", ")}; it is shown only this once\n`);
  }
}

/** `sessionvault token list`: the tokens a server accepts, without their secrets (the store has none). */
export async function tokenList(options: TokenListOptions, ctx: CliContext): Promise<void> {
  const all = await withTokenAdmin(options.store, ctx, (admin) => admin.list());
  const tokens = all.filter((t) => !options.org || t.org === options.org).map(({ id, org, scopes, created_at }) => ({ id, org, scopes, created_at }));
  if (options.json) return printJson(ctx, { tokens });
  if (tokens.length === 0) {
    ctx.stderr.write(`sessionvault: no tokens${options.org ? ` for org "${options.org}"` : ""}; make one with \`sessionvault token create\`\n`);
    return;
  }
  const rows = [["ID", "ORG", "SCOPES", "CREATED"], ...tokens.map((t) => [t.id, t.org, t.scopes.join(","), t.created_at])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) ctx.stdout.write(r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ") + "\n");
}

/**
 * `sessionvault token revoke ID`: the store forgets the token. Servers cache
 * a checked token for up to a minute, so requests with it stop within one
 * (at once on the server a revoke went through).
 */
export async function tokenRevoke(id: string, options: TokenRevokeOptions, ctx: CliContext): Promise<void> {
  const revoked = await withTokenAdmin(options.store, ctx, (admin) => admin.revoke(id));
  if (!revoked) throw new NotFoundError(`no token ${JSON.stringify(id)}: \`sessionvault token list\` shows the ids`);
  if (options.json) return printJson(ctx, { revoked: id });
  ctx.stderr.write(`sessionvault: revoked token ${id}; servers refuse it within a minute\n`);
}
