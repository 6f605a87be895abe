import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CLI_BIN,
  CODEX_BIN,
  codexExecArgs,
  killLeftovers,
  makeScratch,
  removeScratch,
  spawnProcess,
  startMock,
  type MockServer,
  type Scratch,
} from "./support/codex-harness.ts";

/**
 * The real Codex CLI (the pinned devDependency) with `sessionvault mcp` under
 * `[mcp_servers]` in its config.toml, against the scripted Responses mock.
 * Codex 0.171 offers an MCP server's tools only through its `tool_search`
 * tool: the mock's `mcpsearch` scenario searches, calls the tool the search
 * exposed (`search_sessions` in the `mcp__sessionvault` namespace), then
 * answers. The store is a Claude Code home, so Codex asks about another
 * agent's sessions.
 */
const PINNED = JSON.parse(readFileSync(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8")).devDependencies["@openai/codex"] as string;
const STORE = fileURLToPath(new URL("../../../fixtures/claude-code/2.1.332", import.meta.url));
/** The 04-fail run: "does-not-exist" is only in a command it ran. */
const SESSION_ID = "94fd5311-b50c-4c1f-9f8b-2a4952fd2ea9";

let dir: string;
let mock: MockServer;
let scratch: Scratch;

describe.skipIf(!existsSync(CODEX_BIN))(`Codex ${PINNED} calls sessionvault mcp's search_sessions (skipped: no Codex binary at ${CODEX_BIN})`, () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sv-codex-mcp-"));
    mock = await startMock(dir);
    scratch = await makeScratch(
      mock,
      undefined,
      `
[mcp_servers.sessionvault]
command = ${JSON.stringify(process.execPath)}
args = [${JSON.stringify(CLI_BIN)}, "mcp", "--store", ${JSON.stringify(STORE)}]
`,
    );
  });
  afterAll(async () => {
    killLeftovers();
    await mock?.stop();
    if (scratch) await removeScratch(scratch);
    await rm(dir, { recursive: true, force: true });
  });

  it("finds the tool through tool_search, calls it, and gets the matching session back", async () => {
    const { done } = spawnProcess(codexExecArgs(mock, "mcpsearch", ["Which past session ran it? find:does-not-exist"]), scratch);
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    const log = (await mock.requests()) as unknown as { kind: string; step: number; reply_types: string[]; input_types: string[] }[];
    const turns = log.filter((l) => l.kind === "responses");
    expect(turns.map((t) => t.reply_types)).toEqual([["tool_search_call"], ["function_call:search_sessions"], ["message"]]);
    // Codex answered the search with the server's tools and ran the call: the last request carries the tool's output.
    expect(turns[2]!.input_types).toEqual(expect.arrayContaining(["tool_search_output", "function_call", "function_call_output"]));
    // The scenario's answer quotes the function_call_output Codex sent back (after its "Output:" header).
    const answer = /"type":"agent_message","text":"(search_sessions said: [^\n]*)"\}\}/.exec(r.stdout);
    expect(answer, r.stdout).not.toBeNull();
    const output = JSON.parse(`"${answer![1]!}"`) as string;
    expect(output).toContain(`"id":"${SESSION_ID}"`);
    expect(output).toContain('"agent":"claude-code"');
    expect(output).toContain("does-not-exist");
  }, 120_000);
});
