import { createWriteStream } from "node:fs";
import { resolve } from "node:path";
import { finished } from "node:stream/promises";
import type { Writable } from "node:stream";
import { projectActions, readingOptions, redactSecrets, redactSummary, storedSessionReading, UnsupportedError, UsageError } from "@sessionvault/core";
import type { RawStreamSource } from "@sessionvault/fs-store";
import { linesAsChunks, printJson, writeAll, type CliContext } from "../io.js";
import { renderMarkdown } from "../markdown-transcript.js";
import { openSessionStore } from "../stores.js";
import { terminalSafeChunks } from "../terminal-text.js";

import { EXPORT_FORMATS, type ExportFormat } from "../export-formats.js";

export { EXPORT_FORMATS, type ExportFormat };

export interface ExportOptions {
  format?: string;
  store?: string;
  /** commander's `--no-redact` sets this to false. */
  redact?: boolean;
  output?: string;
  /** With -o: print {"id", "format", "output", "bytes"} once the file is written. */
  json?: boolean;
  /** otlp: put redacted message texts, tool inputs and outputs on the spans. */
  includeContent?: boolean;
}

/**
 * `sessionvault export ID --format …`: the rollout as JSONL, a Markdown
 * transcript, or actions v1 (DESIGN.md §7). Secrets are redacted unless
 * `--no-redact`. Streamed from the store to the output.
 */
export async function exportSession(id: string, options: ExportOptions, ctx: CliContext): Promise<void> {
  const format = options.format as ExportFormat | undefined;
  if (!format || !EXPORT_FORMATS.includes(format)) {
    throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(", ")}${options.format ? `, got ${JSON.stringify(options.format)}` : ""}`);
  }
  if (options.includeContent && format !== "otlp") throw new UsageError("--include-content is for --format otlp");
  // Spans leave for a collector the user may not control: they are always redacted.
  if (format === "otlp" && options.redact === false) throw new UsageError("--format otlp is always redacted: --no-redact does not apply");
  if (options.json && !options.output) throw new UsageError("--json prints a summary of the written file: use it with -o FILE");
  const redact = options.redact !== false;
  const store = await openSessionStore(ctx, options.store, id);
  try {
    const session = await store.getSession(id);
    const raw = store.driver as Partial<RawStreamSource>;
    const lines = () => store.readStream(session.id, "rollout");
    // A Claude Code or Gemini CLI home says whose transcript this is; every other store holds Codex rollouts.
    const reading = await storedSessionReading(store, session.id, session);
    if (format === "otlp" && reading.agent !== "codex")
      throw new UnsupportedError(`--format otlp reads Codex sessions only; session ${session.id} is a ${reading.agent} one`);
    const chunks: AsyncIterable<string | Uint8Array> =
      format === "jsonl"
        ? redact
          ? linesAsChunks(redactJsonLines(lines()))
          : // Unredacted, the export is the stored rollout: its bytes where the store has them (a line that is
            // not valid UTF-8 stays as it is instead of being decoded into U+FFFD), else its lines.
            typeof raw.readStreamBytes === "function"
            ? raw.readStreamBytes(session.id, "rollout")
            : linesAsChunks(lines())
        : format === "otlp"
          ? // Loaded here so the OpenTelemetry packages cost nothing to the other commands.
            (await import("../otlp/otlp-json-lines.js")).otlpJsonLines(session, lines(), { includeContent: options.includeContent ?? false })
          : format === "markdown"
            ? // Markdown is read in terminals (`less`, `cat`): no control character from the session gets through.
              terminalSafeChunks(
                renderMarkdown(redact ? redactSummary(session) : session, lines(), { redact, agent: reading.agent, ...readingOptions(reading) }),
              )
            : actionLines(projectActions(lines(), { sessionId: session.id, redact, agent: reading.agent, ...readingOptions(reading) }));
    if (options.output) {
      // Open the file only once the session was found, so a bad id leaves no empty file behind.
      const path = resolve(ctx.cwd, options.output);
      const out = createWriteStream(path, { mode: 0o600 });
      await writeTo(out, chunks);
      if (options.json) printJson(ctx, { id: session.id, format, output: path, bytes: out.bytesWritten });
    } else {
      await writeAll(ctx.stdout, chunks);
    }
  } finally {
    await store.close();
  }
}

async function writeTo(out: Writable, chunks: AsyncIterable<string | Uint8Array>): Promise<void> {
  try {
    await writeAll(out, chunks);
    out.end();
    await finished(out);
  } catch (err) {
    out.destroy();
    throw err;
  }
}

async function* actionLines(actions: AsyncIterable<unknown>): AsyncGenerator<string> {
  for await (const a of actions) yield JSON.stringify(a) + "\n";
}

/**
 * Redacts each line. Text redaction can cut through JSON escapes, so when
 * it would leave a line that no longer parses, the line is redacted value
 * by value instead; lines without secrets stay byte-identical.
 */
export async function* redactJsonLines(lines: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const line of lines) {
    const quick = redactSecrets(line);
    if (quick === line) {
      yield line;
      continue;
    }
    let ok = true;
    try {
      JSON.parse(quick);
    } catch {
      ok = false;
    }
    if (ok) {
      yield quick;
      continue;
    }
    try {
      yield JSON.stringify(redactValue(JSON.parse(line)));
    } catch {
      yield quick; // not JSON in the first place
    }
  }
}

function redactValue(v: unknown): unknown {
  if (typeof v === "string") return redactSecrets(v);
  if (Array.isArray(v)) return v.map(redactValue);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValue(x)]));
  return v;
}
