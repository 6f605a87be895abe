import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP proxy in front of an S3 endpoint that fails a fraction of the
 * requests it sees, the ways networks and S3 really fail:
 *
 * - `500` / `503`: answered by the proxy, the request never reaches S3;
 * - `reset`: the connection is cut before the request is forwarded;
 * - `reset-after`: the request IS applied by S3, then the connection is cut
 *   before the answer arrives (the client cannot know it succeeded);
 * - `slow`: the request is applied, and the answer held back longer than
 *   the client's timeout;
 * - `cut`: the answer's headers and half its body are sent, then the
 *   connection is cut (a read that breaks in the middle of an object).
 *
 * The last two are what makes retried conditional writes ambiguous.
 */
export type FaultKind = "500" | "503" | "reset" | "reset-after" | "slow" | "cut";

export interface FaultyProxyOptions {
  target: string;
  /** Fraction of requests to fail, 0..1. */
  rate: number;
  kinds?: FaultKind[];
  /** How long a `slow` answer is held back (default 1500 ms). */
  slowMs?: number;
  /** Deterministic faults for a reproducible test run. */
  seed?: number;
}

export interface FaultyProxy {
  endpoint: string;
  readonly requests: number;
  readonly faults: Record<FaultKind, number>;
  /** Changes the failure rate (e.g. 0 to verify through the same endpoint). */
  setRate(rate: number): void;
  stop(): Promise<void>;
}

export async function startFaultyProxy(options: FaultyProxyOptions): Promise<FaultyProxy> {
  const target = new URL(options.target);
  const kinds = options.kinds ?? ["500", "503", "reset", "reset-after", "slow", "cut"];
  const slowMs = options.slowMs ?? 1500;
  let rate = options.rate;
  let state = options.seed ?? 0x5eed;
  // mulberry32: a tiny seeded generator, so a failing run can be replayed.
  const random = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const faults: Record<FaultKind, number> = { "500": 0, "503": 0, reset: 0, "reset-after": 0, slow: 0, cut: 0 };
  let requests = 0;
  const timers = new Set<NodeJS.Timeout>();

  const server: Server = createServer((req, res) => {
    requests++;
    const fault = random() < rate ? kinds[Math.floor(random() * kinds.length)]! : null;
    if (fault) faults[fault]++;
    if (fault === "500" || fault === "503") {
      req.resume();
      req.on("end", () => {
        const code = fault === "500" ? "InternalError" : "SlowDown";
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected fault</Message></Error>`;
        res.writeHead(Number(fault), { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
        res.end(xml);
      });
      return;
    }
    if (fault === "reset") {
      req.socket.destroy();
      return;
    }
    forward(req, res, fault);
  });

  function forward(req: IncomingMessage, res: ServerResponse, fault: FaultKind | null): void {
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      const chunks: Buffer[] = [];
      upRes.on("data", (c: Buffer) => chunks.push(c));
      upRes.on("end", () => {
        if (fault === "reset-after") {
          res.socket?.destroy();
          return;
        }
        if (fault === "cut") {
          const body = Buffer.concat(chunks);
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
          return;
        }
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.end(Buffer.concat(chunks));
        };
        if (fault === "slow") {
          const t = setTimeout(() => {
            timers.delete(t);
            send();
          }, slowMs);
          timers.add(t);
        } else send();
      });
    });
    up.on("error", () => res.socket?.destroy());
    req.pipe(up);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    faults,
    setRate(r: number) {
      rate = r;
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
