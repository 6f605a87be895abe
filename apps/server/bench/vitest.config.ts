import { defineConfig } from "vitest/config";
import { workspaceAliases } from "../../../vitest.shared.ts";

// The bench is a TypeScript script run once by vitest (it reuses the test
// Postgres and the Codex-home generator); it prints figures, it asserts nothing.
export default defineConfig({
  resolve: { alias: workspaceAliases },
  test: {
    include: ["bench/**/*.bench.ts"],
    testTimeout: 6 * 60 * 60 * 1000,
    hookTimeout: 10 * 60 * 1000,
    pool: "forks",
    reporters: ["default"],
    silent: false,
  },
});
