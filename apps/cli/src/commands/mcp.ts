import type { CliContext } from "../io.js";
import { openStoreArg } from "../stores.js";

export interface McpOptions {
  store?: string;
}

/**
 * `sessionvault mcp`: the archive's tools (search_sessions, get_session,
 * get_actions, get_transcript, get_file_changes) as an MCP server on stdio,
 * for agents to ask about past sessions (docs/mcp.md). Runs until the client
 * closes stdin. The MCP SDK is loaded here only, never at CLI startup.
 */
export async function mcp(options: McpOptions, ctx: CliContext): Promise<void> {
  const [{ McpServer }, { StdioServerTransport }, { registerArchiveTools }] = await Promise.all([
    import("@modelcontextprotocol/sdk/server/mcp.js"),
    import("@modelcontextprotocol/sdk/server/stdio.js"),
    import("@sessionvault/server/mcp-tools"),
  ]);
  const store = await openStoreArg(ctx, options.store);
  const server = new McpServer({ name: "sessionvault", version: "0.1.0" });
  registerArchiveTools(server, store);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
    process.stdin.once("end", resolve);
  });
  try {
    await server.connect(transport);
    await closed;
  } finally {
    await server.close().catch(() => {});
    await store.close();
  }
}
