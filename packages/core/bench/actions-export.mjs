// Benchmark: actions v1 export and the session-model pass over a large
// generated rollout vs a raw "split lines + JSON.parse" loop over the same
// file, in the same run.
//
//   pnpm --filter @sessionvault/core bench        (after `pnpm build`; turbo does that for `pnpm bench`)
//
// Env: SV_BENCH_ACTIONS_MB  size of the generated rollout (default 400)
//      SV_BENCH_RUNS        runs per mode, best one counts (default 2; other work on the machine makes single runs noisy)
//      SV_BENCH_DIR         cache dir for the generated file (default $TMPDIR/sessionvault-bench)
//      SV_BENCH_HEAVY_EVERY add the heavy lines (image, big output, compaction) to every Nth
//                           repetition of the fixture lines (default 4: about half the bytes)
//
// Each mode runs in its own child process so that its peak RSS
// (process.resourceUsage().maxRSS) is its own.
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(HERE, "../../../fixtures/codex/0.169.0/sessions");
const MB = 1024 * 1024;

if (process.argv[2] === "--child") {
  await child(process.argv[3], process.argv[4]);
} else {
  await main();
}

async function main() {
  const sizeMb = Number(process.env.SV_BENCH_ACTIONS_MB ?? 400);
  const runs = Math.max(1, Number(process.env.SV_BENCH_RUNS ?? 2));
  const dir = process.env.SV_BENCH_DIR ?? join(tmpdir(), "sessionvault-bench");
  mkdirSync(dir, { recursive: true });
  const heavyEvery = Math.max(1, Number(process.env.SV_BENCH_HEAVY_EVERY ?? 4));
  const file = join(dir, `actions-rollout-${sizeMb}mb-heavy${heavyEvery}-v2.jsonl`);
  if (!existsSync(file)) {
    const t0 = performance.now();
    await generate(file, sizeMb * MB, heavyEvery);
    console.log(`generated ${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const bytes = statSync(file).size;
  console.log(`actions-export bench: ${(bytes / MB).toFixed(0)} MB rollout, ${runs} run(s) per mode, node ${process.version}`);

  const modes = ["raw-parse", "reader-parse", "model-pass", "model-pass-text", "project-actions"];
  const best = {};
  for (let r = 0; r < runs; r++) {
    for (const mode of modes) {
      const res = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", mode, file], { encoding: "utf8", maxBuffer: 16 * MB });
      if (res.status !== 0) {
        console.error(res.stderr);
        throw new Error(`bench child ${mode} failed (exit ${res.status})`);
      }
      const out = JSON.parse(res.stdout.trim().split("\n").at(-1));
      if (!best[mode] || out.ms < best[mode].ms) best[mode] = out;
    }
  }
  const row = (name, m) =>
    `${name.padEnd(44)} ${(m.bytes / MB / (m.ms / 1000)).toFixed(1).padStart(8)} MB/s  ${(m.ms / 1000).toFixed(2).padStart(6)} s  peak RSS ${(m.maxRssKb / 1024).toFixed(0).padStart(5)} MB  ${m.note}`;
  const raw = best["raw-parse"];
  const reader = best["reader-parse"];
  const proj = best["project-actions"];
  console.log(row("baseline: raw split + JSON.parse", raw));
  console.log(row("readFileLines + JSON.parse", reader));
  const model = best["model-pass"];
  const modelText = best["model-pass-text"];
  console.log(row("session model (CodexReader, no text)", model));
  console.log(row("session model (CodexReader, with text)", modelText));
  console.log(row("projectActions(readFileLines) + JSON.stringify", proj));
  const ratio = raw.ms / proj.ms;
  console.log(`throughput ratio projectActions / baseline: ${ratio.toFixed(2)}x (target >= 0.9x) ${ratio >= 0.9 ? "OK" : "BELOW TARGET"}`);
  const modelRatio = raw.ms / model.ms;
  console.log(
    `throughput ratio session model / baseline: ${modelRatio.toFixed(2)}x (target >= 0.9x) ${modelRatio >= 0.9 ? "OK" : "BELOW TARGET"}; with text ${(raw.ms / modelText.ms).toFixed(2)}x`,
  );
  const rssMb = proj.maxRssKb / 1024;
  console.log(`peak RSS of the export: ${rssMb.toFixed(0)} MB (target < 200 MB) ${rssMb < 200 ? "OK" : "ABOVE TARGET"}`);
}

async function child(mode, file) {
  const t0 = performance.now();
  let note = "";
  if (mode === "raw-parse") {
    let lines = 0;
    let pending = null;
    for await (const chunk of createReadStream(file, { highWaterMark: MB })) {
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        if (nl > start) {
          JSON.parse(buf.toString("utf8", start, nl));
          lines++;
        }
        start = nl + 1;
      }
      pending = start < buf.length ? buf.subarray(start) : null;
    }
    note = `${lines} lines`;
  } else {
    const core = await import("../dist/index.js");
    if (mode === "reader-parse") {
      let lines = 0;
      for await (const l of core.readFileLines(file)) {
        JSON.parse(l.text);
        lines++;
      }
      note = `${lines} lines`;
    } else if (mode === "model-pass" || mode === "model-pass-text") {
      let events = 0;
      const reader = new core.CodexReader({ text: mode === "model-pass-text" });
      for await (const e of core.readTranscript(core.readFileLines(file), reader)) {
        if (e.type !== "unknown") events++;
      }
      note = `${events} events`;
    } else {
      let actions = 0;
      let outBytes = 0;
      for await (const a of core.projectActions(core.readFileLines(file), { sessionId: "bench" })) {
        outBytes += JSON.stringify(a).length + 1;
        actions++;
      }
      note = `${actions} actions, ${(outBytes / MB).toFixed(1)} MB NDJSON`;
    }
  }
  const ms = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ mode, ms, bytes: statSync(file).size, maxRssKb: process.resourceUsage().maxRSS, note })}\n`);
}

/**
 * A rollout made of real Codex 0.169.0 lines (every fixture session, in
 * order, minus their session_meta), repeated with fresh call and turn ids
 * per repetition, plus the heavy lines real sessions carry: inline base64
 * images, big tool outputs and compaction history. Written with big
 * buffered writes.
 */
async function generate(file, targetBytes, heavyEvery) {
  const template = [];
  let meta = null;
  for (const f of walk(FIXTURES)) {
    for (const line of readFileSync(f, "utf8").split("\n")) {
      if (!line) continue;
      if (line.includes('"type":"session_meta"')) {
        meta ??= line;
        continue;
      }
      template.push(line);
    }
  }
  const b64 = (n) =>
    Buffer.alloc(Math.ceil((n * 3) / 4), 0)
      .map((_, i) => (i * 2654435761) >>> 24)
      .toString("base64")
      .slice(0, n);
  const ts = '"timestamp":"2026-11-21T10:00:00.000Z"';
  const heavy = [
    `{${ts},"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,${b64(1536 * 1024)}"}]}}`,
    `{${ts},"type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":"{\\"cmd\\":\\"base64 build/bundle.js\\"}","call_id":"call_BIG"}}`,
    `{${ts},"type":"response_item","payload":{"type":"function_call_output","call_id":"call_BIG","output":"Chunk ID: 1\\nWall time: 0.2000 seconds\\nProcess exited with code 0\\nOriginal token count: 1\\nOutput:\\n${b64(512 * 1024)}"}}`,
    `{${ts},"type":"compacted","payload":{"message":"summary","replacement_history":[{"type":"message","role":"user","content":[{"type":"input_text","text":"${b64(768 * 1024)}"}]}]}}`,
  ];
  const tmp = `${file}.tmp-${process.pid}`;
  const out = createWriteStream(tmp, { highWaterMark: 8 * MB });
  const write = (s) => (out.write(s) ? undefined : new Promise((r) => out.once("drain", r)));
  let written = 0;
  let chunk = `${meta}\n`;
  for (let rep = 0; written + chunk.length < targetBytes; rep++) {
    const lines = rep % heavyEvery === 0 ? [...template, ...heavy] : template;
    const block = `${lines.join("\n")}\n`.replace(/call_mock|call_BIG|"turn_id":"01a1fd77-/g, (m) =>
      m.startsWith('"turn_id"') ? `"turn_id":"r${rep}-` : `${m}_r${rep}_`,
    );
    chunk += block;
    if (chunk.length >= 8 * MB) {
      written += Buffer.byteLength(chunk);
      await write(chunk);
      chunk = "";
    }
  }
  if (chunk) await write(chunk);
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
  renameSync(tmp, file);
}

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.name.endsWith(".jsonl")) out.push(p);
  }
  return out;
}
