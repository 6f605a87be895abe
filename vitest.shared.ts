import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * Tests import workspace packages from their sources, so a test run never
 * depends on (or races with) another package's dist/. Child processes that
 * tests spawn (the CLI, the server) run the built dist/, which turbo builds
 * before `test`.
 */
const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const workspaceAliases = [
  { find: /^@sessionvault\/core\/conformance$/, replacement: src("./packages/core/src/conformance/suite.ts") },
  { find: /^@sessionvault\/core\/store-api$/, replacement: src("./packages/core/src/store-api.ts") },
  { find: /^@sessionvault\/core\/errors$/, replacement: src("./packages/core/src/errors.ts") },
  { find: /^@sessionvault\/core$/, replacement: src("./packages/core/src/index.ts") },
  { find: /^@sessionvault\/fs-store$/, replacement: src("./packages/fs-store/src/index.ts") },
  { find: /^@sessionvault\/s3-store$/, replacement: src("./packages/s3-store/src/index.ts") },
  { find: /^@sessionvault\/pg-store$/, replacement: src("./packages/pg-store/src/index.ts") },
  { find: /^@sessionvault\/http-store$/, replacement: src("./packages/http-store/src/index.ts") },
  { find: /^@sessionvault\/store-registry$/, replacement: src("./packages/store-registry/src/index.ts") },
  { find: /^@sessionvault\/server$/, replacement: src("./apps/server/src/index.ts") },
];

/**
 * Servers a package's tests share: each named one is started once per package
 * run by its globalSetup (packages/testing/src/*-global-setup.ts) and reached
 * from a test file through @sessionvault/testing/shared-services.
 */
const serviceSetups = {
  postgres: src("./packages/testing/src/postgres-global-setup.ts"),
  s3: src("./packages/testing/src/s3-global-setup.ts"),
};

export function packageConfig(overrides: { testTimeout?: number; include?: string[]; services?: (keyof typeof serviceSetups)[] } = {}) {
  return defineConfig({
    resolve: { alias: workspaceAliases },
    test: {
      include: overrides.include ?? ["test/**/*.test.ts"],
      globalSetup: (overrides.services ?? []).map((s) => serviceSetups[s]),
      testTimeout: overrides.testTimeout ?? 30_000,
      hookTimeout: 120_000,
      pool: "forks",
      // The JSON report feeds the closing "N passed, N failed" line of `pnpm test`.
      reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    },
  });
}
