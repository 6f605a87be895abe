import { createApiToken, parseScopes, tokenStoreOf } from "@sessionvault/server";
import { UsageError } from "@sessionvault/core";
import type { CliContext } from "../io.js";
import { printJson } from "../io.js";
import { storeRegistry } from "../stores.js";
import { defaultServerStore } from "./serve.js";

export interface TokenCreateOptions {
  store?: string;
  org?: string;
  scope?: string[];
  json?: boolean;
}

/**
 * `sessionvault token create`: makes an API token for the archive server in
 * the store it serves. The token is printed once; the store keeps only its
 * sha256.
 */
export async function tokenCreate(options: TokenCreateOptions, ctx: CliContext): Promise<void> {
  if (!options.org) throw new UsageError("token create needs --org ORG");
  if (!options.scope?.length) throw new UsageError("token create needs --scope read|write|admin");
  const scopes = parseScopes(options.scope);
  const url = options.store ?? defaultServerStore(ctx);
  const store = storeRegistry(ctx).open(url);
  try {
    const created = await createApiToken(tokenStoreOf(store, url), options.org, scopes);
    if (options.json) {
      printJson(ctx, created);
    } else {
      ctx.stdout.write(`${created.token}\n`);
      ctx.stderr.write(`sessionvault: token for org "${created.org}" with scopes ${created.scopes.join(", ")}; it is shown only this once\n`);
    }
  } finally {
    await store.close();
  }
}
