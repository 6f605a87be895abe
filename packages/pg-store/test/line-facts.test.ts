import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { lineFacts, parseLineFacts } from "@sessionvault/core";

const FIXTURES = fileURLToPath(new URL("../../../fixtures/codex/", import.meta.url));

function rolloutLines(version: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".jsonl")) out.push(...readFileSync(p, "utf8").split("\n").filter(Boolean));
    }
  };
  for (const d of ["sessions", "archived_sessions"]) {
    try {
      walk(join(FIXTURES, version, d));
    } catch {
      // 0.39 and 0.98 have no archived sessions.
    }
  }
  return out;
}

describe.each(["0.39.0", "0.98.0", "0.169.0"])("line facts of every line Codex %s wrote", (version) => {
  it("match a full parse of the line (the envelope fast path never disagrees)", () => {
    const lines = rolloutLines(version);
    expect(lines.length).toBeGreaterThan(100);
    for (const line of lines) {
      const v = JSON.parse(line) as { timestamp: string; type: string; payload: { type?: unknown } };
      const f = lineFacts(line);
      expect({ type: f.type, payload_type: f.payload_type, timestamp: f.timestamp }).toEqual({
        type: v.type,
        payload_type: typeof v.payload.type === "string" ? v.payload.type : null,
        timestamp: v.timestamp,
      });
    }
  });

  it("the envelope fast path gives exactly what a full parse gives, search text included", () => {
    for (const line of rolloutLines(version)) expect(lineFacts(line)).toEqual(parseLineFacts(line));
  });

  it("index the user's messages and the commands run", () => {
    const lines = rolloutLines(version);
    const search = lines.map((l) => lineFacts(l).search).filter((s): s is string => s !== null);
    // Every version's fixtures ran shell commands and exchanged messages.
    expect(search.length).toBeGreaterThan(10);
    const meta = lines.map((l) => lineFacts(l)).filter((f) => f.type === "session_meta");
    expect(meta.length).toBeGreaterThan(0);
    for (const m of meta) expect(JSON.parse(m.meta!).id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("line facts of odd lines", () => {
  it("garbage, unknown kinds and escaped envelopes never throw", () => {
    expect(lineFacts("not json")).toEqual({ type: null, payload_type: null, timestamp: null, meta: null, search: null });
    expect(lineFacts('{"timestamp":"t","type":"future","payload":{"type":"x"},"extra":1}')).toMatchObject({ type: "future", payload_type: "x" });
    expect(
      lineFacts('{"timestamp":"t\\"x","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]}}'),
    ).toMatchObject({ timestamp: 't"x', search: "hi" });
    expect(
      lineFacts('{"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"run deploy/api.sh"}]}}').search,
    ).toContain("deploy api sh");
    // The UI-facing event_msg copies of messages say nothing the response item does not.
    expect(lineFacts('{"timestamp":"t","type":"event_msg","payload":{"type":"agent_message","message":"hi"}}').search).toBeNull();
    // Bare-line builds (no envelope) are indexed the same way.
    expect(lineFacts('{"type":"message","role":"user","content":[{"type":"input_text","text":"make the tests pass"}]}').search).toBe("make the tests pass");
    expect(lineFacts('{"type":"function_call","name":"shell","arguments":"{\\"command\\":[\\"bash\\",\\"-lc\\",\\"npm test\\"]}","call_id":"c1"}').search).toBe(
      "npm test",
    );
    expect(lineFacts("[1,2,3]").type).toBeNull();
  });

  it('a payload without a leading type: null payload_type only when no key can be "type"', () => {
    const bare = '{"timestamp":"2026-01-01T00:00:00.000Z","ordinal":3,"type":"world_state","payload":{"full":true,"state":{"a":[1,2]}}}';
    expect(lineFacts(bare)).toEqual({ type: "world_state", payload_type: null, timestamp: "2026-01-01T00:00:00.000Z", meta: null, search: null });
    for (const line of [
      '{"timestamp":"t","type":"future","payload":{"a":1,"type":"late"}}',
      '{"timestamp":"t","type":"future","payload":{"a":1,"\\u0074ype":"escaped"}}',
      '{"timestamp":"t","type":"future","payload":{"a":{"type":"nested"}}}',
    ]) {
      expect(lineFacts(line)).toEqual(parseLineFacts(line));
    }
    expect(lineFacts('{"timestamp":"t","type":"future","payload":{"a":1,"type":"late"}}').payload_type).toBe("late");
    expect(lineFacts('{"timestamp":"t","type":"future","payload":{"a":1,"\\u0074ype":"escaped"}}').payload_type).toBe("escaped");
  });
});
