import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { AGENTS, readSessionEvents, type AgentName, type RawLine, type SessionSummary } from "@sessionvault/core";
import { sessionSpanBatches, type SpanBatch } from "./session-spans.js";

export interface OtlpOptions {
  includeContent: boolean;
  /** Skip what was sent before: batches up to this action seq (-1: none). */
  afterSeq?: number;
  /** Give the turn still open at the end too (export); a sync waits for it to end. */
  flushOpenTurn?: boolean;
}

/**
 * `export --format otlp`: one OTLP/JSON ExportTraceServiceRequest per line,
 * one per turn, the framing of the OpenTelemetry Collector's file exporter
 * and receiver, so a session of any length streams.
 */
export async function* otlpJsonLines(session: SessionSummary, lines: AsyncIterable<string | RawLine>, options: OtlpOptions): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for await (const batch of otlpBatches(session, lines, { ...options, flushOpenTurn: options.flushOpenTurn ?? true })) {
    yield `${decoder.decode(otlpJsonRequest(batch))}\n`;
  }
}

export function otlpBatches(session: SessionSummary, lines: AsyncIterable<string | RawLine>, options: OtlpOptions): AsyncGenerator<SpanBatch> {
  const agent = sessionAgent(session);
  const events = readSessionEvents(lines, agent, { text: options.includeContent, usage: true });
  return sessionSpanBatches(events, {
    sessionId: session.id,
    agent,
    includeContent: options.includeContent,
    afterSeq: options.afterSeq ?? -1,
    flushOpenTurn: options.flushOpenTurn ?? false,
  });
}

/** The OTLP/JSON request body of a batch, encoded by the OpenTelemetry JS transformer. */
export function otlpJsonRequest(batch: SpanBatch): Uint8Array {
  const body = JsonTraceSerializer.serializeRequest(batch.spans);
  if (!body) throw new Error("the OpenTelemetry serializer returned no request");
  return body;
}

/** The agent that wrote a session, as its summary names it; sessions from before agents were recorded are Codex ones. */
function sessionAgent(session: SessionSummary): AgentName {
  const named = (session as { agent?: unknown }).agent;
  return (AGENTS as readonly unknown[]).includes(named) ? (named as AgentName) : "codex";
}
