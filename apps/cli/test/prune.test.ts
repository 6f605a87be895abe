import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Store } from "@sessionvault/s3-store";
import { FsStore } from "@sessionvault/fs-store";
import { afterAll, describe, expect, test } from "vitest";
import { uniquePrefix } from "@sessionvault/testing/s3-server";
import { sharedS3Server } from "@sessionvault/testing/shared-services";
import { FIXTURES } from "@sessionvault/testing/codex-fixtures";
import { runCli } from "./support/run-cli.js";
import { seedAgedSession } from "./support/aged-session.js";

const server = sharedS3Server();
afterAll(async () => {});

function s3Url(prefix: string): string {
  return `s3://${server.bucket}/${prefix}?endpoint=${encodeURIComponent(server.endpoint)}&region=${server.region}&force_path_style=true`;
}
const env = () => ({ AWS_ACCESS_KEY_ID: server.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey, USER: "alice" });

function directStore(prefix: string): S3Store {
  return new S3Store({
    bucket: server.bucket,
    prefix,
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    forcePathStyle: true,
  });
}

async function ids(store: S3Store): Promise<string[]> {
  return (await store.listSessions({ archived: "all", limit: 1000 })).sessions.map((s) => s.id).sort();
}

describe("sessionvault prune on s3://", () => {
  test("--dry-run --json lists what would go and changes nothing; the real run expires old sessions and keeps new and held ones", async () => {
    const prefix = uniquePrefix("cli");
    const store = directStore(prefix);
    const old = await seedAgedSession(store, 120);
    const held = await seedAgedSession(store, 200);
    const recent = await seedAgedSession(store, 3);
    await store.setLegalHold(held, true);

    const dry = await runCli(["prune", "--store", s3Url(prefix), "--older-than", "90d", "--dry-run", "--json"], env());
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    const report = JSON.parse(dry.out);
    expect(report).toMatchObject({ expired: [old], held: [held], dry_run: true, purged: [] });
    expect(report.bytes_freed).toBeGreaterThan(0);
    expect(await ids(store)).toEqual([old, held, recent].sort());

    const real = await runCli(["prune", "--store", s3Url(prefix), "--older-than", "90d", "--json"], env());
    expect(real.code).toBe(0);
    expect(JSON.parse(real.out)).toMatchObject({ expired: [old], held: [held], dry_run: false, bytes_freed: report.bytes_freed, purged: [old] });
    expect(await ids(store)).toEqual([held, recent].sort());
    const audit = [];
    for await (const r of store.deletionAudit()) audit.push([r.action, r.session_id, r.actor]);
    expect(audit).toEqual([
      ["soft_delete", old, "cli:alice"],
      ["purge", old, "cli:alice"],
    ]);
    await store.close();
  });

  test("--grace soft-deletes only, --stream-ttl expires raw-api sooner, and the text summary says so", async () => {
    const prefix = uniquePrefix("cli");
    const store = directStore(prefix);
    const old = await seedAgedSession(store, 50);
    const mid = await seedAgedSession(store, 10);
    const res = await runCli(
      ["prune", "--store", s3Url(prefix), "--older-than", "30d", "--grace", "2w", "--stream-ttl", "raw-api=7d", "--actor", "ops"],
      env(),
    );
    expect(res.code).toBe(0);
    expect(res.out).toContain("expired 1 session(s)");
    expect(res.out).toContain(old);
    expect(res.out).toContain("soft-deleted: purged after 2w");
    expect(res.out).toContain("deleted 1 expired stream(s)");
    const trash = [];
    for await (const t of store.softDeletedSessions()) trash.push(t.id);
    expect(trash).toEqual([old]);
    expect((await store.streamPositions(mid)).map((s) => s.name)).toEqual(["rollout"]);
    await store.close();
  });

  test("bad durations and a missing --store are usage errors (exit 2) that touch nothing", async () => {
    const prefix = uniquePrefix("cli");
    const store = directStore(prefix);
    const old = await seedAgedSession(store, 400);
    for (const argv of [
      ["prune", "--store", s3Url(prefix), "--older-than", "30 days"],
      ["prune", "--store", s3Url(prefix), "--older-than", "-3d"],
      ["prune", "--store", s3Url(prefix), "--older-than", "30d", "--stream-ttl", "raw-api"],
      ["prune", "--store", s3Url(prefix), "--older-than", "30d", "--stream-ttl", "rollout=7d"],
      ["prune", "--older-than", "30d"],
      ["prune", "--store", s3Url(prefix)],
    ]) {
      const res = await runCli(argv, env());
      expect(res.code, argv.join(" ")).toBe(2);
      expect(res.stderr).toMatch(/^sessionvault: .+\n$/);
    }
    expect(await ids(store)).toEqual([old]);
    await store.close();
  });

  test("--help explains the command", async () => {
    const res = await runCli(["prune", "--help"]);
    expect(res.code).toBe(0);
    for (const flag of ["--store", "--older-than", "--dry-run", "--grace", "--stream-ttl", "--json"]) expect(res.out).toContain(flag);
  });
});

describe("sessionvault prune on a Codex home", () => {
  test("expires every fixture session older than the cutoff (1 minute: the fixtures are recent) through fs-store, and a dry run first changes nothing", async () => {
    const home = await mkdtemp(join(tmpdir(), "sv-prune-home-"));
    try {
      await cp(join(FIXTURES, "0.98.0"), home, { recursive: true });
      const before = await readdir(join(home, "sessions"), { recursive: true });
      const dry = await runCli(["prune", "--store", home, "--older-than", "1m", "--dry-run", "--json"]);
      expect(dry.code).toBe(0);
      const report = JSON.parse(dry.out);
      expect(report.expired.length).toBeGreaterThan(0);
      expect(report.dry_run).toBe(true);
      expect(await readdir(join(home, "sessions"), { recursive: true })).toEqual(before);

      const real = await runCli(["prune", "--store", home, "--older-than", "1m", "--json"]);
      expect(real.code).toBe(0);
      expect(JSON.parse(real.out).expired.sort()).toEqual(report.expired.sort());
      const fs = new FsStore({ root: home });
      expect((await fs.listSessions({ archived: "all" })).sessions).toEqual([]);
      await fs.close();
      const audit = [];
      for await (const r of fs.deletionAudit()) audit.push(r.action);
      expect(audit).toEqual([...report.expired.map(() => "soft_delete"), ...report.expired.map(() => "purge")]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  test("--grace moves expired sessions out of Codex's view into the trash (restorable), --stream-ttl deletes raw-api alone, held sessions stay", async () => {
    const home = await mkdtemp(join(tmpdir(), "sv-prune-home-"));
    try {
      const fs = new FsStore({ root: home });
      const old = await seedAgedSession(fs, 50);
      const held = await seedAgedSession(fs, 60);
      const mid = await seedAgedSession(fs, 10);
      const recent = await seedAgedSession(fs, 1);
      await fs.setLegalHold(held, true);
      const argv = ["prune", "--store", home, "--older-than", "30d", "--grace", "2w", "--stream-ttl", "raw-api=7d", "--actor", "ops"];

      const dry = await runCli([...argv, "--dry-run", "--json"]);
      expect(dry.stderr).toBe("");
      expect(JSON.parse(dry.out)).toMatchObject({
        dry_run: true,
        expired: [old],
        held: [held],
        purged: [],
        streams_expired: [{ session_id: mid, stream: "raw-api" }],
      });
      expect((await fs.streamPositions(mid)).map((s) => s.name)).toContain("raw-api");

      const res = await runCli(argv);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      expect(res.out).toContain("expired 1 session(s)");
      expect(res.out).toContain("soft-deleted: purged after 2w");
      expect(res.out).toContain("deleted 1 expired stream(s)");
      expect(res.out).toContain(`kept 1 session(s) on legal hold\n  ${held}`);
      const listed = (await fs.listSessions({ archived: "all" })).sessions.map((s) => s.id).sort();
      expect(listed).toEqual([held, mid, recent].sort());
      const trash = [];
      for await (const t of fs.softDeletedSessions()) trash.push(t.id);
      expect(trash).toEqual([old]);
      expect(await readdir(join(home, ".sessionvault", "trash"))).toEqual([old]);
      expect((await fs.streamPositions(mid)).map((s) => s.name)).toEqual(["rollout"]);
      expect((await fs.streamPositions(held)).map((s) => s.name).sort()).toEqual(["raw-api", "rollout"]);

      // Within the grace period a rerun purges nothing; the session can come back.
      const again = await runCli([...argv, "--json"]);
      expect(JSON.parse(again.out)).toMatchObject({ expired: [], purged: [] });
      await fs.restoreSession(old, { actor: "ops" });
      expect((await fs.getSession(old)).lines).toBe(1);
      const audit = [];
      for await (const r of fs.deletionAudit()) audit.push([r.action, r.session_id, r.actor]);
      // A Codex home is walked newest first.
      expect(audit).toEqual([
        ["delete_stream", mid, "ops"],
        ["soft_delete", old, "ops"],
        ["restore", old, "ops"],
      ]);
      await fs.close();
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
