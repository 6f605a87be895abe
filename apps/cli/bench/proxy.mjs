#!/usr/bin/env node
// Benchmark of the recording proxy behind `sessionvault run --persist-session`
// (issue 4). An upstream HTTP server stands in for the model API; every
// figure is measured twice in the same run: directly against the upstream
// (the baseline) and through the recording proxy, which records every
// exchange (redacted) into real session files in a temp directory. The
// upstream and the proxy each run in their own worker thread, as they run
// in their own processes in real use; the client is the main thread.
//
// 1. Added latency per request: sequential keep-alive POSTs with a small
//    JSON answer; p50/p90/p99 and the added p50 (target < 2 ms).
// 2. Streamed SSE throughput: one response of many events, MB/s and ratio,
//    also through a plain Node pass-through proxy that records nothing (in
//    the same kind of worker), which shows what the recording itself costs.
// 3. Pass-through check: the upstream sends one event and then waits until
//    the client has received it; a buffering proxy would never deliver it.
//
// Scale with env vars: BENCH_REQUESTS (default 2000), BENCH_SSE_MB (64),
// BENCH_EVENT_BYTES (1024), BENCH_BODY_BYTES (request body, 4096).
import http from "node:http";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DirectorySink, SessionRecorder, startRecordingProxy } from "@sessionvault/core";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const SSE_MB = Number(process.env.BENCH_SSE_MB ?? 64);
const EVENT_BYTES = Number(process.env.BENCH_EVENT_BYTES ?? 1024);
const BODY_BYTES = Number(process.env.BENCH_BODY_BYTES ?? 4096);
const THREAD = "01a1fd82-54c7-72f2-8c3e-d68bacf1c447";

const eventText = (i) => {
  const head = `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","seq":${i},"delta":"`;
  const tail = `"}\n\n`;
  return head + "x".repeat(Math.max(0, EVENT_BYTES - head.length - tail.length)) + tail;
};
const EVENT = Buffer.from(eventText(0));
const SSE_EVENTS = Math.ceil((SSE_MB * 1024 * 1024) / EVENT.length);

if (!isMainThread) {
  if (workerData.role === "upstream") await runUpstream();
  else if (workerData.role === "plain") await runPlainProxy(workerData.upstreamUrl);
  else await runProxy(workerData.upstreamUrl);
} else {
  await runClient();
}

async function runUpstream() {
  let release = () => {};
  const upstream = http.createServer({ noDelay: true }, (req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url.endsWith("/small")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"id":"resp_1","object":"response","status":"completed"}');
      } else if (req.url.endsWith("/sse")) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        let i = 0;
        const pump = () => {
          while (i < SSE_EVENTS) {
            i++;
            if (!res.write(EVENT)) return void res.once("drain", pump);
          }
          res.end('event: response.completed\ndata: {"type":"response.completed"}\n\n');
        };
        pump();
      } else if (req.url.endsWith("/gated")) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(eventText(0));
        const t = setTimeout(() => res.end("event: timeout\ndata: {}\n\n"), 5000);
        release = () => {
          clearTimeout(t);
          res.end('event: response.completed\ndata: {"type":"response.completed"}\n\n');
        };
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise((r) => upstream.listen(0, "127.0.0.1", r));
  parentPort.on("message", (m) => {
    if (m === "release") release();
    if (m === "stop") {
      upstream.close(() => process.exit(0));
      upstream.closeAllConnections();
    }
  });
  parentPort.postMessage(`http://127.0.0.1:${upstream.address().port}/v1`);
}

async function runProxy(upstreamUrl) {
  const dir = await mkdtemp(join(tmpdir(), "sv-proxy-bench-"));
  const sink = new DirectorySink(join(dir, "sessions", THREAD));
  const recorder = new SessionRecorder({ sink, onError: (e) => console.error("recording failed:", e) });
  const proxy = await startRecordingProxy({ upstream: upstreamUrl, onRecord: (r) => recorder.rawApi(r) });
  parentPort.on("message", async (m) => {
    if (m !== "stop") return;
    await proxy.close();
    await recorder.close();
    const raw = await stat(join(dir, "sessions", THREAD, "session_oai_raw.log"));
    await rm(dir, { recursive: true, force: true });
    parentPort.postMessage({ recordedBytes: raw.size });
  });
  parentPort.postMessage(proxy.url);
}

/** The same forwarding with nothing recorded: Node's http client piped to the server response. */
async function runPlainProxy(upstreamUrl) {
  const up = new URL(upstreamUrl);
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer({ noDelay: true }, (req, res) => {
    const upReq = http.request({ host: up.hostname, port: up.port, path: up.pathname + req.url, method: req.method, headers: req.headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode, upRes.headers);
      upRes.pipe(res);
    });
    req.pipe(upReq);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  parentPort.on("message", (m) => {
    if (m === "stop") {
      server.close();
      server.closeAllConnections();
      agent.destroy();
    }
  });
  parentPort.postMessage(`http://127.0.0.1:${server.address().port}`);
}

async function runClient() {
  const once = (w) => new Promise((r) => w.once("message", r));
  const upstreamWorker = new Worker(new URL(import.meta.url), { workerData: { role: "upstream" } });
  const upstreamUrl = await once(upstreamWorker);
  const proxyWorker = new Worker(new URL(import.meta.url), { workerData: { role: "proxy", upstreamUrl } });
  const proxyUrl = await once(proxyWorker);
  const plainWorker = new Worker(new URL(import.meta.url), { workerData: { role: "plain", upstreamUrl } });
  const plainUrl = await once(plainWorker);
  const release = () => upstreamWorker.postMessage("release");
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const body = JSON.stringify({ model: "gpt-5.5", input: "y".repeat(Math.max(0, BODY_BYTES - 40)) });
  const headers = { "content-type": "application/json", authorization: "Bearer sk-bench-000000000000000000000000", "thread-id": THREAD };

  function post(base, path, onChunk) {
    return new Promise((resolve, reject) => {
      const req = http.request(`${base}${path}`, { method: "POST", agent, headers }, (res) => {
        let bytes = 0;
        res.on("data", (c) => {
          bytes += c.length;
          onChunk?.(c);
        });
        res.on("end", () => resolve(bytes));
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  async function latency(base) {
    for (let i = 0; i < 100; i++) await post(base, "/small"); // warm-up: JIT and the keep-alive socket
    const t = [];
    for (let i = 0; i < REQUESTS; i++) {
      const s = performance.now();
      await post(base, "/small");
      t.push(performance.now() - s);
    }
    t.sort((a, b) => a - b);
    return { p50: pct(t, 50), p90: pct(t, 90), p99: pct(t, 99) };
  }

  async function throughput(base) {
    const s = performance.now();
    const bytes = await post(base, "/sse");
    const secs = (performance.now() - s) / 1000;
    return { bytes, mbps: bytes / 1024 / 1024 / secs, eventsPerSec: (SSE_EVENTS + 1) / secs };
  }

  async function passThrough(base) {
    let first = 0;
    let sawFirst;
    const gotFirst = new Promise((r) => (sawFirst = r));
    const s = performance.now();
    const done = post(base, "/gated", () => {
      if (!first) {
        first = performance.now() - s;
        sawFirst();
      }
    });
    const timedOut = await Promise.race([gotFirst.then(() => false), new Promise((r) => setTimeout(() => r(true), 3000))]);
    release();
    await done;
    return { unbuffered: !timedOut, firstEventMs: first };
  }

  const f = (n) => n.toFixed(3);
  console.log(
    `proxy bench: ${REQUESTS} requests (body ${BODY_BYTES} B), SSE ${SSE_MB} MB in ${SSE_EVENTS} events of ${EVENT.length} B; upstream and proxy in worker threads`,
  );

  const dLat = await latency(upstreamUrl);
  const pLat = await latency(proxyUrl);
  console.log(`latency direct (baseline): p50 ${f(dLat.p50)} ms  p90 ${f(dLat.p90)} ms  p99 ${f(dLat.p99)} ms`);
  console.log(`latency via proxy        : p50 ${f(pLat.p50)} ms  p90 ${f(pLat.p90)} ms  p99 ${f(pLat.p99)} ms`);
  const added = pLat.p50 - dLat.p50;
  console.log(
    `added latency p50: ${f(added)} ms (target < 2 ms: ${added < 2 ? "met" : "NOT met"}); ratio proxy/direct p50 ${(pLat.p50 / dLat.p50).toFixed(2)}x`,
  );

  const dTp = await throughput(upstreamUrl);
  const plainTp = await throughput(plainUrl);
  const pTp = await throughput(proxyUrl);
  if (dTp.bytes !== pTp.bytes) throw new Error(`proxy delivered ${pTp.bytes} bytes, upstream sent ${dTp.bytes}`);
  console.log(`SSE throughput direct (baseline): ${dTp.mbps.toFixed(1)} MB/s`);
  console.log(
    `SSE throughput via plain proxy  : ${plainTp.mbps.toFixed(1)} MB/s (ratio ${(plainTp.mbps / dTp.mbps).toFixed(2)}x of direct; forwards only, records nothing)`,
  );
  console.log(
    `SSE throughput via proxy        : ${pTp.mbps.toFixed(1)} MB/s (ratio ${(pTp.mbps / dTp.mbps).toFixed(2)}x of direct, ${(pTp.mbps / plainTp.mbps).toFixed(2)}x of the plain proxy), ${Math.round(pTp.eventsPerSec)} events/s each parsed, redacted and written`,
  );

  const dPass = await passThrough(upstreamUrl);
  const pPass = await passThrough(proxyUrl);
  console.log(
    `pass-through: first event before the upstream finished — direct ${dPass.unbuffered ? "yes" : "NO"} (${f(dPass.firstEventMs)} ms), via proxy ${pPass.unbuffered ? "yes" : "NO"} (${f(pPass.firstEventMs)} ms)`,
  );

  const { recordedBytes } = await new Promise((r) => {
    proxyWorker.once("message", r);
    proxyWorker.postMessage("stop");
  });
  console.log(`recorded ${(recordedBytes / 1024 / 1024).toFixed(1)} MB of raw-api lines`);
  agent.destroy();
  upstreamWorker.postMessage("stop");
  plainWorker.postMessage("stop");
  await plainWorker.terminate();
  await proxyWorker.terminate();
  await upstreamWorker.terminate();
  if (!pPass.unbuffered) {
    console.error("FAIL: the proxy buffered the event stream");
    process.exitCode = 1;
  }
}
