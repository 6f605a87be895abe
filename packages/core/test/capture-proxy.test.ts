import http from "node:http";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startRecordingProxy, type RawApiRecord, type RecordingProxy } from "@sessionvault/core";
import { startTestUpstream, type TestUpstream } from "@sessionvault/testing/capture-upstream";
import { wsFrame } from "./support/ws-frame.js";

const THREAD = "01a1fd82-54c7-72f2-8c3e-d68bacf1c447";
const ROOT = "01a1fd7f-e4ca-7b22-9b93-e2ac7cfc09ad";
const KEY = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0";

let upstream: TestUpstream;
let proxy: RecordingProxy;
let records: { record: RawApiRecord; sessionId: string | null }[];

beforeEach(async () => {
  upstream = await startTestUpstream();
  records = [];
  proxy = await startRecordingProxy({ upstream: upstream.url, onRecord: (record, sessionId) => records.push({ record, sessionId }) });
});
afterEach(async () => {
  upstream.release();
  await proxy.close();
  await upstream.close();
});

/** A raw HTTP request through the proxy that reports each chunk as it arrives. */
function request(path: string, options: { method?: string; headers?: Record<string, string>; body?: string; onChunk?: (c: string) => void }) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(proxy.url + path, { method: options.method ?? "POST", headers: options.headers ?? {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
        options.onChunk?.(c);
      });
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const waitFor = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("recording proxy", () => {
  it("streams SSE through unbuffered: the first event arrives before the upstream has finished", async () => {
    const chunks: string[] = [];
    const done = request("/responses?stream=1", {
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`, "thread-id": THREAD, "session-id": ROOT },
      body: JSON.stringify({ model: "m", input: "hi" }),
      onChunk: (c) => chunks.push(c),
    });
    // The upstream holds the rest of the stream until released: if the proxy buffered, this would time out.
    await waitFor(() => chunks.join("").includes("response.created"));
    expect(chunks.join("")).not.toContain("response.completed");
    upstream.release();
    const res = await done;
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream");
    expect(res.body).toContain("event: response.completed");
    // The agent gets the upstream bytes unchanged, secrets included: redaction is for what is written.
    expect(res.body).toContain("sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
    await waitFor(() => records.some((r) => r.record.type === "response_end"));
    expect(records.map((r) => r.record.type)).toEqual(["request", "response", "event", "event", "event", "response_end"]);
    expect(records.every((r) => r.sessionId === THREAD)).toBe(true);
    const events = records.map((r) => r.record).filter((r) => r.type === "event");
    expect(events.map((e) => (e as { event: string }).event)).toEqual(["response.created", "response.output_text.delta", "response.completed"]);
    expect(JSON.stringify(events[1])).not.toContain("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
    const resp = records[1]!.record as Extract<RawApiRecord, { type: "response" }>;
    expect(resp.status).toBe(200);
    expect(resp.headers["set-cookie"]).toBe("[REDACTED]");
    expect(resp.url).toBe(`${upstream.url}/responses?stream=1`);
  });

  it("records every event of a long stream, in order, whatever the chunking (recording runs after forwarding)", async () => {
    const res = await request("/many", { headers: { "thread-id": THREAD }, body: "{}" });
    const sent = res.body.split("\n\n").filter(Boolean).length;
    expect(sent).toBe(3000);
    await waitFor(() => records.some((r) => r.record.type === "response_end"));
    const types = records.map((r) => r.record.type);
    expect(types[0]).toBe("request");
    expect(types[1]).toBe("response");
    expect(types.at(-1)).toBe("response_end");
    const events = records.map((r) => r.record).filter((r): r is Extract<RawApiRecord, { type: "event" }> => r.type === "event");
    expect(events.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    const end = records.at(-1)!.record as Extract<RawApiRecord, { type: "response_end" }>;
    expect(end.events).toBe(3000);
    expect(end.body_bytes).toBe(Buffer.byteLength(res.body));
  });

  it("forwards the request byte-exact to the upstream path and records it redacted", async () => {
    const body = JSON.stringify({
      model: "m",
      input: [{ role: "user", content: `use ${KEY}` }],
      api_key: "plain-value-under-secret-key",
      nested: { password: "hunter2hunter2" },
    });
    upstream.release();
    await request("/responses", {
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}`, "x-api-key": "xk-123456", "thread-id": THREAD },
      body,
    });
    const seen = upstream.requests[0]!;
    expect(seen.url).toBe("/v1/responses");
    expect(seen.body.toString()).toBe(body);
    expect(seen.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(seen.headers.host).toBe(new URL(upstream.url).host);
    await waitFor(() => records.some((r) => r.record.type === "response_end"));
    const req = records.find((r) => r.record.type === "request")!.record as Extract<RawApiRecord, { type: "request" }>;
    expect(req.method).toBe("POST");
    expect(req.headers.authorization).toBe("Bearer [REDACTED]");
    expect(req.headers["x-api-key"]).toBe("[REDACTED]");
    expect(req.body_bytes).toBe(Buffer.byteLength(body));
    const text = JSON.stringify(records);
    for (const secret of [KEY, "plain-value-under-secret-key", "hunter2hunter2", "xk-123456", "cookie-secret-value"]) expect(text).not.toContain(secret);
    expect((req.body as { model: string }).model).toBe("m");
  });

  it("files exchanges under thread-id, then session_id/conversation_id, then turn metadata; never under 0.169's root session-id", async () => {
    const send = (headers: Record<string, string>) => request("/models", { method: "GET", headers });
    await send({ "thread-id": THREAD, "session-id": ROOT });
    await send({ session_id: ROOT, conversation_id: ROOT });
    await send({ "x-codex-turn-metadata": JSON.stringify({ thread_id: THREAD, session_id: ROOT }), "session-id": ROOT });
    await send({ "session-id": ROOT });
    await send({ "thread-id": "../../etc/passwd" });
    await waitFor(() => records.filter((r) => r.record.type === "response_body").length === 5);
    expect(records.filter((r) => r.record.type === "request").map((r) => r.sessionId)).toEqual([THREAD, ROOT, THREAD, null, null]);
    const bodyRec = records.find((r) => r.record.type === "response_body")!.record as Extract<RawApiRecord, { type: "response_body" }>;
    expect(bodyRec.body).toEqual({ data: [{ id: "m1" }], token: "[REDACTED]" });
  });

  it("answers 502 and records an error when the upstream is unreachable", async () => {
    await proxy.close();
    const dead = await startTestUpstream();
    const deadUrl = dead.url;
    await dead.close();
    proxy = await startRecordingProxy({ upstream: deadUrl, onRecord: (record, sessionId) => records.push({ record, sessionId }) });
    const res = await request("/responses", { headers: { "thread-id": THREAD }, body: "{}" });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body).error.type).toBe("proxy_error");
    await waitFor(() => records.some((r) => r.record.type === "error"));
    const err = records.find((r) => r.record.type === "error")!;
    expect(err.sessionId).toBe(THREAD);
    expect((err.record as { message: string }).message).toMatch(/upstream .* failed/);
  });

  it("closes the upstream request and records an error when the agent goes away mid-stream", async () => {
    const req = http.request(proxy.url + "/hang", { method: "GET", headers: { "thread-id": THREAD } }, (res) => {
      res.once("data", () => req.destroy());
    });
    req.on("error", () => {});
    req.end();
    await upstream.aborted;
    await waitFor(() => records.some((r) => r.record.type === "error"));
    const types = records.map((r) => r.record.type);
    expect(types).toContain("event");
    expect(types.at(-1)).toBe("error");
  });

  it("tunnels a WebSocket upgrade byte for byte and records its handshake; a refused upgrade is passed on", async () => {
    const ws = http.createServer((_req, res) => res.writeHead(404).end());
    const upgraded = new Set<import("node:stream").Duplex>();
    let handshake: http.IncomingHttpHeaders = {};
    ws.on("upgrade", (req, socket) => {
      upgraded.add(socket);
      if (req.url !== "/v1/responses")
        return socket.end("HTTP/1.1 426 Upgrade Required\r\ncontent-type: text/plain\r\ncontent-length: 26\r\n\r\nupgrade required elsewhere");
      handshake = req.headers;
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: test\r\n\r\n");
      // Answers each client frame with one server frame: the response events the agent waits for.
      socket.on("data", () => socket.write(wsFrame(JSON.stringify({ type: "response.output_text.delta", delta: `leak ${KEY}` }))));
    });
    await new Promise<void>((r) => ws.listen(0, "127.0.0.1", r));
    const wsUrl = `http://127.0.0.1:${(ws.address() as { port: number }).port}/v1`;
    await proxy.close();
    proxy = await startRecordingProxy({ upstream: wsUrl, onRecord: (record, sessionId) => records.push({ record, sessionId }) });
    try {
      const echoed = await new Promise<string>((resolve, reject) => {
        const req = http.request(proxy.url + "/responses", {
          headers: {
            connection: "Upgrade",
            upgrade: "websocket",
            "sec-websocket-key": "k",
            "sec-websocket-extensions": "permessage-deflate",
            authorization: `Bearer ${KEY}`,
            "thread-id": THREAD,
          },
        });
        req.on("upgrade", (res, socket) => {
          expect(res.statusCode).toBe(101);
          socket.once("data", (c: Buffer) => {
            resolve(c.toString("latin1"));
            socket.destroy();
          });
          socket.write(wsFrame(JSON.stringify({ type: "response.create", input: "hi", api_key: KEY }), { mask: true }));
        });
        req.on("error", reject);
        req.end();
      });
      // The agent got the server's frame byte for byte (secret included: redaction is only for what is written).
      expect(echoed).toContain(`leak ${KEY}`);
      expect(handshake["sec-websocket-extensions"]).toBeUndefined();
      expect(handshake.authorization).toBe(`Bearer ${KEY}`);
      await waitFor(() => records.some((r) => r.record.type === "response_end"));
      expect(records.map((r) => r.record.type)).toEqual(["request", "response", "ws_message", "ws_message", "response_end"]);
      expect(records.every((r) => r.sessionId === THREAD)).toBe(true);
      expect((records[0]!.record as { headers: Record<string, string> }).headers.authorization).toBe("Bearer [REDACTED]");
      expect(records[2]!.record).toMatchObject({ direction: "send", opcode: 1, data: { type: "response.create", input: "hi", api_key: "[REDACTED]" } });
      expect(records[3]!.record).toMatchObject({ direction: "receive", data: { type: "response.output_text.delta" } });
      expect(JSON.stringify(records)).not.toContain(KEY);
      expect(records[4]!.record).toMatchObject({ status: 101 });

      records = [];
      const refused = await request("/other", { method: "GET", headers: { connection: "Upgrade", upgrade: "websocket" } });
      expect(refused).toMatchObject({ status: 426, body: "upgrade required elsewhere" });
      await waitFor(() => records.some((r) => r.record.type === "response_body"));
      expect(records.map((r) => r.record.type)).toEqual(["request", "response", "response_body"]);
    } finally {
      for (const sock of upgraded) sock.destroy();
      ws.closeAllConnections();
      await new Promise((r) => ws.close(r));
    }
  });

  it("refuses an upstream that is not http(s)", async () => {
    await expect(startRecordingProxy({ upstream: "file:///etc/passwd", onRecord: () => {} })).rejects.toMatchObject({ code: "USAGE" });
  });
});
