import type { FromUrlOptions } from "@sessionvault/core";
import { S3Store } from "./s3-store.js";

/**
 * `s3://bucket/prefix?endpoint=…&region=…&force_path_style=true` (see README
 * "Store URL"). Settings missing from the URL come from `env` the AWS way
 * (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_REGION, AWS_DEFAULT_REGION);
 * keys in `env` are passed on explicitly, otherwise the SDK's default chain
 * (profile, instance role) applies. The package itself never reads the environment.
 */
export function fromUrl(url: URL, options: FromUrlOptions = {}): S3Store {
  const q = url.searchParams;
  const env = options.env ?? {};
  const endpoint = q.get("endpoint") ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? undefined;
  const pathStyle = q.get("force_path_style");
  return new S3Store({
    bucket: decodeURIComponent(url.hostname),
    prefix: decodeURIComponent(url.pathname.replace(/^\/+/, "")),
    ...(options.org ? { org: options.org } : {}),
    ...(endpoint ? { endpoint } : {}),
    region: q.get("region") ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    // A custom endpoint (MinIO, an emulator) rarely has per-bucket DNS names.
    forcePathStyle: pathStyle === null ? endpoint !== undefined : pathStyle === "true" || pathStyle === "1",
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  });
}
