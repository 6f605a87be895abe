import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureRollouts, fixtureRuns } from "@sessionvault/testing/codex-fixtures";
import { ingestRollout } from "./support/ingest.js";
import { startTestServer, type TestServer } from "./support/server.js";

/** The archive's MCP tools at /mcp over real HTTP, driven by the MCP SDK's streamable HTTP client. */
const VERSION = "0.171.0";
const runs = fixtureRuns(VERSION);
const rollouts = fixtureRollouts(VERSION);
// Org A gets the patch and the multi-turn sessions, org B the failing one.
const A_IDS = [runs.get("03-patch")!, runs.get("05-multi-turn1")!];
const B_ID = runs.get("04-fail")!;
let t: TestServer;
let readA: string;
let clients: Client[] = [];

async function connect(token: string): Promise<Client> {
  const c = new Client({ name: "sessionvault-test", version: "1.0.0" });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  clients.push(c);
  return c;
}
async function call(c: Client, name: string, args: Record<string, unknown>) {
  const r = (await c.callTool({ name, arguments: args })) as { content: { text: string }[]; structuredContent?: unknown; isError?: boolean };
  return { text: r.content.map((x) => x.text).join(""), json: r.structuredContent, isError: r.isError === true };
}

beforeAll(async () => {
  t = await startTestServer();
  const writeA = await t.token("org-a", ["write"]);
  const writeB = await t.token("org-b", ["write"]);
  for (const r of rollouts.filter((r) => A_IDS.includes(r.id))) await ingestRollout(t.url, writeA, r);
  for (const r of rollouts.filter((r) => r.id === B_ID)) await ingestRollout(t.url, writeB, r);
  readA = await t.token("org-a", ["read"]);
}, 60_000);
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  clients = [];
  await t?.stop();
});

describe("/mcp", () => {
  it("answers every tool with a read token, on its org's sessions only", async () => {
    const c = await connect(readA);
    expect((await c.listTools()).tools.map((x) => x.name).sort()).toEqual([
      "get_actions",
      "get_file_changes",
      "get_session",
      "get_transcript",
      "search_sessions",
    ]);
    const all = (await call(c, "search_sessions", { limit: 50 })).json as { sessions: { id: string }[] };
    expect(all.sessions.map((s) => s.id).sort()).toEqual([...A_IDS].sort());
    const byText = (await call(c, "search_sessions", { text: "notes.md" })).json as { sessions: { id: string; snippet: string }[] };
    expect(byText.sessions.map((s) => s.id)).toEqual([runs.get("03-patch")]);
    const s = (await call(c, "get_session", { id: runs.get("05-multi-turn1") })).json as { turns: number; agent: string };
    expect(s).toMatchObject({ turns: 3, agent: "codex" });
    const actions = (await call(c, "get_actions", { id: runs.get("03-patch"), limit: 2 })).json as { actions: unknown[]; next_offset: number };
    expect(actions.actions).toHaveLength(2);
    expect(actions.next_offset).toBe(2);
    expect((await call(c, "get_transcript", { id: runs.get("03-patch") })).text).toContain("User: Create hello.txt");
    const changes = (await call(c, "get_file_changes", { path: "notes.md" })).json as { changes: { session_id: string }[] };
    expect(changes.changes.length).toBeGreaterThan(0);
    expect(new Set(changes.changes.map((x) => x.session_id))).toEqual(new Set([runs.get("03-patch")]));
  });

  it("never shows org B's session to org A", async () => {
    const c = await connect(readA);
    for (const tool of ["get_session", "get_actions", "get_transcript", "get_file_changes"]) {
      const r = await call(c, tool, { id: B_ID });
      expect(r.isError, tool).toBe(true);
      expect(r.text, tool).not.toContain("exit");
    }
    const failed = (await call(c, "search_sessions", { outcome: "failed", limit: 50 })).json as { sessions: { id: string }[] };
    expect(failed.sessions.map((s) => s.id)).not.toContain(B_ID);
  });

  it("refuses a wrong token and a request without one", async () => {
    await expect(connect("svt_wrong")).rejects.toThrow(/UNAUTHORIZED/);
    const res = await fetch(`${t.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(res.status).toBe(401);
  });
});
