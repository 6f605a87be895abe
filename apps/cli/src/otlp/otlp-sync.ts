import { homedir } from "node:os";
import { join } from "node:path";
import { PartialFailureError, StoreUnavailableError, UsageError, type OpenedStore } from "@sessionvault/core";
import { printJson, type CliContext } from "../io.js";
import { terminalSafe } from "../terminal-text.js";
import { otlpBatches, otlpJsonRequest } from "./otlp-json-lines.js";
import { SentTurnsFile } from "./sent-turns-file.js";

export interface OtlpSyncOptions {
  /** `otlp+http://host:4318` or `otlp+https://…` (a path, if any, is the base the signal path is added to). */
  to: string;
  fromUrl: string;
  includeContent: boolean;
  dryRun: boolean;
  json: boolean;
  /** State file (default: `sentTurnsPath`). */
  stateFile?: string;
}

export interface OtlpSyncSummary {
  sessions_scanned: number;
  sessions_sent: number;
  turns_sent: number;
  spans_sent: number;
  errors: { session_id: string; message: string }[];
}

/**
 * `sync --to otlp+http://collector:4318`: every session of the source as
 * traces, each finished turn sent once (docs/otel.md). What was sent is kept
 * per collector and session in the user's state directory, so a rerun sends
 * only the turns finished since; a turn still open waits for its end.
 */
export async function syncToOtlp(from: OpenedStore, options: OtlpSyncOptions, ctx: CliContext): Promise<void> {
  const endpoint = tracesEndpoint(options.to);
  const headers = { "content-type": "application/json", ...otlpHeaders(ctx.env.OTEL_EXPORTER_OTLP_HEADERS) };
  const state = new SentTurnsFile(options.stateFile ?? sentTurnsPath(ctx));
  await state.load();
  const summary: OtlpSyncSummary = { sessions_scanned: 0, sessions_sent: 0, turns_sent: 0, spans_sent: 0, errors: [] };
  let cursor: string | null = null;
  do {
    const page = await from.listSessions({ archived: "all", limit: 200, cursor });
    for (const session of page.sessions) {
      summary.sessions_scanned++;
      let sentAny = false;
      try {
        const after = state.lastSeq(endpoint, session.id);
        const batches = otlpBatches(session, from.readStream(session.id, "rollout"), { includeContent: options.includeContent, afterSeq: after });
        for await (const batch of batches) {
          if (!options.dryRun) {
            await post(endpoint, headers, otlpJsonRequest(batch));
            await state.record(endpoint, session.id, batch.lastSeq);
          }
          sentAny = true;
          summary.turns_sent++;
          summary.spans_sent += batch.spans.length;
        }
      } catch (err) {
        summary.errors.push({ session_id: session.id, message: err instanceof Error ? err.message : String(err) });
      }
      if (sentAny) summary.sessions_sent++;
    }
    cursor = page.next_cursor;
  } while (cursor);

  if (options.json) printJson(ctx, summary);
  else {
    ctx.stdout.write(
      `${options.dryRun ? "would send" : "sent"} ${summary.spans_sent} spans (${summary.turns_sent} turns) of ${summary.sessions_sent} of ${summary.sessions_scanned} sessions to ${endpoint}\n`,
    );
    for (const e of summary.errors) ctx.stderr.write(`sessionvault: session ${e.session_id}: ${terminalSafe(e.message)}\n`);
  }
  if (summary.errors.length > 0)
    throw new PartialFailureError(
      `${summary.errors.length} session(s) could not be sent (rerun to retry them); first: ${summary.errors[0]!.session_id}: ${summary.errors[0]!.message}`,
    );
}

/** `otlp+http://host:4318[/base]` → `http://host:4318[/base]/v1/traces`, the OTLP/HTTP traces path. */
export function tracesEndpoint(to: string): string {
  const m = /^otlp\+(https?):\/\/(.+)$/i.exec(to);
  if (!m) throw new UsageError(`--to ${JSON.stringify(to)}: an OTLP collector is otlp+http://HOST:PORT or otlp+https://HOST:PORT`);
  let url: URL;
  try {
    url = new URL(`${m[1]!.toLowerCase()}://${m[2]}`);
  } catch (cause) {
    throw new UsageError(`--to ${JSON.stringify(to)} is not a URL: ${(cause as Error).message}`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/traces`;
  return url.href;
}

/** `OTEL_EXPORTER_OTLP_HEADERS` (`key=value,key2=value2`, values URL-encoded), the standard way to pass a collector's API key. */
function otlpHeaders(spec: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (spec ?? "").split(",")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    out[part.slice(0, i).trim().toLowerCase()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

async function post(endpoint: string, headers: Record<string, string>, body: Uint8Array): Promise<void> {
  let res: Response;
  try {
    res = await fetch(endpoint, { method: "POST", headers, body });
  } catch (cause) {
    throw new StoreUnavailableError(`OTLP collector ${endpoint} cannot be reached`, { cause });
  }
  const text = await res.text();
  if (!res.ok) throw new StoreUnavailableError(`OTLP collector ${endpoint} answered ${res.status}: ${text.slice(0, 300)}`);
  // A 200 can still carry a partial success: spans the collector dropped are not "sent".
  let rejected = 0;
  try {
    rejected = Number((JSON.parse(text) as { partialSuccess?: { rejectedSpans?: string | number } }).partialSuccess?.rejectedSpans ?? 0);
  } catch {
    // An empty or non-JSON 2xx body is a full success.
  }
  if (rejected > 0) throw new StoreUnavailableError(`OTLP collector ${endpoint} rejected ${rejected} span(s)`);
}

/** The sent-turns file: `$XDG_STATE_HOME/sessionvault/otlp-sent.json`, else `~/.local/state/sessionvault/otlp-sent.json`. */
export function sentTurnsPath(ctx: CliContext): string {
  const base = ctx.env.XDG_STATE_HOME || join(ctx.env.HOME || homedir(), ".local", "state");
  return join(base, "sessionvault", "otlp-sent.json");
}
