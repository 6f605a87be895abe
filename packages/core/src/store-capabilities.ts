import type { RetentionPolicy, RetentionReport } from "./retention.js";
import type { RawStreams } from "./raw-streams.js";
import type { RetentionStore, SessionStore, TokenStore } from "./store.js";

/**
 * What a store can do beyond the `SessionStore` contract, stated by the
 * driver instead of found by probing for methods or catching errors
 * (docs/architecture.md). The checked layer reads these and falls back to
 * core where a store has no fast path of its own.
 */
export interface StoreCapabilities {
  /** `ListQuery.q` answered by the store's own index; without it core scans the rollouts. */
  textSearch: boolean;
  /** `AggregatingDriver`: facet counts and usage sums grouped by the store; without it core scans the summaries. */
  aggregates: boolean;
  /** `RetentionStore`: soft delete, purge, stream deletion, the deletion audit. */
  retention: boolean;
  /** `TokenStore`: the archive server's API tokens. */
  tokens: boolean;
  /** `RemoteRetention`: the store is a server that applies a retention policy itself. */
  remoteRetention: boolean;
  /** `RawStreams`: streams read and appended as the bytes of whole lines (sync between two such stores copies bytes). */
  rawStreams: boolean;
}

/** A store that is a server applying retention over its own store (the archive server's HTTP client). */
export interface RemoteRetention {
  applyRetentionRemotely(policy: RetentionPolicy, options: { dryRun?: boolean; actor?: string }): Promise<RetentionReport>;
}

/** A driver states its capabilities with this optional property. */
export interface DriverCapabilities {
  readonly capabilities?: Partial<Pick<StoreCapabilities, "textSearch" | "aggregates">>;
}

const RETENTION_METHODS = [
  "retentionCandidates",
  "softDeleteSession",
  "softDeletedSessions",
  "restoreSession",
  "purgeSession",
  "deleteStream",
  "setOrgLegalHold",
  "orgLegalHold",
  "deletionAudit",
] as const;
const TOKEN_METHODS = ["saveToken", "findTokenByHash", "listTokens", "deleteToken"] as const;

/** Reads what a driver implements once, when it is opened. */
export function driverCapabilities(driver: SessionStore & DriverCapabilities): StoreCapabilities {
  const has = (names: readonly string[]) => names.every((m) => typeof (driver as unknown as Record<string, unknown>)[m] === "function");
  return {
    textSearch: driver.capabilities?.textSearch === true,
    aggregates: driver.capabilities?.aggregates === true,
    retention: has(RETENTION_METHODS),
    tokens: has(TOKEN_METHODS),
    remoteRetention: has(["applyRetentionRemotely"]),
    rawStreams: has(["readStreamBytes", "appendBytes"]),
  };
}

interface HasCapabilities {
  readonly capabilities: StoreCapabilities;
}

export function isRetentionStore<S extends HasCapabilities>(store: S): store is S & RetentionStore {
  return store.capabilities.retention;
}

export function isTokenStore<S extends HasCapabilities>(store: S): store is S & TokenStore {
  return store.capabilities.tokens;
}

export function isRemoteRetention<S extends HasCapabilities>(store: S): store is S & RemoteRetention {
  return store.capabilities.remoteRetention;
}

export function isRawStreams<S extends HasCapabilities>(store: S): store is S & RawStreams {
  return store.capabilities.rawStreams;
}
