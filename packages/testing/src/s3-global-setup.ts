import type { TestProject } from "vitest/node";
import { startS3Server } from "./s3-server.js";
import type {} from "./shared-services.js";

/** vitest globalSetup: one S3 server for the whole package run (see shared-services.ts). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startS3Server();
  const { endpoint, bucket, region, credentials, emulated } = server;
  project.provide("s3Server", { endpoint, bucket, region, credentials, emulated });
  return () => server.stop();
}
