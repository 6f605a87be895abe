import { homedir } from "node:os";
import { join } from "node:path";
import { StoreRegistry } from "@sessionvault/core";
import type { CliContext } from "./io.js";

/**
 * The store URLs this binary understands (DESIGN.md §5). Each store package
 * registers itself here; this is the only place that knows them all.
 */
export function storeRegistry(ctx: CliContext): StoreRegistry {
  const registry = new StoreRegistry();
  // Registrations are added by each store's integration (fs, s3, postgres, http).
  void ctx;
  return registry;
}

/** `--store` default: $CODEX_HOME, else ~/.codex. */
export function defaultStoreUrl(ctx: CliContext): string {
  return ctx.env.CODEX_HOME || join(ctx.env.HOME || homedir(), ".codex");
}
