import { InvalidInputError, parseDuration, runRetention, UsageError, type RetentionReport } from "@sessionvault/core";
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
 * with no activity for DURATION, skipping sessions on legal hold. Every store
 * (a Codex home, s3, postgres, the archive server) soft-deletes first and
 * purges after `--grace`, expires single streams (`--stream-ttl`), and audits
 * every deletion: core's `runRetention`.
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

  const store = await openStoreArg(ctx, options.store);
  try {
    // The same retention on every store: soft delete, purge after the grace, the deletion audit
    // (on the archive server, the server runs it over its own store).
    let result: RetentionReport;
    try {
      result = await runRetention(
        store,
        { name: "cli-prune", defaultTtlMs: ttl, streamTtlsMs: streamTtls, graceMs: graceMs ?? 0 },
        { now: new Date(), dryRun, actor },
      );
    } catch (err) {
      if (err instanceof InvalidInputError) throw new UsageError(err.message);
      throw err;
    }
    if (options.json) {
      printJson(ctx, result);
      return;
    }
    const verb = dryRun ? "would expire" : "expired";
    ctx.stdout.write(
      `${verb} ${result.expired.length} session(s), ${formatBytes(result.bytes_freed)}${graceMs ? ` (soft-deleted: purged after ${options.grace})` : ""}\n`,
    );
    for (const id of result.expired) ctx.stdout.write(`  ${id}\n`);
    if (result.streams_expired?.length) ctx.stdout.write(`${dryRun ? "would delete" : "deleted"} ${result.streams_expired.length} expired stream(s)\n`);
    if (result.purged?.length)
      ctx.stdout.write(`${dryRun ? "would purge" : "purged"} ${result.purged.length} soft-deleted session(s), ${formatBytes(result.bytes_purged ?? 0)}\n`);
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

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}
