import {
  applyRetention,
  InvalidInputError,
  parseDuration,
  UnsupportedError,
  UsageError,
  type OpenedStore,
  type RetentionStore,
} from "@sessionvault/core";
import { printJson, type CliContext } from "../io.js";
import { openStoreArg } from "../stores.js";

export interface PruneCommandOptions {
  store?: string;
  olderThan?: string;
  dryRun?: boolean;
  json?: boolean;
  /** Keep expired sessions soft-deleted (hidden, restorable) this long before purging them. */
  grace?: string;
  /** `NAME=DURATION`, e.g. `raw-api=7d`: a stream that expires sooner than its session. */
  streamTtl?: string[];
  /** Who prunes, for the deletion audit (default `cli:$USER`). */
  actor?: string;
}

/**
 * `sessionvault prune --store URL --older-than DURATION`: expires sessions
 * with no activity for DURATION, skipping sessions on legal hold. Stores with
 * retention support (a Codex home, s3, postgres) soft-delete first and purge
 * after `--grace`, expire single streams (`--stream-ttl`), and audit every
 * deletion; other stores (the archive server) use their own `prune`.
 */
export async function prune(options: PruneCommandOptions, ctx: CliContext): Promise<void> {
  if (!options.store) throw new UsageError("prune needs --store URL (the store to prune)");
  if (!options.olderThan) throw new UsageError("prune needs --older-than DURATION (e.g. 30d, 12h, 2w)");
  const ttl = duration("--older-than", options.olderThan);
  const graceMs = options.grace === undefined ? undefined : duration("--grace", options.grace);
  const streamTtls: Record<string, number> = {};
  for (const spec of options.streamTtl ?? []) {
    const m = /^([a-z0-9][a-z0-9._-]*)=(.+)$/.exec(spec);
    if (!m) throw new UsageError(`invalid --stream-ttl ${JSON.stringify(spec)}: use NAME=DURATION, e.g. raw-api=7d`);
    streamTtls[m[1]!] = duration("--stream-ttl", m[2]!);
  }
  const actor = options.actor ?? `cli:${ctx.env.USER || ctx.env.LOGNAME || "unknown"}`;
  const dryRun = options.dryRun ?? false;

  const store = openStoreArg(ctx, options.store);
  try {
    const now = new Date();
    let result: { expired: string[]; held: string[]; bytes_freed: number; dry_run: boolean; purged?: string[]; bytes_purged?: number; streams_expired?: unknown[] };
    if (isRetentionStore(store)) {
      try {
        result = await applyRetention(
          store,
          { name: "cli-prune", defaultTtlMs: ttl, streamTtlsMs: streamTtls, graceMs: graceMs ?? 0 },
          { now, dryRun, actor },
        );
      } catch (err) {
        if (err instanceof InvalidInputError) throw new UsageError(err.message);
        throw err;
      }
    } else {
      if (graceMs !== undefined || Object.keys(streamTtls).length > 0) {
        throw new UnsupportedError("this store has no soft delete or per-stream retention: --grace and --stream-ttl need a Codex home, an s3:// or a postgres:// store");
      }
      result = await store.prune({ olderThan: new Date(now.getTime() - ttl), dryRun, actor });
    }
    if (options.json) {
      printJson(ctx, result);
      return;
    }
    const verb = dryRun ? "would expire" : "expired";
    ctx.stdout.write(`${verb} ${result.expired.length} session(s), ${formatBytes(result.bytes_freed)}${graceMs ? ` (soft-deleted: purged after ${options.grace})` : ""}\n`);
    for (const id of result.expired) ctx.stdout.write(`  ${id}\n`);
    if (result.streams_expired?.length) ctx.stdout.write(`${dryRun ? "would delete" : "deleted"} ${result.streams_expired.length} expired stream(s)\n`);
    if (result.purged?.length) ctx.stdout.write(`${dryRun ? "would purge" : "purged"} ${result.purged.length} soft-deleted session(s), ${formatBytes(result.bytes_purged ?? 0)}\n`);
    if (result.held.length) {
      ctx.stdout.write(`kept ${result.held.length} session(s) on legal hold\n`);
      for (const id of result.held) ctx.stdout.write(`  ${id}\n`);
    }
  } finally {
    await store.close();
  }
}

function duration(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

function isRetentionStore(store: OpenedStore): store is OpenedStore & RetentionStore {
  const s = store as Partial<RetentionStore>;
  return typeof s.retentionCandidates === "function" && typeof s.softDeleteSession === "function" && typeof s.purgeSession === "function";
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
