import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * This package's folder, found by its own name rather than by this file's
 * place: the `sessionvault` CLI bundles the server into its own dist/, where
 * `import.meta.url` points at the CLI. The web UI's files (public/) and the
 * server's own dependencies (Chart.js) are found from here.
 */
export const SERVER_PACKAGE_DIR = dirname(createRequire(import.meta.url).resolve("@sessionvault/server/package.json"));

/** Resolves a dependency of this package (not of whatever bundled it). */
export const serverRequire = createRequire(join(SERVER_PACKAGE_DIR, "package.json"));
