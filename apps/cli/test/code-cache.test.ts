import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import Module from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
import { afterAll, expect, it } from "vitest";
import { assertCliBuilt } from "./support/process-tree.js";

const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "sv-code-cache-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it("the build leaves a code cache of the bundle that this Node accepts", () => {
  assertCliBuilt(["bin.ts"]);
  const file = join(DIST, "cli.js");
  const script = new Script(Module.wrap(readFileSync(file, "utf8")), { filename: file, cachedData: readFileSync(`${file}.cache`) });
  expect(script.cachedDataRejected).toBe(false);
});

it("a cache V8 refuses (another Node, a damaged file) is ignored: the command runs as without one", () => {
  for (const name of ["bin.js", "cli.js", "package.json"]) copyFileSync(join(DIST, name), join(scratch, name));
  const help = () => execFileSync(process.execPath, [join(scratch, "bin.js"), "--help"], { encoding: "utf8" });
  const plain = help();
  expect(plain).toMatch(/^Usage: sessionvault/m);
  writeFileSync(join(scratch, "cli.js.cache"), Buffer.alloc(4096, 7));
  expect(help()).toBe(plain);
});

it("the bundle makes no import(): run as a script from the cache, it would have no loader for one", () => {
  const bundle = readFileSync(join(DIST, "cli.js"), "utf8");
  expect(bundle.match(/(?<![\w$.])import\(\s*["'`][^"'`]*["'`]\s*\)/g) ?? []).toEqual([]);
  // The packages it loads when first needed are required then (the lock addon, SQLite, the MCP SDK).
  expect(bundle).toContain('require("better-sqlite3")');
});

it("a command that starts no process loads no child_process: commander's is loaded when it first spawns one", () => {
  const probe = join(scratch, "probe.cjs");
  writeFileSync(
    probe,
    'process.on("exit", () => process.stderr.write("\\nchild_process loaded: " + process.moduleLoadList.includes("NativeModule child_process") + "\\n"));\n',
  );
  const loaded = (...args: string[]) => {
    const r = spawnSync(process.execPath, ["-r", probe, join(DIST, "bin.js"), ...args], {
      encoding: "utf8",
      env: { ...process.env, XDG_CACHE_HOME: join(scratch, "cache") },
    });
    return /child_process loaded: (true|false)/.exec(r.stderr)?.[1];
  };
  mkdirSync(join(scratch, "home", "sessions"), { recursive: true });
  expect(loaded("--help")).toBe("false");
  expect(loaded("list", "--store", join(scratch, "home"), "--json")).toBe("false");
  // The probe sees it when a command does spawn (run starts its agent).
  expect(loaded("run", "--", "/bin/true")).toBe("true");
});
