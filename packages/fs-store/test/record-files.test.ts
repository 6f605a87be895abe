import { readFileSync } from "node:fs";
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SessionInput, TokenRecord } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";

/**
 * Issue 12, item 1 for the record files sessionvault appends to: a torn
 * last line (a writer killed mid-write) is cut before the next record, so
 * that record is never glued onto it and skipped with it.
 */
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempHome(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "sv-records-"));
  dirs.push(d);
  return d;
}

const token = (id: string): TokenRecord => ({ id, org: "acme", scopes: ["read"], hash: `sha256-${id}`, created_at: new Date().toISOString() });

function everyLineParses(path: string): void {
  const text = readFileSync(path, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  for (const l of text.split("\n").slice(0, -1)) expect(() => JSON.parse(l), l).not.toThrow();
}

describe("record files after a torn last line", () => {
  it("tokens.jsonl: a revocation and a new token written after a torn line both count", async () => {
    const root = await tempHome();
    const store = new FsStore({ root });
    await store.saveToken(token("t1"));
    await store.saveToken(token("t2"));
    const file = join(root, ".sessionvault", "tokens.jsonl");
    await appendFile(file, '{"id":"t3","org":"acme","scop');
    expect(await store.deleteToken("t1")).toBe(true);
    await store.saveToken(token("t4"));
    expect((await store.listTokens()).map((t) => t.id)).toEqual(["t2", "t4"]);
    expect(await store.findTokenByHash("sha256-t1")).toBeNull();
    everyLineParses(file);
  });

  it("deletions.jsonl: the audit record of a deletion written after a torn line is read back", async () => {
    const root = await tempHome();
    const store = new FsStore({ root });
    const id = "01a1fd77-5062-78c3-9c88-31a6914d7401";
    const input: SessionInput = {
      id,
      created_at: "2026-11-21T09:36:57.445Z",
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
    };
    await store.putSession(input);
    const file = join(root, ".sessionvault", "deletions.jsonl");
    await appendFile(file, '{"at":"2026-11-21T10:00:00.000Z","action":"dele');
    await store.deleteSession(id, { actor: "alice", reason: "test" });
    const audit = [];
    for await (const r of store.deletionAudit()) audit.push(r);
    expect(audit).toMatchObject([{ action: "delete", session_id: id, actor: "alice", reason: "test" }]);
    everyLineParses(file);
  });
});
