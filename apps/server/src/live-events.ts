import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * Server-Sent Events that say "changed" whenever a probe of the store gives a
 * new answer. Polling the store's stream positions works on every store (a
 * file tree, Postgres, S3) and on every instance behind a load balancer,
 * where no one process sees all writes.
 */
export class LiveEvents {
  readonly #open = new Set<() => void>();
  readonly #intervalMs: number;
  /** Set at shutdown: a stream asked for after that (a browser reconnecting on a kept-alive socket) is refused. */
  #closed = false;

  constructor(intervalMs = 500) {
    this.#intervalMs = intervalMs;
  }

  /** Streams events until the client goes away or the server closes; `probe` names the state watched. */
  async watch(req: FastifyRequest, reply: FastifyReply, probe: () => Promise<string>): Promise<void> {
    // The state to compare with is read before the stream opens: whatever is written once the browser
    // sees the stream open is announced.
    let last = this.#closed ? "" : await probe();
    // The server began to close while the probe ran (or before): a stream opened now would hold
    // the close open for as long as the browser stays.
    if (this.#closed) {
      await reply.code(503).header("connection", "close").send();
      return;
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
      connection: "keep-alive",
    });
    // A reconnecting browser waits this long; the first comment opens the stream at once.
    res.write(`retry: 2000\n: watching\n\n`);
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      this.#open.delete(stop);
      res.end();
    };
    this.#open.add(stop);
    req.raw.once("close", stop);
    const tick = async () => {
      try {
        const now = await probe();
        if (now !== last && !stopped) res.write(`event: change\ndata: {}\n\n`);
        last = now;
      } catch (err) {
        req.log.warn({ err }, "live events: probe failed");
      }
      if (!stopped) timer = setTimeout(() => void tick(), this.#intervalMs);
    };
    timer = setTimeout(() => void tick(), this.#intervalMs);
  }

  /** Ends every open stream (at shutdown, so that the server's close does not wait for browsers). */
  closeAll(): void {
    this.#closed = true;
    for (const stop of [...this.#open]) stop();
  }
}
