import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  isAgentName,
  projectActions,
  readSessionEvents,
  readingOptions,
  redactSecrets,
  redactSummary,
  searchSessions,
  searchTextOf,
  storedSessionReading,
  summaryFacts,
  type ListQuery,
  type SessionEvent,
  type SessionPage,
  type SessionStore,
  type SessionSummary,
} from "@sessionvault/core";
import { z } from "zod";

/**
 * The archive as MCP tools (docs/mcp.md): what an agent needs to ask about
 * past sessions. Every answer is redacted and bounded in size, since it goes
 * into a model's context.
 */
const MAX_PAGE = 200;
/** A transcript or diff page stops growing past this many characters (the next page goes on). */
const DEFAULT_MAX_CHARS = 20_000;
const SNIPPET_CHARS = 200;

export function registerArchiveTools(server: McpServer, store: SessionStore): void {
  server.registerTool(
    "search_sessions",
    {
      title: "Search past agent sessions",
      description:
        "Find past coding-agent sessions by text (what was said, commands run, files changed, titles), working directory, repository, agent, model, outcome and date range. Returns ids, titles, facts and a snippet around the text.",
      inputSchema: {
        text: z.string().optional().describe("words to look for"),
        cwd: z.string().optional().describe("exact working directory"),
        repo: z.string().optional().describe("part of the git repository URL"),
        agent: z.string().optional().describe("codex, claude-code, gemini-cli, …"),
        model: z.string().optional(),
        outcome: z.enum(["completed", "failed", "interrupted", "in_progress", "unknown"]).optional(),
        since: z.string().optional().describe("ISO date: started at or after"),
        until: z.string().optional().describe("ISO date: started before"),
        limit: z.number().int().min(1).max(50).optional().describe("results (default 10)"),
      },
    },
    async (args) => {
      const limit = args.limit ?? 10;
      const query: ListQuery = { archived: "all", limit: MAX_PAGE };
      if (args.cwd) query.cwd = args.cwd;
      if (args.repo) query.repo = args.repo;
      if (args.since) query.since = args.since;
      if (args.until) query.until = args.until;
      if (args.text) query.q = args.text;
      // The agent is a summary field every store filters on; no session has an agent outside AGENTS.
      if (args.agent) {
        if (!isAgentName(args.agent)) return json({ sessions: [] });
        query.agent = args.agent;
      }
      const results: unknown[] = [];
      let cursor: string | null = null;
      do {
        const page: SessionPage = query.q ? await searchSessions(store, { ...query, cursor }) : await store.listSessions({ ...query, cursor });
        for (const s of page.sessions) {
          const facts = await summaryFacts(store, s);
          if (args.agent && facts.agent !== args.agent) continue;
          if (args.model && facts.model !== args.model) continue;
          if (args.outcome && facts.outcome !== args.outcome) continue;
          const r = redactSummary(s);
          results.push({
            id: s.id,
            title: r.title,
            created_at: s.created_at,
            cwd: r.cwd,
            repository: r.git?.repository_url ?? null,
            agent: facts.agent,
            model: facts.model,
            outcome: facts.outcome,
            turns: facts.turns,
            snippet: args.text ? await snippetOf(store, s, args.text) : null,
          });
          if (results.length >= limit) break;
        }
        cursor = results.length >= limit ? null : page.next_cursor;
      } while (cursor);
      return json({ sessions: results });
    },
  );

  server.registerTool(
    "get_session",
    {
      title: "Get a session's summary",
      description: "A session's summary and facts: title, times, cwd, repository, agent, model, outcome, turns, tokens, duration_ms, files_changed, children.",
      inputSchema: { id: z.string().describe("session id or a unique prefix of 8+ characters") },
    },
    async ({ id }) => {
      const { facts: stored, ...s } = await store.getSession(id);
      return json({ ...redactSummary(s), ...(await summaryFacts(store, { ...s, facts: stored })) });
    },
  );

  server.registerTool(
    "get_actions",
    {
      title: "Get a session's actions",
      description: "The session's actions v1 (turns, commands with exit codes, file changes, tool calls), a page at a time.",
      inputSchema: {
        id: z.string(),
        offset: z.number().int().min(0).optional().describe("first action seq (default 0)"),
        limit: z.number().int().min(1).max(MAX_PAGE).optional().describe(`actions (default 50, at most ${MAX_PAGE})`),
      },
    },
    async ({ id, offset = 0, limit = 50 }) => {
      const s = await store.getSession(id);
      const actions: unknown[] = [];
      let more = false;
      for await (const a of projectActions(store.readStream(s.id, "rollout"), { sessionId: s.id, redact: true, ...(await readerOf(store, s)) })) {
        if (a.seq < offset) continue;
        if (actions.length === limit) {
          more = true;
          break;
        }
        actions.push(a);
      }
      return json({ actions, next_offset: more ? offset + limit : null });
    },
  );

  server.registerTool(
    "get_transcript",
    {
      title: "Read a session's transcript",
      description:
        "What the user and the agent said, the commands run (with exit codes and output) and the files changed, as readable text; redacted, a page at a time.",
      inputSchema: {
        id: z.string(),
        offset: z.number().int().min(0).optional().describe("first entry (default 0)"),
        max_chars: z.number().int().min(200).max(100_000).optional().describe(`page size in characters (default ${DEFAULT_MAX_CHARS})`),
      },
    },
    async ({ id, offset = 0, max_chars = DEFAULT_MAX_CHARS }) => {
      const s = await store.getSession(id);
      const entries: string[] = [];
      let size = 0;
      let index = 0;
      let next: number | null = null;
      for await (const e of eventsOf(store, s)) {
        const text = transcriptEntry(e);
        if (text === null) continue;
        if (index++ < offset) continue;
        const cut = clip(redactSecrets(text), max_chars);
        if (entries.length > 0 && size + cut.length > max_chars) {
          next = index - 1;
          break;
        }
        entries.push(cut);
        size += cut.length;
      }
      return { content: [{ type: "text" as const, text: entries.join("\n\n") + (next === null ? "" : `\n\n[more: call again with offset ${next}]`) }] };
    },
  );

  server.registerTool(
    "get_file_changes",
    {
      title: "Get file changes",
      description: "Files a session changed, with their diffs; or, given a path, the changes to that path across sessions (newest first).",
      inputSchema: {
        id: z.string().optional().describe("a session id"),
        path: z.string().optional().describe("a file path, or the end of one (e.g. src/app.ts)"),
        max_chars: z.number().int().min(1000).max(100_000).optional(),
      },
    },
    async ({ id, path, max_chars = DEFAULT_MAX_CHARS }) => {
      if (!id && !path) return { isError: true, content: [{ type: "text" as const, text: "give a session id, a path, or both" }] };
      const sessions: SessionSummary[] = [];
      if (id) sessions.push(await store.getSession(id));
      else sessions.push(...(await searchSessions(store, { archived: "all", limit: 50, q: path! })).sessions);
      const changes: unknown[] = [];
      let size = 0;
      let truncated = false;
      outer: for (const s of sessions) {
        for await (const e of eventsOf(store, s)) {
          if (e.type !== "file_change") continue;
          for (const f of e.files) {
            if (path && !f.path.endsWith(path) && !(f.movePath ?? "").endsWith(path)) continue;
            const diff = clip(redactSecrets(f.diff), max_chars);
            if (size + diff.length > max_chars && changes.length > 0) {
              truncated = true;
              break outer;
            }
            size += diff.length;
            changes.push({ session_id: s.id, timestamp: e.timestamp, status: e.status, path: f.path, kind: f.kind, move_path: f.movePath, diff });
          }
        }
      }
      return json({ changes, truncated });
    },
  );
}

function transcriptEntry(e: SessionEvent): string | null {
  switch (e.type) {
    case "message":
      return `${e.role === "user" ? "User" : "Agent"}: ${e.text}`;
    case "command":
      return `$ ${e.command ?? (e.argv ?? []).join(" ")}  [${e.status}${e.exitCode === null ? "" : `, exit ${e.exitCode}`}]${e.output ? `\n${clip(e.output, 2000)}` : ""}`;
    case "file_change":
      return `Changed files [${e.status}]: ${e.paths.join(", ")}`;
    case "tool_call":
      return `Tool ${e.toolName ?? "?"}${e.command ? `: ${e.command}` : ""} [${e.status}]`;
    case "turn_ended":
      return e.status === "completed" ? null : `(turn ${e.status}${e.reason ? `: ${e.reason}` : ""})`;
    default:
      return null;
  }
}

/** A piece of the session's search text around the first place it says `text`. */
async function snippetOf(store: SessionStore, s: SessionSummary, text: string): Promise<string | null> {
  const needle =
    text
      .toLowerCase()
      .split(/\s+/)
      .find((w) => w.length > 0) ?? "";
  for await (const e of eventsOf(store, s)) {
    const t = searchTextOf(e);
    if (!t) continue;
    const i = t.toLowerCase().indexOf(needle);
    if (i < 0) continue;
    const start = Math.max(0, i - SNIPPET_CHARS / 2);
    return redactSecrets(`${start > 0 ? "…" : ""}${t.slice(start, start + SNIPPET_CHARS)}${start + SNIPPET_CHARS < t.length ? "…" : ""}`);
  }
  return null;
}

/** Which agent's reader reads the session: the store says (a Claude Code or Gemini CLI home), else it holds Codex rollouts. */
async function readerOf(store: SessionStore, s: SessionSummary) {
  const r = await storedSessionReading(store, s.id, s);
  return { agent: r.agent, ...readingOptions(r) };
}

async function* eventsOf(store: SessionStore, s: SessionSummary): AsyncGenerator<SessionEvent> {
  const { agent, ...options } = await readerOf(store, s);
  yield* readSessionEvents(store.readStream(s.id, "rollout"), agent, { ...options, text: true });
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… [${text.length - max} more characters]` : text;
}

function json(value: unknown) {
  return { content: [{ type: "text" as const, text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
}
