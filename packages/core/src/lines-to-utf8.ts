/**
 * A batch of stream lines as the bytes a store keeps: each line in UTF-8
 * followed by "\n". Encoded line by line into one buffer: building one
 * joined string and encoding that is several times slower once a batch
 * reaches a few hundred KB (V8 encodes a big string on a slow path).
 * `byteLength`, when the caller has already counted it, spares a pass.
 */
export function linesToUtf8(lines: readonly string[], byteLength?: number): Buffer {
  let size = byteLength;
  if (size === undefined) {
    size = 0;
    for (const line of lines) size += Buffer.byteLength(line) + 1;
  }
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const line of lines) {
    offset += out.write(line, offset);
    out[offset++] = 0x0a;
  }
  if (offset !== size) throw new RangeError(`linesToUtf8: counted ${size} bytes, wrote ${offset}`);
  return out;
}
