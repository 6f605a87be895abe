// Codex names rollout files in local time and the fixtures were written in
// UTC: the restored file names must be computed in the same zone.
process.env.TZ = "UTC";

import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PassThrough } from "node:stream";
import { FsStore } from "@sessionvault/fs-store";
import { PgStore } from "@sessionvault/pg-store";
import { conformanceId, sessionHeadLines } from "@sessionvault/core/conformance";
import type { SessionInput } from "@sessionvault/core";
import { afterAll, describe, expect, it } from "vitest";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { sharedPostgres } from "@sessionvault/testing/shared-services";
import { FIXTURES, VERSIONS } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.js";
import { main } from "../src/main.js";

const server = sharedPostgres();
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Rollout files of a Codex home by relative path (sessions/… and archived_sessions/…). */
function rolloutFiles(home: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && /^rollout-.*\.jsonl(\.zst)?$/.test(e.name)) out.set(relative(home, p), readFileSync(p));
    }
  };
  walk(join(home, "sessions"));
  walk(join(home, "archived_sessions"));
  return out;
}

interface Summary {
  sessions_scanned: number;
  sessions_sent: number;
  lines_sent: number;
  bytes_sent: number;
  conflicts: number;
  errors: unknown[];
}

function sessionInput(cliVersion: string, title: string): SessionInput {
  return {
    id: conformanceId(),
    created_at: "2026-05-01T10:00:00.000Z",
    cwd: "/work",
    title,
    archived: false,
    source: "exec",
    originator: "codex_exec",
    cli_version: cliVersion,
    model_provider: "openai",
    git: null,
    parent_id: null,
    forked_from_id: null,
  };
}

async function syncJson(args: string[]): Promise<Summary> {
  const res = await runCli(["sync", ...args, "--json"]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  return JSON.parse(res.out) as Summary;
}

describe.each(VERSIONS)("sync round trip of the Codex %s fixture home: fs → postgres → empty fs home", (version) => {
  it("gives byte-identical rollout files at the same relative paths, and reruns send nothing", async () => {
    const source = join(FIXTURES, version);
    const original = rolloutFiles(source);
    expect(original.size).toBeGreaterThan(5);
    const totalBytes = [...original.values()].reduce((n, b) => n + b.length, 0);
    const totalLines = [...original.values()].reduce((n, b) => n + b.toString("utf8").split("\n").length - 1, 0);
    const pgUrl = `${server.url}?schema=${freshSchema("rt")}`;

    const dry = await syncJson(["--from", source, "--to", pgUrl, "--dry-run"]);
    expect(dry).toEqual({
      sessions_scanned: original.size,
      sessions_sent: original.size,
      lines_sent: totalLines,
      bytes_sent: totalBytes,
      conflicts: 0,
      errors: [],
    });

    const up = await syncJson(["--from", source, "--to", pgUrl]);
    expect(up).toEqual(dry);
    expect(await syncJson(["--from", source, "--to", pgUrl])).toMatchObject({
      sessions_scanned: original.size,
      sessions_sent: 0,
      lines_sent: 0,
      bytes_sent: 0,
    });

    // What Postgres holds, seen through another client: every session, archived ones included.
    const schema = new URL(pgUrl).searchParams.get("schema")!;
    const pg = new PgStore({ connectionString: server.url, schema });
    const listed = await pg.listSessions({ archived: "all", limit: 1000 });
    await pg.close();
    expect(listed.sessions.length).toBe(original.size);
    expect(listed.sessions.filter((s) => s.archived).length).toBe([...original.keys()].filter((k) => k.startsWith("archived_sessions/")).length);

    const scratch = await mkdtemp(join(tmpdir(), "sv-restored-"));
    dirs.push(scratch);
    // A directory that does not exist yet becomes the new Codex home.
    const restoredHome = join(scratch, "nested", "codex-home");
    const down = await syncJson(["--from", pgUrl, "--to", restoredHome]);
    expect(down).toMatchObject({ sessions_scanned: original.size, sessions_sent: original.size, lines_sent: totalLines, bytes_sent: totalBytes, errors: [] });

    const restored = rolloutFiles(restoredHome);
    expect([...restored.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [path, bytes] of original) {
      expect(restored.get(path)?.length, path).toBe(bytes.length);
      expect(restored.get(path)!.equals(bytes), path).toBe(true);
    }
    expect(await syncJson(["--from", pgUrl, "--to", restoredHome])).toEqual({
      sessions_scanned: original.size,
      sessions_sent: 0,
      lines_sent: 0,
      bytes_sent: 0,
      conflicts: 0,
      errors: [],
    });
  });
});

describe("sync command", () => {
  it("prints a human summary without --json, and sync of a store onto itself is a usage error", async () => {
    const source = join(FIXTURES, "0.39.0");
    const pgUrl = `${server.url}?schema=${freshSchema("human")}`;
    const res = await runCli(["sync", "--from", source, "--to", pgUrl]);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/^sent 10 of 10 sessions, \d+ lines \([\d.]+ KiB\) from .* to postgres:\/\/.*\n$/);
    const same = await runCli(["sync", "--from", pgUrl, "--to", pgUrl]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/^sessionvault: sync needs two different stores/);
    const missing = await runCli(["sync", "--from", source]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--to");
  });

  it("a session the target cannot store is reported, the others are synced, and the exit code says so", async () => {
    const home = await mkdtemp(join(tmpdir(), "sv-bad-"));
    dirs.push(home);
    const fs = new FsStore({ root: home });
    const good = sessionInput("0.169.0", "Good session");
    const bad = sessionInput("0.169.0", "Bad session");
    for (const s of [good, bad]) {
      await fs.putSession(s);
      await fs.append(s.id, "rollout", 0, sessionHeadLines(s));
    }
    // Postgres text cannot hold NUL: pg-store refuses the line rather than store something else.
    await fs.append(bad.id, "debug-log", 0, ["before", "nul \u0000 inside"]);
    await fs.close();
    const pgUrl = `${server.url}?schema=${freshSchema("bad")}`;
    const res = await runCli(["sync", "--from", home, "--to", pgUrl, "--json"]);
    expect(res.code).toBe(13);
    const summary = JSON.parse(res.out) as Summary & { errors: { session_id: string; message: string }[] };
    expect(summary.errors).toEqual([{ session_id: bad.id, message: expect.stringContaining("NUL"), code: "INVALID_INPUT", permanent: true }]);
    expect(res.stderr).toMatch(
      /^sessionvault: 1 session\(s\) could not be synced, the others were: 1 can never be stored in the target as it is \(see the reasons above\); first: [0-9a-f-]+: .*NUL.*\n$/,
    );
    const pg = new PgStore({ connectionString: server.url, schema: new URL(pgUrl).searchParams.get("schema")! });
    try {
      expect((await pg.getSession(good.id)).lines).toBe(3);
      // The bad session's rollout made it; only the refused stream is missing.
      expect((await pg.streamPositions(bad.id)).map((p) => [p.name, p.lines])).toEqual([["rollout", 3]]);
    } finally {
      await pg.close();
    }
  });

  it("never prints a password from a store URL", async () => {
    const res = await runCli(["sync", "--from", join(FIXTURES, "0.39.0"), "--to", "postgres://svuser:s3cretpw@127.0.0.1:1/db"]);
    expect(res.code).toBe(11);
    expect(res.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(res.stderr).toMatch(/^sessionvault: postgres at 127\.0\.0\.1:1\/db is unavailable/);
    expect(res.stderr + res.out).not.toContain("s3cretpw");
  });

  it("draws a progress bar on a TTY (and only there), then prints the summary", async () => {
    const stdout = new PassThrough();
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    let err = "";
    let out = "";
    stderr.on("data", (d: Buffer) => (err += d.toString()));
    stdout.on("data", (d: Buffer) => (out += d.toString()));
    const pgUrl = `${server.url}?schema=${freshSchema("tty")}`;
    const code = await main(["sync", "--from", join(FIXTURES, "0.98.0"), "--to", pgUrl], {
      stdout,
      stderr,
      env: { HOME: "/nonexistent-home" },
      cwd: process.cwd(),
    });
    expect(code).toBe(0);
    expect(err).toMatch(/sync \|[█░]+\| 13\/13 sessions \| \d+ lines \| [\d.]+ KiB/);
    expect(out).toMatch(/^sent 13 of 13 sessions/);
    // Not a TTY: no bar at all (the other tests' stderr is empty).
  });

  it("--help explains the command", async () => {
    const res = await runCli(["sync", "--help"]);
    expect(res.code).toBe(0);
    expect(res.out).toContain("--dry-run");
    expect(res.out).toContain("Only what the target lacks is sent");
  });
});
