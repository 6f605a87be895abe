import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readFileLines, readLines, summarizeRollout, type LineWarning, type RawLine } from "@sessionvault/core";

const FIXTURES = fileURLToPath(new URL("../../../fixtures/codex/", import.meta.url));

/** Every rollout of one fixture version, keyed by thread id. */
function rollouts(version: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^rollout-.*\.jsonl$/.test(e.name)) out.set(e.name.slice(-42, -6), p);
    }
  };
  walk(join(FIXTURES, version, "sessions"));
  try {
    walk(join(FIXTURES, version, "archived_sessions"));
  } catch {
    // only 0.169.0 has archived sessions
  }
  return out;
}

/** label -> thread id from runs.tsv */
function runs(version: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const row of readFileSync(join(FIXTURES, version, "runs.tsv"), "utf8")
    .trim()
    .split("\n")) {
    const [label, , , id] = row.split("\t");
    m.set(label!, id!);
  }
  return m;
}

async function* fromText(text: string): AsyncGenerator<RawLine> {
  yield* readLines(
    (async function* () {
      yield Buffer.from(text);
    })(),
  );
}

const meta = (payload: Record<string, unknown>) =>
  JSON.stringify({
    timestamp: "2026-01-02T03:04:05.678Z",
    type: "session_meta",
    payload: { id: "11111111-2222-4333-8444-555555555555", timestamp: "2026-01-02T03:04:05.600Z", cwd: "/w", ...payload },
  });
const userItem = (text: string) =>
  JSON.stringify({
    timestamp: "2026-01-02T03:04:06.000Z",
    type: "response_item",
    payload: { type: "message", role: "user", content: [{ type: "input_text", text }] },
  });

describe("summarizeRollout on real Codex files", () => {
  for (const version of ["0.39.0", "0.98.0", "0.169.0"]) {
    it(`summarises every ${version} rollout with its own id, cwd and version`, async () => {
      const files = rollouts(version);
      expect(files.size).toBeGreaterThan(5);
      for (const [id, path] of files) {
        const head = await summarizeRollout(readFileLines(path));
        expect(head, path).not.toBeNull();
        expect(head!.id).toBe(id);
        expect(head!.cli_version).toBe(version);
        expect(head!.cwd).toMatch(/^\/tmp\/codex-harness-run\.[^/]+\/work\//);
        expect(head!.created_at).toMatch(/^2026-11-21T\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(head!.title).toBeTruthy();
        // injected context never becomes the title
        expect(head!.title).not.toMatch(/^(<environment_context>|# AGENTS\.md|<user_instructions>)/);
      }
    });
  }

  it("takes the first real user message as title, across versions", async () => {
    for (const version of ["0.39.0", "0.98.0", "0.169.0"]) {
      const id = runs(version).get("01-qa")!;
      const head = await summarizeRollout(readFileLines(rollouts(version).get(id)!));
      expect(head!.title).toBe("What is the capital of France?");
    }
  });

  it("keeps the title of the first turn in a resumed session", async () => {
    for (const version of ["0.39.0", "0.98.0", "0.169.0"]) {
      const r = runs(version);
      expect(r.get("05-multi-turn1")).toBe(r.get("07-multi-turn3"));
      const head = await summarizeRollout(readFileLines(rollouts(version).get(r.get("05-multi-turn1")!)!));
      expect(head!.title).toBe("Start a log file called log.txt with one line.");
    }
  });

  it("reads source and provider where the version writes them", async () => {
    const h39 = await summarizeRollout(readFileLines(rollouts("0.39.0").get(runs("0.39.0").get("01-qa")!)!));
    expect(h39).toMatchObject({ source: null, model_provider: null, originator: "codex_cli_rs", parent_id: null });
    const h169 = await summarizeRollout(readFileLines(rollouts("0.169.0").get(runs("0.169.0").get("01-qa")!)!));
    expect(h169).toMatchObject({ source: "exec", model_provider: "mock", originator: "codex_exec", parent_id: null, forked_from_id: null });
  });

  it("links a 0.98 sub-agent to its parent through source.subagent.thread_spawn", async () => {
    const parent = runs("0.98.0").get("12-subagent")!;
    const heads = await Promise.all([...rollouts("0.98.0").values()].map((p) => summarizeRollout(readFileLines(p))));
    const children = heads.filter((h) => h!.source === "subagent");
    expect(children).toHaveLength(1);
    expect(children[0]!.parent_id).toBe(parent);
    expect(children[0]!.title).toMatch(/^CHILD-TASK/);
  });

  it("links a 0.169 sub-agent (parent_thread_id) and a fork (forked_from_id)", async () => {
    const r = runs("0.169.0");
    const heads = await Promise.all([...rollouts("0.169.0").values()].map((p) => summarizeRollout(readFileLines(p))));
    const child = heads.find((h) => h!.source === "subagent")!;
    expect(child.parent_id).toBe(r.get("12-subagent"));
    expect(child.forked_from_id).toBeNull();
    const fork = heads.find((h) => h!.id === r.get("08-fork"))!;
    expect(fork.forked_from_id).toBe(r.get("05-multi-turn1"));
    expect(fork.parent_id).toBe(r.get("05-multi-turn1"));
    expect(fork.title).toBe("In this fork: which files exist now?");
  });
});

describe("summarizeRollout visibility and bad input", () => {
  it("returns null without a session_meta", async () => {
    expect(await summarizeRollout(fromText(userItem("hi") + "\n"))).toBeNull();
  });

  it("ignores a session_meta without an id", async () => {
    const noId = JSON.stringify({ timestamp: "t", type: "session_meta", payload: { cwd: "/w" } });
    expect(await summarizeRollout(fromText([noId, userItem("hi")].join("\n") + "\n"))).toBeNull();
    expect((await summarizeRollout(fromText([noId, meta({}), userItem("hi")].join("\n") + "\n")))!.id).toBe("11111111-2222-4333-8444-555555555555");
  });

  it("returns null when only injected messages are in the head", async () => {
    const text =
      [
        meta({}),
        userItem("<environment_context>\n<cwd>/w</cwd>\n</environment_context>"),
        userItem("# AGENTS.md instructions for /w\n\n<INSTRUCTIONS>x</INSTRUCTIONS>"),
      ].join("\n") + "\n";
    expect(await summarizeRollout(fromText(text))).toBeNull();
  });

  it("returns null when the first user message is beyond maxHeadLines", async () => {
    const filler = JSON.stringify({ timestamp: "t", type: "event_msg", payload: { type: "token_count" } });
    const text = [meta({}), ...Array(10).fill(filler), userItem("late")].join("\n") + "\n";
    expect(await summarizeRollout(fromText(text), { maxHeadLines: 5 })).toBeNull();
    expect((await summarizeRollout(fromText(text), { maxHeadLines: 20 }))!.title).toBe("late");
  });

  it("counts garbage lines as warnings and still summarises", async () => {
    const warnings: LineWarning[] = [];
    const text =
      ["{not json", meta({ git: { commit_hash: "abc", branch: "main", repository_url: "https://x/y.git" } }), "[1,2]", userItem("  fix\n the   bug ")].join(
        "\n",
      ) + "\n";
    const head = await summarizeRollout(fromText(text), { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => [w.kind, w.lineNo])).toEqual([
      ["unparsable", 1],
      ["unparsable", 3],
    ]);
    expect(head).toMatchObject({
      title: "fix the bug",
      git: { commit_hash: "abc", branch: "main", repository_url: "https://x/y.git" },
      created_at: "2026-01-02T03:04:05.600Z",
    });
  });

  it("reduces a structured source and truncates a long title", async () => {
    const text = [meta({ source: { subagent: "review" } }), userItem("x".repeat(500))].join("\n") + "\n";
    const head = await summarizeRollout(fromText(text));
    expect(head!.source).toBe("subagent");
    expect(head!.title!.length).toBe(200);
    expect(head!.title!.endsWith("…")).toBe(true);
  });

  it("accepts an event_msg user_message and a 0.169 item_completed UserMessage", async () => {
    const ev = JSON.stringify({ timestamp: "t", type: "event_msg", payload: { type: "user_message", message: "from event" } });
    expect((await summarizeRollout(fromText([meta({}), ev].join("\n") + "\n")))!.title).toBe("from event");
    const item = JSON.stringify({
      timestamp: "t",
      type: "event_msg",
      payload: { type: "item_completed", item: { type: "UserMessage", content: [{ type: "text", text: "from item" }] } },
    });
    expect((await summarizeRollout(fromText([meta({}), item].join("\n") + "\n")))!.title).toBe("from item");
  });

  it("does not read past the head of a large file", async () => {
    let yielded = 0;
    async function* many(): AsyncGenerator<RawLine> {
      yield { lineNo: 1, text: meta({}), byteLength: 0 };
      yield { lineNo: 2, text: userItem("first"), byteLength: 0 };
      for (let i = 3; i < 1_000_000; i++) {
        yielded++;
        yield { lineNo: i, text: "{}", byteLength: 2 };
      }
    }
    const head = await summarizeRollout(many());
    expect(head!.title).toBe("first");
    expect(yielded).toBe(0);
  });
});
