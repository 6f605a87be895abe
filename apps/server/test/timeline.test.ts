import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { readFileLines } from "@sessionvault/core";
import { buildTimeline, type TimelineItem } from "../src/ui/timeline.js";

const FIXTURES = join(import.meta.dirname, "../../../fixtures/codex");

/** The rollout file of a scenario label, from the fixture's runs.tsv (written by the real Codex CLI). */
function rolloutOf(version: string, label: string): string {
  const root = join(FIXTURES, version);
  const run = readFileSync(join(root, "runs.tsv"), "utf8")
    .split("\n")
    .map((l) => l.split("\t"))
    .find((r) => r[0] === label);
  const id = run?.[3];
  if (!id) throw new Error(`no run ${label} in ${version}`);
  for (const dir of ["sessions", "archived_sessions"]) {
    let files: string[] = [];
    try {
      files = readdirSync(join(root, dir), { recursive: true }).map(String);
    } catch {
      continue;
    }
    const f = files.find((x) => x.endsWith(`${id}.jsonl`));
    if (f) return join(root, dir, f);
  }
  throw new Error(`no rollout for ${id}`);
}

async function* texts(path: string): AsyncGenerator<string> {
  for await (const l of readFileLines(path)) yield l.text;
}

const kinds = (items: TimelineItem[]) => items.map((i) => i.kind);

describe.each(["0.39.0", "0.98.0", "0.169.0"])("timeline of Codex %s rollouts", (version) => {
  test("a shell session: the user's prompt, each command with its exit code and output, the agent's answer", async () => {
    const page = await buildTimeline(texts(rolloutOf(version, "02-shell")), { firstTurn: 0, turnCount: 20 });
    expect(page.turns).toHaveLength(1);
    const turn = page.turns[0]!;
    // Reasoning summaries are shown too (collapsed on the page).
    expect(kinds(turn.items).filter((k) => k !== "reasoning")).toEqual(["user", "command", "command", "agent"]);
    expect(kinds(turn.items)).toContain("reasoning");
    const [user, ls, echo] = turn.items.filter((i) => i.kind !== "reasoning");
    expect(user).toMatchObject({ kind: "user", text: expect.stringContaining("create hello.txt") });
    expect(ls).toMatchObject({ kind: "command", command: "ls -la", exitCode: 0 });
    expect(echo).toMatchObject({ kind: "command", exitCode: 0, output: expect.stringContaining("hello") });
    expect(turn.tokens?.total_tokens).toBeGreaterThan(0);
    expect(page.hasMore).toBe(false);
  });

  test("failing commands keep their non-zero exit codes", async () => {
    const page = await buildTimeline(texts(rolloutOf(version, "04-fail")), { firstTurn: 0, turnCount: 20 });
    const exits = page.turns.flatMap((t) => t.items).flatMap((i) => (i.kind === "command" ? [i.exitCode] : []));
    expect(exits).toEqual([3, 42]);
    // The patch to a missing file was rejected by apply_patch.
    const patch = page.turns.flatMap((t) => t.items).find((i) => i.kind === "file_change");
    expect(patch).toMatchObject({ kind: "file_change", status: "failed" });
  });

  test("apply_patch calls become per-file diffs", async () => {
    const page = await buildTimeline(texts(rolloutOf(version, "03-patch")), { firstTurn: 0, turnCount: 20 });
    const changes = page.turns.flatMap((t) => t.items).filter((i) => i.kind === "file_change");
    expect(changes).toHaveLength(2);
    const [update, add] = changes as Extract<TimelineItem, { kind: "file_change" }>[];
    expect(update!.files[0]!.path).toMatch(/hello\.txt$/);
    expect(update!.files[0]!.diff.split("\n")).toEqual(expect.arrayContaining(["-hello", "+hello, patched world"]));
    expect(add!.files[0]).toMatchObject({ kind: "add" });
    expect(add!.files[0]!.diff).toContain("+# Notes");
    expect(update!.status).toBe("completed");
  });

  test("a session resumed twice has three turns, and pages cut it by turns", async () => {
    const path = rolloutOf(version, "07-multi-turn3");
    const all = await buildTimeline(texts(path), { firstTurn: 0, turnCount: 20 });
    expect(all.turns.map((t) => t.index)).toEqual([0, 1, 2]);
    expect(all.turns.map((t) => t.items[0]?.kind)).toEqual(["user", "user", "user"]);

    const second = await buildTimeline(texts(path), { firstTurn: 1, turnCount: 1 });
    expect(second.turns.map((t) => t.index)).toEqual([1]);
    expect(second.hasMore).toBe(true);
    expect(second.turns[0]!.items).toEqual(all.turns[1]!.items);
    expect(second.turns[0]!.tokens).toEqual(all.turns[1]!.tokens);

    const past = await buildTimeline(texts(path), { firstTurn: 3, turnCount: 1 });
    expect(past.turns).toEqual([]);
    expect(past.hasMore).toBe(false);
  });

  test("an interrupted turn is marked aborted", async () => {
    const page = await buildTimeline(texts(rolloutOf(version, "16-interrupt")), { firstTurn: 0, turnCount: 20 });
    expect(page.turns.at(-1)?.status).toBe("aborted");
  });
});

describe("timeline on hostile input", () => {
  async function* lines(...ls: string[]) {
    yield* ls;
  }
  test("garbage lines are counted, unknown kinds ignored, huge outputs cut", async () => {
    const big = "x".repeat(100_000);
    const page = await buildTimeline(
      lines(
        `{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"task_started","turn_id":"t1"}}`,
        "not json at all",
        `{"timestamp":"2026-01-01T00:00:00.000Z","type":"brand_new_kind","payload":{"x":1}}`,
        `{"timestamp":"2026-01-01T00:00:01.000Z","type":"response_item","payload":{"type":"function_call","name":"shell","arguments":"{\\"command\\":[\\"bash\\",\\"-lc\\",\\"cat big\\"]}","call_id":"c1"}}`,
        JSON.stringify({
          timestamp: "2026-01-01T00:00:02.000Z",
          type: "response_item",
          payload: { type: "function_call_output", call_id: "c1", output: JSON.stringify({ output: big, metadata: { exit_code: 0 } }) },
        }),
      ),
      { firstTurn: 0, turnCount: 5, maxTextChars: 1000 },
    );
    expect(page.unparsableLines).toBe(1);
    const cmd = page.turns[0]!.items[0]!;
    expect(cmd).toMatchObject({ kind: "command", command: "cat big", exitCode: 0 });
    expect((cmd as { output: string }).output.length).toBeLessThan(1100);
    expect((cmd as { output: string }).output).toContain("99000 more characters");
  });
});

test("credentials in commands, outputs, messages and diffs are redacted on the page", async () => {
  const key = "sk-proj-" + "A1b2C3d4E5".repeat(4);
  async function* lines() {
    yield `{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg","payload":{"type":"task_started","turn_id":"t1"}}`;
    yield JSON.stringify({
      timestamp: "2026-01-01T00:00:00.100Z",
      type: "response_item",
      payload: { type: "message", role: "user", content: [{ type: "input_text", text: `use ${key} please` }] },
    });
    yield JSON.stringify({
      timestamp: "2026-01-01T00:00:01.000Z",
      type: "response_item",
      payload: {
        type: "function_call",
        name: "shell",
        arguments: JSON.stringify({ command: ["bash", "-lc", `OPENAI_API_KEY=${key} ./deploy`] }),
        call_id: "c1",
      },
    });
    yield JSON.stringify({
      timestamp: "2026-01-01T00:00:02.000Z",
      type: "response_item",
      payload: { type: "function_call_output", call_id: "c1", output: `Process exited with code 0\nOutput:\nusing key ${key}\n` },
    });
    yield JSON.stringify({
      timestamp: "2026-01-01T00:00:03.000Z",
      type: "response_item",
      payload: { type: "custom_tool_call", name: "apply_patch", call_id: "c2", input: `*** Begin Patch\n*** Add File: .env\n+API_TOKEN=${key}\n*** End Patch` },
    });
  }
  const page = await buildTimeline(lines(), { firstTurn: 0, turnCount: 1 });
  const shown = JSON.stringify(page.turns);
  expect(shown).not.toContain(key);
  expect(shown).toContain("[REDACTED]");
  expect(page.turns[0]!.items.map((i) => i.kind)).toEqual(["user", "command", "file_change"]);
  const raw = await buildTimeline(lines(), { firstTurn: 0, turnCount: 1, redact: false });
  expect(JSON.stringify(raw.turns)).toContain(key);
});
