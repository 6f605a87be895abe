import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codexLineSearchText, projectActions, readFileLines, type SessionSummary } from "@sessionvault/core";
import { afterAll, describe, expect, it } from "vitest";
import { buildTimeline } from "../../server/src/ui/timeline.ts";
import { renderMarkdown } from "../src/markdown-transcript.ts";
import { FIXTURES, fixtureRollouts } from "@sessionvault/testing/codex-fixtures";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { uniquePrefix } from "@sessionvault/testing/s3-server";
import { sharedPostgres, sharedS3Server } from "@sessionvault/testing/shared-services";
import { expectedSessions, FIXTURES as AGENT_FIXTURES, homeDir } from "./support/agent-fixtures.ts";
import { runCli } from "./support/run-cli.ts";

/**
 * Every view is built from the one session model, so over every session of
 * every Codex version the views agree: the calls of actions v1 are the calls
 * of the web timeline (same ids, kinds, statuses and exit codes), the
 * markdown transcript shows each command with its exit code, and a search
 * for each command's text finds it.
 */
const VERSIONS = readdirSync(FIXTURES)
  .filter((v) => /^\d/.test(v))
  .sort();

async function* texts(path: string): AsyncGenerator<string> {
  for await (const l of readFileLines(path)) yield l.text;
}

interface Call {
  id: string;
  kind: string;
  status: string;
  exit: number | null;
}

describe.each(VERSIONS)("the views of Codex %s sessions agree", (version) => {
  it("actions v1, the timeline, the markdown transcript and the search text name the same calls", async () => {
    const rollouts = fixtureRollouts(version);
    expect(rollouts.length).toBeGreaterThan(5);
    let commands = 0;
    for (const r of rollouts) {
      const actions: Call[] = [];
      const display: string[] = [];
      for await (const a of projectActions(readFileLines(r.path), { sessionId: r.id, redact: false })) {
        if (a.action_type === "command_execution" || a.action_type === "file_change" || a.action_type === "tool_call") {
          actions.push({
            id: a.call_id ?? "",
            kind: a.action_type === "command_execution" ? "command" : a.action_type,
            status: a.status,
            exit: a.action_type === "tool_call" ? null : a.exit_code,
          });
          if (a.action_type === "command_execution" && a.command) display.push(a.command);
        }
      }

      const page = await buildTimeline(texts(r.path), { firstTurn: 0, turnCount: 1_000_000, redact: false, maxTextChars: 1_000_000 });
      const timeline: Call[] = [];
      for (const t of page.turns)
        for (const i of t.items) {
          if (i.kind === "command") timeline.push({ id: i.callId, kind: "command", status: i.status, exit: i.exitCode });
          else if (i.kind === "file_change") timeline.push({ id: i.callId, kind: "file_change", status: i.status, exit: null });
          else if (i.kind === "tool_call") timeline.push({ id: i.callId, kind: "tool_call", status: i.status, exit: null });
        }
      // A live session's export stops before its first running call; the timeline shows it running.
      const running = timeline.findIndex((c) => c.status === "in_progress");
      const final = running === -1 ? timeline : timeline.slice(0, running);
      const withoutFileExit = (cs: Call[]) => cs.map((c) => (c.kind === "file_change" ? { ...c, exit: null } : c));
      expect(withoutFileExit(final), r.path).toEqual(withoutFileExit(actions));

      let md = "";
      const summary = { id: r.id, created_at: "", title: null, cwd: null } as unknown as SessionSummary;
      for await (const chunk of renderMarkdown(summary, texts(r.path), { redact: false, maxOutputChars: 100_000 })) md += chunk;
      const mdCommands = [...md.matchAll(/^\*\*Command\*\* `/gm)].length;
      expect(mdCommands, r.path).toBe(timeline.filter((c) => c.kind === "command").length);
      for (const c of actions) if (c.kind === "command" && c.exit !== null) expect(md, r.path).toContain(`Exit code ${c.exit}:`);

      const search: string[] = [];
      for await (const l of readFileLines(r.path)) {
        const t = codexLineSearchText(l.text);
        if (t !== null) search.push(t);
      }
      const text = search.join("\n");
      for (const d of display) expect(text, `${r.path}: ${d}`).toContain(d);
      commands += display.length;
    }
    expect(commands).toBeGreaterThan(3);
  });
});

/**
 * A stored copy reads like the home it came from: every Claude Code and
 * Gemini CLI fixture session, synced into a directory, Postgres and S3,
 * shows the same facts, exports the same actions v1 and the same markdown
 * transcript as the agent's home (the store keeps the agent, a Gemini CLI
 * session's project root as its cwd, and a Claude Code fork is read without
 * the records it copied from its parent, which is in the same store).
 */
const pg = sharedPostgres();
const s3 = sharedS3Server();
let scratch = "";
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});
const AGENT_CASES = (["claude-code", "gemini-cli"] as const).flatMap((agent) =>
  readdirSync(join(AGENT_FIXTURES, agent)).map((version) => ({ agent, version })),
);
const FACT_KEYS = ["agent", "model", "outcome", "turns", "tokens", "duration_ms", "files_changed", "children", "title", "cwd", "created_at"] as const;

describe.each(AGENT_CASES)("the views of a stored copy of the $agent $version home agree with the home's", ({ agent, version }) => {
  it("facts, actions v1 and markdown from a directory, Postgres and S3 equal the home's", async () => {
    scratch ||= await mkdtemp(join(tmpdir(), "sv-views-agree-"));
    const home = homeDir(agent, version);
    const sessions = await expectedSessions(agent, version);
    const stores = {
      directory: join(scratch, `${agent}-${version}`),
      postgres: `${pg.url}?schema=${freshSchema("views")}`,
      s3: `s3://${s3.bucket}/${uniquePrefix("views")}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&force_path_style=true`,
    };
    const env = { AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey };
    for (const to of Object.values(stores)) expect((await runCli(["sync", "--from", home, "--to", to], env)).code).toBe(0);
    let compared = 0;
    for (const s of sessions) {
      const views = async (store: string) => {
        const shown = JSON.parse((await runCli(["show", s.id, "--store", store, "--json"], env)).out) as Record<string, unknown>;
        return {
          facts: Object.fromEntries(FACT_KEYS.map((k) => [k, shown[k]])),
          actions: (await runCli(["export", s.id, "--store", store, "--format", "actions.v1", "--no-redact"], env)).out,
          markdown: (await runCli(["export", s.id, "--store", store, "--format", "markdown", "--no-redact"], env)).out,
        };
      };
      const want = await views(home);
      expect(want.facts.agent).toBe(agent);
      for (const [name, store] of Object.entries(stores)) {
        const got = await views(store);
        expect(got.facts, `${name} ${s.label}`).toEqual(want.facts);
        expect(got.actions, `${name} ${s.label}`).toBe(want.actions);
        expect(got.markdown, `${name} ${s.label}`).toBe(want.markdown);
        compared++;
      }
    }
    expect(compared).toBe(sessions.length * 3);
  });
});
