import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

/**
 * The S3 server tests run against.
 *
 * With `S3_ENDPOINT` set (plus `S3_BUCKET`, `S3_REGION`, `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` as needed) tests use that real S3 / MinIO and each
 * test isolates itself with a fresh key prefix.
 *
 * Otherwise this starts s3rver 3.7.1 on a random port, behind a small front
 * server that closes the gaps between s3rver and S3 that sessionvault
 * depends on (DESIGN.md §9). Both run in a child process
 * (`s3-emulator.mjs`), so the emulator does not share the test's core:
 *
 *  1. ListObjectsV2 continuation tokens: s3rver encrypts them with DES, which
 *     OpenSSL 3 (Node ≥ 17) no longer has, so any truncated V2 listing fails
 *     with a 500. The front server answers V2 listings by asking s3rver for
 *     the equivalent V1 listing (`marker`) and rewriting the reply into V2
 *     form with an opaque token of its own (the base64url of the last key).
 *  2. `aws-chunked` uploads: s3rver stores the SDK's chunk framing and
 *     trailing checksum inside the object. The front server decodes the
 *     framing and forwards the plain bytes.
 *  3. `If-None-Match: *` on PutObject / CompleteMultipartUpload: ignored by
 *     s3rver. The front server checks the key and answers 412
 *     PreconditionFailed when it exists.
 *  4. `If-Match: <etag>` on the same calls: likewise answered 412 on an etag
 *     mismatch, 404 NoSuchKey when the key is missing.
 *  5. Delimiter listings: s3rver only finds a common prefix when some key sits
 *     directly beneath it (it never descends into deeper "directories"), so
 *     `sessions/<id>/streams/` with delimiter "/" came back empty. The front
 *     server computes delimiter listings itself from a plain listing of the
 *     prefix (fine for the small prefixes sessionvault lists that way).
 *  6. Read-after-write: s3rver answers a PUT before its write stream has
 *     flushed the object, so a GET right after the answer can see a short
 *     or old object (S3 is strongly consistent). The front server holds the
 *     answer until the object on disk holds the bytes sent.
 *  7. Object Lock legal holds (`?legal-hold`): not in s3rver. The front
 *     server records them per key so tests can check which objects a store
 *     put on hold (it does not emulate versioned deletes).
 *  8. Atomic overwrites: s3rver truncates an object and writes it in place,
 *     so a GET during an overwrite (a manifest switch, say) can read an
 *     empty object. Reads of a key wait for its writes and writes for its
 *     reads.
 *  Every write to a key is serialised per key in the front server, so two
 *  concurrent conditional creates race exactly as on S3: one wins, one gets
 *  412.
 *
 * The front server counts and logs requests, which the bench reports and
 * tests inspect.
 */
/** What a test needs to reach the server; plain data, so a vitest globalSetup can hand it to the test files (`shared-services.ts`). */
export interface S3ServerAddress {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Whether it is the emulator (whose front server logs requests) rather than S3_ENDPOINT. */
  emulated: boolean;
}

export interface TestS3Server extends S3ServerAddress {
  /** Requests seen by the front server (0 when S3_ENDPOINT is used). */
  requestCount(): Promise<number>;
  /**
   * `METHOD /path?query` of the requests seen since the last clear, oldest
   * first (empty when S3_ENDPOINT is used); with `contains`, only those whose
   * line contains it (a test's key prefix: other test files share the server).
   */
  requestLog(contains?: string): Promise<string[]>;
  clearRequestLog(): Promise<void>;
  /** With the emulator: s3rver's data directory for the bucket (the bench writes index objects there directly). */
  dataDir: string | null;
  stop(): Promise<void>;
}

const EMULATOR = join(import.meta.dirname, "s3-emulator.mjs");

export async function startS3Server(env: Record<string, string | undefined> = process.env): Promise<TestS3Server> {
  if (env.S3_ENDPOINT) return useExternal(env);
  const dir = await mkdtemp(join(tmpdir(), "sv-s3rver-"));
  const bucket = "sessionvault-test";
  // stdin is a pipe the emulator watches: if this process dies, the emulator exits too.
  const child = spawn(process.execPath, [EMULATOR, "--dir", dir, "--bucket", bucket], { stdio: ["pipe", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once("exit", (code) => reject(new Error(`S3 emulator exited with ${code}`)));
    child.once("error", reject);
  });
  const address: S3ServerAddress = {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: "us-east-1",
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    emulated: true,
  };
  return {
    ...attachS3Server(address),
    dataDir: join(dir, bucket),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A handle on a server someone else started and stops (the package run's shared one): its stop() does nothing. */
export function attachS3Server(address: S3ServerAddress): TestS3Server {
  const base = { ...address, dataDir: null, stop: async () => {} };
  if (!address.emulated) {
    return { ...base, requestCount: async () => 0, requestLog: async () => [], clearRequestLog: async () => {} };
  }
  const stats = async (contains?: string): Promise<{ requests: number; log: string[] }> => {
    const query = contains === undefined ? "" : `?contains=${encodeURIComponent(contains)}`;
    const res = await fetch(`${address.endpoint}/__emulator/stats${query}`);
    return (await res.json()) as { requests: number; log: string[] };
  };
  return {
    ...base,
    requestCount: async () => (await stats()).requests,
    requestLog: async (contains) => (await stats(contains)).log,
    clearRequestLog: async () => {
      await fetch(`${address.endpoint}/__emulator/log`, { method: "DELETE" });
    },
  };
}

async function useExternal(env: Record<string, string | undefined>): Promise<TestS3Server> {
  const endpoint = env.S3_ENDPOINT!;
  const bucket = env.S3_BUCKET || "sessionvault-test";
  const region = env.S3_REGION || env.AWS_REGION || "us-east-1";
  const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID || "minioadmin", secretAccessKey: env.AWS_SECRET_ACCESS_KEY || "minioadmin" };
  const client = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as Error).name;
    if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw err;
  } finally {
    client.destroy();
  }
  return attachS3Server({ endpoint, bucket, region, credentials, emulated: false });
}

/** A fresh key prefix per test store, so tests never see each other's objects. */
export function uniquePrefix(label = "t"): string {
  return `${label}-${randomBytes(6).toString("hex")}`;
}
