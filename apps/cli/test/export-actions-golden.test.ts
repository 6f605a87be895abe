import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.ts";

/**
 * End to end: `sessionvault export ID --format actions.v1` over a Codex home
 * prints exactly the frozen, hand-written v1 golden bytes of core
 * (packages/core/test/golden), with and without --no-redact (nothing to
 * redact in these sessions).
 */
const GOLDEN = join(FIXTURES, "..", "..", "packages", "core", "test", "golden");
const CASES = [
  { version: "0.39.0", label: "04-fail", id: "01a1fd77-b102-7921-96c0-aa7417331b4b" },
  { version: "0.98.0", label: "16-interrupt", id: "01a1fd78-b664-7fb0-a02d-0d36428ad6d2" },
  { version: "0.169.0", label: "05-07-multi-turn", id: "01a1fd77-56f0-7ce2-a0d8-4e25f0b0271c" },
];

describe("sessionvault export --format actions.v1 matches the pinned v1 output", () => {
  for (const c of CASES) {
    it(`Codex ${c.version} ${c.label}`, async () => {
      const expected = readFileSync(join(GOLDEN, c.version, `${c.label}.actions.jsonl`), "utf8");
      for (const extra of [[], ["--no-redact"]]) {
        const r = await runCli(["export", c.id.slice(0, 13), "--format", "actions.v1", "--store", join(FIXTURES, c.version), ...extra]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.out).toBe(expected);
      }
    });
  }
});
