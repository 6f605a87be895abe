import { PgStore } from "@sessionvault/pg-store";
import { afterAll, expect, test } from "vitest";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { sharedPostgres } from "@sessionvault/testing/shared-services";
import { runCli } from "./support/run-cli.js";
import { seedAgedSession } from "./support/aged-session.js";

// The same `prune` command and policy flags on a postgres:// store (pg-store implements RetentionStore).
const server = sharedPostgres();
afterAll(async () => {});

test("prune --dry-run then prune on postgres://: old sessions go, held and recent ones stay", async () => {
  const schema = freshSchema("prune");
  const url = `${server.url}?schema=${schema}`;
  const store = new PgStore({ connectionString: server.url, schema });
  try {
    const old = await seedAgedSession(store, 120);
    const held = await seedAgedSession(store, 300);
    const recent = await seedAgedSession(store, 2);
    await store.setLegalHold(held, true);
    const ids = async () => (await store.listSessions({ archived: "all" })).sessions.map((s) => s.id).sort();

    const dry = await runCli(["prune", "--store", url, "--older-than", "90d", "--dry-run", "--json"]);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({ expired: [old], held: [held], dry_run: true });
    expect(await ids()).toEqual([old, held, recent].sort());

    const real = await runCli(["prune", "--store", url, "--older-than", "90d", "--json"]);
    expect(real.code).toBe(0);
    expect(JSON.parse(real.out)).toMatchObject({ expired: [old], held: [held], dry_run: false });
    expect(await ids()).toEqual([held, recent].sort());
  } finally {
    await store.close();
  }
});

test("the same policy flags work on postgres:// (pg-store implements retention): --grace soft-deletes, --stream-ttl drops raw-api, the audit names the actor", async () => {
  const schema = freshSchema("prunepol");
  const url = `${server.url}?schema=${schema}`;
  const store = new PgStore({ connectionString: server.url, schema });
  try {
    const old = await seedAgedSession(store, 60);
    const mid = await seedAgedSession(store, 10);
    const res = await runCli(["prune", "--store", url, "--older-than", "30d", "--grace", "2w", "--stream-ttl", "raw-api=7d", "--actor", "ops", "--json"]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.out)).toMatchObject({ expired: [old], purged: [], streams_expired: [{ session_id: mid, stream: "raw-api" }] });
    await expect(store.getSession(old)).rejects.toMatchObject({ code: "NOT_FOUND" });
    const trash = [];
    for await (const t of store.softDeletedSessions()) trash.push(t.id);
    expect(trash).toEqual([old]);
    expect((await store.streamPositions(mid)).map((p) => p.name)).toEqual(["rollout"]);
    const audit = [];
    for await (const r of store.deletionAudit()) audit.push([r.action, r.session_id, r.actor]);
    expect(audit).toEqual([
      ["soft_delete", old, "ops"],
      ["delete_stream", mid, "ops"],
    ]);
  } finally {
    await store.close();
  }
});
