import type { SessionFactsPage, TokenStore } from "@sessionvault/core";
import type { CoalescedReads } from "./coalesced-reads.js";
import type { OrgStores } from "./org-stores.js";
import type { ServerMetrics } from "./metrics.js";
import type { TokenVerifier } from "./tokens.js";
import type { UiSessions } from "./ui-sessions.js";

/** What the route modules share; built once per server in build-app.ts. */
export interface ServerContext {
  stores: OrgStores;
  /** Where API tokens (hashed) are kept, for every org. */
  tokens: TokenStore;
  verifier: TokenVerifier;
  uiSessions: UiSessions;
  metrics: ServerMetrics;
  /** Appends still running; shutdown waits for them before closing the stores. */
  inflight: Set<Promise<unknown>>;
  maxAppendBytes: number;
  /** Identical concurrent session lists share one store read (see CoalescedReads). */
  lists: CoalescedReads<SessionFactsPage & { snippets?: Record<string, string> }>;
}
