import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { IoError, syncStores, type SessionInput } from "@sessionvault/core";
import { sessionHeadLines } from "@sessionvault/core/conformance";
import { FsStore } from "@sessionvault/fs-store";

/**
 * Issue 12, lower items: the store never follows a symbolic link inside its
 * tree, a folder named like a rollout is a clear error, rollouts that cannot
 * be read are reported per session (and by sync), and temp files of killed
 * writers are swept.
 */
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "sv-tree-"));
  dirs.push(d);
  return d;
}

function input(id: string, title = "task"): SessionInput {
  return {
    id,
    created_at: "2026-11-21T09:36:57.445Z",
    cwd: "/w",
    title,
    archived: false,
    source: "exec",
    originator: "codex_exec",
    cli_version: "0.169.0",
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
  };
}

/** A session with a head (so listings show it); returns its rollout's path. */
async function seed(store: FsStore, id: string): Promise<string> {
  await store.putSession(input(id));
  await store.append(id, "rollout", 0, sessionHeadLines(input(id)));
  return (await store.streamFile(id, "rollout"))!;
}

describe("fs-store stays inside its tree", () => {
  it("refuses to append or read through a stream file that is a symbolic link; the linked file is untouched", async () => {
    const root = await tempDir();
    const outside = join(await tempDir(), "victim.txt");
    await writeFile(outside, "keep me\n");
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7301";
    await seed(store, id);
    await symlink(outside, join(root, "sessions", id, "session.log"));
    const err = await store.append(id, "debug-log", 0, ["written through the link"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as Error).message).toMatch(/session\.log is a symbolic link; sessionvault does not follow links inside the store/);
    await expect(collect(store.readStream(id, "debug-log"))).rejects.toThrow(/is a symbolic link/);
    expect(readFileSync(outside, "utf8")).toBe("keep me\n");
    // The session itself still reads; the link is not shown as a stream.
    expect((await store.getSession(id)).streams.map((s) => s.name)).toEqual(["rollout"]);
  });

  it("refuses a session folder that is a symbolic link, for appends and putSession; nothing lands outside", async () => {
    const root = await tempDir();
    const outside = await tempDir();
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7302";
    await seed(store, id);
    await rm(join(root, "sessions", id), { recursive: true });
    await symlink(outside, join(root, "sessions", id));
    await expect(store.append(id, "debug-log", 0, ["x"])).rejects.toThrow(/is a symbolic link; sessionvault does not follow links/);
    await expect(store.putSession(input(id, "again"))).rejects.toThrow(/is a symbolic link/);
    expect(await readdir(outside)).toEqual([]);
  });
});

describe("fs-store reports rollouts it cannot read", () => {
  it("a rollout that is a link and a folder named like a rollout: skipped by listings, named per session, clear errors on lookup, and sync reports both", async () => {
    const root = await tempDir();
    const store = new FsStore({ root });
    const good = "01a1fd77-5062-78c3-9c88-31a6914d7303";
    const linked = "01a1fd77-5062-78c3-9c88-31a6914d7304";
    const folder = "01a1fd77-5062-78c3-9c88-31a6914d7305";
    await seed(store, good);
    // A rollout replaced by a link to a real rollout elsewhere, and one replaced by a folder.
    const linkedPath = await seed(store, linked);
    const elsewhere = join(await tempDir(), "rollout.jsonl");
    await rename(linkedPath, elsewhere);
    await symlink(elsewhere, linkedPath);
    const folderPath = await seed(store, folder);
    await rm(folderPath);
    await mkdir(folderPath);
    await store.close();

    const warnings: string[] = [];
    const fresh = new FsStore({ root, onWarning: (w) => warnings.push(w) });
    const page = await fresh.listSessions({ archived: "all" });
    expect(page.sessions.map((s) => s.id)).toEqual([good]);
    const unreadable = fresh.unreadableSessions().sort((a, b) => a.session_id.localeCompare(b.session_id));
    expect(unreadable.map((u) => u.session_id)).toEqual([linked, folder]);
    expect(unreadable[0]!.message).toBe(`${linkedPath} is a symbolic link; sessionvault does not follow links inside the store`);
    expect(unreadable[1]!.message).toMatch(/is a folder, not a file/);
    expect(warnings).toHaveLength(2);

    const err = await fresh.getSession(folder).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IoError);
    expect((err as Error).message).toMatch(/is a folder, not a file/);
    await expect(fresh.getSession(linked)).rejects.toThrow(/is a symbolic link/);
    await expect(collect(fresh.readStream(folder, "rollout"))).rejects.toThrow(/is a folder/);

    const target = new FsStore({ root: await tempDir() });
    const summary = await syncStores(new FsStore({ root }), target);
    expect(summary.sessions_sent).toBe(1);
    expect(summary.errors.map((e) => e.session_id).sort()).toEqual([linked, folder]);
    expect((await target.listSessions()).sessions.map((s) => s.id)).toEqual([good]);
  });
});

describe("fs-store sweeps temp files of killed writers", () => {
  it("session.json and rollout.jsonl temp files left between write and rename go with the next putSession; other files stay", async () => {
    const root = await tempDir();
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7306";
    await seed(store, id);
    const sdir = join(root, "sessions", id);
    // What a writer killed between its write and its rename leaves behind.
    await writeFile(join(sdir, "session.json.0badf00d.tmp"), '{"id":"half');
    await symlink("../2026/11/21/x.jsonl", join(sdir, "rollout.jsonl.deadbeef.tmp"));
    await writeFile(join(sdir, "notes.tmp"), "not ours");
    await store.putSession(input(id, "renamed"));
    expect((await readdir(sdir)).sort()).toEqual(["notes.tmp", "rollout.jsonl", "session.json"]);
    expect(JSON.parse(await readFile(join(sdir, "session.json"), "utf8"))).toMatchObject({ title: "renamed" });
  });
});

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of it) out.push(l);
  return out;
}
