import { runRetentionConformance } from "@sessionvault/core/conformance";
import { PgStore } from "@sessionvault/pg-store";
import pg from "pg";
import { afterAll } from "vitest";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { sharedPostgres } from "@sessionvault/testing/shared-services";

const server = sharedPostgres();
const schemas: string[] = [];
afterAll(async () => {});

function open(schema: string, org?: string): PgStore {
  return new PgStore({ connectionString: server.url, schema, ...(org ? { org } : {}) });
}

runRetentionConformance("pg-store", {
  // Each case gets its own schema; stores of several orgs share one.
  async open() {
    const schema = freshSchema("ret");
    schemas.push(schema);
    return open(schema);
  },
  async openOrgs(orgs) {
    const schema = freshSchema("ret");
    schemas.push(schema);
    return orgs.map((org) => open(schema, org));
  },
  // Matters with an external DATABASE_URL, which outlives the run.
  async cleanup() {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    for (const s of schemas.splice(0)) await client.query(`drop schema if exists "${s}" cascade`);
    await client.end();
  },
});
