import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

/**
 * A command over a Codex home loads only what it uses: none of the backends
 * of other stores (AWS SDK, pg, kysely) and not the server (fastify). Each
 * command runs as a real process of the built CLI (one CommonJS bundle,
 * scripts/bundle.mjs, whose modules run only when a command needs them) with
 * a recorder of every module it resolves.
 */
const exec = promisify(execFile);
const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const HOOK = fileURLToPath(new URL("./support/record-imports.mjs", import.meta.url));
const HOME = fileURLToPath(new URL("../../../fixtures/codex/0.98.0", import.meta.url));
const HEAVY = /\/node_modules\/(@aws-sdk\/[^/]+|pg|kysely|fastify)\//;

const ID = readdirSync(join(HOME, "sessions/2026/11/21"))
  .find((f) => f.endsWith(".jsonl"))!
  .match(/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/)![1]!;

const tmp = mkdtempSync(join(tmpdir(), "sv-lazy-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function loadedBy(name: string, args: string[]): Promise<string[]> {
  const log = join(tmp, `${name}.log`);
  const env = { ...process.env, CODEX_HOME: HOME, SV_IMPORT_LOG: log, SESSIONVAULT_STATE: join(tmp, "state.json"), XDG_CACHE_HOME: join(tmp, "cache") };
  try {
    await exec(process.execPath, ["--import", HOOK, BIN, ...args], { env, cwd: tmp, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    throw new Error(`sessionvault ${args.join(" ")} failed: ${(err as { stderr?: string }).stderr ?? err}`);
  }
  const urls = readFileSync(log, "utf8").split("\n").filter(Boolean);
  // The CommonJS recorder must have run in this process (it saw the bundle itself resolved as a path),
  // or the check below proves nothing; the last test shows that it does see a backend when one is loaded.
  expect(urls).toContain(BIN);
  return [...new Set(urls.map((u) => HEAVY.exec(u)?.[1]).filter((m): m is string => m !== undefined))];
}

describe("commands over a Codex home load no other backend and not the server", () => {
  it("the built CLI exists", () => {
    expect(existsSync(BIN), `${BIN} is missing: build the CLI first`).toBe(true);
  });

  const commands: [string, string[]][] = [
    ["list", ["list", "--all", "--json"]],
    ["show", ["show", ID, "--json"]],
    ["cat", ["cat", ID]],
    ["export", ["export", ID, "--format", "actions.v1"]],
    ["state", ["state", "set", "pane-1", ID]],
    ["state-list", ["state", "list", "--json"]],
    ["resume", ["resume", "pane-1", "--agent-bin", "/bin/true"]],
    ["run", ["run", "--", "/bin/true"]],
  ];
  for (const [name, args] of commands) {
    it(`sessionvault ${args.join(" ")}`, async () => {
      expect(await loadedBy(name, args)).toEqual([]);
    });
  }

  it("the check sees a backend when one is used (sync to a postgres URL loads pg and kysely)", async () => {
    const log = join(tmp, "pg.log");
    const env = { ...process.env, CODEX_HOME: HOME, SV_IMPORT_LOG: log };
    // Port 1 refuses at once: the command fails, after its backend was loaded.
    await exec(process.execPath, ["--import", HOOK, BIN, "sync", "--to", "postgres://nobody@127.0.0.1:1/none", "--dry-run"], { env, cwd: tmp }).catch(
      () => undefined,
    );
    const loaded = new Set(
      readFileSync(log, "utf8")
        .split("\n")
        .map((u) => HEAVY.exec(u)?.[1]),
    );
    expect(loaded.has("kysely")).toBe(true);
    expect(loaded.has("@aws-sdk/client-s3")).toBe(false);
  });
});
