import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { AmbiguousIdError, InvalidIdError, NotACodexHomeError, NotFoundError } from "@sessionvault/core";
import { sessionHeadLines } from "@sessionvault/core/conformance";
import { FsStore } from "@sessionvault/fs-store";
import { snapshotTree } from "@sessionvault/testing/tree-snapshot";

/** Issue 2's bad-input list at the store level: a clear error or a counted warning, and nothing modified. */
const FIXTURES = fileURLToPath(new URL("../../../fixtures/codex/", import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
async function temp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "sv-bad-"));
  dirs.push(d);
  return d;
}
async function copyHome(version: string): Promise<string> {
  const root = await temp();
  await cp(join(FIXTURES, version, "sessions"), join(root, "sessions"), { recursive: true });
  return root;
}
function dayDirOf(root: string): string {
  return join(root, "sessions", "2026", "11", "21");
}

describe("bad input", () => {
  it("a directory that is not a Codex home: NotACodexHomeError for reads and writes, nothing created", async () => {
    const dir = await temp();
    await writeFile(join(dir, "notes.txt"), "my notes\n");
    await mkdir(join(dir, "src"));
    const before = await snapshotTree(dir);
    const store = new FsStore({ root: dir });
    await expect(store.listSessions()).rejects.toBeInstanceOf(NotACodexHomeError);
    await expect(store.getSession("01a1fd77")).rejects.toThrow(/is not a Codex home/);
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7240";
    await expect(
      store.putSession({
        id,
        created_at: "2026-01-01T00:00:00.000Z",
        cwd: null,
        title: null,
        archived: false,
        source: null,
        originator: null,
        cli_version: null,
        model_provider: null,
        git: null,
        parent_id: null,
        forked_from_id: null,
      }),
    ).rejects.toBeInstanceOf(NotACodexHomeError);
    await expect(new FsStore({ root: join(dir, "missing") }).listSessions()).rejects.toBeInstanceOf(NotACodexHomeError);
    await expect(new FsStore({ root: join(dir, "notes.txt") }).listSessions()).rejects.toBeInstanceOf(NotACodexHomeError);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it("a ~/.codex the real Codex CLI made before any session (only tmp/ in it) is an empty Codex home, not an error", async () => {
    const codex = join(await temp(), ".codex");
    await mkdir(join(codex, "tmp", "arg0"), { recursive: true });
    const store = new FsStore({ root: codex });
    expect(await store.listSessions()).toEqual({ sessions: [], next_cursor: null });
    // What the rule must keep: any other folder holding only tmp/ is still refused.
    const other = await temp();
    await mkdir(join(other, "tmp"));
    await expect(new FsStore({ root: other }).listSessions()).rejects.toBeInstanceOf(NotACodexHomeError);
  });

  it("an unreadable file is a warning and the listing continues", async () => {
    const root = await copyHome("0.98.0");
    const day = dayDirOf(root);
    // A name that is a rollout but cannot be read as one (a directory); as root, chmod 000 would not stop us.
    const bogus = join(day, "rollout-2026-11-21T23-59-59-01a1fd79-0000-7000-8000-000000000000.jsonl");
    await mkdir(bogus);
    const before = await snapshotTree(root);
    const warnings: string[] = [];
    const store = new FsStore({ root, onWarning: (m) => warnings.push(m) });
    const page = await store.listSessions({ limit: 100 });
    expect(page.sessions).toHaveLength(readdirSync(day).length - 1);
    expect(warnings).toEqual([expect.stringMatching(/^\/.*01a1fd79-0000-7000-8000-000000000000\.jsonl is a folder, not a file; skipped$/)]);
    expect(await snapshotTree(root)).toEqual(before);
  });

  it("garbage lines are counted warnings; the session is still listed and read as stored", async () => {
    const root = await temp();
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7250";
    const inp = {
      id,
      created_at: "2026-11-21T09:00:00.000Z",
      cwd: "/w",
      title: "survives garbage",
      archived: false,
      source: "exec",
      originator: "codex_exec",
      cli_version: "0.98.0",
      model_provider: "openai",
      git: null,
      parent_id: null,
      forked_from_id: null,
    };
    await store.putSession(inp);
    const [meta, ...rest] = sessionHeadLines(inp);
    const lines = [meta!, "this is not json", '{"half":', ...rest];
    await store.append(id, "rollout", 0, lines);
    const before = await snapshotTree(root);
    const warnings: string[] = [];
    const reader = new FsStore({ root, onWarning: (m) => warnings.push(m) });
    const [s] = (await reader.listSessions()).sessions;
    expect(s).toMatchObject({ id, title: "survives garbage", lines: lines.length });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/line 2 is not valid JSON/);
    expect(warnings[1]).toMatch(/line 3 is not valid JSON/);
    const read: string[] = [];
    for await (const l of reader.readStream(id, "rollout")) read.push(l);
    expect(read).toEqual(lines);
    expect(await snapshotTree(root)).toEqual(before);
  });

  it("a 50 MB line is listed, counted and read back intact", async () => {
    const root = await temp();
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7251";
    const inp = {
      id,
      created_at: "2026-11-21T09:00:00.000Z",
      cwd: "/w",
      title: "has a huge image",
      archived: false,
      source: "exec",
      originator: "codex_exec",
      cli_version: "0.169.0",
      model_provider: "openai",
      git: null,
      parent_id: null,
      forked_from_id: null,
    };
    await store.putSession(inp);
    const head = sessionHeadLines(inp);
    await store.append(id, "rollout", 0, head);
    const big = JSON.stringify({
      timestamp: "2026-11-21T09:00:01.000Z",
      type: "response_item",
      payload: { type: "message", role: "user", content: [{ type: "input_image", image_url: "data:image/png;base64," + "A".repeat(50 * 1024 * 1024) }] },
    });
    const small = '{"timestamp":"2026-11-21T09:00:02.000Z","type":"event_msg","payload":{"type":"token_count"}}';
    await store.append(id, "rollout", head.length, [big, small]);
    const before = await snapshotTree(root);
    const s = await new FsStore({ root }).getSession(id);
    expect(s).toMatchObject({ lines: head.length + 2, title: "has a huge image", updated_at: "2026-11-21T09:00:02.000Z" });
    expect(s.bytes).toBe(head.reduce((n, l) => n + l.length + 1, 0) + big.length + 1 + small.length + 1);
    const lens: number[] = [];
    for await (const l of store.readStream(id, "rollout", { fromSeq: head.length })) lens.push(l.length);
    expect(lens).toEqual([big.length, small.length]);
    expect(await snapshotTree(root)).toEqual(before);
  }, 60_000);

  it("an ambiguous or unknown id, and ../ in an id: clear errors, nothing modified", async () => {
    const root = await copyHome("0.169.0");
    const before = await snapshotTree(root);
    const store = new FsStore({ root });
    const amb = await store.getSession("01a1fd77").catch((e: unknown) => e);
    expect(amb).toBeInstanceOf(AmbiguousIdError);
    expect((amb as Error).message).toMatch(/^session id prefix "01a1fd77" is ambiguous: it matches 01a1fd77-/);
    await expect(store.getSession("01a1fd77-ffff")).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.getSession("01a1fd77-ffff-7fff-8fff-ffffffffffff")).rejects.toThrow(/no session 01a1fd77-ffff-7fff-8fff-ffffffffffff/);
    for (const bad of ["../../etc/passwd", "01a1fd77/../../x", "..", "01a1fd77-5062-78c3-9c88-31a6914d7240/../x"]) {
      await expect(store.getSession(bad)).rejects.toBeInstanceOf(InvalidIdError);
      await expect(store.append(bad, "rollout", 0, ["x"])).rejects.toBeInstanceOf(InvalidIdError);
      await expect(store.deleteSession(bad)).rejects.toBeInstanceOf(InvalidIdError);
    }
    const [s] = (await store.listSessions({ limit: 1 })).sessions;
    await expect(store.append(s!.id, "../../x", 0, ["x"])).rejects.toBeInstanceOf(InvalidIdError);
    expect(await snapshotTree(root)).toEqual(before);
  });
});
