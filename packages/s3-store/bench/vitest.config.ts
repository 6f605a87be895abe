import { defineConfig } from "vitest/config";
import { workspaceAliases } from "../../../vitest.shared.ts";

// The bench runs through vitest only to load the TypeScript test S3 server; it is not part of `pnpm test`.
export default defineConfig({
  resolve: { alias: workspaceAliases },
  test: { include: ["bench/**/*.bench-run.ts"], testTimeout: 1_800_000, hookTimeout: 600_000, pool: "forks", reporters: ["dot"] },
});
