import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TokenScope } from "@sessionvault/core";
import { startServer, type RunningServer, type StartServerOptions } from "../../src/start-server.js";
import { createApiToken } from "../../src/tokens.js";

export interface TestServer {
  server: RunningServer;
  url: string;
  dir: string;
  token(org: string, scopes: TokenScope[]): Promise<string>;
  stop(): Promise<void>;
}

/** A real server on 127.0.0.1:0 over a fresh fs store (or the given store URL). */
export async function startTestServer(options: Partial<StartServerOptions> = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), "sv-server-"));
  const server = await startServer({ store: dir, port: 0, logger: false, ...options });
  return {
    server,
    url: server.url,
    dir,
    token: async (org, scopes) => (await createApiToken(server.tokens, org, scopes)).token,
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
