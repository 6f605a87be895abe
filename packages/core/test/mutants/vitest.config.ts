import { defineConfig } from "vitest/config";
import { workspaceAliases } from "../../../../vitest.shared.ts";

// Its own config (not packageConfig) so this run never overwrites the
// package's test report: the JSON goes where the calling test asks.
export default defineConfig({
  resolve: { alias: workspaceAliases },
  test: {
    include: ["test/mutants/*.mutant.ts"],
    pool: "forks",
    reporters: ["json"],
    outputFile: process.env.SV_MUTANT_REPORT ?? "test-results/mutants.json",
  },
});
