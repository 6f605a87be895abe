import { inject } from "vitest";
import { attachS3Server, type S3ServerAddress, type TestS3Server } from "./s3-server.js";

/**
 * The servers a package's test run shares: one Postgres and one S3 server,
 * started once by the vitest globalSetup files `postgres-global-setup.ts` and
 * `s3-global-setup.ts` (listed by `packageConfig({ services })` in
 * vitest.shared.ts), instead of one per test file. Each test file isolates
 * itself: its own schema (`freshSchema`) or its own key prefix
 * (`uniquePrefix`). DATABASE_URL and S3_ENDPOINT are honoured by the setup.
 */
declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
    s3Server: S3ServerAddress;
  }
}

/** The package run's Postgres (a test that stops or restarts a server starts its own with startPostgres). */
export function sharedPostgres(): { url: string } {
  const url = inject("postgresUrl");
  if (!url) throw new Error('no shared Postgres: add "postgres" to packageConfig({ services }) in this package\'s vitest.config.ts');
  return { url };
}

/** The package run's S3 server; stop() leaves it running for the other test files. */
export function sharedS3Server(): TestS3Server {
  const address = inject("s3Server");
  if (!address) throw new Error('no shared S3 server: add "s3" to packageConfig({ services }) in this package\'s vitest.config.ts');
  return attachS3Server(address);
}
