import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
// s3rver ships no types; the parts used here are declared below.
// @ts-expect-error -- untyped CommonJS package
import S3rver from "s3rver";

/**
 * The S3 server tests run against.
 *
 * With `S3_ENDPOINT` set (plus `S3_BUCKET`, `S3_REGION`, `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` as needed) tests use that real S3 / MinIO and each
 * test isolates itself with a fresh key prefix.
 *
 * Otherwise this starts s3rver 3.7.1 in-process on a random port, behind a
 * small front server that closes the four gaps between s3rver and S3 that
 * sessionvault depends on (DESIGN.md §9):
 *
 *  1. ListObjectsV2 continuation tokens: s3rver encrypts them with DES, which
 *     OpenSSL 3 (Node ≥ 17) no longer has, so any truncated V2 listing fails
 *     with a 500. The front server answers V2 listings by asking s3rver for
 *     the equivalent V1 listing (`marker`) and rewriting the reply into V2
 *     form with an opaque token of its own (the base64url of the last key).
 *  2. `aws-chunked` uploads: s3rver stores the SDK's chunk framing and
 *     trailing checksum inside the object. The front server decodes the
 *     framing and forwards the plain bytes.
 *  3. `If-None-Match: *` on PutObject / CompleteMultipartUpload: ignored by
 *     s3rver. The front server checks the key and answers 412
 *     PreconditionFailed when it exists.
 *  4. `If-Match: <etag>` on the same calls: likewise answered 412 on an etag
 *     mismatch, 404 NoSuchKey when the key is missing.
 *  5. Delimiter listings: s3rver only finds a common prefix when some key sits
 *     directly beneath it (it never descends into deeper "directories"), so
 *     `sessions/<id>/streams/` with delimiter "/" came back empty. The front
 *     server computes delimiter listings itself from a plain listing of the
 *     prefix (fine for the small prefixes sessionvault lists that way).
 *  Every write to a key is serialised per key in the front server, so two
 *  concurrent conditional creates race exactly as on S3: one wins, one gets
 *  412.
 *
 * The front server counts requests (`requests`), which the bench reports.
 */
export interface TestS3Server {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Requests seen by the front server (0 when S3_ENDPOINT is used). */
  readonly requests: number;
  /** `METHOD /path?query` of the requests seen, oldest first (empty when S3_ENDPOINT is used); tests may clear it. */
  requestLog: string[];
  /** On the in-process server: s3rver's data directory (the bench writes index objects there directly). */
  dataDir: string | null;
  stop(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  store: { getMetadata(bucket: string, key: string): Promise<{ etag: string }> };
}

export async function startS3Server(env: Record<string, string | undefined> = process.env): Promise<TestS3Server> {
  if (env.S3_ENDPOINT) return useExternal(env);
  const dir = await mkdtemp(join(tmpdir(), "sv-s3rver-"));
  const bucket = "sessionvault-test";
  const s3rver: S3rverInstance = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: dir,
    allowMismatchedSignatures: true,
    configureBuckets: [{ name: bucket }],
  });
  const upstream = await s3rver.run();
  const front = new FrontServer(s3rver, upstream.port);
  const port = await front.listen();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: "us-east-1",
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    get requests() {
      return front.requests;
    },
    requestLog: front.log,
    dataDir: join(dir, bucket),
    async stop() {
      await front.close();
      await s3rver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function useExternal(env: Record<string, string | undefined>): Promise<TestS3Server> {
  const endpoint = env.S3_ENDPOINT!;
  const bucket = env.S3_BUCKET || "sessionvault-test";
  const region = env.S3_REGION || env.AWS_REGION || "us-east-1";
  const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID || "minioadmin", secretAccessKey: env.AWS_SECRET_ACCESS_KEY || "minioadmin" };
  const client = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as Error).name;
    if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw err;
  } finally {
    client.destroy();
  }
  return { endpoint, bucket, region, credentials, requests: 0, requestLog: [], dataDir: null, async stop() {} };
}

/** A fresh key prefix per test store, so tests never see each other's objects. */
export function uniquePrefix(label = "t"): string {
  return `${label}-${randomBytes(6).toString("hex")}`;
}

class FrontServer {
  requests = 0;
  readonly log: string[] = [];
  readonly #server: Server;
  readonly #locks = new Map<string, Promise<void>>();

  constructor(
    private readonly s3rver: S3rverInstance,
    private readonly upstreamPort: number,
  ) {
    this.#server = createServer((req, res) => {
      this.requests++;
      if (this.log.length < 100_000) this.log.push(`${req.method} ${req.url}`);
      this.#handle(req, res).catch((err: Error) => {
        if (!res.headersSent) sendError(res, 500, "InternalError", err.message);
        else res.destroy();
      });
    });
    this.#server.keepAliveTimeout = 30_000;
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.#server.listen(0, "127.0.0.1", () => resolve((this.#server.address() as AddressInfo).port)));
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const [, bucket = "", ...keyParts] = url.pathname.split("/");
    const key = decodeURIComponent(keyParts.join("/"));
    let body = await readBody(req);
    const headers = { ...req.headers };

    if (isAwsChunked(headers)) {
      body = decodeAwsChunked(body);
      delete headers["content-encoding"];
      delete headers["x-amz-decoded-content-length"];
      delete headers["x-amz-trailer"];
      headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
    }
    headers["content-length"] = String(body.length);
    delete headers["transfer-encoding"];

    if (req.method === "GET" && key === "" && url.searchParams.get("list-type") === "2") {
      return this.#listV2(url, headers, res);
    }
    const isWrite =
      key !== "" &&
      (req.method === "PUT" || req.method === "DELETE" || (req.method === "POST" && url.searchParams.has("uploadId")));
    if (!isWrite || url.searchParams.has("partNumber")) {
      return this.#forward(req.method!, url.pathname + url.search, headers, body, res);
    }
    await this.#withKeyLock(`${bucket}/${key}`, async () => {
      const ifNoneMatch = req.headers["if-none-match"];
      const ifMatch = req.headers["if-match"];
      if (ifNoneMatch !== undefined || ifMatch !== undefined) {
        const etag = await this.#etagOf(bucket, key);
        if (ifNoneMatch === "*" && etag !== null) return sendError(res, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
        if (ifMatch !== undefined) {
          if (etag === null) return sendError(res, 404, "NoSuchKey", "The specified key does not exist.");
          if (stripQuotes(ifMatch) !== stripQuotes(etag)) return sendError(res, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
        }
        delete headers["if-none-match"];
        delete headers["if-match"];
      }
      await this.#forward(req.method!, url.pathname + url.search, headers, body, res);
    });
  }

  async #etagOf(bucket: string, key: string): Promise<string | null> {
    try {
      return (await this.s3rver.store.getMetadata(bucket, key)).etag;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
  }

  async #withKeyLock(key: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = previous.then(() => mine);
    this.#locks.set(key, chained);
    await previous;
    try {
      await fn();
    } finally {
      release();
      if (this.#locks.get(key) === chained) this.#locks.delete(key);
    }
  }

  #forward(method: string, path: string, headers: IncomingMessage["headers"], body: Buffer, res: ServerResponse): Promise<void> {
    return new Promise((resolve, reject) => {
      const up = httpRequest({ host: "127.0.0.1", port: this.upstreamPort, method, path, headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 500, upRes.headers);
        upRes.pipe(res);
        upRes.on("end", resolve);
        upRes.on("error", reject);
      });
      up.on("error", reject);
      up.end(body);
    });
  }

  async #listV2(url: URL, headers: IncomingMessage["headers"], res: ServerResponse): Promise<void> {
    const q = url.searchParams;
    if (q.get("delimiter")) return this.#listWithDelimiter(url, headers, res);
    const v1 = new URLSearchParams();
    for (const name of ["prefix", "delimiter", "max-keys", "encoding-type"]) {
      const v = q.get(name);
      if (v !== null) v1.set(name, v);
    }
    const token = q.get("continuation-token");
    const marker = token ? Buffer.from(token, "base64url").toString("utf8") : q.get("start-after");
    if (marker) v1.set("marker", marker);
    const upRes = await fetchUpstream(this.upstreamPort, `${url.pathname}?${v1}`, headers);
    if (upRes.status !== 200) {
      res.writeHead(upRes.status, { "content-type": "application/xml" });
      res.end(upRes.body);
      return;
    }
    const xml = upRes.body.toString("utf8");
    const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]!));
    const prefixes = [...xml.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map((m) => unescapeXml(m[1]!));
    const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
    const last = [keys.at(-1), prefixes.at(-1)].filter((k): k is string => k !== undefined).sort().at(-1);
    let extra = `<KeyCount>${keys.length + prefixes.length}</KeyCount>`;
    if (token) extra += `<ContinuationToken>${token}</ContinuationToken>`;
    if (truncated && last !== undefined) extra += `<NextContinuationToken>${Buffer.from(last, "utf8").toString("base64url")}</NextContinuationToken>`;
    const out = xml
      .replace(/<Marker>[^<]*<\/Marker>/, "")
      .replace(/<NextMarker>[^<]*<\/NextMarker>/, "")
      .replace(/(<IsTruncated>)/, `${extra}$1`);
    res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(out) });
    res.end(out);
  }

  async #listWithDelimiter(url: URL, headers: IncomingMessage["headers"], res: ServerResponse): Promise<void> {
    const q = url.searchParams;
    const prefix = q.get("prefix") ?? "";
    const delimiter = q.get("delimiter")!;
    const maxKeys = Math.min(1000, Number(q.get("max-keys") ?? 1000));
    const token = q.get("continuation-token");
    let marker = token ? Buffer.from(token, "base64url").toString("utf8") : (q.get("start-after") ?? "");
    const contents: string[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let last = "";
    scan: for (;;) {
      const v1 = new URLSearchParams({ prefix, "max-keys": "1000" });
      if (marker) v1.set("marker", marker);
      const up = await fetchUpstream(this.upstreamPort, `${url.pathname}?${v1}`, headers);
      if (up.status !== 200) {
        res.writeHead(up.status, { "content-type": "application/xml" });
        res.end(up.body);
        return;
      }
      const xml = up.body.toString("utf8");
      const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]!));
      for (const key of keys) {
        marker = key;
        const rest = key.slice(prefix.length);
        const idx = rest.indexOf(delimiter);
        const entry = idx === -1 ? key : prefix + rest.slice(0, idx + delimiter.length);
        if (idx !== -1 && prefixes.at(-1) === entry) continue;
        if (contents.length + prefixes.length === maxKeys) {
          truncated = true;
          break scan;
        }
        if (idx === -1) contents.push(entry);
        else prefixes.push(entry);
        // After a common prefix, continue past every key beneath it.
        last = idx === -1 ? key : entry + "\uffff";
      }
      if (!/<IsTruncated>true<\/IsTruncated>/.test(xml) || keys.length === 0) break;
    }
    const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const out =
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Name>${esc(url.pathname.split("/")[1] ?? "")}</Name><Prefix>${esc(prefix)}</Prefix><Delimiter>${esc(delimiter)}</Delimiter>` +
      `<MaxKeys>${maxKeys}</MaxKeys><KeyCount>${contents.length + prefixes.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>` +
      (truncated ? `<NextContinuationToken>${Buffer.from(last, "utf8").toString("base64url")}</NextContinuationToken>` : "") +
      contents.map((k) => `<Contents><Key>${esc(k)}</Key></Contents>`).join("") +
      prefixes.map((p) => `<CommonPrefixes><Prefix>${esc(p)}</Prefix></CommonPrefixes>`).join("") +
      `</ListBucketResult>`;
    res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(out) });
    res.end(out);
  }
}

function fetchUpstream(port: number, path: string, headers: IncomingMessage["headers"]): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method: "GET", path, headers: { ...headers, "content-length": "0" } }, (res) => {
      readBody(res).then((body) => resolve({ status: res.statusCode ?? 500, body }), reject);
    });
    req.on("error", reject);
    req.end();
  });
}

async function readBody(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

function isAwsChunked(headers: IncomingMessage["headers"]): boolean {
  const enc = String(headers["content-encoding"] ?? "");
  const sha = String(headers["x-amz-content-sha256"] ?? "");
  return enc.split(",").some((e) => e.trim() === "aws-chunked") || sha.startsWith("STREAMING-");
}

/** `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` … `0\r\n[trailers]\r\n`. */
export function decodeAwsChunked(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", pos);
    if (eol === -1) throw new Error("malformed aws-chunked body");
    const size = parseInt(body.subarray(pos, eol).toString("latin1").split(";")[0]!, 16);
    if (!Number.isFinite(size)) throw new Error("malformed aws-chunked chunk size");
    if (size === 0) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
  res.end(xml);
}

function stripQuotes(etag: string): string {
  return etag.replace(/^W\//, "").replace(/"/g, "");
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&apos;/g, "'")
    .replace(/&#x60;/g, "`")
    .replace(/&amp;/g, "&");
}
