import { InvalidInputError, LegalHoldError } from "./errors.js";
import { STREAMS } from "./session.js";
import type { RetentionStore } from "./store.js";

/**
 * Org-wide retention (DESIGN.md §1, issue 7), written once for every store
 * that implements `RetentionStore`.
 *
 * - A session expires when its last rollout activity (`updated_at`) is older
 *   than the policy's default TTL. Other streams may expire sooner (raw model
 *   exchanges are often kept for days, transcripts for a year): such a stream
 *   is deleted from a session that is otherwise kept. Ages are measured from
 *   the session's `updated_at`, the only clock every store has in common.
 * - Expiry is soft first: the session disappears from reads and listings and
 *   is purged (hard-deleted) by a later run once the grace period has passed;
 *   until then it can be restored. A grace of 0 purges in the same run.
 * - A legal hold on the session or on the whole org blocks all of it; held
 *   sessions are reported, never touched.
 * - The store writes an audit record for every deletion.
 * - A dry run reports what would go, with counts and bytes, and writes nothing.
 */
export interface RetentionPolicy {
  /** Named in the audit as `policy:<name>`. */
  name: string;
  /** Sessions whose last activity is older than this expire. */
  defaultTtlMs: number;
  /** Shorter TTLs for streams other than the rollout, e.g. `{ "raw-api": 7 * DAY }`. */
  streamTtlsMs?: Record<string, number>;
  /** Soft-deleted sessions are purged once this much time has passed. */
  graceMs: number;
  /** Every TTL must be at least this (an org's floor: nothing may be deleted younger). */
  minTtlMs?: number;
  /** Every TTL must be at most this (an org's ceiling: nothing may be kept longer). */
  maxTtlMs?: number;
}

export interface RetentionReport {
  dry_run: boolean;
  /** Sessions that expired in this run (soft-deleted, or would be in a dry run). */
  expired: string[];
  /** Sessions that would have expired (or had a stream expire) but are on legal hold. */
  held: string[];
  /** Bytes of the sessions and streams that expired in this run. */
  bytes_freed: number;
  /** Soft-deleted sessions hard-deleted in this run (their grace period is over). */
  purged: string[];
  bytes_purged: number;
  /** Streams deleted from sessions that are kept. */
  streams_expired: { session_id: string; stream: string; bytes: number }[];
}

export interface ApplyRetentionOptions {
  /** Defaults to the current time; tests pass a fixed clock. */
  now?: Date;
  dryRun?: boolean;
  /** Who runs the policy; the audit records `policy:<name>` as actor unless this is set. */
  actor?: string;
}

export const DAY_MS = 24 * 60 * 60 * 1000;

export function validateRetentionPolicy(policy: RetentionPolicy): RetentionPolicy {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(policy.name)) throw new InvalidInputError(`invalid retention policy name ${JSON.stringify(policy.name)}`);
  const check = (what: string, ms: number): void => {
    if (!Number.isFinite(ms) || ms < 0) throw new InvalidInputError(`retention policy ${policy.name}: ${what} must be a duration ≥ 0`);
    if (policy.minTtlMs !== undefined && ms < policy.minTtlMs) {
      throw new InvalidInputError(`retention policy ${policy.name}: ${what} (${formatDuration(ms)}) is below the minimum ${formatDuration(policy.minTtlMs)}`);
    }
    if (policy.maxTtlMs !== undefined && ms > policy.maxTtlMs) {
      throw new InvalidInputError(`retention policy ${policy.name}: ${what} (${formatDuration(ms)}) is above the maximum ${formatDuration(policy.maxTtlMs)}`);
    }
  };
  if (policy.minTtlMs !== undefined && policy.maxTtlMs !== undefined && policy.minTtlMs > policy.maxTtlMs) {
    throw new InvalidInputError(`retention policy ${policy.name}: the minimum TTL is above the maximum`);
  }
  check("the default TTL", policy.defaultTtlMs);
  for (const [stream, ttl] of Object.entries(policy.streamTtlsMs ?? {})) {
    if (stream === STREAMS.rollout) throw new InvalidInputError(`retention policy ${policy.name}: the rollout's TTL is the default TTL`);
    check(`the TTL of stream ${stream}`, ttl);
  }
  if (!Number.isFinite(policy.graceMs) || policy.graceMs < 0) throw new InvalidInputError(`retention policy ${policy.name}: the grace period must be ≥ 0`);
  return policy;
}

export async function applyRetention(store: RetentionStore, policy: RetentionPolicy, options: ApplyRetentionOptions = {}): Promise<RetentionReport> {
  validateRetentionPolicy(policy);
  const now = options.now ?? new Date();
  const dryRun = options.dryRun ?? false;
  const who = { actor: options.actor ?? `policy:${policy.name}`, policy: policy.name };
  const report: RetentionReport = { dry_run: dryRun, expired: [], held: [], bytes_freed: 0, purged: [], bytes_purged: 0, streams_expired: [] };
  const held = new Set<string>();
  const orgHeld = await store.orgLegalHold();

  const sessionCutoff = now.getTime() - policy.defaultTtlMs;
  const streamTtls = Object.entries(policy.streamTtlsMs ?? {});
  const shortest = Math.min(policy.defaultTtlMs, ...streamTtls.map(([, ttl]) => ttl));
  // created_at ≤ updated_at, so nothing created after this can have expired anywhere.
  const createdBefore = new Date(now.getTime() - shortest);

  for await (const c of store.retentionCandidates({ createdBefore })) {
    const updated = Date.parse(c.updated_at);
    const isHeld = orgHeld || c.legal_hold;
    if (updated < sessionCutoff) {
      if (isHeld) {
        held.add(c.id);
        continue;
      }
      report.expired.push(c.id);
      report.bytes_freed += c.bytes;
      if (!dryRun) {
        await store.softDeleteSession(c.id, {
          ...who,
          reason: `no activity since ${c.updated_at} (TTL ${formatDuration(policy.defaultTtlMs)})`,
          purgeAfter: new Date(now.getTime() + policy.graceMs),
        });
      }
      continue;
    }
    for (const [stream, ttl] of streamTtls) {
      const info = c.streams.find((s) => s.name === stream);
      if (!info || info.lines === 0 || updated >= now.getTime() - ttl) continue;
      if (isHeld) {
        held.add(c.id);
        continue;
      }
      report.streams_expired.push({ session_id: c.id, stream, bytes: info.bytes });
      report.bytes_freed += info.bytes;
      if (!dryRun) await store.deleteStream(c.id, stream, { ...who, reason: `stream older than its TTL ${formatDuration(ttl)}` });
    }
  }

  for await (const s of store.softDeletedSessions()) {
    if (Date.parse(s.purge_after) > now.getTime()) break;
    if (orgHeld || s.legal_hold) {
      held.add(s.id);
      continue;
    }
    if (dryRun) {
      report.purged.push(s.id);
      report.bytes_purged += s.bytes;
      continue;
    }
    try {
      report.bytes_purged += await store.purgeSession(s.id, { ...who, reason: `grace period over since ${s.purge_after}` });
      report.purged.push(s.id);
    } catch (err) {
      // A hold placed since the listing wins over the policy.
      if (!(err instanceof LegalHoldError)) throw err;
      held.add(s.id);
    }
  }
  report.held = [...held];
  return report;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };

/** `30d`, `12h`, `2w`, `90m`, `45s`, or combinations like `1d12h`. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (!/^(\d+[smhdw])+$/.test(t))
    throw new InvalidInputError(`invalid duration ${JSON.stringify(text)}: use a number and a unit (s, m, h, d, w), e.g. 30d, 12h, 2w`);
  let ms = 0;
  for (const m of t.matchAll(/(\d+)([smhdw])/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  if (!Number.isSafeInteger(ms)) throw new InvalidInputError(`duration ${JSON.stringify(text)} is too large`);
  return ms;
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["w", 7 * DAY_MS],
    ["d", DAY_MS],
    ["h", 3_600_000],
    ["m", 60_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
