import { fileURLToPath } from "node:url";
import { StoreRegistry } from "@sessionvault/core";
import { FsStore } from "@sessionvault/fs-store";
import { PgStore } from "@sessionvault/pg-store";
import { S3Store } from "@sessionvault/s3-store";

/**
 * The store URLs the server can serve (DESIGN.md §5): a directory, Postgres
 * or S3. The CLI's `serve` passes its own registry; this one is for the
 * server's own binary. (An http(s) URL would make the server a proxy of
 * another server; that is not offered.) `env` is the process environment,
 * for S3 endpoints and keys given the AWS way.
 */
export function serverStoreRegistry(env: Record<string, string | undefined> = {}): StoreRegistry {
  return new StoreRegistry()
    .register(["file"], (url, options) => new FsStore({ root: fileURLToPath(url), ...(options.org ? { org: options.org } : {}) }))
    .register(["postgres", "postgresql"], (url, options) => {
      // `?schema=` is ours, not libpq's.
      const conn = new URL(url.href);
      const schema = conn.searchParams.get("schema");
      conn.searchParams.delete("schema");
      return new PgStore({ connectionString: conn.href, ...(schema ? { schema } : {}), ...(options.org ? { org: options.org } : {}) });
    })
    .register(["s3"], (url, options) => {
      const q = url.searchParams;
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
      });
    });
}
