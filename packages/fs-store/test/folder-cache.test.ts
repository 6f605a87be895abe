import { copyFile, cp, mkdtemp, readdir, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { FsStore } from "@sessionvault/fs-store";

const FIXTURES = fileURLToPath(new URL("../../../fixtures/codex/", import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("listing pages over a folder that changes between pages", () => {
  it("a rollout added or removed after the first page is seen by the next page (the folder's kept listing is dropped)", async () => {
    const home = await mkdtemp(join(tmpdir(), "sv-fs-folders-"));
    dirs.push(home);
    await cp(join(FIXTURES, "0.169.0", "sessions"), join(home, "sessions"), { recursive: true });
    const day = join(home, "sessions", "2026", "11", "21");
    const files = (await readdir(day)).sort();
    expect(files.length).toBeGreaterThan(6);
    // Old enough for its sorted listing to be kept between pages.
    await sleep(2100);
    const store = new FsStore({ root: home });
    const first = await store.listSessions({ limit: 2 });
    expect(first.next_cursor).not.toBeNull();

    // Added after page 1: older than every listed session, so it belongs on a later page.
    const addedId = "01a1fd77-0000-7000-8000-000000000001";
    await copyFile(join(day, files[files.length - 1]!), join(day, `rollout-2026-11-21T00-00-01-${addedId}.jsonl`));
    // Removed after page 1: one that page 2 would otherwise show.
    const removed = files[0]!;
    await unlink(join(day, removed));
    const removedId = /([0-9a-f-]{36})\.jsonl$/.exec(removed)![1]!;

    const rest: string[] = [];
    let cursor = first.next_cursor;
    while (cursor !== null) {
      const page = await store.listSessions({ limit: 2, cursor });
      rest.push(...page.sessions.map((s) => s.id));
      cursor = page.next_cursor;
    }
    expect(rest).toContain(addedId);
    expect(rest).not.toContain(removedId);
    expect(rest[rest.length - 1]).toBe(addedId);
    const all = [...first.sessions.map((s) => s.id), ...rest];
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(files.length);
  });
});
