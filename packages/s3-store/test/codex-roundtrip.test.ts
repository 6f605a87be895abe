import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { syncStores } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { afterAll, describe, expect, test } from "vitest";
import { openTestStore } from "./support/open-store.js";
import { sharedS3Server } from "@sessionvault/testing/shared-services";

const FIXTURES = join(import.meta.dirname, "../../../fixtures/codex");

/** Every rollout file of a Codex home, by path relative to the home. */
export async function rolloutFiles(home: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const dir of ["sessions", "archived_sessions"]) {
    const entries = await readdir(join(home, dir), { recursive: true, withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.isFile() && /^rollout-.*\.jsonl$/.test(e.name)) out.set(relative(home, join(e.parentPath, e.name)), await readFile(join(e.parentPath, e.name)));
    }
  }
  return out;
}

const server = sharedS3Server();
afterAll(async () => {});

describe("a Codex home synced to S3 and back out", () => {
  test.each(["0.39.0", "0.98.0", "0.169.0"])("Codex %s: byte-identical rollout files, same summaries, and a rerun sends nothing", async (version) => {
    const home = join(FIXTURES, version);
    const back = await mkdtemp(join(tmpdir(), "sv-s3-back-"));
    const source = new FsStore({ root: home });
    // Compaction after every 2nd append, so the way back reads manifests and segments too.
    const s3 = openTestStore(server, { compactAfterAppends: 2 });
    const target = new FsStore({ root: back });
    try {
      const up = await syncStores(source, s3, { batchLines: 7 });
      expect(up.errors).toEqual([]);
      expect(up.lines_sent).toBeGreaterThan(0);
      expect((await syncStores(source, s3)).lines_sent).toBe(0);

      const down = await syncStores(s3, target);
      expect(down.errors).toEqual([]);
      expect(down.lines_sent).toBe(up.lines_sent);
      expect(down.bytes_sent).toBe(up.bytes_sent);

      const original = await rolloutFiles(home);
      const copied = await rolloutFiles(back);
      expect(original.size).toBeGreaterThan(0);
      expect([...copied.keys()].sort()).toEqual([...original.keys()].sort());
      for (const [path, bytes] of original) expect(copied.get(path)!.equals(bytes), path).toBe(true);

      const listed = await s3.listSessions({ archived: "all", limit: 1000 });
      const local = await source.listSessions({ archived: "all", limit: 1000 });
      expect(listed.sessions.map((s) => s.id)).toEqual(local.sessions.map((s) => s.id));
      for (const s of local.sessions) {
        const remote = await s3.getSession(s.id);
        expect({ ...remote, streams: undefined, legal_hold: undefined }).toEqual({ ...s, streams: undefined, legal_hold: undefined });
      }
    } finally {
      await Promise.all([source.close(), s3.close(), target.close()]);
      await rm(back, { recursive: true, force: true });
    }
  });
});
