/**
 * A valid zstd frame made of raw (stored) blocks. Enough to produce a
 * `.jsonl.zst` like Codex's archived files without a zstd compressor, which
 * Node 20 lacks; readers must decode it with a real zstd decoder.
 */
export function zstdRawFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(6);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0x00; // frame header descriptor: no checksum, no dictionary, window descriptor follows
  header[5] = 10 << 3; // window size 2^(10+10) = 1 MiB
  parts.push(header);
  const BLOCK = 128 * 1024;
  for (let off = 0; off < data.length || off === 0; off += BLOCK) {
    const chunk = data.subarray(off, off + BLOCK);
    const last = off + BLOCK >= data.length ? 1 : 0;
    const bh = (chunk.length << 3) | (0 << 1) | last; // block type 0 = raw
    parts.push(Buffer.from([bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff]), chunk);
    if (last) break;
  }
  return Buffer.concat(parts);
}
