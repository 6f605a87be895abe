import { execFileSync } from "node:child_process";
import { appendFile, cp, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSessionFacts, type SessionSummary } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { snapshotTree } from "@sessionvault/testing/tree-snapshot";

const FIXTURES = fileURLToPath(new URL("../../../fixtures/codex/", import.meta.url));
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function listAll(store: FsStore): Promise<SessionSummary[]> {
  const out: SessionSummary[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listSessions({ archived: "all", limit: 7, cursor });
    out.push(...page.sessions);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return out;
}

const byId = (xs: SessionSummary[]) => new Map(xs.map((s) => [s.id, s]));

interface CacheBody {
  entries: Record<string, { pos: { seq: number }; lastTs: string | null }>;
}

describe("summary cache (FsStoreOptions.summaryCache)", () => {
  let home: string;
  let cacheFile: string;
  let truth: Map<string, SessionSummary>;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "sv-fs-cache-"));
    dirs.push(home);
    await cp(join(FIXTURES, "0.169.0", "sessions"), join(home, "sessions"), { recursive: true });
    // Outside the home, as the CLI keeps it (in the user's cache directory); the folder does not exist yet.
    cacheFile = join(home + "-cache", "sessionvault", "summary.json");
    dirs.push(home + "-cache");
    // Files changed within the last 2 s are never cached (their times could still hide a change).
    await sleep(2100);
    truth = byId(await listAll(new FsStore({ root: home })));
    expect(truth.size).toBeGreaterThan(5);
  });

  it("is off by default: listing writes nothing", async () => {
    const before = await snapshotTree(home);
    const store = new FsStore({ root: home });
    await listAll(store);
    await store.close();
    expect(await snapshotTree(home)).toEqual(before);
    await expect(stat(cacheFile)).rejects.toThrow(/ENOENT/);
  });

  it("a later store lists the same summaries from the cache, and a changed file is always read again", async () => {
    const before = await snapshotTree(home);
    const first = new FsStore({ root: home, summaryCache: cacheFile });
    expect(byId(await listAll(first))).toEqual(truth);
    expect(await snapshotTree(home)).toEqual(before);
    await first.close();
    const body = JSON.parse(await readFile(cacheFile, "utf8")) as CacheBody;
    expect(Object.keys(body.entries).length).toBe(truth.size);
    expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);

    // Prove the next process answers from the cache: forge two entries' line counts.
    const keys = Object.keys(body.entries).sort();
    const [forged, appended] = [keys[0]!, keys[1]!];
    body.entries[forged]!.pos.seq = 999_999;
    body.entries[appended]!.pos.seq = 888_888;
    await writeFile(cacheFile, JSON.stringify(body));
    // One file grows (size changes); a second cached file is untouched.
    const appendedPath = join(home, appended);
    const extra = '{"timestamp":"2030-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"token_count"}}';
    await appendFile(appendedPath, extra + "\n");
    const appendedId = [...truth.values()].find((s) => appendedPath.endsWith(`${s.id}.jsonl`))!.id;
    const forgedId = [...truth.values()].find((s) => join(home, forged).endsWith(`${s.id}.jsonl`))!.id;

    const second = byId(await listAll(new FsStore({ root: home, summaryCache: cacheFile })));
    expect(second.get(forgedId)!.lines).toBe(999_999);
    expect(second.get(appendedId)).toEqual({
      ...truth.get(appendedId)!,
      lines: truth.get(appendedId)!.lines + 1,
      bytes: truth.get(appendedId)!.bytes + extra.length + 1,
      updated_at: "2030-01-01T00:00:00.000Z",
    });
    for (const [id, s] of truth) if (id !== forgedId && id !== appendedId) expect(second.get(id)).toEqual(s);
  });

  it("same size and mtime restored after a rewrite: the ctime differs, the file is recounted", async () => {
    const store = new FsStore({ root: home, summaryCache: cacheFile });
    const listed = byId(await listAll(store));
    await store.close();
    const s = [...listed.values()].find((x) => x.lines > 3)!;
    const body = JSON.parse(await readFile(cacheFile, "utf8")) as CacheBody;
    const key = Object.keys(body.entries).find((k) => k.endsWith(`${s.id}.jsonl`))!;
    const path = join(home, key);
    const before = await stat(path, { bigint: true });
    // `touch -r` copies the times to the nanosecond (what a tool restoring mtimes would do).
    const ref = join(home, "times.ref");
    execFileSync("touch", ["-r", path, ref]);
    // Replace the last line's first character with one of the same length, then put the times back.
    const text = await readFile(path, "utf8");
    const lastStart = text.lastIndexOf("\n", text.length - 2) + 1;
    const changed =
      text.slice(0, lastStart) + '{"timestamp":"2031-02-03T04:05:06.007Z"' + text.slice(lastStart + '{"timestamp":"2031-02-03T04:05:06.007Z"'.length);
    expect(changed.length).toBe(text.length);
    expect(text.slice(lastStart).startsWith('{"timestamp":"')).toBe(true);
    await writeFile(path, changed);
    execFileSync("touch", ["-r", ref, path]);
    await rm(ref);
    const after = await stat(path, { bigint: true });
    expect(after.mtimeNs).toBe(before.mtimeNs);
    expect(after.size).toBe(before.size);
    expect(after.ino).toBe(before.ino);

    const again = byId(await listAll(new FsStore({ root: home, summaryCache: cacheFile })));
    expect(again.get(s.id)!.updated_at).toBe("2031-02-03T04:05:06.007Z");
  });

  it("a corrupt or foreign cache file is an empty cache and is replaced", async () => {
    await sleep(2100); // let the files changed above become cacheable again
    await writeFile(cacheFile, '{"version":1,"headLines":200,"entries":{"x":{"pos":7}}');
    const store = new FsStore({ root: home, summaryCache: cacheFile });
    const listed = byId(await listAll(store));
    await store.close();
    expect([...listed.keys()].sort()).toEqual([...truth.keys()].sort());
    const body = JSON.parse(await readFile(cacheFile, "utf8")) as CacheBody;
    expect(Object.keys(body.entries).length).toBe(truth.size);
    // Garbage that parses, but with entries of the wrong shape: ignored, not trusted.
    const k = Object.keys(body.entries)[0]!;
    (body.entries[k] as unknown as { pos: unknown }).pos = { seq: -1 };
    await writeFile(cacheFile, JSON.stringify(body));
    const id = [...truth.values()].find((s) => join(home, k).endsWith(`${s.id}.jsonl`))!.id;
    const fresh = byId(await listAll(new FsStore({ root: home, summaryCache: cacheFile })));
    expect(fresh.get(id)!.lines).toBe(listed.get(id)!.lines);
  });

  it("a deleted session's entry is dropped after a full listing", async () => {
    const store = new FsStore({ root: home, summaryCache: cacheFile });
    const listed = await listAll(store);
    const victim = listed[listed.length - 1]!;
    await store.deleteSession(victim.id);
    await store.close();
    const body = JSON.parse(await readFile(cacheFile, "utf8")) as CacheBody;
    expect(Object.keys(body.entries).some((k) => k.endsWith(`${victim.id}.jsonl`))).toBe(false);
    expect(Object.keys(body.entries).length).toBe(listed.length - 1);
  });
});

describe("session facts in the summary cache", () => {
  it("a second listing reads no rollout; a rollout appended since is read again and its facts follow", async () => {
    const home = await mkdtemp(join(tmpdir(), "sv-fs-facts-"));
    dirs.push(home, home + "-cache");
    await cp(join(FIXTURES, "0.169.0", "sessions"), join(home, "sessions"), { recursive: true });
    const cacheFile = join(home + "-cache", "summary.json");
    // Files changed within the last 2 s are never cached (their times could still hide a change).
    await sleep(2100);

    const first = new FsStore({ root: home, summaryCache: cacheFile });
    const listed = byId(await listAll(first));
    await first.close();
    expect(listed.size).toBeGreaterThan(3);
    // Every rollout read once (a lookup repeated across pages may hit what this store just read).
    expect(first.summaryCacheStats?.misses).toBe(listed.size);
    for (const s of listed.values()) {
      // The facts a listing gives are those read from the rollout itself.
      expect(s.facts, s.id).toEqual(await readSessionFacts(first.readStream(s.id, "rollout"), "codex"));
    }

    const second = new FsStore({ root: home, summaryCache: cacheFile });
    expect(byId(await listAll(second))).toEqual(listed);
    expect(second.summaryCacheStats?.misses).toBe(0);
    expect(second.summaryCacheStats?.hits).toBeGreaterThanOrEqual(listed.size);
    await second.close();

    // One more turn on a session: a new model, new token totals, and the turn completes.
    const s = [...listed.values()].find((x) => x.facts && x.facts.turns > 0)!;
    const path = join(home, Object.keys((JSON.parse(await readFile(cacheFile, "utf8")) as CacheBody).entries).find((k) => k.endsWith(`${s.id}.jsonl`))!);
    const at = (ms: number) => new Date(Date.parse(s.updated_at) + ms).toISOString();
    const turn = [
      { timestamp: at(1000), type: "event_msg", payload: { type: "task_started", turn_id: "appended-turn" } },
      {
        timestamp: at(1100),
        type: "turn_context",
        payload: {
          turn_id: "appended-turn",
          cwd: "/tmp",
          approval_policy: "never",
          sandbox_policy: { type: "read-only" },
          model: "appended-model",
          summary: "auto",
        },
      },
      {
        timestamp: at(2000),
        type: "event_msg",
        payload: {
          type: "token_count",
          info: { total_token_usage: { input_tokens: 987654, cached_input_tokens: 1, output_tokens: 2, reasoning_output_tokens: 3, total_tokens: 987656 } },
        },
      },
      { timestamp: at(3000), type: "event_msg", payload: { type: "task_complete", turn_id: "appended-turn", last_agent_message: null } },
    ];
    await appendFile(path, turn.map((l) => JSON.stringify(l) + "\n").join(""));

    const third = new FsStore({ root: home, summaryCache: cacheFile });
    const after = byId(await listAll(third));
    expect(third.summaryCacheStats?.misses).toBe(1);
    const facts = after.get(s.id)!.facts!;
    expect(facts).toEqual(await readSessionFacts(third.readStream(s.id, "rollout"), "codex"));
    expect(facts).toMatchObject({
      model: "appended-model",
      turns: s.facts!.turns + 1,
      outcome: "completed",
      tokens: { input: 987654, cached_input: 1, output: 2, reasoning: 3 },
    });
    await third.close();
  });
});
