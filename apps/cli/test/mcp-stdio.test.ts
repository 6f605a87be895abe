import { join } from "node:path";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { sessionHeadLines } from "@sessionvault/core/conformance";
import { FIXTURES, fixtureRuns } from "@sessionvault/testing/codex-fixtures";
import { CLI_BIN } from "./support/codex-harness.ts";

/** `sessionvault mcp` driven by the MCP SDK's own client over stdio, on fixture sessions. */
const VERSION = "0.171.0";
const STORE = join(FIXTURES, VERSION);
const SECRET = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
const SECRET_ID = "01a1fd77-5062-78c3-9c88-31a6914d7270";
let client: Client;
let secretClient: Client;
let tmp: string;
const REPO = fileURLToPath(new URL("../../../", import.meta.url));

async function connect(store: string): Promise<Client> {
  const c = new Client({ name: "sessionvault-test", version: "1.0.0" });
  await c.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI_BIN, "mcp", "--store", store],
      env: { HOME: tmp, PATH: process.env.PATH ?? "" },
      stderr: "pipe",
    }),
  );
  return c;
}
async function call(c: Client, name: string, args: Record<string, unknown>): Promise<{ text: string; json: unknown; isError: boolean }> {
  const r = (await c.callTool({ name, arguments: args })) as { content: { type: string; text: string }[]; structuredContent?: unknown; isError?: boolean };
  const text = r.content.map((x) => x.text).join("");
  return { text, json: r.structuredContent, isError: r.isError === true };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "sv-mcp-"));
  const root = join(tmp, "store");
  const store = new FsStore({ root });
  const input = {
    id: SECRET_ID,
    created_at: "2026-11-21T09:00:00.000Z",
    cwd: "/w",
    title: "deploy with the key",
    archived: false,
    source: "exec",
    originator: "codex_exec",
    cli_version: "0.98.0",
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
  };
  await store.putSession(input);
  await store.append(SECRET_ID, "rollout", 0, [
    ...sessionHeadLines(input),
    JSON.stringify({
      timestamp: "2026-11-21T09:00:01.000Z",
      type: "response_item",
      payload: { type: "function_call", name: "exec_command", arguments: JSON.stringify({ cmd: `OPENAI_API_KEY=${SECRET} ./deploy.sh` }), call_id: "c1" },
    }),
    JSON.stringify({
      timestamp: "2026-11-21T09:00:02.000Z",
      type: "response_item",
      payload: { type: "function_call_output", call_id: "c1", output: `Process exited with code 0\nOutput:\nused ${SECRET}\n` },
    }),
  ]);
  await store.close();
  client = await connect(STORE);
  secretClient = await connect(root);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await secretClient?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe("sessionvault mcp (stdio)", () => {
  it("lists the five tools", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["get_actions", "get_file_changes", "get_session", "get_transcript", "search_sessions"]);
  });

  it("search_sessions finds a session by what was done in it, with a snippet, and filters by outcome", async () => {
    const patch = fixtureRuns(VERSION).get("03-patch")!;
    const r = await call(client, "search_sessions", { text: "notes.md" });
    const found = (r.json as { sessions: { id: string; snippet: string | null; agent: string }[] }).sessions;
    const hit = found.find((s) => s.id === patch);
    expect(hit, r.text).toBeDefined();
    expect(hit!.agent).toBe("codex");
    expect(hit!.snippet?.toLowerCase()).toContain("notes.md");
    const failed = await call(client, "search_sessions", { outcome: "failed", limit: 50 });
    const ids = (failed.json as { sessions: { id: string; outcome: string }[] }).sessions;
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((s) => s.outcome === "failed")).toBe(true);
    expect(ids.map((s) => s.id)).toContain(fixtureRuns(VERSION).get("14-apierror"));
  });

  it("get_session gives the facts; get_actions pages actions v1", async () => {
    const id = fixtureRuns(VERSION).get("05-multi-turn1")!;
    const s = (await call(client, "get_session", { id: id.slice(0, 13) })).json as { id: string; turns: number; model: string; outcome: string };
    expect(s).toMatchObject({ id, turns: 3, model: "gpt-5.5", outcome: "completed" });
    const p1 = (await call(client, "get_actions", { id, limit: 3 })).json as { actions: { seq: number }[]; next_offset: number | null };
    expect(p1.actions.map((a) => a.seq)).toEqual([0, 1, 2]);
    expect(p1.next_offset).toBe(3);
    const p2 = (await call(client, "get_actions", { id, offset: 3, limit: 200 })).json as {
      actions: { seq: number; action_type: string }[];
      next_offset: number | null;
    };
    expect(p2.actions[0]!.seq).toBe(3);
    expect(p2.next_offset).toBeNull();
    expect(
      p2.actions.filter((a) => a.action_type === "turn_started").length +
        p1.actions.filter((a) => (a as { action_type?: string }).action_type === "turn_started").length,
    ).toBe(3);
  });

  it("get_transcript is readable, paged by size, and redacted", async () => {
    const id = fixtureRuns(VERSION).get("03-patch")!;
    const full = await call(client, "get_transcript", { id, max_chars: 100_000 });
    expect(full.text).toContain("User: Create hello.txt");
    expect(full.text).not.toContain("[more:");
    // Page through a session 200 characters at a time: the pages add up to the whole transcript.
    const long = fixtureRuns(VERSION).get("15-compact")!;
    const whole = (await call(client, "get_transcript", { id: long, max_chars: 100_000 })).text;
    expect(whole.length).toBeGreaterThan(400);
    const pages: string[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const page = (await call(client, "get_transcript", { id: long, offset, max_chars: 200 })).text;
      const m = /\n\n\[more: call again with offset (\d+)\]$/.exec(page);
      pages.push(m ? page.slice(0, m.index) : page);
      offset = m ? Number(m[1]) : null;
    }
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.join("\n\n")).toBe(whole);
    const secret = await call(secretClient, "get_transcript", { id: SECRET_ID });
    expect(secret.text).toContain("./deploy.sh");
    expect(secret.text).not.toContain(SECRET);
    const actions = await call(secretClient, "get_actions", { id: SECRET_ID });
    expect(actions.text).not.toContain(SECRET);
  });

  it("get_file_changes gives a session's diffs, and a path's changes across sessions", async () => {
    const id = fixtureRuns(VERSION).get("03-patch")!;
    const bySession = (await call(client, "get_file_changes", { id })).json as { changes: { path: string; diff: string; session_id: string }[] };
    expect(bySession.changes.map((c) => c.path.split("/").pop())).toEqual(expect.arrayContaining(["hello.txt", "notes.md"]));
    expect(bySession.changes.every((c) => c.diff.length > 0)).toBe(true);
    const byPath = (await call(client, "get_file_changes", { path: "notes.md" })).json as { changes: { path: string; session_id: string }[] };
    expect(byPath.changes.length).toBeGreaterThan(0);
    expect(byPath.changes.every((c) => c.path.endsWith("notes.md"))).toBe(true);
    expect(byPath.changes.map((c) => c.session_id)).toContain(id);
  });

  it("an unknown session is a tool error, not a dead server", async () => {
    const r = await call(client, "get_session", { id: "ffffffff-ffff-7fff-bfff-ffffffffffff" });
    expect(r.isError).toBe(true);
    expect((await client.listTools()).tools.length).toBe(5);
  });
});

/**
 * The same five tools on the 04-fail run of every agent's real CLI, each read
 * in place: a Codex store, a Claude Code config dir, a Gemini CLI dir. The
 * answers are checked against core's golden actions v1 of that run.
 */
const AGENT_CASES = [
  { agent: "codex", store: join(FIXTURES, "0.169.0"), golden: "0.169.0/04-fail", changed: "missing.txt" },
  { agent: "claude-code", store: join(REPO, "fixtures/claude-code/2.1.332"), golden: "claude-code/2.1.332/04-fail", changed: "config.txt" },
  { agent: "gemini-cli", store: join(REPO, "fixtures/gemini-cli/0.61.0/gemini"), golden: "gemini-cli/0.61.0/04-fail", changed: "config.txt" },
] as const;

describe.each(AGENT_CASES)("sessionvault mcp --store <$agent fixture>", ({ agent, store, golden, changed }) => {
  let c: Client;
  let expected: Record<string, unknown>[];
  let id: string;
  beforeAll(async () => {
    const text = await readFile(join(REPO, "packages/core/test/golden", `${golden}.actions.jsonl`), "utf8");
    expected = text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    id = expected[0]!.session_id as string;
    c = await connect(store);
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  it("search_sessions finds the session by a word of its command, as this agent's", async () => {
    // "does-not-exist" is only in a command the agent ran, not in the prompt, title or directory.
    const r = await call(c, "search_sessions", { text: "does-not-exist", limit: 50 });
    expect(r.isError, r.text).toBe(false);
    const found = (r.json as { sessions: { id: string; agent: string; snippet: string | null }[] }).sessions;
    const hit = found.find((s) => s.id === id);
    expect(hit, r.text).toBeDefined();
    expect(hit!.agent).toBe(agent);
    expect(hit!.snippet).toContain("does-not-exist");
    const byAgent = await call(c, "search_sessions", { agent, limit: 50 });
    expect((byAgent.json as { sessions: { id: string }[] }).sessions.map((s) => s.id)).toContain(id);
  });

  it("get_session gives the facts of this agent's session", async () => {
    const r = await call(c, "get_session", { id: id.slice(0, 13) });
    expect(r.isError, r.text).toBe(false);
    expect(r.json).toMatchObject({ id, agent, turns: 1 });
  });

  it("get_actions pages to exactly the golden actions v1", async () => {
    const got: unknown[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const r = await call(c, "get_actions", { id, offset, limit: 3 });
      expect(r.isError, r.text).toBe(false);
      const page = r.json as { actions: unknown[]; next_offset: number | null };
      got.push(...page.actions);
      offset = page.next_offset;
    }
    expect(got).toEqual(expected);
  });

  it("get_transcript pages back to the whole text, commands and exit codes included", async () => {
    const whole = (await call(c, "get_transcript", { id, max_chars: 100_000 })).text;
    expect(whole).toContain("User: Run the checks");
    expect(whole).toContain("$ ls does-not-exist; exit 3");
    expect(whole).toContain("exit 42]");
    const pages: string[] = [];
    let offset: number | null = 0;
    while (offset !== null) {
      const page = (await call(c, "get_transcript", { id, offset, max_chars: 200 })).text;
      const m = /\n\n\[more: call again with offset (\d+)\]$/.exec(page);
      pages.push(m ? page.slice(0, m.index) : page);
      offset = m ? Number(m[1]) : null;
    }
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.join("\n\n")).toBe(whole);
  });

  it("get_file_changes lists the path the golden actions name, by session and by path", async () => {
    const paths = expected.filter((a) => a.action_type === "file_change").flatMap((a) => a.changed_paths as string[]);
    expect(paths.some((p) => p.endsWith(`/${changed}`))).toBe(true);
    const bySession = (await call(c, "get_file_changes", { id })).json as { changes: { path: string; diff: string }[] };
    // Codex records a patch's paths as the model wrote them (relative here); actions v1 resolves them against the cwd.
    const listed = [...new Set(bySession.changes.map((x) => x.path))];
    expect(listed.length).toBe(new Set(paths).size);
    expect(paths.every((p) => listed.some((l) => p.endsWith(l)))).toBe(true);
    expect(bySession.changes.every((x) => x.diff.length > 0)).toBe(true);
    const byPath = (await call(c, "get_file_changes", { path: changed })).json as { changes: { path: string; session_id: string }[] };
    expect(byPath.changes.map((x) => x.session_id)).toContain(id);
    expect(byPath.changes.every((x) => x.path.endsWith(changed))).toBe(true);
  });
});
