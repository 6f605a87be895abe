import { S3Store, type S3StoreOptions } from "../../src/index.js";
import { uniquePrefix, type TestS3Server } from "@sessionvault/testing/s3-server";

/** A store on its own fresh prefix of the test server's bucket. */
export function openTestStore(server: Pick<TestS3Server, "endpoint" | "bucket" | "region" | "credentials">, options: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    bucket: server.bucket,
    prefix: uniquePrefix(),
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    forcePathStyle: true,
    ...options,
  });
}
