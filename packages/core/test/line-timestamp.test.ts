import { describe, expect, it } from "vitest";
import { lineTimestamp } from "../src/agents/codex/line-timestamp.js";

/**
 * One rule for the time of a rollout line, used by every store for
 * `updated_at` (and so for retention): fs, S3 and Postgres used to read it
 * with three different patterns and disagreed on the lines below.
 */
describe("lineTimestamp", () => {
  it("is the envelope's timestamp, normalised", () => {
    expect(lineTimestamp('{"timestamp":"2026-11-21T09:37:01.428Z","ordinal":0,"type":"session_meta","payload":{}}')).toBe("2026-11-21T09:37:01.428Z");
    expect(lineTimestamp('{"timestamp":"2026-11-21T09:37:01Z","type":"event_msg","payload":{}}')).toBe("2026-11-21T09:37:01.000Z");
    expect(lineTimestamp('\uFEFF{ "timestamp" : "2026-11-21T09:37:01.5Z","type":"x","payload":{}}')).toBe("2026-11-21T09:37:01.500Z");
  });

  it("is null for a line without one of its own: a bare-line build's records, a nested timestamp, garbage", () => {
    // Bare-line builds: the meta's timestamp is the session's start, not a line time (S3 used to take it).
    expect(lineTimestamp('{"id":"6f888700-988e-4007-b743-06f60cee545a","timestamp":"2025-06-01T10:00:00.000Z"}')).toBeNull();
    expect(lineTimestamp('{"type":"message","role":"user","content":[{"type":"input_text","text":"\\"timestamp\\":\\"2020-01-01T00:00:00Z\\""}]}')).toBeNull();
    expect(lineTimestamp('{"type":"event_msg","payload":{"timestamp":"2026-01-01T00:00:00.000Z"}}')).toBeNull();
    expect(lineTimestamp('{"timestamp":"yesterday","type":"x"}')).toBeNull();
    expect(lineTimestamp("not json")).toBeNull();
  });

  it("looks only at the head of a huge line", () => {
    const huge = `{"payload":"${"x".repeat(1_000_000)}","timestamp":"2026-01-01T00:00:00.000Z"}`;
    expect(lineTimestamp(huge)).toBeNull();
  });
});
