// A writer process for the crash test: appends numbered rollout lines through
// WriterQueue into fs-store and records, after each flush() resolves, the
// acknowledged position in a side file (synchronously, so an ack is on disk
// before the next line is written). The test SIGKILLs it at random points.
import { openSync, writeSync } from "node:fs";
import { WriterQueue } from "@sessionvault/core";
import { FsStore } from "../../dist/index.js";

const [root, sessionId, ackFile, seedArg] = process.argv.slice(2);
let seed = Number(seedArg) || 1;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;

const store = new FsStore({ root });
const startSeq = (await store.streamPositions(sessionId)).find((s) => s.name === "rollout").lines;
const queue = new WriterQueue({ store, sessionId, stream: "rollout", startSeq, durable: rand() < 0.3 });
const acks = openSync(ackFile, "a");
writeSync(acks, `start ${startSeq}\n`);

for (let i = startSeq; ; i++) {
  // Mostly small lines, sometimes big ones, so kills land inside writes too.
  const pad = rand() < 0.05 ? 256 * 1024 + Math.floor(rand() * 256 * 1024) : Math.floor(rand() * 300);
  const line = JSON.stringify({ timestamp: new Date().toISOString(), type: "event_msg", payload: { type: "crash_test", i, pad: "x".repeat(pad) } });
  await queue.write(line);
  if (rand() < 0.1) {
    await queue.flush();
    writeSync(acks, `ack ${queue.committedSeq}\n`);
  }
}
