import { expect, test } from "vitest";
import { CoalescedReads } from "../src/coalesced-reads.js";

/** A read whose result is the number of writes it saw when it started. */
function fixture() {
  let writes = 0;
  let runs = 0;
  const gates: (() => void)[] = [];
  const read = () => {
    runs++;
    const seen = writes;
    return new Promise<number>((resolve) => gates.push(() => resolve(seen)));
  };
  return {
    write: () => void writes++,
    read,
    runs: () => runs,
    /** Lets the oldest running read finish. */
    release: async () => {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    },
  };
}

test("requests arriving during a read share the next read, never the running one", async () => {
  const f = fixture();
  const reads = new CoalescedReads<number>();
  const first = reads.read("k", f.read);
  f.write(); // acknowledged before the next requests arrive
  const later = [reads.read("k", f.read), reads.read("k", f.read), reads.read("k", f.read)];
  expect(f.runs()).toBe(1);
  await f.release();
  expect(await first).toBe(0);
  expect(f.runs()).toBe(2);
  await f.release();
  // All three joined one read, and it started after the write they follow.
  expect(await Promise.all(later)).toEqual([1, 1, 1]);
  expect(f.runs()).toBe(2);
});

test("different keys never share, and a failed read fails only the requests that joined it", async () => {
  const reads = new CoalescedReads<string>();
  let n = 0;
  const a = reads.read("a", async () => `a${n++}`);
  const b = reads.read("b", async () => `b${n++}`);
  expect(await a).toBe("a0");
  expect(await b).toBe("b1");

  const boom = reads.read("c", async () => {
    throw new Error("store down");
  });
  const joined = reads.read("c", async () => "recovered");
  await expect(boom).rejects.toThrow("store down");
  expect(await joined).toBe("recovered");
  expect(await reads.read("c", async () => "fresh")).toBe("fresh");
});
