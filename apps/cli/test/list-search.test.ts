import { appendFile, cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { FIXTURES } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.ts";

let home: string;
let quoted: string;
let escaped: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "sv-list-search-"));
  await cp(join(FIXTURES, "0.98.0", "sessions"), join(home, "sessions"), { recursive: true });
  const day = join(home, "sessions", "2026", "11", "21");
  const files = (await readdir(day)).sort();
  quoted = /([0-9a-f-]{36})\.jsonl$/.exec(files[0]!)![1]!;
  escaped = /([0-9a-f-]{36})\.jsonl$/.exec(files[1]!)![1]!;
  const said = (message: string) =>
    JSON.stringify({
      timestamp: "2026-11-21T09:40:00.000Z",
      type: "response_item",
      payload: { type: "message", role: "user", content: [{ type: "input_text", text: message }] },
    });
  // A message with quotes: JSON stores them as \" in the file.
  await appendFile(join(day, files[0]!), said('now run "make deploy" on staging') + "\n");
  // A writer that escapes letters as \u00XX (legal JSON): the raw bytes never spell the word.
  await appendFile(join(day, files[1]!), said("ZANZIBAR migration").replace("ZANZIBAR", "\\u005AANZIBAR") + "\n");
});
afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

const search = async (text: string, json = true) => runCli(["list", "--store", home, "--all", ...(json ? ["--json"] : []), "--search", text]);

it("--search finds text that JSON escapes in the file, and shows where it matched", async () => {
  const r = await search('run "make deploy"');
  expect(r.code).toBe(0);
  const page = JSON.parse(r.out) as { sessions: { id: string; snippet?: string }[] };
  expect(page.sessions.map((s) => [s.id, s.snippet])).toEqual([[quoted, 'now run "make deploy" on staging']]);

  const z = JSON.parse((await search("zanzibar")).out) as { sessions: { id: string; snippet?: string }[] };
  expect(z.sessions.map((s) => [s.id, s.snippet])).toEqual([[escaped, "ZANZIBAR migration"]]);

  const human = await search("MAKE DEPLOY", false);
  expect(human.out).toContain(quoted);
  expect(human.out).toMatch(/\n {4}now run "make deploy" on staging\n/);
});
