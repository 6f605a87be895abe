import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bytePrefilter, searchSessions } from "@sessionvault/core";
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
