// Loaded with `node --import`: every module the process resolves is appended to $SV_IMPORT_LOG
// (one URL per line), so a test can tell which packages a command loaded.
import { register } from "node:module";

register("./record-imports-hooks.mjs", import.meta.url, { data: { log: process.env.SV_IMPORT_LOG } });
