// `pnpm test`: runs every package's tests through turbo, then prints one
// closing line with the totals from each package's vitest JSON report.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const packages = ["packages", "apps"].flatMap((dir) => readdirSync(join(root, dir)).map((name) => join(root, dir, name)));
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
// Repeated after the totals so that the tail of a long CI log names what failed and why.
const failures = [];
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
  for (const file of r.testResults ?? []) {
    const where = file.name.startsWith(root) ? file.name.slice(root.length) : file.name;
    const failedTests = (file.assertionResults ?? []).filter((a) => a.status === "failed");
    for (const a of failedTests) failures.push({ where: `${where} > ${a.fullName}`, message: a.failureMessages?.[0] ?? "" });
    if (file.status === "failed" && failedTests.length === 0) failures.push({ where, message: file.message ?? "" });
  }
}
for (const f of failures) {
  console.log(`\nFAILED ${f.where}`);
  const lines = f.message.split("\n").filter((l) => !l.includes("/node_modules/") && !l.includes("(<anonymous>)"));
  console.log(lines.slice(0, 20).join("\n"));
}
if (missing.length) console.log(`no test report from: ${missing.join(", ")}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(turbo.status ?? 1);
