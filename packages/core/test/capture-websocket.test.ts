import { describe, expect, it } from "vitest";
import { WebSocketFrameReader } from "@sessionvault/core";
import { wsFrame } from "./support/ws-frame.js";

const texts = (msgs: { opcode: number; data: Buffer }[]) => msgs.map((m) => `${m.opcode}:${m.data.toString()}`);

describe("WebSocketFrameReader", () => {
  it("reads masked and unmasked frames of every length encoding, split anywhere", () => {
    const big = "b".repeat(70_000);
    const mid = "m".repeat(300);
    const stream = Buffer.concat([wsFrame("hi", { mask: true }), wsFrame(mid), wsFrame(big, { mask: true }), wsFrame(Buffer.from([1, 2, 3]), { opcode: 2 })]);
    for (const step of [1, 7, 4096, stream.length]) {
      const r = new WebSocketFrameReader();
      const got = [];
      for (let i = 0; i < stream.length; i += step) got.push(...r.push(stream.subarray(i, i + step)));
      expect(texts(got)).toEqual(["1:hi", `1:${mid}`, `1:${big}`, `2:${Buffer.from([1, 2, 3]).toString()}`]);
    }
  });

  it("joins fragments across an interleaved ping, reports close and compressed messages", () => {
    const r = new WebSocketFrameReader();
    const got = r.push(
      Buffer.concat([
        wsFrame('{"type":"resp', { fin: false }),
        wsFrame("", { opcode: 9 }),
        wsFrame('onse.create"}', { opcode: 0 }),
        wsFrame(Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from("bye")]), { opcode: 8 }),
        wsFrame("zz", { rsv1: true }),
      ]),
    );
    expect(got.map((m) => m.opcode)).toEqual([1, 8, 1]);
    expect(got[0]!.data.toString()).toBe('{"type":"response.create"}');
    expect(got[2]!.compressed).toBe(true);
  });

  it("stops reading (never throws) on a frame larger than the limit", () => {
    const r = new WebSocketFrameReader({ maxMessageBytes: 10 });
    const huge = Buffer.alloc(10);
    huge[0] = 0x81;
    huge[1] = 127;
    huge.writeBigUInt64BE(2n ** 40n, 2);
    expect(r.push(huge)).toEqual([]);
    expect(r.push(wsFrame("after"))).toEqual([]);
  });
});
