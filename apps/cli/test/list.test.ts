import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES, fixtureRollouts, fixtureRuns, VERSIONS } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.ts";

const SESSION_KEYS = [
  "id",
  "created_at",
  "updated_at",
  "cwd",
  "title",
  "archived",
  "source",
  "originator",
  "cli_version",
  "model_provider",
  "git",
  "parent_id",
  "forked_from_id",
  "lines",
  "bytes",
  "agent",
  "model",
  "outcome",
  "turns",
  "tokens",
  "duration_ms",
  "files_changed",
  "children",
];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

interface ListJson {
  sessions: Record<string, unknown>[];
  next_cursor: string | null;
}

async function listAll(store: string, extra: string[] = []): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const r = await runCli(["list", "--store", store, "--json", "--limit", "3", ...extra, ...(cursor ? ["--cursor", cursor] : [])]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const page = JSON.parse(r.out) as ListJson;
    all.push(...page.sessions);
    cursor = page.next_cursor;
    if (!cursor) return all;
  }
  throw new Error("paging did not end");
}

describe("sessionvault list", () => {
  for (const version of VERSIONS) {
    it(`lists every real Codex ${version} session once (--all, paged), newest first, in the documented shape`, async () => {
      const store = join(FIXTURES, version);
      const files = fixtureRollouts(version);
      const all = await listAll(store, ["--all"]);
      expect(all.map((s) => s.id).sort()).toEqual(files.map((f) => f.id).sort());
      for (const s of all) {
        expect(Object.keys(s)).toEqual(SESSION_KEYS);
        expect(s.cli_version).toBe(version);
        expect(typeof s.title).toBe("string");
      }
      const times = all.map((s) => Date.parse(s.created_at as string));
      for (let i = 1; i < times.length; i++) expect(times[i]!).toBeLessThanOrEqual(times[i - 1]! + 999);
      // Without --all the archived ones are hidden; with --archived only they show.
      const active = await listAll(store);
      expect(active.map((s) => s.id).sort()).toEqual(
        files
          .filter((f) => !f.archived)
          .map((f) => f.id)
          .sort(),
      );
      const archived = await listAll(store, ["--archived"]);
      expect(archived.map((s) => s.id)).toEqual(files.filter((f) => f.archived).map((f) => f.id));
      expect(archived.every((s) => s.archived === true)).toBe(true);
    });
  }

  it("carries the session facts: model, outcome, turns, tokens, duration, files changed, children", async () => {
    const runs = fixtureRuns("0.169.0");
    const all = await listAll(join(FIXTURES, "0.169.0"), ["--all"]);
    const by = (label: string) => all.find((s) => s.id === runs.get(label))!;
    for (const s of all) expect(s).toMatchObject({ agent: "codex", model: "gpt-5.5" });
    expect(by("03-patch")).toMatchObject({ outcome: "completed", turns: 1, files_changed: 2 });
    expect(by("05-multi-turn1")).toMatchObject({ turns: 3, outcome: "completed" });
    expect(by("14-apierror")).toMatchObject({ outcome: "failed", tokens: null });
    expect(by("16-interrupt")).toMatchObject({ outcome: "interrupted" });
    const parent = by("12-subagent");
    const child = all.find((s) => s.source === "subagent")!;
    expect(parent.children).toEqual([child.id]);
    expect(parent.tokens).toMatchObject({
      input: expect.any(Number),
      cached_input: expect.any(Number),
      output: expect.any(Number),
      reasoning: expect.any(Number),
    });
    expect(parent.duration_ms).toBeGreaterThan(0);
    // Versions that record no turn ends say so.
    const old = await listAll(join(FIXTURES, "0.98.0"), ["--all"]);
    expect(old.find((s) => s.id === fixtureRuns("0.98.0").get("03-patch"))).toMatchObject({ outcome: "unknown", model: "gpt-5.2-codex", files_changed: 2 });
  });

  it("shows sub-agent parents and fork origins in the JSON", async () => {
    const runs = fixtureRuns("0.169.0");
    const all = await listAll(join(FIXTURES, "0.169.0"), ["--all"]);
    const child = all.find((s) => s.source === "subagent")!;
    expect(child.parent_id).toBe(runs.get("12-subagent"));
    const fork = all.find((s) => s.id === runs.get("08-fork"))!;
    expect(fork.forked_from_id).toBe(runs.get("05-multi-turn1"));
  });

  it("defaults to $CODEX_HOME, and prints a table for humans", async () => {
    const r = await runCli(["list", "--limit", "2"], { CODEX_HOME: join(FIXTURES, "0.39.0") });
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+AGENT\s+CREATED \(UTC\)\s+SOURCE\s+LINES\s+TITLE$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^01a1fd77-[0-9a-f-]{27}\s+codex\s+2026-11-21 09:37\s+-\s+\d+\s+\S/);
    expect(r.stderr).toMatch(/^sessionvault: more sessions: add --cursor \S+\n$/);
  });

  it("defaults to ~/.codex without $CODEX_HOME", async () => {
    const home = await mkdtemp(join(tmpdir(), "sv-home-"));
    dirs.push(home);
    await cp(join(FIXTURES, "0.98.0", "sessions"), join(home, ".codex", "sessions"), { recursive: true });
    const r = await runCli(["list", "--json", "--limit", "100"], { HOME: home });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as ListJson).sessions).toHaveLength(fixtureRollouts("0.98.0").length);
  });

  it("accepts file:// URLs, ~/ paths and paths relative to the working directory", async () => {
    const home = await mkdtemp(join(tmpdir(), "sv-home-"));
    dirs.push(home);
    await cp(join(FIXTURES, "0.39.0", "sessions"), join(home, "codex", "sessions"), { recursive: true });
    const expected = fixtureRollouts("0.39.0").length;
    for (const [store, cwd] of [
      [`file://${join(home, "codex")}`, "/"],
      ["~/codex", "/"],
      ["codex", home],
    ] as const) {
      const r = await runCli(["list", "--json", "--store", store], { HOME: home }, cwd);
      expect(r.code, store).toBe(0);
      expect((JSON.parse(r.out) as ListJson).sessions).toHaveLength(expected);
    }
  });

  it("filters by --cwd, resolved against the working directory", async () => {
    const store = join(FIXTURES, "0.169.0");
    const all = await listAll(store);
    const cwd = all[0]!.cwd as string;
    const r = await runCli(["list", "--store", store, "--json", "--cwd", "."], {}, cwd);
    expect(r.code).toBe(0);
    const got = (JSON.parse(r.out) as ListJson).sessions.map((s) => s.id);
    expect(got).toEqual(all.filter((s) => s.cwd === cwd).map((s) => s.id));
    expect(got.length).toBeGreaterThan(0);
  });

  it("usage errors exit 2 with one line", async () => {
    for (const argv of [
      ["list", "--archived", "--all"],
      ["list", "--limit", "abc"],
      ["list", "--limit", "0"],
      ["list", "--bogus"],
    ]) {
      const r = await runCli([...argv, "--store", join(FIXTURES, "0.169.0")]);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^sessionvault: [^\n]+\n$/);
      expect(r.out).toBe("");
    }
    const bad = await runCli(["list", "--cursor", "nonsense", "--store", join(FIXTURES, "0.169.0")]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^sessionvault: invalid cursor "nonsense"/);
  });

  it("--help explains the command", async () => {
    const r = await runCli(["list", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/newest first/);
    for (const flag of ["--store", "--limit", "--cursor", "--archived", "--all", "--cwd", "--json"]) expect(r.out).toContain(flag);
  });

  it("--search reads a Codex home through: a command finds its session, injected context and unknown words find none", async () => {
    const store = join(FIXTURES, "0.169.0");
    const failing = fixtureRuns("0.169.0").get("04-fail")!;
    const search = async (text: string) => {
      const r = await runCli(["list", "--store", store, "--all", "--json", "--search", text]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      return (JSON.parse(r.out) as ListJson).sessions.map((s) => s.id);
    };
    // Case-insensitive, inside the command the model ran ("ls does-not-exist; exit 3").
    expect(await search("DOES-NOT-EXIST")).toEqual([failing]);
    // Every session's injected <environment_context> names it; none is found by it.
    expect(await search("environment_context")).toEqual([]);
    expect(await search("zzz-no-such-word-zzz")).toEqual([]);
    const human = await runCli(["list", "--store", store, "--all", "--search", "does-not-exist"]);
    expect(human.out).toContain(failing);
    expect((await runCli(["list", "--store", store, "--search", "  "])).code).toBe(2);
  });
});
