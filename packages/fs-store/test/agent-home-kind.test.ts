import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { agentHomeKind, storeHomeKind } from "../src/from-url.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function home(...subdirs: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sv-home-kind-"));
  dirs.push(dir);
  for (const s of subdirs) await mkdir(join(dir, s), { recursive: true });
  return dir;
}

describe("agentHomeKind", () => {
  it("a Claude Code config dir as 2.1.332 leaves it (projects/ and its own empty sessions/) is a Claude Code home", async () => {
    expect(agentHomeKind(await home("projects/-tmp-work", "sessions", "session-env"))).toBe("claude-code");
  });

  it("a folder with Codex's dated sessions/ tree, or archived_sessions/, is a Codex home even with a projects/ folder", async () => {
    expect(agentHomeKind(await home("projects", "sessions/2026/12/02"))).toBeNull();
    expect(agentHomeKind(await home("projects", "archived_sessions"))).toBeNull();
    expect(agentHomeKind(await home("sessions"))).toBeNull();
  });

  it("a ~/.codex that holds only tmp/ (the real Codex CLI makes it before any session) is a Codex home, not a Gemini CLI dir", async () => {
    const parent = await home();
    const codex = join(parent, ".codex");
    await mkdir(join(codex, "tmp"), { recursive: true });
    expect(storeHomeKind(codex)).toBeNull();
    const withConfig = await home("tmp");
    await writeFile(join(withConfig, "config.toml"), 'model = "gpt-5"\n');
    expect(storeHomeKind(withConfig)).toBeNull();
    // What the rule must keep: a bare folder with tmp/ and no Codex marker is still a Gemini CLI dir.
    expect(storeHomeKind(await home("tmp/abc/chats"))).toBe("gemini-cli");
  });
});
