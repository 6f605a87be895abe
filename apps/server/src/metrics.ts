import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prometheus metrics of one server instance (own registry, so several instances can share a process). */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"method" | "route" | "status">;
  readonly latency: Histogram<"method" | "route">;
  readonly linesAppended: Counter;
  readonly bytesAppended: Counter;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: "sessionvault_http_requests_total",
      help: "HTTP requests by method, route and status",
      labelNames: ["method", "route", "status"],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: "sessionvault_http_request_duration_seconds",
      help: "HTTP request latency",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.linesAppended = new Counter({
      name: "sessionvault_lines_appended_total",
      help: "Stream lines committed through the API",
      registers: [this.registry],
    });
    this.bytesAppended = new Counter({
      name: "sessionvault_bytes_appended_total",
      help: "Stream bytes (with newlines) committed through the API",
      registers: [this.registry],
    });
  }
}
