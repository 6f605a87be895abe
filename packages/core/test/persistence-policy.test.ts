import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TRANSIENT_EVENT_KINDS, WriterQueue, codexPersistencePolicy, isRolloutLine, parseJsonLine, readFileLines, type RolloutLine } from "@sessionvault/core";
import { MemoryStore } from "./support/memory-store.js";

const FIXTURES = fileURLToPath(new URL("../../../fixtures/codex/", import.meta.url));

function rolloutFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...rolloutFiles(p));
    else if (/^rollout-.*\.jsonl(\.zst)?$/.test(name)) out.push(p);
  }
  return out;
}

const line = (type: string, payload: Record<string, unknown>): RolloutLine => ({ timestamp: "2026-01-01T00:00:00.000Z", type, payload });

describe("codexPersistencePolicy", () => {
  it("keeps every line of every rollout the real Codex CLI wrote (0.39, 0.98, 0.169, archived too)", async () => {
    // The enveloped versions (the bare-line builds have no kinds to check).
    const versions = ["0.169.0", "0.39.0", "0.98.0"];
    expect(readdirSync(FIXTURES).filter((v) => statSync(join(FIXTURES, v)).isDirectory())).toEqual(expect.arrayContaining(versions));
    const seenKinds = new Set<string>();
    let total = 0;
    let newlines = 0;
    for (const v of versions) {
      const files = [...rolloutFiles(join(FIXTURES, v, "sessions")), ...(v === "0.169.0" ? rolloutFiles(join(FIXTURES, v, "archived_sessions")) : [])];
      expect(files.length).toBeGreaterThan(5);
      for (const file of files) {
        newlines += readFileSync(file).reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
        for await (const raw of readFileLines(file, { onWarning: (w) => expect.fail(`${file}: ${w.message}`) })) {
          const value = parseJsonLine(raw.text);
          if (value === undefined) continue;
          expect(isRolloutLine(value), `${file}:${raw.lineNo}`).toBe(true);
          const l = value as RolloutLine;
          if (!codexPersistencePolicy(l)) expect.fail(`${file}:${raw.lineNo} (${l.type}/${String((l.payload as { type?: unknown }).type)}) would be dropped`);
          seenKinds.add(l.type === "event_msg" ? `event_msg/${String((l.payload as { type?: unknown }).type)}` : l.type);
          total++;
        }
      }
    }
    // Every physical line was read and judged (the fixtures have no blank lines).
    expect(total).toBe(newlines);
    expect(total).toBeGreaterThan(900);
    // The fixtures exercise the kinds that changed across versions.
    for (const k of [
      "session_meta",
      "response_item",
      "turn_context",
      "compacted",
      "world_state",
      "token_usage_record",
      "event_msg/item_completed",
      "event_msg/task_started",
      "event_msg/context_compacted",
      "event_msg/turn_aborted",
    ]) {
      expect(seenKinds.has(k), k).toBe(true);
    }
  });

  it("a WriterQueue with the policy reproduces each real rollout byte for byte, even with the live-only events mixed in", async () => {
    const file = rolloutFiles(join(FIXTURES, "0.169.0", "sessions")).sort()[0]!;
    const original = readFileSync(file);
    const store = new MemoryStore();
    const meta = parseJsonLine((await readFileLines(file).next()).value!.text) as { payload: { id: string; timestamp: string } };
    const id = meta.payload.id;
    await store.putSession({
      id,
      created_at: meta.payload.timestamp,
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
    });
    const q = new WriterQueue({ store, sessionId: id, stream: "rollout", startSeq: 0, filter: codexPersistencePolicy });
    let i = 0;
    for await (const raw of readFileLines(file)) {
      // What Codex streams to its UI between persisted items.
      await q.write(
        JSON.stringify({
          timestamp: "2026-01-01T00:00:00.000Z",
          type: "event_msg",
          payload: { type: i % 2 ? "agent_message_delta" : "exec_command_begin", delta: "x" },
        }),
      );
      await q.write(raw.text);
      i++;
    }
    await q.shutdown();
    const out: string[] = [];
    for await (const l of store.readStream(id, "rollout")) out.push(l);
    expect(Buffer.from(out.map((l) => `${l}\n`).join("")).equals(original)).toBe(true);
  });

  it("drops streaming deltas, begin events and approval prompts", () => {
    for (const kind of [
      "agent_message_delta",
      "agent_reasoning_delta",
      "exec_command_output_delta",
      "exec_command_begin",
      "patch_apply_begin",
      "item_started",
      "exec_approval_request",
      "apply_patch_approval_request",
      "session_configured",
    ]) {
      expect(TRANSIENT_EVENT_KINDS.has(kind), kind).toBe(true);
      expect(codexPersistencePolicy(line("event_msg", { type: kind })), kind).toBe(false);
    }
  });

  it("keeps results, unknown event kinds, unknown record kinds and every response item", () => {
    for (const kind of [
      "exec_command_end",
      "patch_apply_end",
      "item_completed",
      "task_complete",
      "turn_aborted",
      "user_message",
      "token_count",
      "error",
      "a_kind_from_the_future",
    ]) {
      expect(codexPersistencePolicy(line("event_msg", { type: kind })), kind).toBe(true);
    }
    expect(codexPersistencePolicy(line("event_msg", {}))).toBe(true);
    expect(codexPersistencePolicy(line("response_item", { type: "something_new" }))).toBe(true);
    expect(codexPersistencePolicy(line("response_item", { type: "local_shell_call" }))).toBe(true);
    expect(codexPersistencePolicy(line("brand_new_record", { type: "agent_message_delta" }))).toBe(true);
  });
});
