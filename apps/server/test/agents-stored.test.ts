import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { checkedStore, syncStores } from "@sessionvault/core";
import { fromUrl } from "@sessionvault/fs-store";
import { HttpStore } from "@sessionvault/http-store";
import { uiLogin } from "@sessionvault/testing/ui-login";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/server.js";

/**
 * Sessions of every agent, synced into the archive server from the homes
 * their real CLIs wrote (a Codex home, a Claude Code config dir, a Gemini
 * CLI dir), are read there with their own agent's reader: the MCP tools at
 * /mcp over HTTP (driven by the MCP SDK's client) answer on the 04-fail run
 * of each agent as core's golden actions v1 say, the actions route gives
 * the golden file, and the web UI lists them by agent and shows each
 * command of the session's timeline.
 */
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const CASES = [
  { agent: "codex", home: "fixtures/codex/0.169.0", golden: "0.169.0/04-fail", changed: "missing.txt" },
  { agent: "claude-code", home: "fixtures/claude-code/2.1.332", golden: "claude-code/2.1.332/04-fail", changed: "config.txt" },
  { agent: "gemini-cli", home: "fixtures/gemini-cli/0.61.0/gemini", golden: "gemini-cli/0.61.0/04-fail", changed: "config.txt" },
] as const;

let t: TestServer;
let read: string;
let cookie: string;
const clients: Client[] = [];

beforeAll(async () => {
  t = await startTestServer();
  const write = await t.token("agents", ["read", "write"]);
  for (const c of CASES) {
    const from = checkedStore(fromUrl(new URL(`file://${join(REPO, c.home)}`)));
    const to = checkedStore(new HttpStore({ baseUrl: t.url, token: write }));
    const summary = await syncStores(from, to);
    expect(summary.errors, c.agent).toEqual([]);
    await Promise.all([from.close(), to.close()]);
  }
  read = await t.token("agents", ["read"]);
  cookie = (await uiLogin(t.url, read)).cookie;
}, 120_000);
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await t?.stop();
});

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

describe.each(CASES)("a stored $agent session in the archive server", ({ agent, golden, changed }) => {
  let expected: Record<string, unknown>[];
  let goldenText: string;
  let id: string;
  beforeAll(async () => {
    goldenText = await readFile(join(REPO, "packages/core/test/golden", `${golden}.actions.jsonl`), "utf8");
    expected = goldenText
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    id = expected[0]!.session_id as string;
  });

  it("answers every MCP tool at /mcp as this agent's session", async () => {
    const c = await connect(read);
    const found = await call(c, "search_sessions", { text: "does-not-exist", limit: 50 });
    expect(found.isError, found.text).toBe(false);
    const hit = (found.json as { sessions: { id: string; agent: string; snippet: string | null }[] }).sessions.find((s) => s.id === id);
    expect(hit, found.text).toBeDefined();
    expect(hit!.agent).toBe(agent);
    expect(hit!.snippet).toContain("does-not-exist");
    const byAgent = (await call(c, "search_sessions", { agent, limit: 50 })).json as { sessions: { id: string; agent: string }[] };
    expect(byAgent.sessions.map((s) => s.id)).toContain(id);
    expect(new Set(byAgent.sessions.map((s) => s.agent))).toEqual(new Set([agent]));

    expect((await call(c, "get_session", { id: id.slice(0, 13) })).json).toMatchObject({ id, agent, turns: 1 });

    const actions: unknown[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const page = (await call(c, "get_actions", { id, offset, limit: 4 })).json as { actions: unknown[]; next_offset: number | null };
      actions.push(...page.actions);
      offset = page.next_offset;
    }
    expect(actions).toEqual(expected);

    const transcript = (await call(c, "get_transcript", { id, max_chars: 100_000 })).text;
    expect(transcript).toContain("User: Run the checks");
    expect(transcript).toContain("$ ls does-not-exist; exit 3");

    const changes = (await call(c, "get_file_changes", { path: changed })).json as { changes: { path: string; session_id: string }[] };
    expect(changes.changes.map((x) => x.session_id)).toContain(id);
  });

  it("gives the golden actions v1 at /v1/sessions/{id}/actions", async () => {
    const res = await fetch(`${t.url}/v1/sessions/${id}/actions`, { headers: { authorization: `Bearer ${read}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(goldenText);
  });

  it("is listed under its agent in the web UI, and its page shows the commands it ran", async () => {
    const list = await fetch(`${t.url}/?agent=${agent}&limit=200`, { headers: { cookie } });
    expect(list.status).toBe(200);
    const html = await list.text();
    expect(html).toContain(`/sessions/${id}`);
    const agents = [...html.matchAll(/<td class="agent" data-label="Agent">([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(agents.length).toBeGreaterThan(0);
    expect(new Set(agents)).toEqual(new Set([agent]));
    const page = await fetch(`${t.url}/sessions/${id}`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const body = await page.text();
    for (const a of expected.filter((x) => x.action_type === "command_execution")) {
      expect(body, String(a.command)).toContain(escapeHtml(String(a.command)));
    }
  });
});

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}
