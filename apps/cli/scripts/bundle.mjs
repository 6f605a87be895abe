#!/usr/bin/env node
// Builds the `sessionvault` binary as one CommonJS file, dist/cli.js (run by
// dist/bin.js from V8's code cache, scripts/code-cache-loader.cjs), because
// start-up is a figure of its own (docs/architecture.md, "Start-up"). Node 20
// has no compile cache, and its ES module loader costs about a millisecond
// per module: the ~100 modules `list` loaded as separate files were half its
// wall time, and an ES module bundle with per-command chunks still spent a
// quarter in the loader. In one CommonJS file each module's body still runs
// only when a command first needs it (esbuild wraps what is imported
// lazily), so `list` evaluates no server and no backend.
//
// What is inlined: this app and every @sessionvault/* workspace package (one
// copy of core, so `instanceof` on its error classes holds across stores and
// the server), and commander (every command parses arguments). Everything
// else stays a `require` of node_modules and so must be a dependency of this
// package, at the version of the workspace package that imports it; the check
// at the end fails the build when one is missing or pinned differently.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const app = join(dirname(fileURLToPath(import.meta.url)), "..");
const repo = join(app, "..", "..");
const INLINED = /^(@sessionvault\/|commander$)/;
const packageName = (spec) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);

rmSync(join(app, "dist"), { recursive: true, force: true });
const result = await build({
  absWorkingDir: app,
  entryPoints: ["src/bin.ts"],
  outfile: "dist/cli.js",
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  // Packages loaded when first needed (the lock addon, SQLite, the MCP SDK) are required then, not
  // import()-ed: the loader runs the bundle as a script, which has no module loader for import().
  supported: { "dynamic-import": false },
  sourcemap: "linked",
  metafile: true,
  logLevel: "warning",
  // The server finds its own package folder from `import.meta.url` (apps/server/src/package-dir.ts).
  define: { "import.meta.url": "__svImportMetaUrl" },
  banner: { js: 'const __svImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [
    {
      // commander requires child_process when it loads, for executable subcommands (it spawns
      // `sessionvault-<name>` files), which sessionvault has none of; loading it, and net and
      // stream with it, was ~2 ms of every command. commander gets it when it first uses it.
      name: "lazy-child-process-for-commander",
      setup(b) {
        b.onResolve({ filter: /^node:child_process$/ }, (args) =>
          /[\\/]commander[\\/]/.test(args.importer) ? { path: "child_process", namespace: "lazy-child-process" } : null,
        );
        b.onLoad({ filter: /.*/, namespace: "lazy-child-process" }, () => ({
          contents: 'let cp; module.exports = new Proxy({}, { get: (_, key) => (cp ??= require("node:child_process"))[key] });',
          loader: "js",
        }));
      },
    },
    {
      name: "external-dependencies",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith("node:") || INLINED.test(packageName(args.path))) return null;
          return { external: true };
        });
      },
    },
  ],
});

// The package is an ES module package; its dist/ holds the one CommonJS file.
mkdirSync(join(app, "dist"), { recursive: true });
writeFileSync(join(app, "dist", "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);

// The command is a small loader that runs the bundle from V8's code cache
// (scripts/code-cache-loader.cjs); one run of `list` writes the cache.
copyFileSync(join(app, "scripts", "code-cache-loader.cjs"), join(app, "dist", "bin.js"));
chmodSync(join(app, "dist", "bin.js"), 0o755);
const scratch = mkdtempSync(join(tmpdir(), "sv-code-cache-"));
try {
  mkdirSync(join(scratch, "home", "sessions"), { recursive: true });
  const run = spawnSync(process.execPath, [join(app, "dist", "bin.js"), "list", "--store", join(scratch, "home"), "--json"], {
    env: { ...process.env, SESSIONVAULT_WRITE_CODE_CACHE: "1", XDG_CACHE_HOME: join(scratch, "cache"), HOME: scratch },
    encoding: "utf8",
  });
  if (run.status !== 0) {
    console.error(`bundle: the run that writes the code cache failed (exit ${run.status}):\n${run.stderr}`);
    process.exit(1);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// Every external import of the bundle must resolve from this package, at the version its owner pins.
const own = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
const pins = new Map();
for (const dir of ["packages", "apps"])
  for (const name of readdirSync(join(repo, dir))) {
    let pkg;
    try {
      pkg = JSON.parse(readFileSync(join(repo, dir, name, "package.json"), "utf8"));
    } catch {
      continue;
    }
    if (pkg.name === own.name || pkg.private) continue;
    for (const [dep, version] of Object.entries(pkg.dependencies ?? {})) if (!version.startsWith("workspace:")) pins.set(dep, { version, owner: pkg.name });
  }
const problems = [];
const externals = new Set();
for (const output of Object.values(result.metafile.outputs))
  for (const imp of output.imports) if (imp.external && !imp.path.startsWith("node:")) externals.add(packageName(imp.path));
for (const dep of [...externals].sort()) {
  const mine = own.dependencies?.[dep];
  const theirs = pins.get(dep);
  if (mine === undefined)
    problems.push(`${dep} is imported by the bundle but is not a dependency of ${own.name}${theirs ? ` (${theirs.owner} pins ${theirs.version})` : ""}`);
  else if (theirs && theirs.version !== mine) problems.push(`${dep}: ${own.name} pins ${mine}, ${theirs.owner} pins ${theirs.version}`);
}
if (problems.length > 0) {
  console.error(`bundle: the dependencies of ${own.name} do not match what the bundle imports:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
