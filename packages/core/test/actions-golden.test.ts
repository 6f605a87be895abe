import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GOLDEN, project, rolloutOf } from "./support/actions-fixtures.js";

/**
 * actions v1 is frozen: these expected exports were written by hand from
 * reading each rollout (fixtures/codex/<version>/…, written by the real
 * Codex CLI). A change in any emitted byte for these inputs fails here; a
 * change of meaning needs actions v2, not an edit of these files.
 */
const CASES: { version: string; label: string; thread: string }[] = [
  { version: "0.39.0", label: "02-shell", thread: "01a1fd77-ad9e-7d81-962e-52ec10c50cbe" },
  { version: "0.39.0", label: "03-patch", thread: "01a1fd77-af35-79f0-bf10-c5fff085d4e6" },
  { version: "0.39.0", label: "04-fail", thread: "01a1fd77-b102-7921-96c0-aa7417331b4b" },
  { version: "0.39.0", label: "05-07-multi-turn", thread: "01a1fd77-b254-79c2-bd4e-8f9bcf8ce4ad" },
  { version: "0.39.0", label: "16-interrupt", thread: "01a1fd77-be81-70a3-9418-0f950b4ec624" },
  { version: "0.98.0", label: "03-patch", thread: "01a1fd78-1751-7643-b5f9-bff26a964d4b" },
  { version: "0.98.0", label: "04-fail", thread: "01a1fd78-2425-7cd0-8676-2597646ece36" },
  { version: "0.98.0", label: "05-07-multi-turn", thread: "01a1fd78-319e-7f11-a0ad-cc59f155a50c" },
  { version: "0.98.0", label: "09-interactive", thread: "01a1fd78-58a4-7810-8e90-e817b43a6295" },
  { version: "0.98.0", label: "12-subagent", thread: "01a1fd78-758a-7d63-9140-bb6630bc08f5" },
  { version: "0.98.0", label: "12-subagent-child", thread: "01a1fd78-8236-72a3-8100-301745d66f38" },
  { version: "0.98.0", label: "16-interrupt", thread: "01a1fd78-b664-7fb0-a02d-0d36428ad6d2" },
  { version: "0.169.0", label: "02-shell", thread: "01a1fd77-51c9-74d0-9f38-0c6dd8eb72af" },
  { version: "0.169.0", label: "03-patch", thread: "01a1fd77-536a-7a73-a1f8-5f483d0f6326" },
  { version: "0.169.0", label: "04-fail", thread: "01a1fd77-551e-7c33-a917-87d06e0cb6df" },
  { version: "0.169.0", label: "05-07-multi-turn", thread: "01a1fd77-56f0-7ce2-a0d8-4e25f0b0271c" },
  { version: "0.169.0", label: "12-subagent", thread: "01a1fd77-6a31-7940-ad00-f0cac1c9935c" },
  { version: "0.169.0", label: "12-subagent-child", thread: "01a1fd77-6ae5-78a1-8d02-d4dd0c98721f" },
  { version: "0.169.0", label: "16-interrupt", thread: "01a1fd77-77ef-75f3-81ee-cee57aee258f" },
];

function goldenLines(version: string, label: string): string[] {
  return readFileSync(join(GOLDEN, version, `${label}.actions.jsonl`), "utf8")
    .split("\n")
    .filter((l) => l !== "");
}

describe("actions v1 golden exports (hand-written, pinned)", () => {
  for (const c of CASES) {
    it(`Codex ${c.version} ${c.label}`, async () => {
      const actions = await project(rolloutOf(c.version, c.thread), c.thread);
      const expected = goldenLines(c.version, c.label);
      // Objects first (readable diff), then the exact serialised bytes (key order is part of v1).
      expect(actions).toEqual(expected.map((l) => JSON.parse(l)));
      expect(actions.map((a) => JSON.stringify(a))).toEqual(expected);
    });
  }

  it("is deterministic: two runs over the same file give the same bytes", async () => {
    const path = rolloutOf("0.169.0", "01a1fd77-5fb1-7690-986d-2a3a19843a9b");
    const a = (await project(path, "x")).map((x) => JSON.stringify(x));
    const b = (await project(path, "x")).map((x) => JSON.stringify(x));
    expect(a.length).toBeGreaterThan(3);
    expect(b).toEqual(a);
  });

  it("reads the same from a store's string lines as from the file reader", async () => {
    const path = rolloutOf("0.98.0", "01a1fd78-1751-7643-b5f9-bff26a964d4b");
    const { projectActions } = await import("../src/actions/project-actions.js");
    async function* strings() {
      for (const l of readFileSync(path, "utf8").split("\n")) if (l !== "") yield l;
    }
    const fromStrings = [];
    for await (const a of projectActions(strings(), { sessionId: "s" })) fromStrings.push(a);
    expect(fromStrings).toEqual(await project(path, "s"));
  });
});
