process.env.TZ = "UTC";

import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES, fixtureRollouts } from "@sessionvault/testing/codex-fixtures";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { startPostgres, type TestPostgres } from "@sessionvault/testing/postgres";
import { startS3Server, uniquePrefix, type TestS3Server } from "@sessionvault/testing/s3-server";
import { runCli } from "./support/run-cli.ts";

/**
 * Rollouts of the bare-line builds (no envelope: the meta object as line 1,
 * bare response items, `record_type` lines; the earliest build writes them
 * flat in sessions/ and may lose its last line): written by the real Codex
 * CLI (fixtures/codex/<version>), read by every command and every store.
 */
const BARE = ["0.1.2505291658", "0.8.0", "0.20.0"] as const;

let pg: TestPostgres;
let s3: TestS3Server;
const dirs: string[] = [];
beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3Server()]);
});
afterAll(async () => {
  await Promise.all([pg?.stop(), s3?.stop()]);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const s3Env = () => ({ AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey });
const s3Url = (prefix: string) => `s3://${s3.bucket}/${prefix}?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&force_path_style=true`;

/** The committed bytes of a rollout: a last line without "\n" is a torn write, not part of the session. */
function committed(path: string): Buffer {
  const b = readFileSync(path);
  const end = b.lastIndexOf(0x0a) + 1;
  return b.subarray(0, end);
}

describe.each(BARE)("bare-line rollouts of Codex %s", (version) => {
  const home = join(FIXTURES, version);
  const rollouts = fixtureRollouts(version);

  it("are listed newest first with their title, shown, cat byte-identical and exported", async () => {
    expect(rollouts.length).toBeGreaterThan(5);
    const list = await runCli(["list", "--store", home, "--all", "--json", "--limit", "100"]);
    expect(list.code).toBe(0);
    const sessions = (JSON.parse(list.out) as { sessions: { id: string; created_at: string; title: string | null; cwd: string | null }[] }).sessions;
    expect(sessions.map((s) => s.id).sort()).toEqual(rollouts.map((r) => r.id).sort());
    // Newest first by the file name's second (ties in the same second by id, as for every home).
    const created = sessions.map((s) => s.created_at.slice(0, 19));
    expect(created).toEqual([...created].sort().reverse());
    for (const s of sessions) expect(s.title, s.id).toMatch(/\S/);

    for (const r of rollouts) {
      const show = await runCli(["show", r.id.slice(0, 8), "--store", home, "--json"]);
      expect(show.code, show.stderr).toBe(0);
      expect(JSON.parse(show.out)).toMatchObject({ id: r.id, agent: "codex" });
      const cat = await runCli(["cat", r.id, "--store", home]);
      expect(cat.code).toBe(0);
      expect(cat.stdout.equals(committed(r.path)), r.path).toBe(true);
      const exp = await runCli(["export", r.id, "--format", "actions.v1", "--store", home]);
      expect(exp.code, exp.stderr).toBe(0);
      const actions = exp.out
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      expect(actions[0]).toMatchObject({ action_type: "session_started", session_id: r.id });
      expect(actions.map((a: { seq: number }) => a.seq)).toEqual(actions.map((_: unknown, i: number) => i));
    }
  });

  it("sync through Postgres and S3 and back gives the same bytes for every session", async () => {
    const pgUrl = `${pg.url}?schema=${freshSchema("bare")}`;
    const s3Store = s3Url(uniquePrefix("bare"));
    const up = await runCli(["sync", "--from", home, "--to", pgUrl, "--json"]);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.out)).toMatchObject({ sessions_scanned: rollouts.length, sessions_sent: rollouts.length, errors: [] });
    const across = await runCli(["sync", "--from", pgUrl, "--to", s3Store, "--json"], s3Env());
    expect(across.code, across.stderr).toBe(0);
    const scratch = await mkdtemp(join(tmpdir(), "sv-bare-"));
    dirs.push(scratch);
    const down = await runCli(["sync", "--from", s3Store, "--to", scratch, "--json"], s3Env());
    expect(down.code, down.stderr).toBe(0);
    expect(JSON.parse(down.out)).toMatchObject({ sessions_sent: rollouts.length, errors: [] });
    for (const r of rollouts) {
      for (const [store, env] of [
        [pgUrl, {}],
        [s3Store, s3Env()],
        [scratch, {}],
      ] as const) {
        const cat = await runCli(["cat", r.id, "--store", store], env);
        expect(cat.code, `${store} ${cat.stderr}`).toBe(0);
        expect(cat.stdout.equals(committed(r.path)), `${r.id} from ${store}`).toBe(true);
      }
    }
    // A command's text finds its session in the Codex home (read through) and in Postgres (its index).
    const failing = rollouts.find((r) => readFileSync(r.path, "utf8").includes("does-not-exist"))!;
    for (const [store, env] of [
      [home, {}],
      [pgUrl, {}],
    ] as const) {
      const found = await runCli(["list", "--store", store, "--all", "--search", "does-not-exist", "--json"], env);
      expect(found.code, found.stderr).toBe(0);
      expect(
        (JSON.parse(found.out) as { sessions: { id: string }[] }).sessions.map((x) => x.id),
        store,
      ).toEqual([failing.id]);
    }
    const again = await runCli(["sync", "--from", home, "--to", pgUrl, "--json"]);
    expect(JSON.parse(again.out)).toMatchObject({ sessions_sent: 0, lines_sent: 0 });
  });
});
