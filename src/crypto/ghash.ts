// GHASH (GCM's universal hash over GF(2^128)) with a per-key 8-bit multiplication table (Shoup).
import { be32, put32 } from "./words.ts";

/** Reduction of the 8 bits shifted out when multiplying by x^8: value to XOR into the top word. */
const R8 = new Int32Array(256);
(function buildR8(): void {
  for (let d = 0; d < 256; d++) {
    let z0 = 0, z3 = d;
    for (let k = 0; k < 8; k++) {
      const lsb = z3 & 1;
      z3 = z3 >>> 1; // z1, z2 stay zero: the reduction bits never leave z0 within 8 shifts
      z0 = (z0 >>> 1) ^ (lsb !== 0 ? 0xe1000000 : 0);
    }
    R8[d] = z0;
  }
})();

/**
 * Incremental GHASH under a fixed hash key H. Input is processed in 16-byte blocks; a trailing
 * partial block is zero padded (as GCM does for AAD and ciphertext).
 */
export class Ghash {
  /** m[4*b .. 4*b+4) = b·H as four big-endian words, for every byte value b. */
  readonly #m = new Int32Array(1024);
  /** Running state Y as four big-endian words. */
  readonly #y = new Int32Array(4);
  readonly #scratch = new Uint8Array(16);

  /** @param h the 16-byte hash key (AES_K(0^128) for GCM), read from `h[hOff..hOff+16)`. */
  constructor(h: Uint8Array, hOff = 0) {
    if (h.length < hOff + 16) throw new Error("Ghash: key must be 16 bytes");
    const m = this.#m;
    let h0 = be32(h, hOff), h1 = be32(h, hOff + 4), h2 = be32(h, hOff + 8), h3 = be32(h, hOff + 12);
    // The byte's most significant bit is the coefficient of x^0: 0x80 -> H, 0x40 -> H·x, ...
    for (let b = 0x80; b > 0; b >>>= 1) {
      m[4 * b] = h0;
      m[4 * b + 1] = h1;
      m[4 * b + 2] = h2;
      m[4 * b + 3] = h3;
      const lsb = h3 & 1;
      h3 = (h3 >>> 1) | (h2 << 31);
      h2 = (h2 >>> 1) | (h1 << 31);
      h1 = (h1 >>> 1) | (h0 << 31);
      h0 = (h0 >>> 1) ^ (lsb !== 0 ? 0xe1000000 : 0);
    }
    for (let b = 2; b < 256; b <<= 1) {
      for (let j = 1; j < b; j++) {
        for (let w = 0; w < 4; w++) m[4 * (b + j) + w] = m[4 * b + w] ^ m[4 * j + w];
      }
    }
  }

  /** Restart with Y = 0. */
  reset(): void {
    this.#y.fill(0);
  }

  /** Absorb `buf[start,end)`; a trailing partial block is zero padded. */
  update(buf: Uint8Array, start: number, end: number): void {
    const m = this.#m, r8 = R8, y = this.#y;
    let y0 = y[0], y1 = y[1], y2 = y[2], y3 = y[3];
    let src = buf;
    let p = start;
    while (p < end) {
      let o = p;
      if (end - p < 16) {
        const s = this.#scratch;
        const n = end - p;
        for (let k = 0; k < n; k++) s[k] = buf[p + k];
        s.fill(0, n);
        src = s;
        o = 0;
        p = end;
      } else {
        p += 16;
      }
      const x0 = y0 ^ be32(src, o);
      const x1 = y1 ^ be32(src, o + 4);
      const x2 = y2 ^ be32(src, o + 8);
      const x3 = y3 ^ be32(src, o + 12);
      // Shoup's 8-bit method: the block's bytes from last to first, one table row each
      let i = (x3 & 255) << 2;
      let z0 = m[i], z1 = m[i + 1], z2 = m[i + 2], z3 = m[i + 3];
      for (let k = 1; k < 16; k++) {
        const w = k < 4 ? x3 : k < 8 ? x2 : k < 12 ? x1 : x0;
        const rem = z3 & 255;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        i = ((w >>> ((k & 3) << 3)) & 255) << 2;
        z0 = (z0 >>> 8) ^ r8[rem] ^ m[i];
        z1 ^= m[i + 1];
        z2 ^= m[i + 2];
        z3 ^= m[i + 3];
      }
      y0 = z0;
      y1 = z1;
      y2 = z2;
      y3 = z3;
    }
    y[0] = y0;
    y[1] = y1;
    y[2] = y2;
    y[3] = y3;
  }

  /** Absorb one block given as four big-endian words. */
  updateWords(w0: number, w1: number, w2: number, w3: number): void {
    const s = this.#scratch;
    put32(s, 0, w0);
    put32(s, 4, w1);
    put32(s, 8, w2);
    put32(s, 12, w3);
    this.update(s, 0, 16);
  }

  /** Current state word i (0..3, big-endian words of Y). */
  word(i: number): number {
    return this.#y[i];
  }
}
