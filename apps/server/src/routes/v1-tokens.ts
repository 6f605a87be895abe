import type { FastifyInstance, FastifyRequest } from "fastify";
import { ForbiddenError, NotFoundError, type TokenRecord } from "@sessionvault/core";
import type { ServerContext } from "../server-context.js";
import { createApiToken, parseScopes, requireScope, TOKEN_SCOPES, type Principal } from "../tokens.js";
import { bearerSecurity, errorResponses } from "../schemas.js";

const tokenSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    org: { type: "string" },
    scopes: { type: "array", items: { type: "string" } },
    created_at: { type: "string" },
  },
} as const;

/**
 * `/v1/tokens`: an org's admin manages its tokens over the API, without the
 * store's credentials (the CLI's `token` commands use this when `--store` is
 * the server). A token never sees another org's tokens, and the store keeps
 * no secret to show: only `POST` returns one, once.
 */
export async function v1TokenRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const admin = (req: FastifyRequest): Principal => {
    const p = req.principal as Principal;
    requireScope(p, "admin");
    return p;
  };
  const orgTokens = async (org: string): Promise<TokenRecord[]> => (await ctx.tokens.listTokens()).filter((t) => t.org === org);

  app.get(
    "/tokens",
    {
      schema: {
        summary: "The org's API tokens, oldest first (admin)",
        security: bearerSecurity,
        response: { 200: { type: "object", properties: { tokens: { type: "array", items: tokenSchema } } }, ...errorResponses },
      },
    },
    async (req) => ({ tokens: await orgTokens(admin(req).org) }),
  );

  app.post<{ Body: { scopes: string[]; org?: string } }>(
    "/tokens",
    {
      schema: {
        summary: "Create a token in the org; the response is the only place the token ever appears (admin)",
        security: bearerSecurity,
        body: {
          type: "object",
          required: ["scopes"],
          additionalProperties: false,
          properties: { scopes: { type: "array", minItems: 1, maxItems: 3, items: { enum: [...TOKEN_SCOPES] } }, org: { type: "string", maxLength: 64 } },
        },
        response: {
          201: { type: "object", properties: { token: { type: "string" }, id: { type: "string" }, org: { type: "string" }, scopes: { type: "array", items: { type: "string" } } } },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const p = admin(req);
      if (req.body.org !== undefined && req.body.org !== p.org) throw new ForbiddenError(`a token of org "${p.org}" cannot create tokens for org "${req.body.org}"`);
      const created = await createApiToken(ctx.tokens, p.org, parseScopes(req.body.scopes));
      return reply.code(201).send(created);
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/tokens/:id",
    {
      schema: {
        summary: "Revoke one of the org's tokens; this server refuses it at once, others within a minute (admin)",
        security: bearerSecurity,
        params: { type: "object", required: ["id"], properties: { id: { type: "string", maxLength: 100 } } },
        response: { 200: { type: "object", properties: { revoked: { type: "string" } } }, ...errorResponses },
      },
    },
    async (req) => {
      const p = admin(req);
      // Another org's token is as absent as one that never existed.
      const token = (await orgTokens(p.org)).find((t) => t.id === req.params.id);
      if (!token || !(await ctx.tokens.deleteToken(token.id))) throw new NotFoundError(`no token ${JSON.stringify(req.params.id)} in org "${p.org}"`);
      ctx.verifier.forget(token.hash);
      return { revoked: token.id };
    },
  );
}
