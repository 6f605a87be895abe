import { chmodSync } from "node:fs";
import { appendFile, chmod, mkdir, mkdtemp, rename, rm, truncate, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { codexPaths } from "@sessionvault/core";
import { generateCodexHome } from "@sessionvault/testing/codex-home";
import { homeTree } from "../src/home-tree.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) chmodSync(d, 0o700);
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function home() {
  const dir = await mkdtemp(join(tmpdir(), "sv-tree-"));
  dirs.push(dir);
  const gen = await generateCodexHome(dir, { sessions: 6, archivedEvery: 3 });
  await writeFile(join(dir, "session_index.jsonl"), `${JSON.stringify({ id: gen.sessions[0]!.id, thread_name: "a thread" })}\n`);
  // A session's own folder, as the store keeps beside Codex's files (a sidecar, a side stream).
  const side = join(dir, "sessions", gen.sessions[1]!.id);
  await mkdir(side);
  await writeFile(join(side, "session.json"), "{}\n");
  await writeFile(join(side, "raw.jsonl"), '{"n":1}\n');
  return { dir, gen, side, digest: () => homeTree(codexPaths(dir)).digest };
}

async function moveToAnotherDay(path: string) {
  const day = join(dirname(dirname(path)), "28");
  await mkdir(day, { recursive: true });
  await rename(path, join(day, basename(path)));
}

describe("homeTree: one digest of every name and stat a sync between two homes looks at", () => {
  it("is the same for an unchanged home, walked again", async () => {
    const h = await home();
    const first = h.digest();
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(h.digest()).toBe(first);
  });

  // Each change a sync must notice, on either side of it.
  const changes: [string, (h: Awaited<ReturnType<typeof home>>) => Promise<unknown>][] = [
    ["a line appended to a rollout", (h) => appendFile(h.gen.sessions[2]!.path, '{"more":1}\n')],
    ["a rollout cut short", (h) => truncate(h.gen.sessions[2]!.path, 10)],
    ["a rollout's times set back (touch)", (h) => utimes(h.gen.sessions[3]!.path, new Date("2020-01-01"), new Date("2020-01-01"))],
    ["a rollout's mode changed (only its ctime says so)", (h) => chmod(h.gen.sessions[3]!.path, 0o640)],
    ["an archived rollout appended to", (h) => appendFile(h.gen.sessions.find((s) => s.path.includes("archived_sessions"))!.path, '{"more":1}\n')],
    ["a new file in a day folder", (h) => writeFile(join(dirname(h.gen.sessions[0]!.path), "notes.txt"), "")],
    ["a rollout moved to another day", (h) => moveToAnotherDay(h.gen.sessions[0]!.path)],
    ["a rollout removed", (h) => rm(h.gen.sessions[4]!.path)],
    ["a side stream appended to", (h) => appendFile(join(h.side, "raw.jsonl"), '{"n":2}\n')],
    ["a sidecar rewritten in place", (h) => writeFile(join(h.side, "session.json"), "{ }\n")],
    ["a session folder made", (h) => mkdir(join(h.dir, "sessions", h.gen.sessions[5]!.id))],
    [
      "a thread renamed (session_index.jsonl)",
      (h) => appendFile(join(h.dir, "session_index.jsonl"), `${JSON.stringify({ id: h.gen.sessions[0]!.id, thread_name: "b" })}\n`),
    ],
  ];
  for (const [what, change] of changes)
    it(`changes with ${what}`, async () => {
      const h = await home();
      const before = h.digest();
      await change(h);
      expect(h.digest()).not.toBe(before);
    });

  it("tells each file with its stats, and a session's folder before its files", async () => {
    const h = await home();
    const seen: string[] = [];
    homeTree(codexPaths(h.dir), {
      folder: (folder) => seen.push(`${folder}/`),
      file: (folder, name, plain, _ino, size) => seen.push(`${folder}/${name} ${plain} ${size}`),
    });
    const rel = (p: string) => p.slice(h.dir.length + 1);
    for (const s of h.gen.sessions) expect(seen).toContain(`${rel(s.path)} true ${s.bytes}`);
    const side = rel(h.side);
    expect(seen.indexOf(`${side}/`)).toBeLessThan(seen.indexOf(`${side}/raw.jsonl true 8`));
    expect(seen).toContain(`/session_index.jsonl true ${Buffer.byteLength(`${JSON.stringify({ id: h.gen.sessions[0]!.id, thread_name: "a thread" })}\n`)}`);
  });

  it.skipIf(process.getuid?.() === 0)(
    "a folder it may not read is skipped with a warning, and the home has no digest: it is never taken as settled",
    async () => {
      const h = await home();
      const day = dirname(h.gen.sessions[0]!.path);
      await chmod(day, 0o000);
      dirs.push(day);
      const warnings: string[] = [];
      expect(homeTree(codexPaths(h.dir), { warn: (m) => warnings.push(m) }).digest).toBeNull();
      expect(warnings).toEqual([`cannot read ${day}: permission denied; skipped`]);
    },
  );

  it("a home with no sessions yet has a digest (an empty backup is a state like any other)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sv-tree-"));
    dirs.push(dir);
    const empty = homeTree(codexPaths(dir)).digest;
    expect(empty).toMatch(/^[0-9a-f]{64}$/);
    await mkdir(join(dir, "sessions"));
    expect(homeTree(codexPaths(dir)).digest).toBe(empty);
  });
});
