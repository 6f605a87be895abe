import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseStoreUrl, UsageError, watchSync, type WatchEvent, type WatchSource } from "@sessionvault/core";
import { storeHomeKind } from "@sessionvault/fs-store";
import { printJson, type CliContext } from "../io.js";
import { localAgentHomes, openStoreArg, storeArg } from "../stores.js";
import { terminalSafe } from "../terminal-text.js";
import { formatBytes, progressBar, safeUrl } from "./sync.js";

export interface SyncWatchOptions {
  /** Source store URL or agent home; default every local agent home. */
  from?: string;
  to: string;
  json?: boolean;
  /** Seconds between full rescans (default 60). */
  rescan?: string | number;
  /** Stops the watch when aborted; without it SIGINT/SIGTERM do. */
  signal?: AbortSignal;
}

/**
 * `sessionvault sync --watch`: a full sync, then the sessions whose files
 * change, within seconds, until SIGINT/SIGTERM (core's `watchSync`,
 * docs/sync.md "Watching"). A second signal ends the process at once, which
 * is safe too: every append is atomic and a rerun goes on from the target.
 */
export async function syncWatch(options: SyncWatchOptions, ctx: CliContext): Promise<void> {
  const rescanS = options.rescan === undefined ? 60 : Number(options.rescan);
  if (!Number.isFinite(rescanS) || rescanS < 1 || rescanS > 86_400)
    throw new UsageError(`--rescan must be a number of seconds from 1 to 86400, got ${JSON.stringify(String(options.rescan))}`);
  const target = storeArg(ctx, options.to);
  const sources = watchSources(ctx, options.from, target);

  const to = await openStoreArg(ctx, options.to, { summaryCache: true, reuseWalkMs: 10_000 });
  const stop = new AbortController();
  let stoppedBy: string | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    stoppedBy = sig;
    stop.abort();
  };
  if (options.signal) {
    if (options.signal.aborted) stop.abort();
    else options.signal.addEventListener("abort", () => stop.abort(), { once: true });
  } else {
    // `once`: a second Ctrl-C gets Node's default and ends the process at once.
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  const bar = !options.json && sources.length === 1 && ctx.stderr.isTTY ? await progressBar(ctx) : null;
  try {
    const totals = await watchSync(sources, to, {
      signal: stop.signal,
      rescanMs: rescanS * 1000,
      onEvent: (e) => {
        if (e.event === "synced" && e.first) bar?.stop();
        if (options.json) printJson(ctx, e);
        else printEvent(ctx, e, target);
      },
      ...(bar ? { onFirstProgress: (_s, p) => bar.update(p) } : {}),
    });
    if (options.json) printJson(ctx, { event: "stopped", signal: stoppedBy, ...totals });
    else
      ctx.stdout.write(
        `stopped${stoppedBy ? ` (${stoppedBy})` : ""}: sent ${totals.lines_sent} lines (${formatBytes(totals.bytes_sent)}) in ${totals.sessions_sent} session update(s)` +
          (totals.errors ? `; ${totals.errors} session error(s), see above` : "") +
          "\n",
      );
  } finally {
    bar?.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await to.close();
  }
}

/** `--from`, or every local agent home that exists; a source that is the target is left out. */
function watchSources(ctx: CliContext, from: string | undefined, target: string): WatchSource[] {
  const given = from !== undefined;
  const urls = given ? [storeArg(ctx, from)] : localAgentHomes(ctx).map((h) => h.dir);
  const sources: WatchSource[] = [];
  for (const url of urls) {
    if (url === target) {
      if (given) throw new UsageError("sync needs two different stores (--from and --to are the same)");
      continue;
    }
    const parsed = parseStoreUrl(url);
    const home = parsed.protocol === "file:" ? fileURLToPath(parsed) : null;
    // A machine without this agent (no ~/.codex) has nothing to watch there; a --from that is missing is an error of the first pass.
    if (!given && home !== null && !existsSync(home)) continue;
    sources.push({
      name: home ?? safeUrl(url),
      agent: home !== null ? (storeHomeKind(home) ?? "codex") : "codex",
      home,
      // A full pass keeps the listing cache (a rescan of an unchanged home costs a stat per rollout); a pass over a few sessions reads just those.
      open: (pass) => openStoreArg(ctx, url, pass === "full" ? { summaryCache: true } : {}),
    });
  }
  if (sources.length === 0) throw new UsageError("sync --watch found no agent home to watch: give one with --from");
  return sources;
}

function printEvent(ctx: CliContext, e: WatchEvent, target: string): void {
  switch (e.event) {
    case "synced":
      if (e.first)
        ctx.stdout.write(
          `sent ${e.sessions_sent} of ${e.sessions_scanned} sessions, ${e.lines_sent} lines (${formatBytes(e.bytes_sent)}) from ${terminalSafe(e.source)} to ${safeUrl(target)}` +
            (e.conflicts ? `; ${e.conflicts} stream(s) in conflict left untouched\n` : "\n"),
        );
      else if (e.conflicts) ctx.stderr.write(`sessionvault: rescan of ${terminalSafe(e.source)}: ${e.conflicts} stream(s) in conflict left untouched\n`);
      return;
    case "watching":
      ctx.stdout.write(
        e.dir !== null
          ? `watching ${terminalSafe(e.dir)} (${e.agent}) for new and growing sessions; rescanning every ${e.rescan_s} s; Ctrl-C stops\n`
          : `rescanning ${terminalSafe(e.source)} every ${e.rescan_s} s (no local files to watch); Ctrl-C stops\n`,
      );
      return;
    case "session":
      ctx.stdout.write(
        `${e.at.slice(11, 19)} ${e.agent} ${e.session_id} +${e.lines_sent} line(s) (${formatBytes(e.bytes_sent)})${e.new ? ", new session" : ""}\n`,
      );
      return;
    case "error":
      ctx.stderr.write(`sessionvault: session ${e.session_id}: ${terminalSafe(e.message)}${e.permanent ? " (the target refuses it as it is)" : ""}\n`);
      return;
    case "warning":
      ctx.stderr.write(`sessionvault: ${terminalSafe(e.source)}: ${terminalSafe(e.message)}\n`);
      return;
  }
}
