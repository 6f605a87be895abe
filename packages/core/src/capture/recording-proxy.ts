import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { IoError, UsageError } from "../errors.js";
import { ExchangeTap } from "./exchange-tap.js";
import type { RawApiRecord } from "./raw-api-record.js";
import { sessionIdFromHeaders } from "./session-from-headers.js";
import { WebSocketFrameReader } from "./websocket-frames.js";

export interface RecordingProxyOptions {
  /**
   * The real API base URL (e.g. `https://api.openai.com/v1`). A request for
   * `/responses` on the proxy goes to `<upstream>/responses`.
   */
  upstream: string | URL;
  /** Default 127.0.0.1: the proxy sees credentials and must not be reachable from elsewhere. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Called with every redacted record and the session its request headers name (null when none). */
  onRecord: (record: RawApiRecord, sessionId: string | null) => void;
  maxBodyBytes?: number;
}

export interface RecordingProxy {
  /** Base URL to give the agent instead of the upstream, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/**
 * A local HTTP proxy between an agent and its model API that records every
 * exchange. Bytes are forwarded as they arrive in both directions (a
 * streamed response reaches the agent event by event, never buffered);
 * recording watches the same bytes on the side.
 */
export async function startRecordingProxy(options: RecordingProxyOptions): Promise<RecordingProxy> {
  let upstream: URL;
  try {
    upstream = new URL(options.upstream);
  } catch {
    throw new UsageError(`invalid upstream URL ${JSON.stringify(String(options.upstream))}`);
  }
  if (upstream.protocol !== "http:" && upstream.protocol !== "https:") {
    throw new UsageError(`upstream must be an http(s) URL, got ${upstream.protocol}`);
  }
  const client = upstream.protocol === "https:" ? https : http;
  const agent = new client.Agent({ keepAlive: true });
  const basePath = upstream.pathname.replace(/\/+$/, "");

  const server = http.createServer({ noDelay: true }, (req, res) => {
    forward(req, res);
  });
  // Upgraded connections leave the server's bookkeeping; close() ends them from here.
  const tunnels = new Set<Duplex>();
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    tunnel(req, socket, head);
  });

  function targetOf(req: IncomingMessage): URL {
    const target = new URL(upstream.href);
    const reqUrl = new URL(req.url ?? "/", "http://proxy.invalid");
    target.pathname = basePath + reqUrl.pathname;
    target.search = reqUrl.search;
    return target;
  }

  function tapOf(req: IncomingMessage, target: URL): ExchangeTap {
    const sessionId = sessionIdFromHeaders(req.headers);
    return new ExchangeTap({
      method: req.method ?? "GET",
      url: target.href,
      requestHeaders: req.headers,
      emit: (record) => options.onRecord(record, sessionId),
      ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    });
  }

  /**
   * An Upgrade request (a Responses WebSocket): the handshake is recorded,
   * then both directions are tunnelled byte for byte. Frames are not
   * decoded; the agent's traffic must never depend on the recorder.
   */
  function tunnel(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = targetOf(req);
    const tap = tapOf(req, target);
    const record = afterForwarding();
    record(() => tap.requestEnd());
    const headers = forwardHeaders(req.headers, target);
    headers.connection = "Upgrade";
    if (req.headers.upgrade) headers.upgrade = req.headers.upgrade;
    // Without a compression offer the messages cross in clear frames that can be recorded.
    delete headers["sec-websocket-extensions"];
    const upReq = client.request(target, { method: req.method ?? "GET", headers, agent: false });
    tunnels.add(socket);
    socket.on("close", () => tunnels.delete(socket));
    socket.on("error", () => upReq.destroy());
    upReq.on("upgrade", (upRes, upSocket, upHead) => {
      record(() => tap.response(upRes.statusCode ?? 101, upRes.headers));
      let lines = `HTTP/1.1 ${upRes.statusCode ?? 101} ${upRes.statusMessage ?? "Switching Protocols"}\r\n`;
      for (let i = 0; i < upRes.rawHeaders.length; i += 2) lines += `${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}\r\n`;
      socket.write(lines + "\r\n");
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      let up = 0;
      let down = 0;
      const sent = new WebSocketFrameReader();
      const received = new WebSocketFrameReader();
      const onUp = (c: Buffer) => {
        up += c.length;
        record(() => {
          for (const m of sent.push(c)) tap.wsMessage("send", m.opcode, m.data, m.compressed);
        });
      };
      const onDown = (c: Buffer) => {
        down += c.length;
        record(() => {
          for (const m of received.push(c)) tap.wsMessage("receive", m.opcode, m.data, m.compressed);
        });
      };
      if (head.length) onUp(head);
      if (upHead.length) onDown(upHead);
      // The pipes first: "data" listeners run in the order they were added, and the forwarding must come before the recording.
      upSocket.pipe(socket);
      socket.pipe(upSocket);
      upSocket.on("data", onDown);
      socket.on("data", onUp);
      const end = () => {
        record(() => tap.tunnelEnd(up, down));
        socket.destroy();
        upSocket.destroy();
      };
      // No half-open tunnels: when either side ends, both go (sockets here allow half-open by default).
      for (const ev of ["end", "close"]) {
        upSocket.on(ev, end);
        socket.on(ev, end);
      }
      upSocket.on("error", () => {});
    });
    // The upstream answered without upgrading (e.g. 426 or 401): pass that answer on as is.
    upReq.on("response", (upRes) => {
      record(() => tap.response(upRes.statusCode ?? 502, upRes.headers));
      let lines = `HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage ?? ""}\r\n`;
      for (let i = 0; i < upRes.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(upRes.rawHeaders[i]!.toLowerCase())) lines += `${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}\r\n`;
      }
      socket.write(lines + "connection: close\r\n\r\n");
      upRes.on("data", (c: Buffer) => {
        socket.write(c);
        record(() => tap.responseChunk(c));
      });
      upRes.on("end", () => {
        socket.end();
        record(() => tap.responseEnd());
      });
    });
    upReq.on("error", (err) => {
      record(() => tap.error(new IoError(`upstream ${target.origin} failed: ${err.message}`, { cause: err })));
      socket.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    });
    upReq.end();
  }

  function forward(req: IncomingMessage, res: ServerResponse): void {
    const target = targetOf(req);
    const method = req.method ?? "GET";
    const tap = tapOf(req, target);
    const record = afterForwarding();

    const upReq = client.request(target, { method, headers: forwardHeaders(req.headers, target), agent });
    let responded = false;
    upReq.on("response", (upRes) => {
      responded = true;
      const status = upRes.statusCode ?? 502;
      res.writeHead(status, upRes.statusMessage, responseHeaders(upRes.headers));
      res.flushHeaders();
      record(() => tap.response(status, upRes.headers));
      upRes.on("data", (chunk: Buffer) => {
        if (!res.write(chunk)) {
          upRes.pause();
          res.once("drain", () => upRes.resume());
        }
        record(() => tap.responseChunk(chunk));
      });
      upRes.on("end", () => {
        res.end();
        record(() => tap.responseEnd());
      });
      upRes.on("error", (err) => {
        res.destroy(err);
        record(() => tap.error(err));
      });
    });
    upReq.on("error", (err) => {
      record(() => tap.error(new IoError(`upstream ${target.origin} failed: ${err.message}`, { cause: err })));
      if (!responded && !res.headersSent) {
        res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `sessionvault proxy: upstream ${target.origin} unreachable: ${err.message}`, type: "proxy_error" } }));
      } else {
        res.destroy();
      }
    });
    // The agent went away (cancelled a turn, was killed): stop the upstream request too.
    res.on("close", () => {
      if (!res.writableFinished) {
        upReq.destroy();
        record(() => tap.error(new Error("client closed the connection before the response ended")));
      }
    });

    req.on("data", (chunk: Buffer) => {
      if (!upReq.write(chunk)) {
        req.pause();
        upReq.once("drain", () => req.resume());
      }
      record(() => tap.requestChunk(chunk));
    });
    req.on("end", () => {
      upReq.end();
      record(() => tap.requestEnd());
    });
    req.on("error", (err) => {
      upReq.destroy();
      record(() => tap.error(err));
    });
  }

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new IoError(`cannot start the recording proxy on ${host}: ${err.message}`, { cause: err })));
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        for (const t of tunnels) t.destroy();
        agent.destroy();
        // Streams still open when the agent is gone would keep close() waiting forever.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      return closing;
    },
  };
}

/**
 * A queue for one exchange's recording work (parsing, redacting, logging).
 * The work runs in call order, in the check phase of the event loop: after
 * every chunk that arrived in the same turn has been forwarded, so the
 * bytes never wait for the recording of the bytes before them.
 */
function afterForwarding(): (work: () => void) => void {
  let queue: (() => void)[] | null = null;
  const drain = () => {
    const q = queue!;
    queue = null;
    for (const work of q) work();
  };
  return (work) => {
    if (queue) queue.push(work);
    else {
      queue = [work];
      setImmediate(drain);
    }
  };
}

function forwardHeaders(headers: IncomingHttpHeaders, target: URL): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  out.host = target.host;
  return out;
}

function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  return out;
}
