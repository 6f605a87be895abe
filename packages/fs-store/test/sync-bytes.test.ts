import { existsSync, readdirSync } from "node:fs";
import { appendFile, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkedStore, syncStores } from "@sessionvault/core";
import { generateCodexHome } from "@sessionvault/testing/codex-home";
import { FsStore } from "@sessionvault/fs-store";

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "sv-sync-bytes-"));
  dirs.push(d);
  return d;
}

/** Rollout files under a home, by path relative to it. */
function rollouts(home: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/^rollout-.*\.jsonl$/.test(e.name)) out.push(relative(home, join(d, e.name)));
    }
  };
  walk(join(home, "sessions"));
  walk(join(home, "archived_sessions"));
  return out.sort();
}

const open = (root: string) => checkedStore(new FsStore({ root }));

describe("sync between two Codex homes copies bytes", () => {
  it("states RawStreams through the checked layer", () => {
    expect(open("/nonexistent").capabilities.rawStreams).toBe(true);
  });

  it("a line that is not UTF-8 arrives byte for byte (a line copy would replace it), and a session Codex could list alone gets no sidecar", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 6, archivedEvery: 3 });
    const odd = gen.sessions[1]!;
    // A user message with a byte sequence that is not UTF-8, as a crashed writer may leave one.
    await appendFile(
      odd.path,
      Buffer.concat([
        Buffer.from('{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"x","m":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}}\n'),
      ]),
    );
    const to = join(dir, "backup");
    const summary = await syncStores(open(src), open(to));
    expect(summary.errors).toEqual([]);
    expect(summary.sessions_sent).toBe(6);
    expect(rollouts(to)).toEqual(rollouts(src));
    for (const path of rollouts(src)) expect((await readFile(join(to, path))).equals(await readFile(join(src, path))), path).toBe(true);
    // Laid out as Codex lays it out: no sessions/<id>/ folder for a session whose rollout says everything.
    expect(readdirSync(join(to, "sessions")).filter((n) => n.includes("-"))).toEqual([]);
    const again = await syncStores(open(src), open(to));
    expect(again).toMatchObject({ sessions_sent: 0, lines_sent: 0, conflicts: 0 });
  });

  it("a thread name the source lists is kept in the target's sidecar, so the copy lists under it and a rerun sends nothing", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 3 });
    const named = gen.sessions[2]!;
    await writeFile(
      join(src, "session_index.jsonl"),
      `${JSON.stringify({ id: named.id, thread_name: "the migration", updated_at: "2026-01-01T00:00:00Z" })}\n`,
    );
    const to = join(dir, "backup");
    await syncStores(open(src), open(to));
    expect(existsSync(join(to, "sessions", named.id, "session.json"))).toBe(true);
    expect((await open(to).getSession(named.id)).title).toBe("the migration");
    expect(await syncStores(open(src), open(to))).toMatchObject({ sessions_sent: 0, lines_sent: 0 });
  });

  it("a target holding the first lines (a run cut short, a torn tail) gets exactly the rest", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 2, repeat: 3 });
    const to = join(dir, "backup");
    await syncStores(open(src), open(to));
    const s = gen.sessions[0]!;
    const path = rollouts(to).find((p) => p.includes(s.id))!;
    const whole = await readFile(join(to, path));
    // Cut in the middle of a line: 5 whole lines and half of the sixth.
    let cut = 0;
    for (let i = 0; i < 5; i++) cut = whole.indexOf(10, cut) + 1;
    await truncate(join(to, path), cut + 7);
    const summary = await syncStores(open(src), open(to));
    expect(summary).toMatchObject({ sessions_sent: 1, lines_sent: s.lines - 5, bytes_sent: s.bytes - cut, conflicts: 0, errors: [] });
    expect((await readFile(join(to, path))).equals(await readFile(s.path))).toBe(true);
  });

  it("a target whose lines differ from the source's is never overwritten: a conflict", async () => {
    const dir = await tempDir();
    const src = join(dir, "home");
    const gen = await generateCodexHome(src, { sessions: 1 });
    const to = join(dir, "backup");
    await syncStores(open(src), open(to));
    const s = gen.sessions[0]!;
    const path = join(to, rollouts(to)[0]!);
    const theirs = await readFile(path);
    // The target's own longer stream: more lines than the source.
    await appendFile(path, '{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"theirs"}}\n');
    const summary = await syncStores(open(src), open(to));
    expect(summary.conflicts).toBe(1);
    expect(summary.lines_sent).toBe(0);
    expect((await readFile(path)).subarray(0, theirs.length).equals(theirs)).toBe(true);
    expect(s.lines).toBeGreaterThan(0);
  });
});
