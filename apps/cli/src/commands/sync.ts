import { PartialFailureError, UsageError, syncStores, type AgentName, type SyncError, type SyncProgress, type SyncSummary } from "@sessionvault/core/store-api";
import { parseAgentOption } from "../agent-option.js";
import { printJson, type CliContext } from "../io.js";
import { defaultStoreUrl, openStoreArg } from "../stores.js";
import { terminalSafe } from "../terminal-text.js";

export interface SyncCommandOptions {
  /** Source store URL; default the local Codex home. */
  from?: string;
  to?: string;
  dryRun?: boolean;
  json?: boolean;
  /** --to otlp+http://…: put redacted message texts, tool inputs and outputs on the spans. */
  includeContent?: boolean;
  /** Keep running: sync new and growing sessions as they are written (sync-watch.ts). */
  watch?: boolean;
  /** With --watch: seconds between full rescans. */
  rescan?: string;
  /** Only this agent's sessions; default, into an agent's home, that agent's. */
  agent?: string;
}

/**
 * `sessionvault sync --from URL --to URL`: sends what the target lacks. Safe
 * to interrupt and to rerun: every batch is an append at the target's
 * current position.
 */
export async function sync(options: SyncCommandOptions, ctx: CliContext): Promise<void> {
  if (!options.to) throw new UsageError("sync needs --to URL (the store to send sessions to)");
  if (options.rescan !== undefined && !options.watch) throw new UsageError("--rescan is for --watch");
  if (options.watch) {
    if (options.dryRun) throw new UsageError("--dry-run cannot be combined with --watch");
    if (options.agent !== undefined) throw new UsageError("--agent is not for --watch: pick the homes to watch with --from");
    if (/^otlp\+/i.test(options.to)) throw new UsageError("--watch sends to a store, not to an OpenTelemetry collector");
    const { syncWatch } = await import("./sync-watch.js");
    await syncWatch(
      {
        to: options.to,
        ...(options.from !== undefined ? { from: options.from } : {}),
        json: options.json ?? false,
        ...(options.rescan !== undefined ? { rescan: options.rescan } : {}),
      },
      ctx,
    );
    return;
  }
  const fromUrl = options.from ?? defaultStoreUrl(ctx);
  if (fromUrl === options.to) throw new UsageError("sync needs two different stores (--from and --to are the same)");
  if (/^otlp\+/i.test(options.to)) {
    const from = await openStoreArg(ctx, fromUrl, { summaryCache: true });
    try {
      // Loaded here so the OpenTelemetry packages cost nothing to the other commands.
      const { syncToOtlp } = await import("../otlp/otlp-sync.js");
      await syncToOtlp(
        from,
        { to: options.to, fromUrl, includeContent: options.includeContent ?? false, dryRun: options.dryRun ?? false, json: options.json ?? false },
        ctx,
      );
    } finally {
      await from.close();
    }
    return;
  }
  if (options.includeContent) throw new UsageError("--include-content is for --to otlp+http://…");
  // A rerun over a big unchanged Codex home then costs a stat per rollout, not
  // a read, on either side (a backup directory is listed whole too). Each new
  // session in a directory target reuses one walk of it for 10 s instead of
  // walking it again (see FsStoreOptions.reuseWalkMs).
  const from = await openStoreArg(ctx, fromUrl, { summaryCache: true });
  const to = await openStoreArg(ctx, options.to, { summaryCache: true, reuseWalkMs: 10_000 });
  // A Claude Code or Gemini CLI home holds only its agent's sessions: restoring
  // into one from a mixed archive takes those and leaves the rest alone
  // instead of failing on each of them.
  const home = homeAgent(to);
  const agent = parseAgentOption(options.agent) ?? home;
  if (home !== null && options.agent === undefined && !options.json)
    ctx.stderr.write(`sessionvault: only ${home} sessions are sent into ${safeUrl(options.to)}, a ${home} home (--agent to choose)\n`);
  const bar = !options.json && ctx.stderr.isTTY ? await progressBar(ctx) : null;
  let summary: SyncSummary;
  try {
    summary = await syncStores(from, to, { dryRun: options.dryRun ?? false, onProgress: bar?.update, ...(agent !== null ? { agent } : {}) });
  } finally {
    bar?.stop();
    await Promise.allSettled([from.close(), to.close()]);
  }
  if (options.json) {
    printJson(ctx, summary);
  } else {
    const what = `${summary.sessions_sent} of ${summary.sessions_scanned} sessions, ${summary.lines_sent} lines (${formatBytes(summary.bytes_sent)})`;
    ctx.stdout.write(`${options.dryRun ? "would send" : "sent"} ${what} from ${safeUrl(fromUrl)} to ${safeUrl(options.to)}`);
    ctx.stdout.write(summary.conflicts ? `; ${summary.conflicts} stream(s) in conflict left untouched\n` : "\n");
    for (const e of summary.errors)
      ctx.stderr.write(`sessionvault: session ${e.session_id}: ${terminalSafe(e.message)}${e.permanent ? " (the target refuses it as it is)" : ""}\n`);
  }
  if (summary.errors.length > 0) throw new PartialFailureError(partialMessage(summary.errors));
}

/** The agent of a Claude Code or Gemini CLI home opened as a store (its driver names it), else null. */
function homeAgent(store: object): AgentName | null {
  const driver = (store as { driver?: { agent?: unknown } }).driver;
  return driver?.agent === "claude-code" || driver?.agent === "gemini-cli" ? driver.agent : null;
}

/** The closing line of a sync that left sessions out: what a rerun can fix and what it cannot. */
function partialMessage(errors: SyncError[]): string {
  const first = errors[0]!;
  const permanent = errors.filter((e) => e.permanent).length;
  const retry = errors.length - permanent;
  const parts = [];
  if (retry > 0) parts.push(`${retry} failed (rerun to retry ${retry === 1 ? "it" : "them"})`);
  if (permanent > 0) parts.push(`${permanent} can never be stored in the target as ${permanent === 1 ? "it is" : "they are"} (see the reasons above)`);
  return `${errors.length} session(s) could not be synced, the others were: ${parts.join("; ")}; first: ${first.session_id}: ${first.message}`;
}

/** A bar on a terminal; its library is loaded here, so a sync into a pipe or a file does not pay for it. */
export async function progressBar(ctx: CliContext): Promise<{ update: (p: SyncProgress) => void; stop: () => void }> {
  const { default: cliProgress } = await import("cli-progress");
  const bar = new cliProgress.SingleBar(
    {
      stream: ctx.stderr,
      format: "sync |{bar}| {value}/{total}{listing} sessions | {lines} lines | {size}",
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      // Sending starts with the first listing page: until the last one, the
      // total is what has been listed so far, marked "+".
      const total = p.sessions_total ?? p.sessions_listed;
      if (total === 0 && p.sessions_total === null) return;
      const payload = { lines: p.lines_sent, size: formatBytes(p.bytes_sent), listing: p.sessions_total === null ? "+" : "" };
      if (!started) {
        bar.start(total, p.sessions_scanned, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(p.sessions_scanned, payload);
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** A store URL for messages: never a password. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.href;
  } catch {
    return url;
  }
}
