import { runStoreConformance, runTokenConformance } from "@sessionvault/core/conformance";
import pg from "pg";
import { afterAll } from "vitest";
import { PgStore } from "@sessionvault/pg-store";
import { freshSchema } from "@sessionvault/testing/fresh-schema";
import { sharedPostgres } from "@sessionvault/testing/shared-services";

const server = sharedPostgres();
const schemas: string[] = [];
afterAll(async () => {});

runStoreConformance("pg-store", {
  supportsSearch: true,
  // Each case gets its own schema: an empty, isolated store with freshly run migrations.
  open: async () => {
    const schema = freshSchema("conf");
    schemas.push(schema);
    return new PgStore({ connectionString: server.url, schema });
  },
  cleanup: dropSchemas,
});

runTokenConformance("pg-store", {
  openOrgs: async (orgs) => {
    const schema = freshSchema("tok");
    schemas.push(schema);
    return orgs.map((org) => new PgStore({ connectionString: server.url, schema, org }));
  },
  cleanup: dropSchemas,
});

// Matters with an external DATABASE_URL, which outlives the run.
async function dropSchemas(): Promise<void> {
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  for (const s of schemas.splice(0)) await client.query(`drop schema if exists "${s}" cascade`);
  await client.end();
}
