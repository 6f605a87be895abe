import { describe, expect, it } from "vitest";
import { lineBatches } from "../src/sync-bytes.js";

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

async function collect(it: AsyncIterable<{ start: number } | { bytes: Buffer; lines: number }>) {
  const out: unknown[] = [];
  for await (const x of it) out.push("start" in x ? x : { text: x.bytes.toString(), lines: x.lines });
  return out;
}

describe("lineBatches", () => {
  it("skips whole lines across chunks, says where the rest starts, and cuts batches only at line ends", async () => {
    expect(await collect(lineBatches(chunks("a\nbb", "\nccc\nd", "d\ne\n"), 2, 2, 1000))).toEqual([
      { start: 5 },
      { text: "ccc\ndd\n", lines: 2 },
      { text: "e\n", lines: 1 },
    ]);
  });

  it("keeps each batch under the byte cap; a longer single line goes alone", async () => {
    expect(await collect(lineBatches(chunks("aa\nbb\n", "cccccccc\nd\n"), 0, 100, 6))).toEqual([
      { start: 0 },
      { text: "aa\nbb\n", lines: 2 },
      { text: "cccccccc\n", lines: 1 },
      { text: "d\n", lines: 1 },
    ]);
  });

  it("leaves out bytes after the last newline, and says nothing of a start past the end", async () => {
    expect(await collect(lineBatches(chunks("a\nb"), 0, 10, 10))).toEqual([{ start: 0 }, { text: "a\n", lines: 1 }]);
    expect(await collect(lineBatches(chunks("a\n"), 2, 10, 10))).toEqual([]);
    expect(await collect(lineBatches(chunks(), 0, 10, 10))).toEqual([{ start: 0 }]);
    expect(await collect(lineBatches(chunks("a\n"), 1, 10, 10))).toEqual([{ start: 2 }]);
  });
});
