import { randomBytes } from "node:crypto";
import { join } from "node:path";
import Fastify, { LogController } from "fastify";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import fastifyCookie from "@fastify/cookie";
import fastifySwagger from "@fastify/swagger";
import { InvalidInputError, type TokenStore } from "@sessionvault/core";
import { CoalescedReads } from "./coalesced-reads.js";
import { errorReply } from "./error-reply.js";
import { ServerMetrics } from "./metrics.js";
import type { OrgStores } from "./org-stores.js";
import { TokenVerifier } from "./tokens.js";
import { SERVER_PACKAGE_DIR } from "./package-dir.js";
import { UiSessions } from "./ui-sessions.js";
import type { ServerContext } from "./server-context.js";
import { v1Routes } from "./routes/v1.js";
import { mcpRoutes } from "./routes/mcp.js";
import { uiRoutes } from "./routes/ui.js";

export interface AppOptions {
  /** The store of each org, opened on first use; closed when the app closes. */
  stores: OrgStores;
  /** Where API tokens (hashed) are kept. */
  tokens: TokenStore;
  /** fastify/pino logger options; false in tests. Default: JSON logs at "info". */
  logger?: FastifyServerOptions["logger"];
  /** Largest accepted append body (default 64 MiB): a Codex line can carry megabytes of base64. */
  maxAppendBytes?: number;
  /** Also export Node process metrics (off in tests, which run several servers in one process). */
  processMetrics?: boolean;
  /** Directory of style.css and app.js (default: the package's public/). */
  publicDir?: string;
  /**
   * Signs web UI login cookies (HMAC-SHA256), at least 32 characters. Give
   * every instance that serves one store the same secret, and a login made on
   * one works on all. A list rotates it: the first signs, all verify.
   * Default: random per process (a restart logs everyone out); the
   * server's main keeps one in the data folder instead.
   */
  uiSecret?: string | readonly string[];
}

const DEFAULT_PUBLIC = join(SERVER_PACKAGE_DIR, "public");

/**
 * Builds the archive server (DESIGN.md §11) without listening. It holds no
 * session data of its own: everything is read from and written to the
 * stores, so any number of instances can serve one Postgres or S3 store
 * (web UI logins are signed cookies: give the instances one `uiSecret`).
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? { level: "info" },
    // A retried sync sends many small POSTs: keep connections alive.
    keepAliveTimeout: 65_000,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // Request lines only at debug (below): at info, two lines per request bury everything else.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: true, coerceTypes: "array", useDefaults: true, allErrors: false } },
  });
  const uiSecrets = typeof options.uiSecret === "string" ? [options.uiSecret] : [...(options.uiSecret ?? [])];
  if (uiSecrets.some((s) => s.length < 32)) throw new InvalidInputError("the web UI secret (SESSIONVAULT_UI_SECRET) must be at least 32 characters");
  if (uiSecrets.length === 0) uiSecrets.push(randomBytes(32).toString("base64url"));
  const verifier = new TokenVerifier(options.tokens);
  const ctx: ServerContext = {
    stores: options.stores,
    tokens: options.tokens,
    verifier,
    uiSessions: new UiSessions(verifier),
    metrics: new ServerMetrics({ defaultMetrics: options.processMetrics ?? false }),
    inflight: new Set(),
    maxAppendBytes: options.maxAppendBytes ?? 64 * 1024 * 1024,
    lists: new CoalescedReads(),
  };

  app.decorateRequest("principal", null);

  // Append bodies are raw lines; parse them as bytes so that bad UTF-8 is
  // refused instead of silently replaced.
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser(["application/x-ndjson", "text/plain", "application/octet-stream"], { parseAs: "buffer" }, (_req, body, done) => {
    done(null, body);
  });

  app.setErrorHandler(async (err, req, reply) => {
    const { status, body, internal } = errorReply(err);
    if (internal) req.log.error({ err }, "request failed");
    else req.log.info({ code: body.code, status }, body.message);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler(async (req, reply) => reply.code(404).send({ code: "ROUTE_NOT_FOUND", message: `no route ${req.method} ${req.url.split("?")[0]}` }));

  // At debug, a line when a request starts too: what a server is busy with when it seems stuck.
  app.addHook("onRequest", async (req) => {
    req.log.debug({ method: req.method, route: req.routeOptions.url ?? "unmatched" }, "incoming request");
  });
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unmatched";
    ctx.metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    ctx.metrics.latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    // The route pattern, not the URL: a share link's URL is its secret.
    req.log.debug({ method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, "request");
  });

  // Requests still running at shutdown end their connection when answered, so
  // that keep-alive clients do not hold the process open.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_req, reply, payload) => {
    if (closing) reply.header("connection", "close");
    return payload;
  });

  // Shutdown: fastify has stopped accepting requests; wait for the appends
  // still running so that what a client was told is committed really is.
  app.addHook("onClose", async () => {
    while (ctx.inflight.size) await Promise.allSettled([...ctx.inflight]);
    await ctx.stores.closeAll();
  });

  await app.register(fastifyCookie, { secret: uiSecrets });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "sessionvault archive server",
        version: "1",
        description: "Sessions of AI coding agents: list, read byte-exact, append by position, export actions v1.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    },
  });

  app.get(
    "/healthz",
    { schema: { summary: "Liveness (no auth)", response: { 200: { type: "object", properties: { ok: { type: "boolean" } } } } } },
    async () => ({ ok: true }),
  );
  app.get("/metrics", { schema: { summary: "Prometheus metrics (no auth)" } }, async (_req, reply) => {
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  await app.register(async (api) => v1Routes(api, ctx), { prefix: "/v1" });
  await app.register(async (api) => mcpRoutes(api, ctx));
  await app.register(async (ui) => uiRoutes(ui, { ...ctx, publicDir: options.publicDir ?? DEFAULT_PUBLIC }));
  return app;
}
