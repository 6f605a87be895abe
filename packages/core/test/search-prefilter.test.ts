import { describe, expect, it } from "vitest";
import { bytePrefilter, sessionTextMatch, type SessionSummary } from "../src/index.js";

const summary: SessionSummary = {
  id: "01a1fd77-551e-7c33-a917-87d06e0cb6df",
  agent: "codex",
  created_at: "2026-11-21T09:36:58.000Z",
  updated_at: "2026-11-21T09:36:58.000Z",
  cwd: "/work/app",
  title: "a title",
  archived: false,
  source: "exec",
  originator: "codex_exec",
  cli_version: "0.169.0",
  model_provider: "mock",
  git: null,
  parent_id: null,
  forked_from_id: null,
  lines: 1,
  bytes: 1,
};

const userLine = (message: string, json = JSON.stringify) =>
  json({
    timestamp: "2026-11-21T09:36:58.000Z",
    type: "response_item",
    payload: { type: "message", role: "user", content: [{ type: "input_text", text: message }] },
  });
/** A JSON writer that spells every non-ASCII character, and these ASCII ones, as \uXXXX (Python's json.dumps does the former). */
const escapingJson = (ascii: string) => (v: unknown) =>
  JSON.stringify(v)
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .replace(new RegExp(`[${ascii}]`, "g"), (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`);

/** The search's own answer for one line, and the pre-filter's over its bytes. */
async function both(needle: string, line: string): Promise<{ match: boolean; maybe: boolean }> {
  const hit = await sessionTextMatch(summary, [line], needle.toLowerCase());
  return { match: hit !== null, maybe: bytePrefilter(needle).testBytes(Buffer.from(line + "\n")) };
}

describe("bytePrefilter", () => {
  // Every way the search can match must pass the pre-filter: it may only skip files that cannot match.
  const cases: [string, string, (v: unknown) => string][] = [
    ["Zanzibar", "run the zanzibar migration", JSON.stringify],
    ["zanzibar", "run the ZANZIBAR migration", JSON.stringify],
    ['say "hi"', 'then say "hi" twice', JSON.stringify],
    ["a\\b", "path a\\b\\c", JSON.stringify],
    ["line1\nline2", "line1\nline2", JSON.stringify],
    ["zanzibar", "run the zanzibar migration", escapingJson("zab")],
    ["deploy/api", "deploy/api", (v) => JSON.stringify(v).replace(/\//g, "\\/")],
    ["kelvin", "\u212aelvin scale", JSON.stringify],
    ["kelvin", "\u212aelvin scale", escapingJson("")],
    ["ti", "TİTLE", JSON.stringify],
    ["café", "CAFÉ au lait", JSON.stringify],
    ["café", "CAFÉ au lait", escapingJson("")],
    ["日本", "日本語のテスト", JSON.stringify],
  ];
  for (const [needle, text, json] of cases) {
    it(`a file the search matches passes: ${JSON.stringify(needle)} in ${json(text)}`, async () => {
      const r = await both(needle, userLine(text, json));
      expect(r.match).toBe(true);
      expect(r.maybe).toBe(true);
    });
  }

  it("a file without the needle in any spelling does not pass (that is what makes the scan fast)", async () => {
    for (const [needle, text] of [
      ["zanzibar", "run the migration"],
      ['say "hi"', "say hi"],
      ["tin", "TİN"], // İ lower-cases to i + a combining dot: "tin" is not in "ti̇n"
      ["café", "cafe"],
    ] as const) {
      const r = await both(needle, userLine(text));
      expect(r.match, needle).toBe(false);
      expect(r.maybe, needle).toBe(false);
    }
  });

  it("a match across the boundary of two chunks is seen when the chunks overlap by `span`", () => {
    const f = bytePrefilter("zanzibar");
    const bytes = Buffer.from(userLine("x".repeat(1000) + "\\u007Aanzibar", (v) => JSON.stringify(v).replace("\\\\u007A", "\\u007A")));
    expect(f.testBytes(bytes)).toBe(true);
    const at = bytes.indexOf("\\u007A") + 3;
    expect(f.testBytes(bytes.subarray(0, at))).toBe(false);
    expect(f.testBytes(bytes.subarray(at - f.span))).toBe(true);
  });
});

describe("sessionTextMatch", () => {
  it("finds a needle that JSON escapes in the file (a quote), with a snippet around it", async () => {
    const hit = await sessionTextMatch(summary, [userLine('please run "make deploy" on the staging host now')], 'run "make deploy"');
    // The raw line holds run \"make deploy\": a scan that looked for the needle in the raw line missed it.
    expect(hit).toEqual({ snippet: 'please run "make deploy" on the staging host now' });
  });

  it("a snippet is cut around the match and kept on one line", async () => {
    const text = `${"a ".repeat(100)}the zanzibar\nmigration ${"b ".repeat(100)}`;
    const hit = await sessionTextMatch(summary, [userLine(text)], "zanzibar");
    expect(hit!.snippet).toMatch(/^…(a )+the zanzibar migration (b )+b?…$/);
    expect(hit!.snippet.length).toBeLessThan(100);
  });

  it("titles and directories match before any line is read", async () => {
    expect(await sessionTextMatch({ ...summary, title: "Fix the Zanzibar build" }, [], "zanzibar")).toEqual({ snippet: "Fix the Zanzibar build" });
    expect(await sessionTextMatch(summary, [], "/work/app")).toEqual({ snippet: "/work/app" });
  });
});
