import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/run-cli.js";

const ID1 = "019a0000-0000-7000-8000-0000000000a1";
const ID2 = "019a0000-0000-7000-8000-0000000000b2";

let root: string;
let home: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "sv-cli-state-"));
  home = join(root, "codex-home");
  mkdirSync(join(home, "sessions", "2026", "11", "21"), { recursive: true });
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function sv(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const r = await runCli(args, { HOME: join(root, "home"), CODEX_HOME: home, ...env }, root);
  return { code: r.code, out: r.out, err: r.stderr };
}

describe("sessionvault state", () => {
  it("set, get, list and clear a slot in <codex home>/sessionvault/state.json", async () => {
    expect((await sv(["state", "set", "pane-2", ID1])).code).toBe(0);
    expect(await sv(["state", "get", "pane-2"])).toEqual({ code: 0, out: `${ID1}\n`, err: "" });

    const file = join(home, "sessionvault", "state.json");
    const doc = JSON.parse(readFileSync(file, "utf8"));
    expect(doc.slots["pane-2"]).toMatchObject({ session_id: ID1, agent: "codex", cwd: root });

    await sv(["state", "set", "ci-job-17", ID2, "--agent", "codex", "--cwd", "sub"]);
    const list = await sv(["state", "list", "--json"]);
    const parsed = JSON.parse(list.out) as { slots: Array<Record<string, unknown>> };
    expect(parsed.slots.map((s) => [s.slot, s.session_id, s.cwd])).toEqual([
      ["ci-job-17", ID2, join(root, "sub")],
      ["pane-2", ID1, root],
    ]);
    expect(typeof parsed.slots[0]!.updated_at).toBe("string");

    const table = await sv(["state", "list"]);
    expect(table.out.split("\n")[0]).toMatch(/^SLOT\s+SESSION/);
    expect(table.out).toContain(`pane-2     ${ID1}`);

    expect(JSON.parse((await sv(["state", "get", "pane-2", "--json"])).out)).toMatchObject({ slot: "pane-2", session_id: ID1 });
    expect(JSON.parse((await sv(["state", "clear", "pane-2", "--json"])).out)).toEqual({ slot: "pane-2", cleared: true });
    expect(await sv(["state", "clear", "pane-2"])).toEqual({ code: 0, out: "", err: "sessionvault: slot pane-2 was already empty\n" });
  });

  it("an empty slot is exit 4 with a one-line error", async () => {
    expect(await sv(["state", "get", "nothing-here"])).toEqual({ code: 4, out: "", err: "sessionvault: slot nothing-here is empty\n" });
  });

  it("refuses a path as slot name and a non-id (exit 2), writing nothing", async () => {
    const bad = await sv(["state", "set", "../../etc", ID1]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^sessionvault: invalid slot name "..\/..\/etc"/);
    const badId = await sv(["state", "set", "ok", "--last"]);
    expect(badId.code).toBe(2);
    const notId = await sv(["state", "set", "ok", "not-a-session"]);
    expect(notId.code).toBe(2);
    expect(readdirSync(home)).toEqual(["sessions"]);
  });

  it("resolves an id prefix against the Codex home", async () => {
    writeFileSync(join(home, "sessions", "2026", "11", "21", `rollout-2026-11-21T09-00-00-${ID1}.jsonl`), "{}\n");
    expect((await sv(["state", "set", "pane-1", ID1.slice(0, 10)])).code).toBe(0);
    expect((await sv(["state", "get", "pane-1"])).out).toBe(`${ID1}\n`);
    const missing = await sv(["state", "set", "pane-1", "0123456789"]);
    expect(missing.code).toBe(4);
    expect(missing.err).toContain("no session starting with 0123456789");
  });

  it("--state-file and $SESSIONVAULT_STATE choose the file", async () => {
    const viaEnv = join(root, "env-state.json");
    await sv(["state", "set", "a", ID1], { SESSIONVAULT_STATE: viaEnv });
    expect(JSON.parse(readFileSync(viaEnv, "utf8")).slots.a.session_id).toBe(ID1);
    const viaFlag = join(root, "flag-state.json");
    await sv(["state", "set", "b", ID2, "--state-file", viaFlag], { SESSIONVAULT_STATE: viaEnv });
    expect(Object.keys(JSON.parse(readFileSync(viaFlag, "utf8")).slots)).toEqual(["b"]);
    expect(Object.keys(JSON.parse(readFileSync(viaEnv, "utf8")).slots)).toEqual(["a"]);
  });

  it("a corrupt state file is reported on stderr, naming it and where it went, and set aside", async () => {
    const file = join(root, "state.json");
    writeFileSync(file, '{"version":1,"slots":{"a":');
    const r = await sv(["state", "list", "--json", "--state-file", file]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      new RegExp(
        `^sessionvault: warning: state file ${file} is corrupt \\(not valid JSON.*\\); moved it to ${file}\\.corrupt-\\S+ and started with an empty state\\n$`,
      ),
    );
    expect(JSON.parse(r.out)).toEqual({ slots: [] });
    const aside = readdirSync(root).filter((n) => n.startsWith("state.json.corrupt-"));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(root, aside[0]!), "utf8")).toBe('{"version":1,"slots":{"a":');
  });

  it("every state subcommand and resume explain themselves in --help", async () => {
    for (const cmd of [["state"], ["state", "list"], ["state", "get"], ["state", "set"], ["state", "clear"], ["resume"]]) {
      const r = await sv([...cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.out.length).toBeGreaterThan(100);
    }
    expect((await sv(["resume", "--help"])).out).toContain("--agent-bin");
  });
});
