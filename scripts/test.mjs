// `pnpm test`: runs every package's tests through turbo, then prints one
// closing line with the totals from each package's vitest JSON report.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const packages = ["packages", "apps"].flatMap((dir) =>
  readdirSync(join(root, dir)).map((name) => join(root, dir, name)),
);
for (const pkg of packages) rmSync(join(pkg, "test-results"), { recursive: true, force: true });

const turbo = spawnSync("pnpm", ["exec", "turbo", "run", "test", "--concurrency=1", "--continue", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
});

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const pkg of packages) {
  const report = join(pkg, "test-results", "vitest.json");
  if (!existsSync(report)) {
    missing.push(pkg.slice(root.length));
    continue;
  }
  const r = JSON.parse(readFileSync(report, "utf8"));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (r.numFailedTestSuites ?? 0) * (r.numTotalTests === 0 ? 1 : 0);
  skipped += r.numPendingTests + r.numTodoTests;
}
if (missing.length) console.log(`no test report from: ${missing.join(", ")}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(turbo.status ?? 1);
