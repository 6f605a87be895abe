// Reader throughput: sessionvault's streaming JSONL reader against Node's own
// line reader (node:readline) over the same file, measured in the same run.
// Scale with SV_BENCH_READER_LINES (default 200,000 lines, ~60 MB).
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { compress, init as initZstd } from "@bokuweb/zstd-wasm";
import { openFileBytes, readFileLines, readJsonLines } from "../dist/index.js";

const LINES = Number(process.env.SV_BENCH_READER_LINES ?? 200_000);
const ROUNDS = Number(process.env.SV_BENCH_ROUNDS ?? 3);

const dir = await mkdtemp(join(tmpdir(), "sv-bench-reader-"));
const path = join(dir, "rollout.jsonl");
try {
  const out = createWriteStream(path);
  for (let i = 0; i < LINES; i++) {
    // Mostly Codex-sized lines, with an occasional 1 MB one (inline images, long outputs).
    const big = i % 20_000 === 19_999;
    const text = big ? "A".repeat(1024 * 1024) : `step ${i}: ${"lorem ipsum dolor sit amet ".repeat(8)}`;
    const line = JSON.stringify({
      timestamp: "2026-03-01T10:00:00.000Z",
      type: "response_item",
      payload: { type: "message", role: "assistant", content: [{ type: "output_text", text }] },
    });
    if (!out.write(`${line}\n`)) await new Promise((r) => out.once("drain", r));
  }
  await new Promise((r) => out.end(r));
  const bytes = (await stat(path)).size;

  await initZstd();
  const zpath = `${path}.zst`;
  await writeFile(zpath, compress(await readFile(path), 3));

  const time = async (fn) => {
    let best = Infinity;
    let count = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      count = await fn();
      best = Math.min(best, performance.now() - t);
    }
    return { ms: best, count };
  };
  const readlineCount = async () => {
    let n = 0;
    for await (const _ of createInterface({ input: createReadStream(path, { highWaterMark: 1024 * 1024 }), crlfDelay: Infinity })) n++;
    return n;
  };
  const readlineParse = async () => {
    let n = 0;
    for await (const l of createInterface({ input: createReadStream(path, { highWaterMark: 1024 * 1024 }), crlfDelay: Infinity })) {
      if (l.trim() === "") continue;
      JSON.parse(l);
      n++;
    }
    return n;
  };
  const oursCount = async () => {
    let n = 0;
    for await (const _ of readFileLines(path)) n++;
    return n;
  };
  const oursParse = async () => {
    let n = 0;
    for await (const _ of readJsonLines(openFileBytes(path))) n++;
    return n;
  };
  const oursZst = async () => {
    let n = 0;
    for await (const _ of readFileLines(zpath)) n++;
    return n;
  };

  const base = await time(readlineCount);
  const ours = await time(oursCount);
  const baseParse = await time(readlineParse);
  const parse = await time(oursParse);
  const zst = await time(oursZst);
  for (const r of [base, ours, baseParse, parse, zst]) if (r.count !== LINES) throw new Error(`line count mismatch: ${r.count} != ${LINES}`);

  const mb = bytes / 1024 / 1024;
  const row = (name, r) =>
    `  ${name.padEnd(38)} ${((LINES / r.ms) * 1000).toFixed(0).padStart(10)} lines/s ${((mb / r.ms) * 1000).toFixed(0).padStart(6)} MB/s`;
  console.log(`core: JSONL reader over ${LINES} lines (${mb.toFixed(1)} MB), best of ${ROUNDS}`);
  console.log(row("baseline node:readline", base));
  console.log(row("readFileLines", ours));
  console.log(`  ratio readFileLines / readline: ${(base.ms / ours.ms).toFixed(2)}x`);
  console.log(row("baseline readline + JSON.parse", baseParse));
  console.log(row("readJsonLines", parse));
  console.log(`  ratio readJsonLines / readline+parse: ${(baseParse.ms / parse.ms).toFixed(2)}x`);
  console.log(row("readFileLines over .jsonl.zst", zst));
  console.log(`  ratio .zst / plain readFileLines: ${(ours.ms / zst.ms).toFixed(2)}x`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
