import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real local HTTP server standing in for a model API in capture tests.
 * `/v1/responses` streams server-sent events; the second event is only sent
 * once the test calls `release()`, so a test can prove the first event went
 * through the proxy before the upstream finished.
 */
export interface TestUpstream {
  url: string;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }[];
  release(): void;
  /** Resolves when a streaming response was closed by the other side before it ended. */
  aborted: Promise<void>;
  close(): Promise<void>;
}

export async function startTestUpstream(): Promise<TestUpstream> {
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  let onAbort!: () => void;
  const aborted = new Promise<void>((r) => (onAbort = r));
  const requests: TestUpstream["requests"] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      const path = req.url!.split("?")[0];
      if (path === "/v1/responses") {
        res.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
          "x-request-id": "req_1",
          "set-cookie": "sid=cookie-secret-value",
        });
        res.write(`event: response.created\ndata: ${JSON.stringify({ type: "response.created", response: { id: "resp_1" } })}\n\n`);
        await gate;
        res.write(
          `event: response.output_text.delta\ndata: ${JSON.stringify({ type: "response.output_text.delta", delta: "key sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 leaked" })}\n\n`,
        );
        res.end(`event: response.completed\ndata: ${JSON.stringify({ type: "response.completed" })}\n\n`);
        gate = new Promise<void>((r) => (release = r));
      } else if (path === "/v1/many") {
        // Many events in writes of uneven size, some in the same turn of the event loop, some apart.
        res.writeHead(200, { "content-type": "text/event-stream" });
        const n = 3000;
        for (let i = 0; i < n; ) {
          let burst = "";
          for (const end = Math.min(n, i + 1 + (i % 7)); i < end; i++) burst += `event: e\ndata: {"i":${i},"pad":"${"p".repeat(i % 50)}"}\n\n`;
          res.write(burst.slice(0, 10));
          res.write(burst.slice(10));
          if (i % 5 === 0) await new Promise((r) => setImmediate(r));
        }
        res.end();
      } else if (path === "/v1/hang") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(`data: {"type":"first"}\n\n`);
        res.on("close", () => onAbort());
      } else if (path === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ data: [{ id: "m1" }], token: "body-token-value" }));
      } else {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not here");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    release: () => release(),
    aborted,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
