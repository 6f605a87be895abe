// Session-state write cost: SessionStateFile.set (lock file, re-read under the
// lock, temp file + fsync + rename + directory fsync) against two baselines
// measured in the same run over the same updates:
//   plain  - writeFile of the whole JSON (neither atomic nor durable)
//   atomic - temp file + fsync + rename + directory fsync, no lock, no re-read
// The variants run interleaved for SV_BENCH_ROUNDS rounds (default 3) and the
// best round of each counts, since other work on the machine adds noise.
// Scale with SV_BENCH_STATE_UPDATES (default 200 per round) and SV_BENCH_STATE_SLOTS (default 50).
import { mkdtemp, open, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SessionStateFile } from "../dist/index.js";

const UPDATES = Number(process.env.SV_BENCH_STATE_UPDATES ?? 200);
const ROUNDS = Number(process.env.SV_BENCH_ROUNDS ?? 3);
const SLOTS = Number(process.env.SV_BENCH_STATE_SLOTS ?? 50);
const id = (n) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
const record = (i) => ({ session_id: id(i), agent: "codex", cwd: "/work/project", updated_at: new Date().toISOString(), counter: i });

const dir = await mkdtemp(join(tmpdir(), "sv-bench-state-"));
try {
  const time = async (fn) => {
    const t = performance.now();
    for (let i = 0; i < UPDATES; i++) await fn(i);
    return performance.now() - t;
  };

  const plainPath = join(dir, "plain.json");
  const plainSlots = {};
  const plainUpdate = async (i) => {
    plainSlots[`slot-${i % SLOTS}`] = record(i);
    await writeFile(plainPath, JSON.stringify({ version: 1, slots: plainSlots }, null, 2) + "\n");
  };
  const atomicPath = join(dir, "atomic.json");
  const atomicSlots = {};
  const atomicUpdate = async (i) => {
    atomicSlots[`slot-${i % SLOTS}`] = record(i);
    const tmp = `${atomicPath}.tmp`;
    const fh = await open(tmp, "w");
    await fh.writeFile(JSON.stringify({ version: 1, slots: atomicSlots }, null, 2) + "\n");
    await fh.sync();
    await fh.close();
    await rename(tmp, atomicPath);
    const d = await open(dir, "r");
    await d.sync();
    await d.close();
  };
  const state = new SessionStateFile(join(dir, "state.json"));
  const oursUpdate = async (i) => {
    const { updated_at, ...input } = record(i);
    await state.set(`slot-${i % SLOTS}`, input);
  };
  const oursRead = (i) => state.get(`slot-${i % SLOTS}`);

  let plain = Infinity;
  let atomic = Infinity;
  let ours = Infinity;
  let reads = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    plain = Math.min(plain, await time(plainUpdate));
    atomic = Math.min(atomic, await time(atomicUpdate));
    ours = Math.min(ours, await time(oursUpdate));
    reads = Math.min(reads, await time(oursRead));
  }
  if ((await state.list()).length !== Math.min(SLOTS, UPDATES)) throw new Error("slot count mismatch");

  const per = (ms) => `${((ms / UPDATES) * 1000).toFixed(0)} µs/update`;
  console.log(`session-state: ${UPDATES} updates over ${SLOTS} slots, best of ${ROUNDS} rounds`);
  console.log(`  plain writeFile (baseline)        ${per(plain)}`);
  console.log(`  atomic + fsync, no lock           ${per(atomic)}  (${(atomic / plain).toFixed(2)}x plain)`);
  console.log(`  SessionStateFile.set              ${per(ours)}  (${(ours / plain).toFixed(2)}x plain, ${(ours / atomic).toFixed(2)}x atomic)`);
  console.log(`  SessionStateFile.get (lock-free)  ${((reads / UPDATES) * 1000).toFixed(0)} µs/read`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
