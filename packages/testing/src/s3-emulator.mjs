// The S3 emulator tests and benches run against, as its own process (so it
// gets its own core): s3rver 3.7.1 on a random port, behind a front server
// that closes the gaps between s3rver and S3 that sessionvault depends on
// (DESIGN.md §9). See s3-server.ts for the list of gaps and how each is closed.
//
//   node s3-emulator.mjs --dir DIR --bucket NAME
// prints one JSON line {"port": N} when ready; GET /__emulator/stats answers
// {"requests": N, "log": [...]} (with ?contains=TEXT only the log lines that
// contain TEXT, e.g. one test's key prefix: a package run shares one
// emulator) and DELETE /__emulator/log clears the log.
import { mkdirSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { parseArgs } from "node:util";
import S3rver from "s3rver";

const { values } = parseArgs({ options: { dir: { type: "string" }, bucket: { type: "string" } } });
if (!values.dir || !values.bucket) throw new Error("usage: s3-emulator.mjs --dir DIR --bucket NAME");
mkdirSync(values.dir, { recursive: true });

const s3rver = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory: values.dir,
  allowMismatchedSignatures: true,
  configureBuckets: [{ name: values.bucket }],
});
const upstreamPort = (await s3rver.run()).port;

let requests = 0;
let log = [];
/** key → the tail of its queue of writes */
const locks = new Map();

const server = createServer((req, res) => {
  if (req.url?.startsWith("/__emulator/")) return control(req, res);
  requests++;
  log.push(`${req.method} ${req.url}`);
  // Keep the newest requests: a shared emulator serves many test files, and the last test to ask must see its own.
  if (log.length > 200_000) log = log.slice(-100_000);
  handle(req, res).catch((err) => {
    if (!res.headersSent) sendError(res, 500, "InternalError", err.message);
    else res.destroy();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close();
  s3rver.close().finally(() => process.exit(0));
});
// A bug here must not take the whole emulator down (every later test would fail with ECONNREFUSED):
// say so loudly; the request it broke gets a reset, which clients retry.
process.on("unhandledRejection", (err) => process.stderr.write(`s3-emulator: unhandled ${err?.stack ?? err}\n`));
// The parent died without stopping us: do not linger.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

function control(req, res) {
  const url = new URL(req.url ?? "/", "http://x");
  if (req.method === "DELETE" && url.pathname === "/__emulator/log") log = [];
  const contains = url.searchParams.get("contains");
  const body = JSON.stringify({ requests, log: contains === null ? log : log.filter((l) => l.includes(contains)) });
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function handle(req, res) {
  const url = new URL(req.url ?? "/", "http://x");
  const [, bucket = "", ...keyParts] = url.pathname.split("/");
  const key = decodeURIComponent(keyParts.join("/"));
  let body = await readBody(req);
  const headers = { ...req.headers };

  // Gap 2: aws-chunked framing would be stored inside the object.
  if (isAwsChunked(headers)) {
    body = decodeAwsChunked(body);
    delete headers["content-encoding"];
    delete headers["x-amz-decoded-content-length"];
    delete headers["x-amz-trailer"];
    headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
  }
  headers["content-length"] = String(body.length);
  delete headers["transfer-encoding"];

  if (key !== "" && url.searchParams.has("legal-hold")) return legalHold(req.method, url.pathname, body, res);
  if (req.method === "GET" && key === "" && url.searchParams.get("list-type") === "2") {
    return url.searchParams.get("delimiter") ? listWithDelimiter(url, headers, res) : listV2(url, headers, res);
  }
  const isWrite = key !== "" && (req.method === "PUT" || req.method === "DELETE" || (req.method === "POST" && url.searchParams.has("uploadId")));
  if (!isWrite || url.searchParams.has("partNumber")) {
    // Gap 8: s3rver overwrites an object in place (truncate, then write), so a read during a write of
    // the same key sees an empty or short object, and a write during a read cuts the read short. S3
    // swaps whole objects. A read of a key takes the object whole under the key's lock, then answers
    // (so a client that holds a body unread does not hold up writers).
    const subresource = [...url.searchParams.keys()].some((name) => name !== "x-id" && !name.startsWith("response-"));
    const isObjectRead = key !== "" && (req.method === "GET" || req.method === "HEAD") && !subresource;
    if (!isObjectRead) return forward(req.method, url.pathname + url.search, headers, body, res);
    const whole = await withKeyLock(`${bucket}/${key}`, () => request(req.method, url.pathname + url.search, headers, body));
    res.writeHead(whole.status, whole.headers);
    return void res.end(whole.body);
  }
  // Gaps 3 and 4: conditional writes, decided under a per-key lock so concurrent creates race as on S3.
  await withKeyLock(`${bucket}/${key}`, async () => {
    const ifNoneMatch = req.headers["if-none-match"];
    const ifMatch = req.headers["if-match"];
    if (ifNoneMatch !== undefined || ifMatch !== undefined) {
      const etag = await etagOf(url.pathname);
      if (ifNoneMatch === "*" && etag !== null)
        return sendError(res, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
      if (ifMatch !== undefined) {
        if (etag === null) return sendError(res, 404, "NoSuchKey", "The specified key does not exist.");
        if (stripQuotes(ifMatch) !== stripQuotes(etag))
          return sendError(res, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
      }
      delete headers["if-none-match"];
      delete headers["if-match"];
    }
    const copy = "x-amz-copy-source" in req.headers;
    await forward(req.method, url.pathname + url.search, headers, body, res, copy ? undefined : () => settled(req.method, url, body));
  });
}

// Gap 6: s3rver answers a PUT before its write stream has flushed the object to disk (and, when the key
// existed, possibly before the old object was even truncated), so a read right after the answer can see a
// short or old object. Hold the answer until the object on disk is complete: its bytes are the bytes sent
// (PutObject), or its size stops changing (CompleteMultipartUpload, whose bytes this server never sees).
async function settled(method, url, body) {
  const isPut = method === "PUT" && !url.searchParams.has("uploadId") && !url.searchParams.has("tagging");
  const isComplete = method === "POST" && url.searchParams.has("uploadId");
  if (!isPut && !isComplete) return;
  let previous = -1;
  for (let i = 0; i < 500; i++) {
    if (isPut) {
      // A GET while s3rver still writes can be cut off (the file is shorter than the length it announced).
      const stored = await fetchUpstream(url.pathname, {}).catch(() => null);
      if (stored?.status === 200 && stored.body.equals(body)) return;
    } else {
      const size = await sizeOf(url.pathname);
      if (size !== null && size === previous) return;
      previous = size;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function sizeOf(path) {
  const head = await request("HEAD", path, {});
  return head.status === 200 ? Number(head.headers["content-length"]) : null;
}

// Object Lock legal holds (PutObjectLegalHold / GetObjectLegalHold), which s3rver lacks: recorded per
// key so tests can see which objects a store put on hold. Versioned-bucket semantics (a held version
// surviving a delete) are not emulated.
const legalHolds = new Map();
async function legalHold(method, path, body, res) {
  if ((await etagOf(path)) === null) return sendError(res, 404, "NoSuchKey", "The specified key does not exist.");
  if (method === "PUT") {
    const status = /<Status>(ON|OFF)<\/Status>/.exec(body.toString("utf8"))?.[1];
    if (!status) return sendError(res, 400, "MalformedXML", "The XML you provided was not well-formed");
    legalHolds.set(path, status);
    res.writeHead(200, { "content-length": 0 });
    return res.end();
  }
  if (method === "GET") {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<LegalHold><Status>${legalHolds.get(path) ?? "OFF"}</Status></LegalHold>`;
    res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
    return res.end(xml);
  }
  return sendError(res, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
}

/** The current etag of an object (an unsigned HEAD, which s3rver allows), or null. */
async function etagOf(path) {
  const head = await request("HEAD", path, {});
  return head.status === 200 ? String(head.headers.etag ?? "") : null;
}

async function withKeyLock(key, fn) {
  const previous = locks.get(key) ?? Promise.resolve();
  let release;
  const mine = new Promise((r) => (release = r));
  const chained = previous.then(() => mine);
  locks.set(key, chained);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (locks.get(key) === chained) locks.delete(key);
  }
}

function forward(method, path, headers, body, res, settle) {
  return new Promise((resolve, reject) => {
    const up = httpRequest({ host: "127.0.0.1", port: upstreamPort, method, path, headers }, (upRes) => {
      if (!settle) {
        res.writeHead(upRes.statusCode ?? 500, upRes.headers);
        upRes.pipe(res);
        upRes.on("end", resolve);
        upRes.on("error", reject);
        return;
      }
      readBody(upRes)
        .then(async (answer) => {
          if ((upRes.statusCode ?? 500) < 300) await settle();
          res.writeHead(upRes.statusCode ?? 500, upRes.headers);
          res.end(answer);
        })
        .then(resolve, reject);
    });
    up.on("error", reject);
    up.end(body);
  });
}

// Gap 1: s3rver's own V2 continuation tokens need DES, gone from OpenSSL 3. Ask for the V1 listing
// (marker) and answer in V2 form with our own token: the base64url of the last key.
async function listV2(url, headers, res) {
  const q = url.searchParams;
  const v1 = new URLSearchParams();
  for (const name of ["prefix", "max-keys", "encoding-type"]) {
    const v = q.get(name);
    if (v !== null) v1.set(name, v);
  }
  const token = q.get("continuation-token");
  const marker = token ? Buffer.from(token, "base64url").toString("utf8") : q.get("start-after");
  if (marker) v1.set("marker", marker);
  const up = await fetchUpstream(`${url.pathname}?${v1}`, headers);
  if (up.status !== 200) {
    res.writeHead(up.status, { "content-type": "application/xml" });
    res.end(up.body);
    return;
  }
  const xml = up.body.toString("utf8");
  const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]));
  const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
  const last = keys.at(-1);
  let extra = `<KeyCount>${keys.length}</KeyCount>`;
  if (token) extra += `<ContinuationToken>${token}</ContinuationToken>`;
  if (truncated && last !== undefined) extra += `<NextContinuationToken>${Buffer.from(last, "utf8").toString("base64url")}</NextContinuationToken>`;
  const out = xml
    .replace(/<Marker>[^<]*<\/Marker>/, "")
    .replace(/<NextMarker>[^<]*<\/NextMarker>/, "")
    .replace(/(<IsTruncated>)/, `${extra}$1`);
  res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(out) });
  res.end(out);
}

// Gap 5: s3rver finds a common prefix only when a key sits directly beneath it. Compute delimiter
// listings here from the plain listing of the prefix (fine for the small prefixes listed that way).
async function listWithDelimiter(url, headers, res) {
  const q = url.searchParams;
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter");
  const maxKeys = Math.min(1000, Number(q.get("max-keys") ?? 1000));
  const token = q.get("continuation-token");
  let marker = token ? Buffer.from(token, "base64url").toString("utf8") : (q.get("start-after") ?? "");
  const contents = [];
  const prefixes = [];
  let truncated = false;
  let last = "";
  scan: for (;;) {
    const v1 = new URLSearchParams({ prefix, "max-keys": "1000" });
    if (marker) v1.set("marker", marker);
    const up = await fetchUpstream(`${url.pathname}?${v1}`, headers);
    if (up.status !== 200) {
      res.writeHead(up.status, { "content-type": "application/xml" });
      res.end(up.body);
      return;
    }
    const xml = up.body.toString("utf8");
    const keys = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]));
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
  const esc = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
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

/** One upstream request, its answer read whole. */
function request(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const up = httpRequest({ host: "127.0.0.1", port: upstreamPort, method, path, headers }, (res) => {
      readBody(res).then((answer) => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: answer }), reject);
    });
    up.on("error", reject);
    up.end(body);
  });
}

function fetchUpstream(path, headers) {
  return request("GET", path, { ...headers, "content-length": "0" });
}

async function readBody(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

function isAwsChunked(headers) {
  const enc = String(headers["content-encoding"] ?? "");
  const sha = String(headers["x-amz-content-sha256"] ?? "");
  return enc.split(",").some((e) => e.trim() === "aws-chunked") || sha.startsWith("STREAMING-");
}

/** `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` … `0\r\n[trailers]\r\n`. */
function decodeAwsChunked(body) {
  const out = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf("\r\n", pos);
    if (eol === -1) throw new Error("malformed aws-chunked body");
    const size = parseInt(body.subarray(pos, eol).toString("latin1").split(";")[0], 16);
    if (!Number.isFinite(size)) throw new Error("malformed aws-chunked chunk size");
    if (size === 0) break;
    out.push(body.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

function sendError(res, status, code, message) {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
  res.end(xml);
}

function stripQuotes(etag) {
  return etag.replace(/^W\//, "").replace(/"/g, "");
}

function unescapeXml(s) {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&apos;/g, "'")
    .replace(/&#x60;/g, "`")
    .replace(/&amp;/g, "&");
}
