import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, fixtureRollouts, fixtureRuns, VERSIONS } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.ts";

describe("sessionvault show", () => {
  for (const version of VERSIONS) {
    it(`shows every real Codex ${version} session (--json: summary + streams)`, async () => {
      const store = join(FIXTURES, version);
      for (const f of fixtureRollouts(version)) {
        const r = await runCli(["show", f.id, "--store", store, "--json"]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const s = JSON.parse(r.out) as Record<string, unknown>;
        const bytes = readFileSync(f.path);
        expect(s).toMatchObject({
          id: f.id,
          archived: f.archived,
          cli_version: version,
          bytes: bytes.length,
          lines: bytes.toString().split("\n").length - 1,
          legal_hold: false,
        });
        expect(s.streams).toEqual([{ name: "rollout", lines: s.lines, bytes: s.bytes }]);
        expect(Object.keys(s).slice(0, 3)).toEqual(["id", "created_at", "updated_at"]);
      }
    });
  }

  it("accepts a unique prefix and prints a readable summary", async () => {
    const runs = fixtureRuns("0.169.0");
    const id = runs.get("08-fork")!;
    const r = await runCli(["show", id.slice(0, 13), "--store", join(FIXTURES, "0.169.0")]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`id:              ${id}`);
    expect(r.out).toMatch(/title:\s+In this fork: which files exist now\?/);
    expect(r.out).toMatch(new RegExp(`forked from:\\s+${runs.get("05-multi-turn1")}`));
    expect(r.out).toMatch(/cli version:\s+0\.169\.0/);
    expect(r.out).toMatch(/streams:\n {2}rollout\s+\d+ lines\s+\d+ bytes\n$/);
  });

  it("shows the sub-agent's parent", async () => {
    const runs = fixtureRuns("0.98.0");
    const child = fixtureRollouts("0.98.0").find((f) => ![...runs.values()].includes(f.id))!;
    const r = await runCli(["show", child.id, "--store", join(FIXTURES, "0.98.0"), "--json"]);
    expect(JSON.parse(r.out)).toMatchObject({ source: "subagent", parent_id: runs.get("12-subagent") });
  });
});
