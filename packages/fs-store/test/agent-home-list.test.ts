import { appendFileSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SessionSummary } from "@sessionvault/core";
import { generateClaudeHome, generateGeminiHome } from "@sessionvault/testing/agent-homes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentHomeStore } from "../src/agent-home-store.js";
import { AgentHomeWalk } from "../src/agent-home-walk.js";

/**
 * A listing of an agent home reads only the sessions its page needs (by the
 * folder and file times and Gemini CLI's chat names), and the page is the
 * one a full read would give: checked against every session read one by one,
 * over generated homes (copies of the real CLIs' sessions, 20 project
 * variants each).
 */
let root: string;
const homes: Record<"claude-code" | "gemini-cli", { dir: string; ids: string[] }> = {
  "claude-code": { dir: "", ids: [] },
  "gemini-cli": { dir: "", ids: [] },
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sv-agent-list-"));
  homes["claude-code"] = { dir: join(root, ".claude"), ids: generateClaudeHome(join(root, ".claude"), { sessions: 400, groups: 5 }) };
  homes["gemini-cli"] = { dir: join(root, ".gemini"), ids: generateGeminiHome(join(root, ".gemini"), { sessions: 300, groups: 5 }) };
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function newestFirst(a: SessionSummary, b: SessionSummary): number {
  return a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : -1;
}

/** Counts the transcripts a listing reads in full (a summary), by counting candidate resolutions. */
function counting(store: AgentHomeStore): () => number {
  let n = 0;
  const walk = AgentHomeWalk.prototype;
  const resolve = walk.resolve;
  walk.resolve = function (this: AgentHomeWalk, c) {
    n++;
    return resolve.call(this, c);
  };
  void store;
  return () => {
    walk.resolve = resolve;
    return n;
  };
}

describe.each(["claude-code", "gemini-cli"] as const)("listing a %s home", (agent) => {
  let all: SessionSummary[] = [];
  beforeAll(async () => {
    const store = new AgentHomeStore(agent, homes[agent].dir);
    all = [];
    for (const id of homes[agent].ids) {
      const { streams: _s, legal_hold: _h, ...summary } = await store.getSession(id);
      all.push(summary);
    }
    all.sort(newestFirst);
  });

  it("gives the same pages as reading every session, reading only a few of them for the first page", async () => {
    const store = new AgentHomeStore(agent, homes[agent].dir);
    const done = counting(store);
    const first = await store.listSessions({ limit: 20 });
    const read = done();
    expect(first.sessions).toEqual(all.slice(0, 20));
    expect(first.next_cursor).toBe("20");
    // A few more than the page (ties at a bound are read), far from all of them.
    expect(read).toBeLessThan(60);
    let cursor: string | null = null;
    const paged: SessionSummary[] = [];
    do {
      const page = await new AgentHomeStore(agent, homes[agent].dir).listSessions({ limit: 150, cursor });
      paged.push(...page.sessions);
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(paged).toEqual(all);
  });

  it("filters by cwd as a full read would", async () => {
    const cwd = all[7]!.cwd!;
    const page = await new AgentHomeStore(agent, homes[agent].dir).listSessions({ limit: 5, cwd });
    expect(page.sessions).toEqual(all.filter((s) => s.cwd === cwd).slice(0, 5));
  });
});

describe("the summary cache", () => {
  it("lives in the cache directory, is used while a session's files are unchanged, and a grown file is read again", async () => {
    const cacheDir = join(root, "cache");
    const dir = homes["claude-code"].dir;
    const before = readdirSync(dir).sort();
    const first = await new AgentHomeStore("claude-code", dir, { cacheDir }).listSessions({ limit: 5 });
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(readdirSync(cacheDir).length).toBe(1);

    // A second run takes the summaries from the cache (marked here, so the test sees where they came from).
    const entryDir = join(cacheDir, readdirSync(cacheDir)[0]!);
    for (const s of first.sessions) {
      const file = join(entryDir, `${s.id}.json`);
      const entry = JSON.parse(readFileSync(file, "utf8")) as { key: string; summary: SessionSummary };
      writeFileSync(file, JSON.stringify({ ...entry, summary: { ...entry.summary, title: `cached ${s.id}` } }));
    }
    const again = await new AgentHomeStore("claude-code", dir, { cacheDir }).listSessions({ limit: 5 });
    expect(again.sessions.map((s) => s.title)).toEqual(first.sessions.map((s) => `cached ${s.id}`));

    // The newest session grows (the agent appends a turn): its summary is read again, the others still come from the cache.
    const top = first.sessions[0]!;
    const path = (await new AgentHomeStore("claude-code", dir).sessionFilesOf(top.id))[0]!;
    const last = readFileSync(path, "utf8").trimEnd().split("\n").at(-1)!;
    appendFileSync(path, `${last}\n`);
    const t = new Date(Date.parse(top.updated_at) + 1000);
    utimesSync(path, t, t);
    const grown = await new AgentHomeStore("claude-code", dir, { cacheDir }).listSessions({ limit: 5 });
    expect(grown.sessions[0]).toMatchObject({ id: top.id, title: top.title, lines: top.lines + 1, bytes: top.bytes + Buffer.byteLength(`${last}\n`) });
    expect(grown.sessions.slice(1).map((s) => s.title)).toEqual(first.sessions.slice(1).map((s) => `cached ${s.id}`));
  });
});
