/** Encodes one WebSocket frame (RFC 6455 §5.2) for tests; `mask` for client-to-server frames. */
export function wsFrame(payload: string | Buffer, options: { opcode?: number; fin?: boolean; mask?: boolean; rsv1?: boolean } = {}): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  const { opcode = 1, fin = true, mask = false, rsv1 = false } = options;
  const len = data.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  if (len < 126) head[1] = len;
  else if (len < 65536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!mask) return Buffer.concat([head, data]);
  head[1]! |= 0x80;
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(data.map((b, i) => b ^ key[i & 3]!));
  return Buffer.concat([head, key, masked]);
}
