import type { FastifyInstance, FastifyRequest } from "fastify";
import {
  appendLines,
  assertSessionId,
  assertIdOrPrefix,
  assertSlug,
  assertStorableFilters,
  assertStorableSummary,
  InvalidInputError,
  redactSecrets,
  redactSummary,
  projectActions,
  readingOptions,
  runRetention,
  searchSessions,
  storedSessionReading,
  summaryFacts,
  withSessionFacts,
} from "@sessionvault/core";
import type { AgentName, ListQuery, SessionInput, SessionStore, SessionSummary, TokenScope } from "@sessionvault/core";
import type { ServerContext } from "../server-context.js";
import { bearerToken, requireScope } from "../tokens.js";
import type { Principal } from "../tokens.js";
import { linesToBody, splitBody } from "../stream-body.js";
import { v1TokenRoutes } from "./v1-tokens.js";
import {
  bearerSecurity,
  errorResponses,
  errorSchema,
  idParamsSchema,
  listQuerySchema,
  redactQuerySchema,
  sessionDetailSchema,
  sessionInputSchema,
  sessionPageSchema,
  sessionSummarySchema,
  streamParamsSchema,
} from "../schemas.js";

type ListQuerystring = {
  limit?: number;
  cursor?: string;
  q?: string;
  cwd?: string;
  repo?: string;
  branch?: string;
  model_provider?: string;
  agent?: string;
  since?: string;
  until?: string;
  archived?: "active" | "archived" | "all" | "true" | "false";
  redact?: boolean;
};

/** Turns the API's list query into the store's, refusing dates it cannot read. */
export function toListQuery(q: ListQuerystring): ListQuery {
  const archived = q.archived === "true" ? "archived" : q.archived === "false" ? "active" : q.archived;
  for (const key of ["since", "until"] as const) {
    const v = q[key];
    if (v !== undefined && Number.isNaN(Date.parse(v))) throw new InvalidInputError(`${key} must be an ISO date, got ${JSON.stringify(v)}`);
  }
  const out: ListQuery = { limit: q.limit ?? 50 };
  if (q.cursor) out.cursor = q.cursor;
  if (archived) out.archived = archived;
  for (const key of ["q", "cwd", "repo", "branch", "model_provider", "since", "until"] as const) {
    const v = q[key]?.trim();
    if (v) out[key] = v;
  }
  // Checked by core's list layer: an unknown agent is INVALID_FIELD.
  const agent = q.agent?.trim();
  if (agent) out.agent = agent as AgentName;
  // No stored value can hold these characters: a filter with one is a mistake, and Postgres would refuse it.
  assertStorableFilters(out);
  return out;
}

/**
 * Summaries go out redacted (a title or a repository URL can hold a key or a
 * password); an admin token may ask for them as stored with `redact=false`
 * (sync between stores needs the exact values).
 */
function redactionFor(redact: boolean | undefined): { scope: TokenScope; redact: boolean } {
  return redact === false ? { scope: "admin", redact: false } : { scope: "read", redact: true };
}

/** The §11 API under /v1: every route needs a bearer token and only sees its org's store. */
export async function v1Routes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.addHook("onRequest", async (req) => {
    req.principal = await ctx.verifier.verify(bearerToken(req.headers.authorization));
  });

  const storeFor = (req: FastifyRequest, scope: TokenScope) => {
    const p = req.principal as Principal;
    requireScope(p, scope);
    return ctx.stores.get(p.org);
  };

  app.get<{ Querystring: ListQuerystring }>(
    "/sessions",
    {
      schema: {
        summary: "List sessions, newest first",
        security: bearerSecurity,
        querystring: listQuerySchema,
        response: { 200: sessionPageSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { scope, redact } = redactionFor(req.query.redact);
      const store = storeFor(req, scope);
      const query = toListQuery(req.query);
      const page = await ctx.lists.read(`${(req.principal as Principal).org}\n${JSON.stringify(query)}`, async () => {
        const found = await searchSessions(store, query);
        return { ...found, sessions: await withSessionFacts(store, found.sessions) };
      });
      if (!redact) return page;
      // A snippet is message text: secrets in it are redacted as in the summary.
      const snippets = page.snippets && Object.fromEntries(Object.entries(page.snippets).map(([id, text]) => [id, redactSecrets(text)]));
      return { ...page, sessions: page.sessions.map(redactSummary), ...(snippets ? { snippets } : {}) };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { redact?: boolean } }>(
    "/sessions/:id",
    {
      schema: {
        summary:
          "One session: summary, streams and legal hold (id or unique prefix of ≥ 8 characters); secrets in the summary redacted unless an admin asks redact=false",
        security: bearerSecurity,
        params: idParamsSchema,
        querystring: redactQuerySchema,
        response: { 200: sessionDetailSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { scope, redact } = redactionFor(req.query.redact);
      const store = storeFor(req, scope);
      const session = await store.getSession(assertIdOrPrefix(req.params.id));
      const { facts: stored, ...summary } = session;
      const facts = await summaryFacts(store, session);
      return { ...(redact ? redactSummary(summary) : summary), ...facts };
    },
  );

  app.put<{ Params: { id: string }; Body: Partial<SessionInput> & { created_at: string } }>(
    "/sessions/:id",
    {
      schema: {
        summary: "Create a session or update its summary",
        security: bearerSecurity,
        params: idParamsSchema,
        body: sessionInputSchema,
        response: { 200: sessionSummarySchema, ...errorResponses },
      },
    },
    async (req) => {
      const store = storeFor(req, "write");
      const id = assertSessionId(req.params.id);
      const b = req.body;
      if (b.id !== undefined && b.id !== id) throw new InvalidInputError(`body id ${JSON.stringify(b.id)} does not match the URL's ${id}`);
      if (Number.isNaN(Date.parse(b.created_at))) throw new InvalidInputError("created_at must be an ISO date");
      const input: SessionInput = {
        id,
        created_at: b.created_at,
        cwd: b.cwd ?? null,
        title: b.title ?? null,
        archived: b.archived ?? false,
        source: b.source ?? null,
        originator: b.originator ?? null,
        cli_version: b.cli_version ?? null,
        model_provider: b.model_provider ?? null,
        git: b.git ? { commit_hash: b.git.commit_hash ?? null, branch: b.git.branch ?? null, repository_url: b.git.repository_url ?? null } : null,
        parent_id: b.parent_id ?? null,
        forked_from_id: b.forked_from_id ?? null,
      };
      if (b.agent !== undefined) input.agent = b.agent;
      if (b.updated_at) input.updated_at = b.updated_at;
      if (b.facts) input.facts = b.facts;
      assertStorableSummary(input);
      return redactSummary(await store.putSession(input));
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/sessions/:id",
    {
      schema: {
        summary: "Delete a session and all its streams (423 while on legal hold)",
        security: bearerSecurity,
        params: idParamsSchema,
        response: { 204: { type: "null" }, ...errorResponses, 423: errorSchema },
      },
    },
    async (req, reply) => {
      const store = storeFor(req, "admin");
      const id = assertSessionId(req.params.id);
      await store.deleteSession(id, { actor: `token:${(req.principal as Principal).tokenId}` });
      return reply.code(204).send();
    },
  );

  app.put<{ Params: { id: string }; Body: { held: boolean } }>(
    "/sessions/:id/legal-hold",
    {
      schema: {
        summary: "Set or clear a legal hold",
        security: bearerSecurity,
        params: idParamsSchema,
        body: { type: "object", required: ["held"], additionalProperties: false, properties: { held: { type: "boolean" } } },
        response: { 200: { type: "object", properties: { id: { type: "string" }, legal_hold: { type: "boolean" } } }, ...errorResponses },
      },
    },
    async (req) => {
      const store = storeFor(req, "admin");
      const id = assertSessionId(req.params.id);
      await store.setLegalHold(id, req.body.held);
      return { id, legal_hold: req.body.held };
    },
  );

  app.get<{ Params: { id: string; name: string }; Querystring: { from_seq?: number } }>(
    "/sessions/:id/streams/:name",
    {
      schema: {
        summary: "A stream's committed lines from from_seq, byte-exact (each line followed by \\n)",
        security: bearerSecurity,
        params: streamParamsSchema,
        querystring: { type: "object", properties: { from_seq: { type: "integer", minimum: 0, default: 0 } } },
        response: { ...errorResponses },
      },
    },
    async (req, reply) => {
      const store = storeFor(req, "read");
      const id = assertSessionId(req.params.id);
      const name = assertSlug(req.params.name, "stream name");
      const body = await linesToBody(store.readStream(id, name, { fromSeq: req.query.from_seq ?? 0 }));
      return reply.type(name === "debug-log" ? "text/plain; charset=utf-8" : "application/x-ndjson; charset=utf-8").send(body);
    },
  );

  app.post<{ Params: { id: string; name: string }; Querystring: { expected_seq: number; durable?: boolean }; Body: Buffer }>(
    "/sessions/:id/streams/:name",
    {
      bodyLimit: ctx.maxAppendBytes,
      schema: {
        summary: "Append lines at position expected_seq (409 with current_seq on a conflict; a retried identical append succeeds)",
        security: bearerSecurity,
        params: streamParamsSchema,
        querystring: {
          type: "object",
          required: ["expected_seq"],
          properties: { expected_seq: { type: "integer", minimum: 0 }, durable: { type: "boolean" } },
        },
        response: { 200: { type: "object", properties: { seq: { type: "integer" } } }, ...errorResponses, 409: errorSchema, 413: errorSchema },
      },
    },
    async (req) => {
      const store = storeFor(req, "write");
      const id = assertSessionId(req.params.id);
      const name = assertSlug(req.params.name, "stream name");
      if (!Buffer.isBuffer(req.body)) throw new InvalidInputError("send the lines as application/x-ndjson or text/plain");
      const lines = splitBody(req.body);
      if (typeof lines === "string") throw new InvalidInputError(lines);
      const work = appendLines(store, id, name, req.query.expected_seq, lines, { durable: req.query.durable ?? false });
      ctx.inflight.add(work);
      try {
        const result = await work;
        ctx.metrics.linesAppended.inc(lines.length);
        ctx.metrics.bytesAppended.inc(req.body.length);
        return { seq: result.seq };
      } finally {
        ctx.inflight.delete(work);
      }
    },
  );

  app.get<{ Params: { id: string }; Querystring: { redact?: boolean } }>(
    "/sessions/:id/actions",
    {
      schema: {
        summary: "The session's actions v1 (application/x-ndjson, one action per line); secrets redacted unless an admin asks redact=false",
        security: bearerSecurity,
        params: idParamsSchema,
        querystring: redactQuerySchema,
        response: { ...errorResponses },
      },
    },
    async (req, reply) => {
      const redact = req.query.redact ?? true;
      const store = storeFor(req, redact ? "read" : "admin");
      const session = await store.getSession(assertIdOrPrefix(req.params.id));
      const body = await linesToBody(actionLines(store, session, redact));
      return reply.type("application/x-ndjson; charset=utf-8").send(body);
    },
  );

  app.post<{ Body: PruneBody }>(
    "/prune",
    {
      schema: {
        summary:
          "Apply retention to the token's org, as `sessionvault prune` does on any store: sessions idle longer than ttl_ms (or last active before older_than) " +
          "are soft-deleted and purged once grace_ms has passed, streams in stream_ttls_ms expire sooner, held sessions are kept, every deletion is audited",
        security: bearerSecurity,
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            older_than: { type: "string", maxLength: 40 },
            ttl_ms: { type: "integer", minimum: 0 },
            grace_ms: { type: "integer", minimum: 0 },
            stream_ttls_ms: { type: "object", maxProperties: 32, additionalProperties: { type: "integer", minimum: 0 } },
            policy: { type: "string", maxLength: 64 },
            dry_run: { type: "boolean" },
          },
        },
        response: { ...errorResponses },
      },
    },
    async (req) => {
      const store = storeFor(req, "admin");
      const now = new Date();
      let ttl = req.body.ttl_ms;
      if (req.body.older_than !== undefined) {
        const olderThan = Date.parse(req.body.older_than);
        if (Number.isNaN(olderThan)) throw new InvalidInputError("older_than must be an ISO date");
        ttl = Math.max(0, now.getTime() - olderThan);
      }
      if (ttl === undefined) throw new InvalidInputError("prune needs ttl_ms or older_than");
      return runRetention(
        store,
        {
          name: req.body.policy ?? "api-prune",
          defaultTtlMs: ttl,
          graceMs: req.body.grace_ms ?? 0,
          ...(req.body.stream_ttls_ms ? { streamTtlsMs: req.body.stream_ttls_ms } : {}),
        },
        { now, dryRun: req.body.dry_run ?? false, actor: `token:${(req.principal as Principal).tokenId}` },
      );
    },
  );

  await v1TokenRoutes(app, ctx);
}

/** A stored session's actions v1, read with the reader of the agent that wrote it. */
export async function* actionLines(store: SessionStore, session: SessionSummary, redact = true): AsyncGenerator<string> {
  const reading = await storedSessionReading(store, session.id, session);
  const options = { sessionId: session.id, redact, agent: reading.agent, ...readingOptions(reading) };
  for await (const action of projectActions(store.readStream(session.id, "rollout"), options)) yield JSON.stringify(action);
}

interface PruneBody {
  older_than?: string;
  ttl_ms?: number;
  grace_ms?: number;
  stream_ttls_ms?: Record<string, number>;
  policy?: string;
  dry_run?: boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
  }
}
