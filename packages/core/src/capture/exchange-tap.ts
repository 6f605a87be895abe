import { randomUUID } from "node:crypto";
import zlib from "node:zlib";
import { createParser, type EventSourceParser } from "eventsource-parser";
import { decompress as zstdDecompress } from "fzstd";
import type { RawApiRecord } from "./raw-api-record.js";
import { redactSecrets } from "../redact.js";
import { redactBody, redactHeaders, type HeaderInput } from "./redact-exchange.js";

export interface ExchangeTapOptions {
  method: string;
  url: string;
  requestHeaders: HeaderInput;
  emit: (record: RawApiRecord) => void;
  /** Bodies larger than this are not kept in the log (their size is). Default 32 MiB. */
  maxBodyBytes?: number;
  now?: () => Date;
}

type Decoder = { write(chunk: Buffer): void; end(): void };

/**
 * Watches one request/response exchange as its bytes pass by and turns it
 * into redacted raw-api records. It never holds up the bytes: the caller
 * forwards every chunk first and then hands it here. A server-sent-event
 * response is recorded event by event as the events arrive; any other body
 * is recorded once complete.
 */
export class ExchangeTap {
  readonly id = randomUUID();
  readonly #o: ExchangeTapOptions;
  readonly #max: number;
  readonly #now: () => Date;
  readonly #started: number;
  readonly #reqHeaders: Record<string, string>;
  readonly #url: string;
  #reqChunks: Buffer[] = [];
  #reqBytes = 0;
  #status = 0;
  #resChunks: Buffer[] = [];
  #resBytes = 0;
  #resDecodedBytes = 0;
  #sse: EventSourceParser | null = null;
  #decoder: Decoder | null = null;
  #events = 0;
  #resEncoding: string | undefined;
  #finished = false;

  constructor(options: ExchangeTapOptions) {
    this.#o = options;
    this.#max = options.maxBodyBytes ?? 32 * 1024 * 1024;
    this.#now = options.now ?? (() => new Date());
    this.#started = performance.now();
    this.#reqHeaders = redactHeaders(options.requestHeaders);
    this.#url = redactUrl(options.url);
  }

  requestChunk(chunk: Uint8Array): void {
    this.#reqBytes += chunk.byteLength;
    if (this.#reqBytes <= this.#max) this.#reqChunks.push(Buffer.from(chunk));
    else this.#reqChunks = [];
  }

  requestEnd(): void {
    const { body, omitted } = this.#decodeBody(this.#reqChunks, this.#reqBytes, this.#reqHeaders["content-encoding"]);
    this.#reqChunks = [];
    this.#emit({ type: "request", headers: this.#reqHeaders, body, body_bytes: this.#reqBytes, ...(omitted ? { body_omitted: omitted } : {}) });
  }

  response(status: number, headers: HeaderInput): void {
    this.#status = status;
    const h = redactHeaders(headers);
    this.#emit({ type: "response", status, headers: h, duration_ms: this.#elapsed() });
    this.#resEncoding = h["content-encoding"]?.toLowerCase();
    if ((h["content-type"] ?? "").toLowerCase().startsWith("text/event-stream")) {
      this.#sse = createParser({
        onEvent: (e) => {
          this.#events++;
          this.#emit({ type: "event", status: this.#status, seq: this.#events - 1, event: e.event ?? null, data: redactBody(e.data) });
        },
      });
      const feed = (b: Buffer) => {
        this.#resDecodedBytes += b.length;
        this.#sse?.feed(b.toString("utf8"));
      };
      this.#decoder = streamDecoder(this.#resEncoding, feed);
    }
  }

  responseChunk(chunk: Uint8Array): void {
    this.#resBytes += chunk.byteLength;
    if (this.#decoder) {
      this.#decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } else if (this.#resBytes <= this.#max) {
      this.#resChunks.push(Buffer.from(chunk));
    } else {
      this.#resChunks = [];
    }
  }

  responseEnd(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#decoder) {
      this.#decoder.end();
      this.#emit({ type: "response_end", status: this.#status, events: this.#events, body_bytes: this.#resBytes, duration_ms: this.#elapsed() });
    } else {
      const { body, omitted } = this.#decodeBody(this.#resChunks, this.#resBytes, this.#resEncoding);
      this.#resChunks = [];
      this.#emit({ type: "response_body", status: this.#status, body, body_bytes: this.#resBytes, ...(omitted ? { body_omitted: omitted } : {}) });
    }
  }

  /** One WebSocket message of an upgraded connection (text is parsed and redacted like a body). */
  wsMessage(direction: "send" | "receive", opcode: number, data: Buffer, compressed: boolean): void {
    if (this.#finished) return;
    const base = { type: "ws_message" as const, status: this.#status, direction, opcode, bytes: data.length };
    if (compressed) this.#emit({ ...base, data: null, data_omitted: "compressed (permessage-deflate)" });
    else if (opcode === 2) this.#emit({ ...base, data: null, data_omitted: "binary" });
    else if (opcode === 8)
      this.#emit({ ...base, data: { code: data.length >= 2 ? data.readUInt16BE(0) : null, reason: redactSecrets(data.subarray(2).toString("utf8")) } });
    else this.#emit({ ...base, data: redactBody(data.toString("utf8")) });
  }

  /**
   * The end of an upgraded connection (WebSocket) that was tunnelled byte
   * for byte: its frames are not decoded, only their volume is recorded.
   */
  tunnelEnd(bytesUp: number, bytesDown: number): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#emit({ type: "response_end", status: this.#status, events: 0, body_bytes: bytesDown, request_bytes: bytesUp, duration_ms: this.#elapsed() });
  }

  /** A transport failure (upstream unreachable, client gone mid-stream, …). */
  error(err: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#decoder?.end();
    const message = redactSecrets(err instanceof Error ? err.message : String(err));
    this.#emit({ type: "error", status: this.#status || null, message });
  }

  #elapsed(): number {
    return Math.round((performance.now() - this.#started) * 1000) / 1000;
  }

  #emit(rec: Record<string, unknown> & { type: RawApiRecord["type"] }): void {
    const record = { ts: this.#now().toISOString(), exchange: this.id, method: this.#o.method, url: this.#url, ...rec } as RawApiRecord;
    this.#o.emit(record);
  }

  #decodeBody(chunks: Buffer[], bytes: number, encoding: string | undefined): { body: unknown; omitted?: string } {
    if (bytes === 0) return { body: null };
    if (bytes > this.#max) return { body: null, omitted: `larger than ${this.#max} bytes` };
    let buf: Buffer;
    try {
      buf = decodeWhole(Buffer.concat(chunks, bytes), encoding);
    } catch (err) {
      return { body: null, omitted: `cannot decode ${encoding ?? ""} body: ${(err as Error).message}` };
    }
    const text = new TextDecoder("utf-8", { fatal: false }).decode(buf);
    return { body: redactBody(text) };
  }
}

function decodeWhole(buf: Buffer, encoding: string | undefined): Buffer {
  switch (encoding) {
    case undefined:
    case "":
    case "identity":
      return buf;
    case "gzip":
    case "x-gzip":
      return zlib.gunzipSync(buf);
    case "deflate":
      return zlib.inflateSync(buf);
    case "br":
      return zlib.brotliDecompressSync(buf);
    case "zstd":
      return Buffer.from(zstdDecompress(buf));
    default:
      throw new Error(`unknown content-encoding ${encoding}`);
  }
}

/** Decodes a compressed event stream incrementally, so events are still recorded as they arrive. */
function streamDecoder(encoding: string | undefined, onData: (b: Buffer) => void): Decoder {
  const make =
    encoding === "gzip" || encoding === "x-gzip"
      ? zlib.createGunzip
      : encoding === "deflate"
        ? zlib.createInflate
        : encoding === "br"
          ? zlib.createBrotliDecompress
          : null;
  if (!make) return { write: onData, end: () => {} };
  const z = make();
  z.on("data", onData);
  // A corrupt compressed stream only costs the recording, never the forwarding.
  z.on("error", () => {});
  return { write: (b) => z.write(b), end: () => z.end() };
}

const SECRET_QUERY = /^(key|api[-_]?key|token|access[-_]?token|sig|signature|secret|password|code)$/i;

/** The URL for the log, with credential-looking query parameters and userinfo removed. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactSecrets(url);
  }
  if (u.username || u.password) {
    u.username = "";
    u.password = "";
  }
  for (const k of [...u.searchParams.keys()]) if (SECRET_QUERY.test(k)) u.searchParams.set(k, "[REDACTED]");
  return redactSecrets(u.toString());
}
