import { appendFile, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bytePrefilter, searchSessions, type AgentName, type SessionInput } from "@sessionvault/core";
import { claudeCodeLines, conformanceId, geminiCliLines, sessionHeadLines } from "@sessionvault/core/conformance";
import { generateCodexHome } from "@sessionvault/testing/codex-home";
import { FsStore } from "@sessionvault/fs-store";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "sv-search-index-"));
  dirs.push(d);
  return d;
}

/** How many rollouts a scan for `q` decided without reading a byte of them (the index knew them). */
async function decidedByIndex(store: FsStore, q: string): Promise<number> {
  let n = 0;
  // A run of sessions decided not to match comes as one entry standing for them all.
  for await (const e of store.scanRollouts({ archived: "all" }, bytePrefilter(q))) if (e.bytes === 0) n += e.sessions ?? 1;
  return n;
}

const userLine = (text: string) =>
  JSON.stringify({
    timestamp: "2026-03-01T10:00:00.000Z",
    type: "response_item",
    payload: { type: "message", role: "user", content: [{ type: "input_text", text }] },
  });

describe("the search index of a Codex home", () => {
  it("decides unchanged rollouts without reading them, reads a changed one again, and finds what the scan finds", async () => {
    const dir = await tempDir();
    const root = join(dir, "home");
    const gen = await generateCodexHome(root, { sessions: 5, archivedEvery: 0 });
    const searchIndex = join(dir, "cache", "index.db");
    const open = () => new FsStore({ root, searchIndex });
    // A rollout is recorded once it has not changed for 2 s (its times could still hide a change): search until all are.
    let indexed = 0;
    while (indexed < gen.sessions.length) {
      const store = open();
      indexed = await decidedByIndex(store, "anything at all");
      await store.close();
    }
    const plain = new FsStore({ root });
    const target = gen.sessions[3]!;
    await appendFile(target.path, `${userLine("please run the Zanzibar migration")}\n`);
    const store = open();
    // The grown rollout is read again and found; the others are still decided from the index.
    const page = await searchSessions(store, { q: "zanzibar", archived: "all" });
    expect(page.sessions.map((s) => s.id)).toEqual([target.id]);
    expect(page.snippets?.[target.id]).toContain("Zanzibar migration");
    expect(page).toEqual(await searchSessions(plain, { q: "zanzibar", archived: "all" }));
    expect(await decidedByIndex(store, "zanzibar")).toBe(gen.sessions.length - 1);
    // A word of every session's messages: the same sessions and snippets as the scan without an index.
    const word = (await readFile(gen.sessions[0]!.path, "utf8")).includes("README") ? "readme" : "the";
    expect(await searchSessions(store, { q: word, archived: "all" })).toEqual(await searchSessions(plain, { q: word, archived: "all" }));
    await store.close();
  });

  it("a corrupt index file is no index: the search reads the rollouts", async () => {
    const dir = await tempDir();
    const root = join(dir, "home");
    const gen = await generateCodexHome(root, { sessions: 2, archivedEvery: 0 });
    await appendFile(gen.sessions[1]!.path, `${userLine("the zanzibar plan")}\n`);
    const searchIndex = join(dir, "index.db");
    await writeFile(searchIndex, "not a database");
    const store = new FsStore({ root, searchIndex });
    expect((await searchSessions(store, { q: "zanzibar", archived: "all" })).sessions.map((s) => s.id)).toEqual([gen.sessions[1]!.id]);
    await store.close();
  });
});

/** Searches `q` page by page (`limit` each) until the last page: every page, with its cursor. */
async function allPages(store: FsStore, q: string, limit: number) {
  const pages = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof searchSessions>> = await searchSessions(store, { q, archived: "all", limit, cursor });
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return pages;
}

/** Searches until every rollout of the home is decided from the index (a rollout is recorded once it is 2 s old). */
async function indexAll(open: () => FsStore, sessions: number): Promise<void> {
  for (let decided = 0; decided < sessions; ) {
    const store = open();
    decided = await decidedByIndex(store, "anything at all");
    await store.close();
  }
}

describe("a search answered from the index", () => {
  it("gives the scan's sessions, snippets and cursors, page by page, without reading a rollout", async () => {
    const dir = await tempDir();
    const root = join(dir, "home");
    const gen = await generateCodexHome(root, { sessions: 8, archivedEvery: 3 });
    const [named, grown, other] = [gen.sessions[2]!, gen.sessions[5]!, gen.sessions[6]!];
    await appendFile(
      join(root, "session_index.jsonl"),
      `${JSON.stringify({ id: named.id, thread_name: "The Zanzibar thread", updated_at: "2026-03-01T10:00:00Z" })}\n`,
    );
    await appendFile(grown.path, `${userLine("please run the ZANZIBAR migration")}\n`);
    await appendFile(other.path, `${userLine("zanzibar again, and the migration")}\n`);
    const searchIndex = join(dir, "index.db");
    const open = () => new FsStore({ root, searchIndex });
    await indexAll(open, gen.sessions.length);
    const plain = new FsStore({ root });
    const store = open();
    const word = (await readFile(gen.sessions[0]!.path, "utf8")).includes("README") ? "readme" : "the";
    for (const q of ["zanzibar", "Migration", word, gen.sessions[4]!.id.slice(0, 13), "no such text anywhere"]) {
      for (const limit of [1, 2, 50]) {
        const indexed = await allPages(store, q, limit);
        expect(indexed, `${q}, limit ${limit}`).toEqual(await allPages(plain, q, limit));
      }
    }
    const found = await searchSessions(store, { q: "zanzibar", archived: "all" });
    expect(new Set(found.sessions.map((s) => s.id))).toEqual(new Set([named.id, grown.id, other.id]));
    expect(found.snippets?.[named.id]).toBe("The Zanzibar thread");
    expect(found.snippets?.[grown.id]).toContain("ZANZIBAR migration");
    // Every rollout was decided from the index: not one byte of them read.
    let read = 0;
    for await (const e of store.scanRollouts({ archived: "all" }, bytePrefilter("zanzibar"))) read += e.bytes;
    expect(read).toBe(0);
    await store.close();
  });

  it("reads a rollout rewritten after it was indexed (same size, the text gone) before answering", async () => {
    const dir = await tempDir();
    const root = join(dir, "home");
    const gen = await generateCodexHome(root, { sessions: 3, archivedEvery: 0 });
    const target = gen.sessions[1]!;
    await appendFile(target.path, `${userLine("the zanzibar plan")}\n`);
    const searchIndex = join(dir, "index.db");
    const open = () => new FsStore({ root, searchIndex });
    await indexAll(open, gen.sessions.length);
    const before = open();
    expect((await searchSessions(before, { q: "zanzibar", archived: "all" })).sessions.map((s) => s.id)).toEqual([target.id]);
    await before.close();
    // Same length, other bytes: only its times and ctime say it changed.
    await writeFile(target.path, (await readFile(target.path, "utf8")).replace("zanzibar", "xanzibar"));
    const store = open();
    expect((await searchSessions(store, { q: "zanzibar", archived: "all" })).sessions).toEqual([]);
    const page = await searchSessions(store, { q: "xanzibar", archived: "all" });
    expect(page.sessions.map((s) => s.id)).toEqual([target.id]);
    expect(page.snippets?.[target.id]).toBe("the xanzibar plan");
    await store.close();
  });

  it("no longer finds a rollout deleted after it was indexed, and a search over the whole home drops its rows", async () => {
    const dir = await tempDir();
    const root = join(dir, "home");
    const gen = await generateCodexHome(root, { sessions: 4, archivedEvery: 0 });
    const [gone, kept] = [gen.sessions[1]!, gen.sessions[2]!];
    await appendFile(gone.path, `${userLine("the zanzibar plan")}\n`);
    await appendFile(kept.path, `${userLine("zanzibar, kept")}\n`);
    const searchIndex = join(dir, "index.db");
    const open = () => new FsStore({ root, searchIndex });
    await indexAll(open, gen.sessions.length);
    expect(await indexedRollouts(searchIndex)).toBe(4);
    await rm(gone.path);
    const store = open();
    const page = await searchSessions(store, { q: "zanzibar", archived: "all" });
    expect(page.sessions.map((s) => s.id)).toEqual([kept.id]);
    await store.close();
    expect(await indexedRollouts(searchIndex)).toBe(3);
  });
});

describe("a rollout new to the index", () => {
  it("is read and found, then recorded: later searches decide it from the index", async () => {
    const dir = await tempDir();
    const root = join(dir, "home");
    const gen = await generateCodexHome(root, { sessions: 4, archivedEvery: 0 });
    const late = gen.sessions[2]!;
    await appendFile(late.path, `${userLine("the zanzibar plan")}\n`);
    const away = join(dir, "away.jsonl");
    await rename(late.path, away);
    const searchIndex = join(dir, "index.db");
    const open = () => new FsStore({ root, searchIndex });
    await indexAll(open, 3);
    await rename(away, late.path);
    const store = open();
    expect((await searchSessions(store, { q: "zanzibar", archived: "all" })).sessions.map((s) => s.id)).toEqual([late.id]);
    await store.close();
    // Recorded once 2 s old, by a search over the whole home, which also asks which rows are gone.
    await indexAll(open, 4);
    expect(await indexedRollouts(searchIndex)).toBe(4);
  });
});

describe("another agent's transcript in a store directory", () => {
  it("is matched through its reader, as the scan matches it, when the index says it may hold the text", async () => {
    const dir = await tempDir();
    const root = join(dir, "home");
    const session = (agent: AgentName, i: number): SessionInput => ({
      id: conformanceId(),
      agent,
      created_at: `2026-03-01T10:0${i}:00.000Z`,
      cwd: "/home/dev/project",
      title: null,
      archived: false,
      source: "cli",
      originator: "test",
      cli_version: "1.0.0",
      model_provider: null,
      git: null,
      parent_id: null,
      forked_from_id: null,
    });
    const codex = session("codex", 1);
    const claude = session("claude-code", 2);
    const gemini = session("gemini-cli", 3);
    const writer = new FsStore({ root });
    for (const [s, lines] of [
      [codex, [...sessionHeadLines(codex), userLine("the zanzibar plan, in Paris")]],
      [claude, claudeCodeLines(claude.id, claude.created_at, "the Zanzibar plan")],
      [gemini, geminiCliLines(gemini.id, gemini.created_at, "zanzibar too")],
    ] as const) {
      await writer.putSession(s);
      await writer.append(s.id, "rollout", 0, lines);
    }
    await writer.close();
    const searchIndex = join(dir, "index.db");
    const open = () => new FsStore({ root, searchIndex });
    await indexAll(open, 3);
    const plain = new FsStore({ root });
    const store = open();
    for (const q of ["zanzibar", "paris", "plan"])
      expect(await searchSessions(store, { q, archived: "all" }), q).toEqual(await searchSessions(plain, { q, archived: "all" }));
    const found = await searchSessions(store, { q: "zanzibar", archived: "all" });
    expect(new Set(found.sessions.map((s) => s.agent))).toEqual(new Set(["codex", "claude-code", "gemini-cli"]));
    expect(found.snippets?.[claude.id]).toBe("the Zanzibar plan");
    await store.close();
  });
});

/** How many rollouts the index file holds rows for. */
async function indexedRollouts(path: string): Promise<number> {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(path, { readonly: true });
  try {
    const docs = db.prepare("SELECT count(*) FROM docs").pluck().get() as number;
    const rollouts = db.prepare("SELECT count(*) FROM rollouts").pluck().get() as number;
    expect(docs).toBe(rollouts);
    return rollouts;
  } finally {
    db.close();
  }
}
