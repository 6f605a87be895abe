import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStore } from "@sessionvault/fs-store";
import { FIXTURES, fixtureRollouts, REPO, VERSIONS } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.ts";

const exec = promisify(execFile);
const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

describe("sessionvault cat", () => {
  for (const version of VERSIONS) {
    it(`prints every real Codex ${version} rollout byte-identically`, async () => {
      const files = fixtureRollouts(version);
      expect(files.length).toBeGreaterThan(5);
      for (const f of files) {
        const r = await runCli(["cat", f.id, "--store", join(FIXTURES, version)]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout.equals(readFileSync(f.path)), f.path).toBe(true);
      }
    });
  }

  describe("as a process (the built CLI and the root `pnpm sessionvault` script)", () => {
    beforeAll(() => {
      if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first (pnpm turbo run build --filter=@sessionvault/cli...)`);
    });

    it("node dist/bin.js cat is byte-identical for one session of each version, via a unique prefix", async () => {
      for (const version of VERSIONS) {
        const f = fixtureRollouts(version).at(-1)!;
        const { stdout } = await exec(process.execPath, [BIN, "cat", f.id.slice(0, 23), "--store", join(FIXTURES, version)], {
          encoding: "buffer",
          maxBuffer: 64 * 1024 * 1024,
        });
        expect(stdout.equals(readFileSync(f.path))).toBe(true);
      }
    });

    it("pnpm sessionvault cat from the repo root", async () => {
      const f = fixtureRollouts("0.169.0").find((x) => x.archived)!;
      const { stdout } = await exec("pnpm", ["--silent", "sessionvault", "cat", f.id, "--store", join(FIXTURES, "0.169.0")], {
        cwd: REPO,
        encoding: "buffer",
        maxBuffer: 64 * 1024 * 1024,
      });
      expect(stdout.equals(readFileSync(f.path))).toBe(true);
    });
  });

  describe("other streams", () => {
    let root: string;
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7260";
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), "sv-cat-"));
      const store = new FsStore({ root });
      await store.putSession({
        id,
        created_at: "2026-11-21T09:00:00.000Z",
        cwd: "/w",
        title: "t",
        archived: false,
        source: "exec",
        originator: "codex_exec",
        cli_version: "0.169.0",
        model_provider: "openai",
        git: null,
        parent_id: null,
        forked_from_id: null,
      });
      await store.append(id, "debug-log", 0, ["plain text", "windows\r", "ümlaut 🚀"]);
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it("--stream prints another stream's bytes, --json numbers its lines", async () => {
      const raw = await runCli(["cat", id, "--stream", "debug-log", "--store", root]);
      expect(raw.stdout.equals(Buffer.from("plain text\nwindows\r\nümlaut 🚀\n"))).toBe(true);
      const json = await runCli(["cat", id, "--stream", "debug-log", "--json", "--store", root]);
      expect(
        json.out
          .trimEnd()
          .split("\n")
          .map((l) => JSON.parse(l)),
      ).toEqual([
        { seq: 0, line: "plain text" },
        { seq: 1, line: "windows\r" },
        { seq: 2, line: "ümlaut 🚀" },
      ]);
    });

    it("a stream the session does not have is a one-line error", async () => {
      const r = await runCli(["cat", id, "--stream", "raw-api", "--store", root]);
      expect(r.code).toBe(4);
      expect(r.stderr).toBe(`sessionvault: session ${id} has no stream "raw-api" (it has: rollout, debug-log)\n`);
      const bad = await runCli(["cat", id, "--stream", "../../etc/passwd", "--store", root]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^sessionvault: invalid stream name "..\/..\/etc\/passwd"/);
      expect(bad.out).toBe("");
    });
  });
});
