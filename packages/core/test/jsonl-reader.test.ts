import { describe, expect, it } from "vitest";
import { readLines, type LineWarning } from "@sessionvault/core";

async function collect(chunks: string[] | Buffer[]) {
  const warnings: LineWarning[] = [];
  const source = (async function* () {
    for (const c of chunks) yield Buffer.isBuffer(c) ? c : Buffer.from(c);
  })();
  const lines = [];
  for await (const l of readLines(source, { onWarning: (w) => warnings.push(w), maxLineBytes: 64 })) lines.push(l);
  return { lines, warnings };
}

describe("readLines", () => {
  it("splits across chunk boundaries and keeps text byte-exact", async () => {
    const { lines } = await collect(['{"a":1}\r\n{"b', '":2}\n']);
    expect(lines.map((l) => l.text)).toEqual(['{"a":1}\r', '{"b":2}']);
    expect(lines.map((l) => l.lineNo)).toEqual([1, 2]);
  });

  it("does not yield a torn last line and reports it", async () => {
    const { lines, warnings } = await collect(["a\nb"]);
    expect(lines.map((l) => l.text)).toEqual(["a"]);
    expect(warnings.map((w) => w.kind)).toEqual(["torn-last-line"]);
  });

  it("skips over-long and invalid UTF-8 lines with a warning, then goes on", async () => {
    const long = "x".repeat(100);
    const { lines, warnings } = await collect([
      Buffer.from(`${long.slice(0, 50)}`),
      Buffer.from(`${long.slice(50)}\nok\n`),
      Buffer.from([0xff, 0xfe, 0x0a, 0x41, 0x0a]),
    ]);
    expect(lines.map((l) => l.text)).toEqual(["ok", "A"]);
    expect(warnings.map((w) => [w.kind, w.lineNo])).toEqual([
      ["too-long", 1],
      ["invalid-utf8", 3],
    ]);
  });
});
