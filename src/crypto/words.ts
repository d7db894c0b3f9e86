// Big-endian 32-bit words in byte arrays, for the block ciphers' word-oriented code.

/** The big-endian u32 at `b[o..o+4)` (as a signed 32-bit value; `>>> 0` for unsigned). */
export function be32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/** Stores `v` big-endian at `b[o..o+4)`. */
export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}
