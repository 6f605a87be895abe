import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import type { TokenRecord, TokenStore } from "../store.js";

/**
 * The token conformance suite: what the archive server relies on from every
 * store that keeps its API tokens. A store's test file calls
 * `runTokenConformance("fs-store", { open, cleanup })` at top level.
 */
export type TokenConformanceStore = TokenStore & { close(): Promise<void> };

export interface TokenConformanceContext {
  /** Stores over ONE new, empty storage, each scoped to one of `orgs` (tokens are shared by all of them). */
  openOrgs(orgs: readonly string[]): Promise<TokenConformanceStore[]>;
  /** Runs once after every case of the suite (stores were already closed). */
  cleanup?(): Promise<void>;
}

function token(org: string, createdAt: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return { id: `tok_${randomBytes(8).toString("hex")}`, org, scopes: ["read"], hash: randomBytes(32).toString("hex"), created_at: createdAt, ...overrides };
}

export function runTokenConformance(name: string, ctx: TokenConformanceContext): void {
  describe(`${name} — TokenStore conformance`, () => {
    afterAll(async () => {
      await ctx.cleanup?.();
    });

    async function withStores(orgs: readonly string[], fn: (stores: TokenConformanceStore[]) => Promise<void>): Promise<void> {
      const stores = await ctx.openOrgs(orgs);
      try {
        await fn(stores);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    }

    it("finds a saved token by its hash from any org's store, and nothing by another hash", () =>
      withStores(["acme", "globex"], async ([acme, globex]) => {
        const t = token("acme", "2026-01-01T00:00:00.000Z", { scopes: ["read", "write"] });
        await acme!.saveToken(t);
        expect(await acme!.findTokenByHash(t.hash)).toEqual(t);
        expect(await globex!.findTokenByHash(t.hash)).toEqual(t);
        expect(await acme!.findTokenByHash("0".repeat(64))).toBeNull();
      }));

    it("lists every org's tokens oldest first; an empty store lists none", () =>
      withStores(["acme", "globex"], async ([acme, globex]) => {
        expect(await acme!.listTokens()).toEqual([]);
        const later = token("globex", "2026-02-01T00:00:00.000Z", { scopes: ["admin"] });
        const earlier = token("acme", "2026-01-01T00:00:00.000Z");
        await globex!.saveToken(later);
        await acme!.saveToken(earlier);
        expect(await acme!.listTokens()).toEqual([earlier, later]);
        expect(await globex!.listTokens()).toEqual([earlier, later]);
      }));

    it("saving a token again under its id replaces it", () =>
      withStores(["acme"], async ([acme]) => {
        const t = token("acme", "2026-01-01T00:00:00.000Z");
        await acme!.saveToken(t);
        const widened: TokenRecord = { ...t, scopes: ["read", "write"] };
        await acme!.saveToken(widened);
        expect(await acme!.findTokenByHash(t.hash)).toEqual(widened);
        expect(await acme!.listTokens()).toEqual([widened]);
      }));

    it("a deleted token is found and listed no more, other tokens stay, and deleting it again says false", () =>
      withStores(["acme", "globex"], async ([acme, globex]) => {
        const gone = token("acme", "2026-01-01T00:00:00.000Z");
        const kept = token("acme", "2026-01-02T00:00:00.000Z");
        await acme!.saveToken(gone);
        await acme!.saveToken(kept);
        expect(await globex!.deleteToken(gone.id)).toBe(true);
        expect(await acme!.findTokenByHash(gone.hash)).toBeNull();
        expect(await acme!.findTokenByHash(kept.hash)).toEqual(kept);
        expect(await acme!.listTokens()).toEqual([kept]);
        expect(await acme!.deleteToken(gone.id)).toBe(false);
        expect(await acme!.deleteToken("tok_never")).toBe(false);
      }));
  });
}
