// Child process for the session-state crash and concurrency tests. It runs
// the built @sessionvault/core (dist/), because a child process cannot load
// TypeScript sources; the tests check that dist/ is not older than src/.
//
//   crash STATE_FILE          endless writes to slots s0..s2; prints
//                             "attempt N" before and "done N" after each write,
//                             continuing from the highest counter in the file
//   concurrent STATE_FILE PREFIX N
//                             N writes to slots PREFIX-0..PREFIX-49 (counter i
//                             goes to slot i % 50), then exits
import { writeSync } from "node:fs";
import { SessionStateFile } from "../../dist/index.js";

const idFor = (n) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

const [mode, file, ...rest] = process.argv.slice(2);
const say = (text) => writeSync(1, text + "\n");
const state = new SessionStateFile(file, { onWarning: (m) => writeSync(2, `warning: ${m}\n`), lockTimeoutMs: 30_000 });

if (mode === "crash") {
  let next = 0;
  for (const { record } of await state.list()) next = Math.max(next, Number(record.counter) + 1);
  say(`start ${next}`);
  for (let i = next; ; i++) {
    say(`attempt ${i}`);
    await state.set(`s${i % 3}`, { session_id: idFor(i), agent: "crash-test", cwd: "/tmp", counter: i, pad: "x".repeat(i % 500) });
    say(`done ${i}`);
  }
} else if (mode === "concurrent") {
  const [prefix, n] = rest;
  for (let i = 0; i < Number(n); i++) {
    await state.set(`${prefix}-${i % 50}`, { session_id: idFor(i), agent: "concurrency-test", cwd: "/tmp", counter: i });
  }
  say("finished");
} else {
  throw new Error(`unknown mode ${mode}`);
}
