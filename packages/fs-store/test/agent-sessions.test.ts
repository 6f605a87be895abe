process.env.TZ = "UTC";

import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { checkedStore, LegalHoldError, type CheckedStore, type SessionInput } from "@sessionvault/core";
import { claudeCodeLines, conformanceId, geminiCliLines, sessionHeadLines } from "@sessionvault/core/conformance";
import { FsStore } from "@sessionvault/fs-store";
import { afterAll, describe, expect, it } from "vitest";

/**
 * A store directory keeps another agent's transcript in Codex's dated layout
 * under its own name, `<agent>-<time>-<id>.jsonl` (README "Other agents'
 * sessions"): Codex's file names are untouched, and archiving, legal holds,
 * soft delete, restore and purge move that file like a rollout.
 */
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function open(): Promise<{ root: string; store: CheckedStore }> {
  const root = await mkdtemp(join(tmpdir(), "sv-fs-agents-"));
  dirs.push(root);
  return { root, store: checkedStore(new FsStore({ root })) };
}

/** Every file under sessions/ and archived_sessions/ named like a transcript, relative to the root. */
function transcripts(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith(".jsonl") && !e.name.startsWith("sub-agent")) out.push(relative(root, p));
    }
  };
  for (const d of ["sessions", "archived_sessions"]) {
    try {
      walk(join(root, d));
    } catch {
      // not there yet
    }
  }
  return out.sort();
}

function input(overrides: Partial<SessionInput>): SessionInput {
  return {
    id: conformanceId(),
    created_at: "2026-03-01T10:00:00.000Z",
    cwd: "/home/dev/project",
    title: "a session",
    archived: false,
    source: null,
    originator: null,
    cli_version: null,
    model_provider: null,
    git: null,
    parent_id: null,
    forked_from_id: null,
    ...overrides,
  };
}

describe("another agent's sessions in a store directory", () => {
  it("are named <agent>-<time>-<id>.jsonl in the day folder, beside Codex's rollout-… files, and read back byte-exact", async () => {
    const { root, store } = await open();
    const codex = input({ title: "codex" });
    const claude = input({ agent: "claude-code", title: "claude" });
    const gemini = input({ agent: "gemini-cli", title: "gemini" });
    await store.putSession(codex);
    await store.append(codex.id, "rollout", 0, sessionHeadLines(codex));
    const claudeLines = claudeCodeLines(claude.id, claude.created_at, "hello");
    await store.putSession(claude);
    await store.append(claude.id, "rollout", 0, claudeLines);
    await store.append(claude.id, "sub-agent-a1b2c3", 0, ['{"type":"user"}']);
    await store.putSession(gemini);
    await store.append(gemini.id, "rollout", 0, geminiCliLines(gemini.id, gemini.created_at, "hello"));
    expect(transcripts(root)).toEqual(
      [
        `sessions/2026/03/01/claude-code-2026-03-01T10-00-00-${claude.id}.jsonl`,
        `sessions/2026/03/01/gemini-cli-2026-03-01T10-00-00-${gemini.id}.jsonl`,
        `sessions/2026/03/01/rollout-2026-03-01T10-00-00-${codex.id}.jsonl`,
      ].sort(),
    );
    expect(readFileSync(join(root, `sessions/2026/03/01/claude-code-2026-03-01T10-00-00-${claude.id}.jsonl`), "utf8")).toBe(
      claudeLines.map((l) => `${l}\n`).join(""),
    );
    // Found by a prefix like any session, with its streams.
    const got = await store.getSession(claude.id.slice(0, 13));
    expect(got).toMatchObject({ id: claude.id, agent: "claude-code", title: "claude", lines: claudeLines.length });
    expect(got.streams.map((s) => s.name).sort()).toEqual(["rollout", "sub-agent-a1b2c3"]);
    expect(got.facts).toMatchObject({ agent: "claude-code", turns: 1, model: "claude-sonnet-4-6" });
    await store.close();
    // A new process finds them the same way.
    const again = checkedStore(new FsStore({ root }));
    expect((await again.listSessions({ agent: "gemini-cli" })).sessions.map((s) => s.id)).toEqual([gemini.id]);
    await again.close();
  });

  it("are archived, held, soft-deleted, restored and purged by moving the same file", async () => {
    const { root, store } = await open();
    const claude = input({ agent: "claude-code" });
    await store.putSession(claude);
    await store.append(claude.id, "rollout", 0, claudeCodeLines(claude.id, claude.created_at, "hello"));
    const name = `claude-code-2026-03-01T10-00-00-${claude.id}.jsonl`;

    await store.putSession({ ...claude, archived: true });
    expect(transcripts(root)).toEqual([`archived_sessions/${name}`]);
    expect((await store.listSessions({ archived: "archived" })).sessions.map((s) => [s.id, s.agent])).toEqual([[claude.id, "claude-code"]]);
    expect((await store.listSessions()).sessions).toEqual([]);
    await store.putSession(claude);
    expect(transcripts(root)).toEqual([`sessions/2026/03/01/${name}`]);

    await store.setLegalHold(claude.id, true);
    await expect(store.deleteSession(claude.id)).rejects.toBeInstanceOf(LegalHoldError);
    await store.setLegalHold(claude.id, false);

    await store.softDeleteSession(claude.id, { actor: "test", purgeAfter: new Date(Date.now() + 60_000) });
    expect(transcripts(root)).toEqual([]);
    expect((await store.listSessions({ archived: "all" })).sessions).toEqual([]);
    await store.restoreSession(claude.id, { actor: "test" });
    expect(transcripts(root)).toEqual([`sessions/2026/03/01/${name}`]);
    expect((await store.getSession(claude.id)).agent).toBe("claude-code");

    const freed = await store.purgeSession(claude.id, { actor: "test" });
    expect(freed).toBeGreaterThan(0);
    expect(transcripts(root)).toEqual([]);
    await store.close();
  });

  it("a put that names another agent renames the file, keeping its lines", async () => {
    const { root, store } = await open();
    const s = input({});
    await store.putSession(s);
    const lines = claudeCodeLines(s.id, s.created_at, "hello");
    await store.append(s.id, "rollout", 0, lines);
    expect(transcripts(root)).toEqual([`sessions/2026/03/01/rollout-2026-03-01T10-00-00-${s.id}.jsonl`]);
    await store.putSession({ ...s, agent: "claude-code" });
    expect(transcripts(root)).toEqual([`sessions/2026/03/01/claude-code-2026-03-01T10-00-00-${s.id}.jsonl`]);
    const got = await store.getSession(s.id);
    expect(got).toMatchObject({ agent: "claude-code", lines: lines.length });
    expect(got.facts?.agent).toBe("claude-code");
    await store.close();
  });
});
