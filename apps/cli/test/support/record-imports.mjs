// Loaded with `node --import`: every module the process resolves is appended to $SV_IMPORT_LOG
// (one URL or path per line), so a test can tell which packages a command loaded. The CLI is one
// CommonJS file (scripts/bundle.mjs) whose dependencies are `require`d, which the ES module hook
// below does not see, so CommonJS resolution is recorded too.
import { appendFileSync } from "node:fs";
import Module, { register } from "node:module";

const log = process.env.SV_IMPORT_LOG;
register("./record-imports-hooks.mjs", import.meta.url, { data: { log } });

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const file = resolveFilename.call(this, request, ...rest);
  if (log) appendFileSync(log, `${file}\n`);
  return file;
};
