import type { TestProject } from "vitest/node";
import { startPostgres } from "./postgres.js";
import type {} from "./shared-services.js";

/** vitest globalSetup: one Postgres for the whole package run (see shared-services.ts). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const postgres = await startPostgres();
  project.provide("postgresUrl", postgres.url);
  return () => postgres.stop();
}
