import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { defaultStoreRegistry } from "@sessionvault/store-registry";
import { assertCliBuilt } from "./support/process-tree.js";

/**
 * `sync --watch` over a Claude Code config dir and a Gemini CLI dir: the
 * same watcher as for a Codex home (apps/cli/test/sync-watch.test.ts), over
 * the homes the real CLIs wrote (fixtures/). A session of each agent is
 * started while the watch runs and grows a few records at a time, as the
 * agent writes it; each burst must reach the target, and the target's
 * stream must end equal to the home's, line for line.
 */
const CLI_BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
/** Every wait below is for an event line; this only bounds a broken run. */
const DEADLINE_MS = 60_000;

let dir: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  assertCliBuilt(["commands/sync-watch.ts"]);
  dir = await mkdtemp(join(tmpdir(), "sv-watch-agents-"));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Event {
  event: string;
  session_id?: string;
  lines_sent?: number;
  new?: boolean;
  [k: string]: unknown;
}

/** `sync --watch --json` as a child process; `until` waits for its event lines. */
function watch(args: string[]): { events: Event[]; until: (what: string, done: () => boolean) => Promise<void>; stop: () => Promise<number | null> } {
  const child = spawn(process.execPath, [CLI_BIN, "sync", "--watch", "--json", ...args], {
    env: { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: join(dir, "cache") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const events: Event[] = [];
  let stderr = "";
  let wake: (() => void) | null = null;
  let buf = "";
  child.stdout!.on("data", (d: Buffer) => {
    buf += d.toString("utf8");
    for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
      events.push(JSON.parse(buf.slice(0, nl)) as Event);
      buf = buf.slice(nl + 1);
    }
    wake?.();
  });
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  void exited.then(() => wake?.());
  return {
    events,
    async until(what, done) {
      const deadline = Date.now() + DEADLINE_MS;
      while (!done()) {
        if (child.exitCode !== null) throw new Error(`sync --watch exited before ${what}:\n${stderr}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${what} within ${DEADLINE_MS} ms:\n${stderr}\n${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    },
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

async function streamLines(url: string, id: string, stream = "rollout"): Promise<string[]> {
  const store = await defaultStoreRegistry().open(url);
  try {
    const out: string[] = [];
    for await (const l of store.readStream(id, stream)) out.push(l);
    return out;
  } finally {
    await store.close();
  }
}

interface AgentCase {
  agent: string;
  /** The fixture home, copied. */
  fixture: string;
  /** A transcript of the fixture to replay as a new session, its id, and where the new session's file goes (given its new id). */
  template: (home: string) => Promise<{ path: string; id: string; newPath: (home: string, id: string) => string }>;
}

const CASES: AgentCase[] = [
  {
    agent: "claude-code",
    fixture: join(FIXTURES, "claude-code", "2.1.332"),
    template: async (home) => {
      const project = join(home, "projects", "-tmp-claude-harness-run-VJYBDK-work-todo");
      const id = "d1d92c81-fee7-4cd3-b28d-fcc1f8fde7ec";
      return { path: join(project, `${id}.jsonl`), id, newPath: (_h, newId) => join(project, `${newId}.jsonl`) };
    },
  },
  {
    agent: "gemini-cli",
    fixture: join(FIXTURES, "gemini-cli", "0.61.0", "gemini"),
    template: async (home) => {
      const chats = join(home, "tmp", "edit", "chats");
      const name = (await readdir(chats)).find((n) => n.endsWith(".jsonl"))!;
      const head = JSON.parse((await readFile(join(chats, name), "utf8")).split("\n")[0]!) as { sessionId: string };
      return { path: join(chats, name), id: head.sessionId, newPath: (_h, newId) => join(chats, `session-2026-12-02T07-00-${newId.slice(0, 8)}.jsonl`) };
    },
  },
];

describe.each(CASES)("sync --watch over a $agent home", ({ agent, fixture, template }) => {
  test("a session started while it runs reaches the target whole, burst by burst, and only it is sent", async () => {
    const home = join(dir, `${agent}-home`);
    const target = join(dir, `${agent}-target`);
    await cp(fixture, home, { recursive: true });
    const run = watch(["--from", home, "--to", target, "--rescan", "3600"]);
    await run.until("the first sync and the watch", () => run.events.some((e) => e.event === "watching"));
    const first = run.events.find((e) => e.event === "synced")!;
    expect(first).toMatchObject({ agent, errors: [], conflicts: 0 });
    expect(first.sessions_sent as number).toBeGreaterThan(0);

    const t = await template(home);
    const id = randomUUID();
    const lines = (await readFile(t.path, "utf8")).replaceAll(t.id, id).split("\n").slice(0, -1);
    expect(lines.length).toBeGreaterThan(10);
    const path = t.newPath(home, id);
    const sent = () => run.events.filter((e) => e.event === "session" && e.session_id === id).reduce((n, e) => n + (e.lines_sent ?? 0), 0);
    // The agent writes the session's first records, then the rest a few at a time.
    await writeFile(path, lines.slice(0, 3).join("\n") + "\n");
    await run.until(`new session ${id}`, () => run.events.some((e) => e.event === "session" && e.session_id === id && e.new === true));
    for (let at = 3; at < lines.length; at += 4) {
      for (const line of lines.slice(at, at + 4)) appendFileSync(path, line + "\n");
      const want = Math.min(at + 4, lines.length);
      await run.until(`${want} lines of ${id} in the target`, () => sent() === want);
    }
    expect(await streamLines(target, id)).toEqual(await streamLines(home, id));
    // The target keeps it as that agent's session.
    const stored = await defaultStoreRegistry().open(target);
    try {
      expect((await stored.getSession(id)).agent).toBe(agent);
    } finally {
      await stored.close();
    }
    const touched = new Set(run.events.filter((e) => e.event === "session").map((e) => e.session_id));
    expect([...touched]).toEqual([id]);
    expect(await run.stop()).toBe(0);
  }, 120_000);
});
