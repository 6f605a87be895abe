import { describe, expect, it } from "vitest";
import { linesToUtf8 } from "@sessionvault/core";

describe("linesToUtf8", () => {
  it("gives exactly the bytes of the lines joined by \\n plus a final \\n, for any text", () => {
    const batches = [
      ["a"],
      [""],
      ["", "", ""],
      ['{"t":"é ü ß"}', '{"emoji":"🚀🧪"}', "日本語のテキスト", ""],
      Array.from({ length: 3000 }, (_, i) => JSON.stringify({ i, pad: "x".repeat(i % 900), uni: i % 7 === 0 ? "…→✓" : "" })),
    ];
    for (const lines of batches) {
      const want = Buffer.from(lines.join("\n") + "\n", "utf8");
      expect(linesToUtf8(lines).equals(want)).toBe(true);
      expect(linesToUtf8(lines, want.length).equals(want)).toBe(true);
    }
  });

  it("refuses a byte count that does not match instead of returning short or padded bytes", () => {
    expect(() => linesToUtf8(["é"], 2)).toThrow(RangeError);
    expect(() => linesToUtf8(["é"], 9)).toThrow(RangeError);
  });
});
