import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { appendLines, ConflictError, syncStores, UnsupportedError, type SessionStore } from "@sessionvault/core";
import { afterAll, describe, expect, it } from "vitest";
import type { AgentHomeStore } from "../src/agent-home-store.js";
import { fromUrl } from "../src/from-url.js";

/** Restoring sessions into an agent's own home, from the homes the real Claude Code and Gemini CLI wrote (fixtures/). */
const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
const CLAUDE_VERSIONS = ["1.0.128", "2.0.77", "2.1.112", "2.1.332"];

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function emptyHome(name: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "sv-restore-"));
  dirs.push(root);
  return join(root, name);
}

const open = (dir: string) => fromUrl(pathToFileURL(dir)) as AgentHomeStore;

async function bytesOf(store: AgentHomeStore, id: string, stream: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of store.readStreamBytes(id, stream)) parts.push(c);
  return Buffer.concat(parts);
}

/** Every session and stream of `from` is in `to`, byte for byte, with the same summary. */
async function expectSameSessions(from: AgentHomeStore, to: AgentHomeStore): Promise<number> {
  // An empty transcript without a cwd (2.0.x writes some) has nothing to restore and no place to go.
  const sessions = (await from.listSessions({ limit: 1000 })).sessions.filter((s) => s.lines > 0 || s.cwd !== null);
  for (const s of sessions) {
    const copy = await to.getSession(s.id);
    // A file that records no time (a 1.0.x title-only file) is dated by its mtime, which is the restore's.
    const timed = (await bytesOf(from, s.id, "rollout")).includes('"timestamp"');
    const strip = (x: object) => ({ ...x, streams: undefined, legal_hold: undefined, ...(timed ? {} : { created_at: undefined, updated_at: undefined }) });
    expect(strip(copy)).toEqual(strip(await from.getSession(s.id)));
    const streams = (await from.streamPositions(s.id)).filter((x) => x.lines > 0);
    expect(copy.streams.filter((x) => x.lines > 0)).toEqual(streams);
    for (const stream of streams)
      expect((await bytesOf(to, s.id, stream.name)).equals(await bytesOf(from, s.id, stream.name)), `${s.id} ${stream.name}`).toBe(true);
  }
  return sessions.length;
}

describe("restore into an empty agent home", () => {
  for (const version of CLAUDE_VERSIONS) {
    it(`every Claude Code ${version} session lands where Claude Code looks for it, byte-identical; a rerun sends nothing`, async () => {
      const source = open(join(FIXTURES, "claude-code", version));
      const dir = await emptyHome(".claude");
      const target = open(dir);
      expect(target.agent).toBe("claude-code");
      const first = await syncStores(source, target);
      // A 1.0.x title-only file names no cwd: it goes beside the session it titles, once that one is there.
      for (const e of first.errors) expect(e).toMatchObject({ code: "NOT_FOUND", permanent: false });
      const second = await syncStores(source, open(dir));
      expect(second.errors).toEqual([]);
      const fresh = open(dir);
      expect(await expectSameSessions(source, fresh)).toBeGreaterThan(10);
      // The transcript sits at projects/<slug of its cwd>/<id>.jsonl, sub-agents where this version keeps them.
      for (const s of (await source.listSessions({ limit: 1000 })).sessions) {
        if (s.lines === 0 && s.cwd === null) continue;
        const files = await source.sessionFilesOf(s.id);
        const copies = await fresh.sessionFilesOf(s.id);
        expect(copies.map((f) => f.slice(dir.length))).toEqual(files.map((f) => f.slice(join(FIXTURES, "claude-code", version).length)));
      }
      const again = await syncStores(source, fresh);
      expect(again).toMatchObject({ lines_sent: 0, bytes_sent: 0, errors: [] });
      // Only sessions dated by their file (no recorded time) are put again, with nothing to send.
      expect(again.sessions_sent).toBe(version === "1.0.128" ? 2 : version === "2.0.77" ? 3 : 0);
    });
  }

  it("what run --persist-session captured beside a Claude Code transcript is restored beside it, byte-identical", async () => {
    const version = join(FIXTURES, "claude-code", "2.1.332");
    const source = await emptyHome(".claude");
    await cp(version, source, { recursive: true });
    const src = open(source);
    const s = (await src.listSessions({ limit: 1 })).sessions[0]!;
    const transcript = (await src.sessionFilesOf(s.id))[0]!;
    const captured = join(dirname(transcript), s.id, "sessionvault");
    await mkdir(captured, { recursive: true });
    await writeFile(join(captured, "session_oai_raw.log"), '{"kind":"request","n":1}\n{"kind":"response","body":"é ✓"}\n');
    await writeFile(join(captured, "session_meta.log"), '{"event":"interrupted"}\n');
    const dir = await emptyHome(".claude");
    const first = await syncStores(open(source), open(dir));
    expect(first.errors.filter((e) => e.session_id === s.id)).toEqual([]);
    const target = open(dir);
    for (const stream of ["raw-api", "meta-events"])
      expect((await bytesOf(target, s.id, stream)).equals(await bytesOf(open(source), s.id, stream)), stream).toBe(true);
    const copy = join(dirname((await target.sessionFilesOf(s.id))[0]!), s.id, "sessionvault", "session_oai_raw.log");
    expect((await readFile(copy)).equals(await readFile(join(captured, "session_oai_raw.log")))).toBe(true);
    expect(await syncStores(open(source), open(dir))).toMatchObject({ lines_sent: 0 });
  });

  it("every Gemini CLI 0.61.0 session (JSONL chats, one spanning two files) is restored file by file under the sha256 of its cwd; a rerun sends nothing", async () => {
    const home = join(FIXTURES, "gemini-cli", "0.61.0", "gemini");
    const source = open(home);
    const dir = await emptyHome(".gemini");
    expect(await syncStores(source, open(dir))).toMatchObject({ errors: [], conflicts: 0 });
    const target = open(dir);
    expect(await expectSameSessions(source, target)).toBe(13);
    const names = async (root: string) => {
      const out: string[] = [];
      for (const p of await readdir(join(root, "tmp")))
        for (const n of await readdir(join(root, "tmp", p, "chats")).catch(() => [])) if (n.startsWith("session-")) out.push(n);
      return out.sort();
    };
    expect(await names(dir)).toEqual(await names(home));
    expect(await syncStores(source, target)).toMatchObject({ lines_sent: 0, errors: [] });
  });

  it("refuses a single-JSON Gemini CLI chat, and another agent's session, saying why", async () => {
    const gemini = await emptyHome(".gemini");
    const r = await syncStores(open(join(FIXTURES, "gemini-cli", "0.20.0", "gemini")), open(gemini));
    expect(r.errors.length).toBe(13);
    for (const e of r.errors) expect(e.message).toMatch(/single-JSON Gemini CLI chat .*cannot be appended to/);

    const claude = await emptyHome(".claude");
    const codex = fromUrl(pathToFileURL(join(FIXTURES, "codex", "0.98.0"))) as unknown as SessionStore;
    const s = (await codex.listSessions({ limit: 1 })).sessions[0]!;
    const err = await open(claude)
      .putSession({ ...s, facts: { ...s.facts!, agent: "codex" } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as Error).message).toBe(`session ${s.id} is a codex session; ${claude} is a claude-code home, which holds only claude-code sessions`);
    // A Codex rollout sent without a summary naming its agent (no agent, no facts: a writer from before
    // summaries kept it, straight to the driver) is refused by its first line.
    const store = open(claude);
    await store.putSession({ ...s, agent: undefined, facts: undefined });
    const line = (
      await readFile(join(FIXTURES, "codex", "0.98.0", "sessions", ...(await findRollout(join(FIXTURES, "codex", "0.98.0", "sessions"), s.id))), "utf8")
    ).split("\n")[0]!;
    await expect(store.append(s.id, "rollout", 0, [line])).rejects.toThrow(/is a codex session \(its first line\)/);
    // Delete and legal hold stay the agent's business.
    await expect(store.deleteSession()).rejects.toBeInstanceOf(UnsupportedError);
    await expect(store.setLegalHold()).rejects.toBeInstanceOf(UnsupportedError);
  });

  it("appends at the stated position only, cuts a torn tail, and a retried batch is not written twice", async () => {
    const source = open(join(FIXTURES, "claude-code", "2.1.332"));
    const s = (await source.listSessions({ limit: 1 })).sessions[0]!;
    const lines: string[] = [];
    for await (const l of source.readStream(s.id, "rollout")) lines.push(l);
    const dir = await emptyHome(".claude");
    const target = open(dir);
    await target.putSession(s);
    expect(await target.append(s.id, "rollout", 0, lines.slice(0, 2))).toEqual({ seq: 2 });
    const err = await target.append(s.id, "rollout", 1, lines.slice(2, 3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).currentSeq).toBe(2);
    // A writer killed mid-line left a fragment: it is not a line, and the next append replaces it.
    const [path] = await target.sessionFilesOf(s.id);
    await appendFile(path!, '{"type":"user","torn');
    expect((await target.streamPositions(s.id))[0]).toMatchObject({ lines: 2 });
    expect(await target.append(s.id, "rollout", 2, lines.slice(2, 4))).toEqual({ seq: 4 });
    // The acknowledgement of that batch was lost: sent again, it is recognised.
    expect(await appendLines(target, s.id, "rollout", 2, lines.slice(2, 4))).toEqual({ seq: 4 });
    expect(await appendLines(target, s.id, "rollout", 4, lines.slice(4))).toEqual({ seq: lines.length });
    expect(await readFile(path!, "utf8")).toBe(`${lines.join("\n")}\n`);
  });
});

async function findRollout(root: string, id: string): Promise<string[]> {
  for (const e of await readdir(root, { withFileTypes: true, recursive: true }))
    if (e.isFile() && e.name.includes(id))
      return [
        ...join(e.parentPath, e.name)
          .slice(root.length + 1)
          .split("/"),
      ];
  throw new Error(`no rollout ${id}`);
}

// An empty folder with `projects/` is a Claude Code home too.
it("an empty folder holding projects/ opens as a Claude Code home, one holding tmp/ as a Gemini CLI home", async () => {
  const root = await emptyHome("home");
  await mkdir(join(root, "projects"), { recursive: true });
  expect(open(root).agent).toBe("claude-code");
  const g = await emptyHome("g");
  await mkdir(join(g, "tmp"), { recursive: true });
  expect(open(g).agent).toBe("gemini-cli");
});
