/**
 * Reads WebSocket frames (RFC 6455 §5) from one direction of a tunnelled
 * connection, so the recording proxy can log each message. It only reads:
 * the bytes themselves are forwarded untouched by the caller.
 *
 * Compressed messages (RSV1, permessage-deflate) are reported without their
 * payload; the proxy removes the compression offer from the handshake, so a
 * well-behaved server never sends them.
 */
export interface WebSocketMessage {
  /** 1 text, 2 binary, 8 close (data: status code + reason). */
  opcode: number;
  data: Buffer;
  compressed: boolean;
}

export class WebSocketFrameReader {
  #buf: Buffer = Buffer.alloc(0);
  #pending: Buffer[] = [];
  #pendingLen = 0;
  /** Bytes the frame being read needs in total; nothing is parsed before they are there. */
  #need = 0;
  #parts: Buffer[] = [];
  #partsOpcode = 0;
  #partsCompressed = false;
  #partsBytes = 0;
  readonly #maxMessage: number;
  #broken = false;

  constructor(options: { maxMessageBytes?: number } = {}) {
    this.#maxMessage = options.maxMessageBytes ?? 32 * 1024 * 1024;
  }

  /** Complete messages found once `chunk` is added. Never throws: a malformed stream just stops being read. */
  push(chunk: Buffer): WebSocketMessage[] {
    if (this.#broken) return [];
    // A big frame arrives in many chunks: collect them and join once, not once per chunk.
    this.#pending.push(chunk);
    this.#pendingLen += chunk.length;
    if (this.#buf.length + this.#pendingLen < this.#need) return [];
    this.#buf = Buffer.concat([this.#buf, ...this.#pending]);
    this.#pending = [];
    this.#pendingLen = 0;
    this.#need = 0;
    const out: WebSocketMessage[] = [];
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) break;
      const fin = (b[0]! & 0x80) !== 0;
      const rsv1 = (b[0]! & 0x40) !== 0;
      const opcode = b[0]! & 0x0f;
      const masked = (b[1]! & 0x80) !== 0;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.#maxMessage)) {
          this.#broken = true;
          break;
        }
        len = Number(big);
        off = 10;
      }
      const maskOff = off;
      if (masked) off += 4;
      if (b.length < off + len) {
        this.#need = off + len;
        break;
      }
      let payload = b.subarray(off, off + len);
      if (masked) {
        const copy = Buffer.allocUnsafe(len);
        for (let i = 0; i < len; i++) copy[i] = payload[i]! ^ b[maskOff + (i & 3)]!;
        payload = copy;
      } else {
        payload = Buffer.from(payload);
      }
      this.#buf = b.subarray(off + len);
      if (opcode >= 8) {
        // Control frames may come between fragments; only close is worth a line.
        if (opcode === 8) out.push({ opcode, data: payload, compressed: false });
        continue;
      }
      if (opcode !== 0) {
        this.#parts = [];
        this.#partsBytes = 0;
        this.#partsOpcode = opcode;
        this.#partsCompressed = rsv1;
      }
      this.#partsBytes += payload.length;
      if (this.#partsBytes <= this.#maxMessage) this.#parts.push(payload);
      if (fin) {
        out.push({
          opcode: this.#partsOpcode,
          data: this.#partsBytes <= this.#maxMessage ? Buffer.concat(this.#parts) : Buffer.alloc(0),
          compressed: this.#partsCompressed,
        });
        this.#parts = [];
        this.#partsBytes = 0;
      }
    }
    return out;
  }
}
