import { applyRetention, type ApplyRetentionOptions, type RetentionPolicy, type RetentionReport } from "./retention.js";
import { UnsupportedError } from "./errors.js";
import type { CheckedStore } from "./checked-store.js";

/**
 * Retention for any opened store: `applyRetention` over the store's
 * `RetentionStore` (a Codex home, S3, Postgres), or over the archive
 * server's own store when the store is the server (it runs `applyRetention`
 * there). `prune` means the same everywhere: soft delete, purge after the
 * grace, the same audit records.
 */
export async function runRetention(store: CheckedStore, policy: RetentionPolicy, options: ApplyRetentionOptions = {}): Promise<RetentionReport> {
  if (store.capabilities.retention) return applyRetention(store, policy, options);
  if (store.capabilities.remoteRetention) {
    return store.applyRetentionRemotely(policy, {
      ...(options.dryRun !== undefined ? { dryRun: options.dryRun } : {}),
      ...(options.actor !== undefined ? { actor: options.actor } : {}),
    });
  }
  throw new UnsupportedError("this store has no retention (soft delete, purge, deletion audit)");
}
