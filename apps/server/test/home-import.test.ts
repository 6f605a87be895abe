import { randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { FIXTURES, fixtureRollouts } from "@sessionvault/testing/codex-fixtures";
import { uiLogin } from "@sessionvault/testing/ui-login";
import { FsStore } from "@sessionvault/fs-store";
import { spawnServer, type ServerProcess } from "./support/server-process.js";

/** Every wait below is for an event or a state; this only bounds a broken run. */
const DEADLINE_MS = 60_000;

let dir: string;
const servers: ServerProcess[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});

/** A new Codex session made of a fixture rollout's real lines under a new id, written into `home`'s day folder (created). */
async function newCodexSession(home: string): Promise<{ id: string; path: string; lines: string[] }> {
  const template = fixtureRollouts("0.169.0").find((r) => !r.archived)!;
  const id = `01a1fd77-${randomUUID().slice(9, 13)}-7${randomUUID().slice(15)}`;
  const lines = (await readFile(template.path, "utf8")).replaceAll(template.id, id).split("\n").slice(0, -1);
  const day = join(home, "sessions", "2026", "12", "02");
  await mkdir(day, { recursive: true });
  return { id, path: join(day, `rollout-2026-12-02T07-00-00-${id}.jsonl`), lines };
}

/** Reads a server-sent event stream and resolves `next(name)` when that event arrives. */
async function openEvents(url: string, cookie: string): Promise<{ next: (name: string) => Promise<void>; close: () => void }> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { cookie, accept: "text/event-stream" }, signal: ac.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  let text = "";
  const next = async (name: string) => {
    const deadline = Date.now() + DEADLINE_MS;
    for (;;) {
      const at = text.indexOf(name);
      if (at !== -1) {
        text = text.slice(at + name.length);
        return;
      }
      if (Date.now() > deadline) throw new Error(`no ${name} on ${url} within ${DEADLINE_MS} ms`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`${url} ended before ${name}`);
      text += Buffer.from(value).toString("utf8");
    }
  };
  return { next, close: () => ac.abort() };
}

test("quickstart keeps importing the Codex home: a session written while the server runs appears, growing, and the live list is told", async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-home-import-"));
  const codexHome = join(dir, "codex-home");
  await cp(join(FIXTURES, "0.169.0"), codexHome, { recursive: true });
  const data = join(dir, "data");
  // No rescan during the test: what arrives comes through the watch.
  const server = await spawnServer(data, { SESSIONVAULT_DATA: data, CODEX_HOME: codexHome, HOME: dir }, ["--quickstart", "--import-rescan", "3600"]);
  servers.push(server);
  await expect.poll(() => server.output(), { timeout: DEADLINE_MS }).toMatch(/watching them/);
  expect(server.output()).toMatch(/imported 16 session\(s\)/);
  const token = /admin token \(shown once, keep it\): (sv_\S+)/.exec(server.output())![1]!;
  const auth = { authorization: `Bearer ${token}` };

  // The web UI's list listens for changes; the stream is open (its first comment came) before the session is written.
  const login = await uiLogin(server.url, token);
  const events = await openEvents(`${server.url}/events/sessions`, login.cookie);
  await events.next(": watching");

  const s = await newCodexSession(codexHome);
  await writeFile(s.path, s.lines.slice(0, 4).join("\n") + "\n");
  await events.next("event: change");
  const lines = async () => {
    const res = await fetch(`${server.url}/v1/sessions/${s.id}`, { headers: auth });
    return res.status === 200 ? ((await res.json()) as { lines: number }).lines : 0;
  };
  await expect.poll(lines, { timeout: DEADLINE_MS }).toBe(4);

  // It grows: the rest of its lines, and the list hears of it again.
  for (const line of s.lines.slice(4)) appendFileSync(s.path, line + "\n");
  await events.next("event: change");
  await expect.poll(lines, { timeout: DEADLINE_MS }).toBe(s.lines.length);
  const stored = await fetch(`${server.url}/v1/sessions/${s.id}/streams/rollout`, { headers: auth });
  expect(Buffer.from(await stored.arrayBuffer()).equals(await readFile(s.path))).toBe(true);
  events.close();

  expect(await server.stop()).toBe(0);
}, 120_000);

test("serve --import DIR --import-org ORG imports that home into that org and keeps watching it", async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-home-import-"));
  const home = join(dir, "codex-home");
  await cp(join(FIXTURES, "0.169.0"), home, { recursive: true });
  const data = join(dir, "data");
  const server = await spawnServer(data, { HOME: dir }, ["--import", home, "--import-org", "acme", "--import-rescan", "3600"]);
  servers.push(server);
  await expect.poll(() => server.output(), { timeout: DEADLINE_MS }).toMatch(/imported 16 session\(s\)/);

  const s = await newCodexSession(home);
  await writeFile(s.path, s.lines.join("\n") + "\n");
  // The org's sessions as the server stores them (a file tree here).
  const acme = new FsStore({ root: data, org: "acme" });
  const stored = async () => (await acme.getSession(s.id).catch(() => null))?.lines ?? 0;
  await expect.poll(stored, { timeout: DEADLINE_MS }).toBe(s.lines.length);
  const out: string[] = [];
  for await (const line of acme.readStream(s.id, "rollout")) out.push(line);
  expect(out).toEqual(s.lines);
  await acme.close();
  // Nothing went to the quickstart org.
  const other = new FsStore({ root: data, org: "default" });
  expect((await other.listSessions({ archived: "all" })).sessions).toHaveLength(0);
  await other.close();

  expect(await server.stop()).toBe(0);
}, 120_000);

test("a home that cannot be read when the server starts does not stop it: the other homes are imported, and that one once it can be", async () => {
  dir = await mkdtemp(join(tmpdir(), "sv-home-import-"));
  const codexHome = join(dir, "codex-home");
  await cp(join(FIXTURES, "0.169.0"), codexHome, { recursive: true });
  // Not a Codex home (a file that is no part of one): its first pass fails.
  const notes = join(dir, "notes");
  await mkdir(notes);
  await writeFile(join(notes, "todo.txt"), "buy milk\n");
  const data = join(dir, "data");
  const server = await spawnServer(data, { SESSIONVAULT_DATA: data, CODEX_HOME: codexHome, HOME: dir }, [
    "--quickstart",
    "--import",
    notes,
    "--import-rescan",
    "3600",
  ]);
  servers.push(server);
  await expect.poll(() => server.output(), { timeout: DEADLINE_MS }).toMatch(/watching them/);
  expect(server.output()).toMatch(/imported 16 session\(s\)/);
  expect(server.output()).toMatch(/could not import \S*notes: .*not a Codex home/);
  const token = /admin token \(shown once, keep it\): (sv_\S+)/.exec(server.output())![1]!;
  const auth = { authorization: `Bearer ${token}` };
  const listed = await fetch(`${server.url}/v1/sessions?archived=all&limit=100`, { headers: auth });
  expect(listed.status).toBe(200);
  expect(((await listed.json()) as { sessions: unknown[] }).sessions).toHaveLength(16);

  // The folder becomes a Codex home: it is retried, and its session arrives.
  await rm(join(notes, "todo.txt"));
  const s = await newCodexSession(notes);
  await writeFile(s.path, s.lines.join("\n") + "\n");
  const stored = async () => (await fetch(`${server.url}/v1/sessions/${s.id}`, { headers: auth })).status;
  await expect.poll(stored, { timeout: DEADLINE_MS }).toBe(200);
  expect(await server.stop()).toBe(0);
}, 120_000);

test.each([
  { agent: "claude-code", fixture: join(FIXTURES, "..", "claude-code", "2.1.332") },
  { agent: "gemini-cli", fixture: join(FIXTURES, "..", "gemini-cli", "0.61.0", "gemini") },
])(
  "--import of a $agent home: a session the agent starts while the server runs is imported as that agent's, whole",
  async ({ agent, fixture }) => {
    dir = await mkdtemp(join(tmpdir(), "sv-home-import-"));
    const home = join(dir, "home");
    await cp(fixture, home, { recursive: true });
    const data = join(dir, "data");
    const server = await spawnServer(data, { HOME: dir }, ["--import", home, "--import-org", "acme", "--import-rescan", "3600"]);
    servers.push(server);
    await expect.poll(() => server.output(), { timeout: DEADLINE_MS }).toMatch(/imported \d+ session\(s\)/);

    // A copy of one of the home's own transcripts under a new id, as the agent would start it.
    const acme = new FsStore({ root: data, org: "acme" });
    const source = (await acme.listSessions({ archived: "all", limit: 1 })).sessions[0]!;
    const lines: string[] = [];
    for await (const l of acme.readStream(source.id, "rollout")) lines.push(l);
    const id = randomUUID();
    const text = lines.join("\n").replaceAll(source.id, id) + "\n";
    const path =
      agent === "claude-code"
        ? join(home, "projects", "-tmp-new-project", `${id}.jsonl`)
        : join(home, "tmp", "newproject", "chats", `session-2026-12-02T07-00-${id.slice(0, 8)}.jsonl`);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, text);
    const stored = async () => (await acme.getSession(id).catch(() => null))?.lines ?? 0;
    await expect.poll(stored, { timeout: DEADLINE_MS }).toBe(lines.length);
    expect((await acme.getSession(id)).agent).toBe(agent);
    const out: string[] = [];
    for await (const l of acme.readStream(id, "rollout")) out.push(l);
    expect(out.join("\n") + "\n").toBe(text);
    await acme.close();
    expect(await server.stop()).toBe(0);
  },
  120_000,
);
