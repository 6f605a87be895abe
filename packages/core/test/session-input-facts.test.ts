import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../src/errors.js";
import { normaliseSessionInput } from "../src/session-input.js";
import type { SessionInput } from "../src/session.js";

const base: SessionInput = {
  id: "0199a000-1111-7222-8333-444455556666",
  created_at: "2026-03-01T10:00:00.000Z",
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
};
const facts = {
  agent: "codex",
  model: "gpt-5.1-codex",
  outcome: "completed",
  turns: 2,
  tokens: { input: 10, cached_input: 4, output: 3, reasoning: 1 },
  duration_ms: 1500,
  files_changed: 1,
  children: [],
} as const;

describe("normaliseSessionInput: facts (the checked layer, before any store)", () => {
  it("left out stays out (the store keeps its own); null stays null; given ones keep exactly the documented fields", () => {
    expect(normaliseSessionInput(base)).not.toHaveProperty("facts");
    expect(normaliseSessionInput({ ...base, facts: null }).facts).toBeNull();
    const extra = { ...facts, children: ["a"], secret: "x", tokens: { ...facts.tokens, total: 99 } };
    expect(normaliseSessionInput({ ...base, facts: extra as never }).facts).toEqual({ ...facts, children: ["a"] });
  });

  it("refuses facts a listing would show wrong", () => {
    for (const bad of [
      { ...facts, turns: -1 },
      { ...facts, outcome: "done" },
      { ...facts, tokens: { input: "10" } },
      { ...facts, children: [1] },
      { ...facts, agent: "" },
      "codex",
    ]) {
      expect(() => normaliseSessionInput({ ...base, facts: bad as never })).toThrow(InvalidInputError);
    }
  });
});
