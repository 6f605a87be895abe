import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { searchSessions, UnsupportedError } from "@sessionvault/core";
import { afterAll, describe, expect, it } from "vitest";
import { AgentHomeStore } from "../src/agent-home-store.js";
import { FsStore } from "../src/fs-store.js";
import { fromUrl } from "../src/from-url.js";

/** A Claude Code or Gemini CLI home opens read-only (the fixtures were written by the real CLIs). */
const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));
const CLAUDE = join(FIXTURES, "claude-code", "2.1.332");
const GEMINI = join(FIXTURES, "gemini-cli", "0.61.0", "gemini");

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("fromUrl on an agent's home", () => {
  it("opens a Claude Code config dir and a Gemini CLI dir as agent homes, and a Codex home (even one holding tmp/) as an FsStore", async () => {
    const claude = fromUrl(pathToFileURL(CLAUDE));
    const gemini = fromUrl(pathToFileURL(GEMINI));
    expect(claude).toBeInstanceOf(AgentHomeStore);
    expect((claude as AgentHomeStore).agent).toBe("claude-code");
    expect((gemini as AgentHomeStore).agent).toBe("gemini-cli");
    expect(fromUrl(pathToFileURL(join(FIXTURES, "codex", "0.98.0")))).toBeInstanceOf(FsStore);
    const codexWithTmp = await mkdtemp(join(tmpdir(), "sv-codex-tmp-"));
    dirs.push(codexWithTmp);
    await mkdir(join(codexWithTmp, "sessions"));
    await mkdir(join(codexWithTmp, "tmp"));
    expect(fromUrl(pathToFileURL(codexWithTmp))).toBeInstanceOf(FsStore);
  });

  it("refuses delete and legal hold with UnsupportedError naming the home (the agent owns its files)", async () => {
    for (const dir of [CLAUDE, GEMINI]) {
      const store = fromUrl(pathToFileURL(dir)) as AgentHomeStore;
      const id = (await store.listSessions({ limit: 1 })).sessions[0]!.id;
      for (const attempt of [() => store.deleteSession(), () => store.setLegalHold()]) {
        const err = await attempt().then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(UnsupportedError);
        expect((err as Error).message).toContain(dir);
      }
      // Nothing was touched: the session still reads.
      expect((await store.getSession(id)).id).toBe(id);
    }
  });

  it("a scanned text search reads each home's transcripts with its agent's reader", async () => {
    // "does-not-exist" is only in a command of the 04-fail run (not its title, prompt or directory).
    for (const [dir, id] of [
      [CLAUDE, "94fd5311-b50c-4c1f-9f8b-2a4952fd2ea9"],
      [GEMINI, "8b20aeaf-0dc9-4f70-9f35-7496bbc6f061"],
    ] as const) {
      const page = await searchSessions(fromUrl(pathToFileURL(dir)), { q: "does-not-exist", limit: 50 });
      expect(page.sessions.map((s) => s.id)).toEqual([id]);
      expect(page.snippets?.[id]).toContain("ls does-not-exist");
    }
  });
});
