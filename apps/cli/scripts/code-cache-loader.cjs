#!/usr/bin/env node
// dist/bin.js: runs the bundle, dist/cli.js, from V8's code cache of it,
// dist/cli.js.cache, which the build writes after one run of the command.
// Node 20 has no compile cache of its own (module.enableCompileCache is
// Node 22): without one, every start compiles the ~1 MB bundle, and again
// each function a command calls. A cache V8 refuses (another Node, another
// build) is ignored and the bundle compiles as usual; nothing is written
// here at run time (dist/ may be read-only).
"use strict";
const { readFileSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");
const { Script } = require("node:vm");
const Module = require("node:module");

const file = join(__dirname, "cli.js");
const cacheFile = `${file}.cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {}
// The bundle has no import(): the build turns each into a require (a script run this way has no module loader for it).
const script = new Script(Module.wrap(readFileSync(file, "utf8")), { filename: file, cachedData });
// The build's one run: keep what this run compiled, for every start after it.
if (process.env.SESSIONVAULT_WRITE_CODE_CACHE === "1") process.on("exit", () => writeFileSync(cacheFile, script.createCachedData()));
const cli = new Module(file, module);
cli.filename = file;
cli.paths = Module._nodeModulePaths(__dirname);
script.runInThisContext().call(cli.exports, cli.exports, Module.createRequire(file), cli, file, __dirname);
