import { runStoreConformance } from "@sessionvault/core/conformance";
import { afterAll, beforeAll } from "vitest";
import { PgStore } from "@sessionvault/pg-store";
import { freshSchema } from "./support/fresh-schema.js";
import { startPostgres, type TestPostgres } from "./support/postgres.js";

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

runStoreConformance("pg-store", {
  supportsSearch: true,
  // Each case gets its own schema: an empty, isolated store with freshly run migrations.
  open: async () => new PgStore({ connectionString: server.url, schema: freshSchema("conf") }),
});
