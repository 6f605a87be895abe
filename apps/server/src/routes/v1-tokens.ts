import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ServerContext } from "../server-context.js";
import { OrgTokens } from "../org-tokens.js";
import { parseScopes, TOKEN_SCOPES, type Principal } from "../tokens.js";
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
 * the server). Only `POST` ever returns a secret, once.
 */
export async function v1TokenRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const tokens = new OrgTokens(ctx);
  const principal = (req: FastifyRequest): Principal => req.principal as Principal;

  app.get(
    "/tokens",
    {
      schema: {
        summary: "The org's API tokens, oldest first (admin)",
        security: bearerSecurity,
        response: { 200: { type: "object", properties: { tokens: { type: "array", items: tokenSchema } } }, ...errorResponses },
      },
    },
    async (req) => ({ tokens: await tokens.list(principal(req)) }),
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
          201: {
            type: "object",
            properties: { token: { type: "string" }, id: { type: "string" }, org: { type: "string" }, scopes: { type: "array", items: { type: "string" } } },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => reply.code(201).send(await tokens.create(principal(req), parseScopes(req.body.scopes), req.body.org)),
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
      await tokens.revoke(principal(req), req.params.id);
      return { revoked: req.params.id };
    },
  );
}
