import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../server-context.js";
import { bearerToken, requireScope, type Principal } from "../tokens.js";

/**
 * The archive's MCP tools (docs/mcp.md) over streamable HTTP at /mcp, with
 * the /v1 rules: a bearer token with the read scope, and only its org's
 * store. Stateless: each POST is answered on its own (no MCP session id),
 * so any instance behind a load balancer can take any request. The MCP SDK
 * is loaded on the first request, not when the server starts.
 */
export async function mcpRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.addHook("onRequest", async (req) => {
    req.principal = await ctx.verifier.verify(bearerToken(req.headers.authorization));
    requireScope(req.principal as Principal, "read");
  });

  app.post("/mcp", { schema: { hide: true } }, async (req, reply) => {
    const store = ctx.stores.get((req.principal as Principal).org);
    const [{ McpServer }, { StreamableHTTPServerTransport }, { registerArchiveTools }] = await Promise.all([
      import("@modelcontextprotocol/sdk/server/mcp.js"),
      import("@modelcontextprotocol/sdk/server/streamableHttp.js"),
      import("../mcp-tools.js"),
    ]);
    const server = new McpServer({ name: "sessionvault", version: "0.1.0" });
    registerArchiveTools(server, store);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.raw.on("close", () => {
      void transport.close();
      void server.close();
    });
    reply.hijack();
    await server.connect(transport);
    await transport.handleRequest(req.raw, reply.raw, req.body);
  });

  // Stateless: no server-initiated stream to open (GET) and no session to end (DELETE).
  const notAllowed = async (_req: unknown, reply: { code: (n: number) => { header: (k: string, v: string) => { send: (b: unknown) => unknown } } }) =>
    reply.code(405).header("allow", "POST").send({ code: "METHOD_NOT_ALLOWED", message: "/mcp is stateless: POST JSON-RPC messages" });
  app.get("/mcp", { schema: { hide: true } }, notAllowed);
  app.delete("/mcp", { schema: { hide: true } }, notAllowed);
}
