import { appendFile, cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { snapshotTree } from "@sessionvault/testing/tree-snapshot";
import { FIXTURES, fixtureRollouts } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.ts";

/** Issue 2's bad-input list through the CLI: one-line error or counted warning, exit code, nothing modified. */
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
async function copyHome(version: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "sv-cli-bad-"));
  dirs.push(root);
  await cp(join(FIXTURES, version, "sessions"), join(root, "sessions"), { recursive: true });
  await cp(join(FIXTURES, version, "archived_sessions"), join(root, "archived_sessions"), { recursive: true }).catch(() => {});
  return root;
}
const ONE_LINE = /^sessionvault: [^\n]+\n$/;

describe("sessionvault on bad input", () => {
  it("a directory that is not a Codex home", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sv-cli-notcodex-"));
    dirs.push(dir);
    await writeFile(join(dir, "package.json"), "{}\n");
    const before = await snapshotTree(dir);
    for (const argv of [["list"], ["show", "01a1fd77"], ["cat", "01a1fd77"], ["export", "01a1fd77", "--format", "jsonl"]]) {
      const r = await runCli([...argv, "--store", dir]);
      expect(r.code, argv[0]).toBe(4);
      expect(r.stderr).toBe(`sessionvault: ${dir} is not a Codex home (no sessions/ or archived_sessions/ directory)\n`);
      expect(r.out).toBe("");
    }
    const missing = await runCli(["list", "--store", join(dir, "nope")]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(ONE_LINE);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it("an unreadable file: a counted warning, the listing continues", async () => {
    const root = await copyHome("0.98.0");
    const day = join(root, "sessions", "2026", "11", "21");
    await mkdir(join(day, "rollout-2026-11-21T23-59-59-01a1fd79-0000-7000-8000-000000000000.jsonl"));
    const before = await snapshotTree(root);
    const r = await runCli(["list", "--json", "--limit", "100", "--store", root]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { sessions: unknown[] }).sessions).toHaveLength(fixtureRollouts("0.98.0").length);
    const lines = r.stderr.split("\n").filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^sessionvault: warning: \/.*01a1fd79-0000-7000-8000-000000000000\.jsonl is a folder, not a file; skipped$/);
    expect(lines[1]).toBe("sessionvault: 1 warning: some input was skipped (see above)");
    expect(await snapshotTree(root)).toEqual(before);
  });

  it("a garbage line: counted warning in list/show, the bytes still printed as stored by cat", async () => {
    const root = await copyHome("0.169.0");
    const f = fixtureRollouts("0.169.0").find((x) => !x.archived)!;
    const path = join(root, f.path.slice(join(FIXTURES, "0.169.0").length + 1));
    await appendFile(path, "\u0000garbage{{{ not json\n");
    const before = await snapshotTree(root);
    const show = await runCli(["show", f.id, "--json", "--store", root]);
    expect(show.code).toBe(0);
    const listed = await runCli(["list", "--json", "--limit", "100", "--store", root]);
    expect(listed.code).toBe(0);
    const cat = await runCli(["cat", f.id, "--store", root]);
    expect(cat.code).toBe(0);
    expect(cat.stdout.toString().endsWith("\u0000garbage{{{ not json\n")).toBe(true);
    const actions = await runCli(["export", f.id, "--format", "actions.v1", "--store", root]);
    expect(actions.code).toBe(0);
    // The projection skips the garbage line; the action stream is still valid JSON.
    for (const l of actions.out.trimEnd().split("\n")) JSON.parse(l);
    expect(await snapshotTree(root)).toEqual(before);
  });

  it("a garbage line in a session's head is a counted warning naming the line", async () => {
    const root = await copyHome("0.39.0");
    const f = fixtureRollouts("0.39.0")[0]!;
    const path = join(root, f.path.slice(join(FIXTURES, "0.39.0").length + 1));
    const { readFile } = await import("node:fs/promises");
    const lines = (await readFile(path, "utf8")).split("\n");
    lines.splice(1, 0, "{broken json");
    await writeFile(path, lines.join("\n"));
    const before = await snapshotTree(root);
    const r = await runCli(["show", f.id, "--store", root]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^sessionvault: warning: .*: line 2 is not valid JSON; skipped\nsessionvault: 1 warning: some input was skipped \(see above\)\n$/);
    expect(await snapshotTree(root)).toEqual(before);
  });

  it("a line that is not UTF-8 and a torn last line: cat prints the committed bytes as stored", async () => {
    const root = await copyHome("0.98.0");
    const f = fixtureRollouts("0.98.0")[0]!;
    const path = join(root, f.path.slice(join(FIXTURES, "0.98.0").length + 1));
    const { readFile } = await import("node:fs/promises");
    const latin1 = Buffer.concat([
      Buffer.from('{"timestamp":"2026-11-21T10:00:00.000Z","type":"event_msg","payload":{"type":"note","text":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}}\n'),
    ]);
    await appendFile(path, latin1);
    const committed = await readFile(path);
    await appendFile(path, '{"timestamp":"2026-11-21T10:00:01.000Z","type":"ev');
    const before = await snapshotTree(root);
    const r = await runCli(["cat", f.id, "--store", root]);
    expect(r.code).toBe(0);
    expect(r.stdout.equals(committed)).toBe(true);
    const show = await runCli(["show", f.id, "--json", "--store", root]);
    expect(JSON.parse(show.out)).toMatchObject({ bytes: committed.length, updated_at: "2026-11-21T10:00:00.000Z" });
    expect(await snapshotTree(root)).toEqual(before);
  });

  it("a 50 MB line is shown and printed intact", async () => {
    const root = await copyHome("0.169.0");
    const f = fixtureRollouts("0.169.0").find((x) => !x.archived)!;
    const path = join(root, f.path.slice(join(FIXTURES, "0.169.0").length + 1));
    const big = JSON.stringify({
      timestamp: "2026-11-21T10:00:00.000Z",
      type: "response_item",
      payload: { type: "message", role: "user", content: [{ type: "input_image", image_url: "data:image/png;base64," + "Q".repeat(50 * 1024 * 1024) }] },
    });
    await appendFile(path, big + "\n");
    const before = await snapshotTree(root);
    const show = await runCli(["show", f.id, "--json", "--store", root]);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.out)).toMatchObject({ updated_at: "2026-11-21T10:00:00.000Z" });
    const cat = await runCli(["cat", f.id, "--store", root]);
    expect(cat.code).toBe(0);
    const { readFile } = await import("node:fs/promises");
    expect(cat.stdout.equals(await readFile(path))).toBe(true);
    const md = await runCli(["export", f.id, "--format", "markdown", "--store", root]);
    expect(md.code).toBe(0);
    expect(md.out.length).toBeLessThan(1024 * 1024);
    expect(await snapshotTree(root)).toEqual(before);
  }, 60_000);

  it("an ambiguous id, an unknown id, ../ in an id", async () => {
    const root = await copyHome("0.169.0");
    const before = await snapshotTree(root);
    const amb = await runCli(["show", "01a1fd77", "--store", root]);
    expect(amb.code).toBe(4);
    expect(amb.stderr).toMatch(/^sessionvault: session id prefix "01a1fd77" is ambiguous: it matches 01a1fd77-[^\n]+, …\n$/);
    const unknown = await runCli(["cat", "01a1fd77-ffff-7fff-8fff-ffffffffffff", "--store", root]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toBe(`sessionvault: no session 01a1fd77-ffff-7fff-8fff-ffffffffffff in ${root}\n`);
    expect(unknown.out).toBe("");
    for (const bad of ["../../etc/passwd", "../sessions", "01a1fd77/../x"]) {
      for (const cmd of ["show", "cat"]) {
        const r = await runCli([cmd, bad, "--store", root]);
        expect(r.code, `${cmd} ${bad}`).toBe(2);
        expect(r.stderr).toMatch(/^sessionvault: invalid session id "[^"]+": expected a UUID or a prefix of at least 8 hex characters\n$/);
      }
    }
    expect(await snapshotTree(root)).toEqual(before);
    expect(readdirSync(root).sort()).toEqual(["archived_sessions", "sessions"]);
  });
});
