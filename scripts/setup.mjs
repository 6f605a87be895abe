// `pnpm run setup`: installs the workspace (lockfile frozen) and builds it.
//
// fs-store's lock needs one native addon (os-lock, a few lines of C over
// fcntl) that node-gyp compiles at install time. node-gyp fetches Node's
// headers from the internet unless it is told where they are; pnpm does not
// pass npm's `nodedir` setting on, so the headers that ship next to the
// running node (`<prefix>/include/node`) are named here when present.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1" };
const bundled = join(dirname(dirname(process.execPath)), "include", "node");
if (!env.npm_config_nodedir && existsSync(join(bundled, "common.gypi"))) env.npm_config_nodedir = dirname(dirname(bundled));

for (const args of [
  ["install", "--frozen-lockfile"],
  ["exec", "turbo", "run", "build"],
]) {
  const r = spawnSync("pnpm", args, { stdio: "inherit", env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
