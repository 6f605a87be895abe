import type { PutBucketLifecycleConfigurationCommandInput } from "@aws-sdk/client-s3";
import { DAY_MS, validateRetentionPolicy, type RetentionPolicy } from "@sessionvault/core";
import { StoreKeys } from "./keys.js";

export const STREAM_TAG = "sessionvault-stream";

/**
 * The retention policy as an S3 bucket lifecycle configuration, for orgs
 * that want S3 itself to enforce the ceiling even when no `prune` runs.
 *
 * What S3 cannot know, and so what this gives up compared with `prune`:
 * lifecycle ages count from each object's creation, not from the session's
 * last activity (so a long session's early appends go first: set the TTL
 * with that margin); it has no soft delete (the grace period is simply added
 * to the TTL); it writes no sessionvault audit record (use S3 server access
 * logs or CloudTrail); and it ignores sessionvault's legal-hold markers —
 * pair it with S3 Object Lock legal holds (`objectLockLegalHolds: true`),
 * which lifecycle expiry does honour. Per-stream rules match the
 * `sessionvault-stream` object tag, which the store writes on append objects
 * when created with `tagStreams: true`.
 */
export function bucketLifecycleConfiguration(
  policy: RetentionPolicy,
  target: { bucket: string; prefix?: string; org?: string },
): PutBucketLifecycleConfigurationCommandInput {
  validateRetentionPolicy(policy);
  const keys = new StoreKeys(target.prefix, target.org);
  const days = (ms: number) => Math.max(1, Math.ceil((ms + policy.graceMs) / DAY_MS));
  const sessionDays = days(policy.defaultTtlMs);
  const rules: NonNullable<PutBucketLifecycleConfigurationCommandInput["LifecycleConfiguration"]>["Rules"] = [
    {
      ID: `sessionvault-${policy.name}-sessions`,
      Status: "Enabled",
      Filter: { Prefix: keys.sessionsPrefix() },
      Expiration: { Days: sessionDays },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    },
    {
      ID: `sessionvault-${policy.name}-index`,
      Status: "Enabled",
      Filter: { Prefix: keys.indexPrefix() },
      Expiration: { Days: sessionDays },
    },
  ];
  for (const [stream, ttl] of Object.entries(policy.streamTtlsMs ?? {})) {
    rules.push({
      ID: `sessionvault-${policy.name}-stream-${stream}`,
      Status: "Enabled",
      Filter: { And: { Prefix: keys.sessionsPrefix(), Tags: [{ Key: STREAM_TAG, Value: stream }] } },
      Expiration: { Days: days(ttl) },
    });
  }
  return { Bucket: target.bucket, LifecycleConfiguration: { Rules: rules } };
}
