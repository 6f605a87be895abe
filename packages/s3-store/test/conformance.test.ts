import { runStoreConformance, runTokenConformance } from "@sessionvault/core/conformance";
import { afterAll } from "vitest";
import { uniquePrefix } from "@sessionvault/testing/s3-server";
import { sharedS3Server } from "@sessionvault/testing/shared-services";
import { openTestStore } from "./support/open-store.js";

// Against the in-process s3rver (gaps closed by the front server), or a real S3 / MinIO when S3_ENDPOINT is set.
const server = sharedS3Server();
afterAll(async () => {});

runStoreConformance("s3-store", {
  async open() {
    return openTestStore(server);
  },
});

// The same cases with compaction after every second append, so readers and writers go through manifests and tombstones.
runStoreConformance("s3-store (compacting)", {
  async open() {
    return openTestStore(server, { compactAfterAppends: 2 });
  },
});

// Org stores share one prefix of the bucket, as the archive server opens them.
runTokenConformance("s3-store", {
  openOrgs: async (orgs) => ((prefix) => orgs.map((org) => openTestStore(server, { prefix, org })))(uniquePrefix()),
});
