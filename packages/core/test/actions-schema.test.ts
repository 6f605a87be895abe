import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { allFixtureRollouts, GOLDEN, project } from "./support/actions-fixtures.js";
import { join } from "node:path";

const schema = JSON.parse(readFileSync(fileURLToPath(new URL("../schemas/actions.v1.schema.json", import.meta.url)), "utf8"));
const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(schema);

const rollouts = [
  ...allFixtureRollouts(),
  { version: "0.169.0", path: join(GOLDEN, "0.169.0", "statuses.rollout.jsonl"), id: "01a1fd85-6405-7861-ba0e-576650600211" },
];

/** Texts that must never reach an export: prompts, answers, reasoning. */
function privateTexts(path: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line) continue;
    let v: { type: string; payload?: Record<string, unknown>; role?: string; content?: unknown };
    try {
      v = JSON.parse(line) as typeof v;
    } catch {
      continue; // a torn or doubled line (early builds): the export skips it too
    }
    if (v.type === "message" && Array.isArray(v.content)) {
      // Bare-line builds: the response item itself.
      for (const c of v.content as { text?: unknown }[]) if (typeof c?.text === "string") out.push(c.text);
      continue;
    }
    const p = v.payload;
    if (!p) continue;
    if (
      v.type === "event_msg" &&
      (p.type === "agent_message" || p.type === "user_message" || p.type === "agent_reasoning") &&
      typeof (p.message ?? p.text) === "string"
    ) {
      out.push(String(p.message ?? p.text));
    }
    if (v.type === "event_msg" && p.type === "task_complete" && typeof p.last_agent_message === "string") out.push(p.last_agent_message);
  }
  return out.map((t) => t.trim()).filter((t) => t.length >= 12);
}

describe("every emitted action validates against actions.v1.schema.json", () => {
  it("covers fixtures of every Codex version, bare-line builds included", () => {
    expect(new Set(rollouts.map((r) => r.version))).toEqual(new Set(["0.1.2505291658", "0.8.0", "0.20.0", "0.39.0", "0.98.0", "0.169.0", "0.171.0"]));
    expect(rollouts.length).toBeGreaterThan(35);
  });

  for (const r of rollouts) {
    it(`${r.version} ${r.id}`, async () => {
      const actions = await project(r.path, r.id);
      expect(actions.length).toBeGreaterThan(0);
      for (const a of actions) {
        const ok = validate(JSON.parse(JSON.stringify(a)));
        expect(ok ? [] : validate.errors, JSON.stringify(a)).toEqual([]);
      }
      // seq contiguous from 0; exactly one action per call id
      expect(actions.map((a) => a.seq)).toEqual(actions.map((_, i) => i));
      const ids = actions.map((a) => a.call_id).filter((id) => id !== null);
      expect(new Set(ids).size).toBe(ids.length);
      // never message text, prompts or reasoning
      const exported = actions.map((a) => JSON.stringify(a)).join("\n");
      for (const t of privateTexts(r.path)) expect(exported).not.toContain(t);
    });
  }

  it("the schema rejects what v1 does not allow", () => {
    const good = {
      schema_version: 1,
      session_id: "s",
      seq: 0,
      turn_id: null,
      timestamp: "2026-01-01T00:00:00.000Z",
      action_type: "tool_call",
      call_id: "c",
      tool_name: "t",
      command: null,
      argv: null,
      cwd: null,
      exit_code: null,
      changed_paths: [],
      status: "completed",
      duration_ms: null,
    };
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, status: "done" })).toBe(false);
    expect(validate({ ...good, extra: 1 })).toBe(false);
    expect(validate({ ...good, seq: -1 })).toBe(false);
    expect(validate({ ...good, schema_version: 2 })).toBe(false);
    expect(validate({ ...good, action_type: "turn_started", call_id: "c" })).toBe(false);
    expect(validate({ ...good, action_type: "command_execution", changed_paths: ["/x"] })).toBe(false);
    const { duration_ms: _omit, ...missing } = good;
    expect(validate(missing)).toBe(false);
  });
});
