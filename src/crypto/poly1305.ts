// Poly1305 one-time authenticator (RFC 8439 §2.5), unrolled over 13-bit limbs for speed.

const INV8192 = 1 / 8192; // exact power of two: (d * INV8192) | 0 === floor(d / 2^13) for d < 2^44
const PAD = new Uint8Array(16); // scratch for the final partial block (the packet path is synchronous)

/**
 * Poly1305 tag (16 bytes) of msg[start,end) under a 32-byte one-time key.
 * Throws only for programmer errors (short key, range outside `msg`).
 */
export function poly1305(
  key: Uint8Array,
  msg: Uint8Array,
  start = 0,
  end: number = msg.length,
): Uint8Array {
  if (key.length < 32) throw new Error(`poly1305: key must be 32 bytes, got ${key.length}`);
  if (!(start >= 0 && start <= end && end <= msg.length)) {
    throw new RangeError(`poly1305: bad range [${start}, ${end}) of ${msg.length}`);
  }
  // r = key[0..16) clamped, as 10 limbs of 13 bits.
  const k0 = key[0] | (key[1] << 8), k1 = key[2] | ((key[3] & 0x0f) << 8);
  const k2 = (key[4] & 0xfc) | (key[5] << 8), k3 = key[6] | ((key[7] & 0x0f) << 8);
  const k4 = (key[8] & 0xfc) | (key[9] << 8), k5 = key[10] | ((key[11] & 0x0f) << 8);
  const k6 = (key[12] & 0xfc) | (key[13] << 8), k7 = key[14] | ((key[15] & 0x0f) << 8);
  const r0 = k0 & 0x1fff;
  const r1 = ((k0 >>> 13) | (k1 << 3)) & 0x1fff;
  const r2 = ((k1 >>> 10) | (k2 << 6)) & 0x1fff;
  const r3 = ((k2 >>> 7) | (k3 << 9)) & 0x1fff;
  const r4 = ((k3 >>> 4) | (k4 << 12)) & 0x1fff;
  const r5 = (k4 >>> 1) & 0x1fff;
  const r6 = ((k4 >>> 14) | (k5 << 2)) & 0x1fff;
  const r7 = ((k5 >>> 11) | (k6 << 5)) & 0x1fff;
  const r8 = ((k6 >>> 8) | (k7 << 8)) & 0x1fff;
  const r9 = k7 >>> 5;
  const s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5, s5 = r5 * 5;
  const s6 = r6 * 5, s7 = r7 * 5, s8 = r8 * 5, s9 = r9 * 5;

  let h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0, h8 = 0, h9 = 0;
  let c = 0;
  let p = start;
  while (p < end) {
    let src = msg, o = p, hibit = 0x800;
    if (end - p < 16) {
      // Final partial block: bytes, then 0x01, then zeros; no 2^128 bit.
      const n = end - p;
      for (let i = 0; i < n; i++) PAD[i] = msg[p + i];
      PAD[n] = 1;
      for (let i = n + 1; i < 16; i++) PAD[i] = 0;
      src = PAD;
      o = 0;
      hibit = 0;
      p = end;
    } else {
      p += 16;
    }
    const t0 = src[o] | (src[o + 1] << 8), t1 = src[o + 2] | (src[o + 3] << 8);
    const t2 = src[o + 4] | (src[o + 5] << 8), t3 = src[o + 6] | (src[o + 7] << 8);
    const t4 = src[o + 8] | (src[o + 9] << 8), t5 = src[o + 10] | (src[o + 11] << 8);
    const t6 = src[o + 12] | (src[o + 13] << 8), t7 = src[o + 14] | (src[o + 15] << 8);
    h0 += t0 & 0x1fff;
    h1 += ((t0 >>> 13) | (t1 << 3)) & 0x1fff;
    h2 += ((t1 >>> 10) | (t2 << 6)) & 0x1fff;
    h3 += ((t2 >>> 7) | (t3 << 9)) & 0x1fff;
    h4 += ((t3 >>> 4) | (t4 << 12)) & 0x1fff;
    h5 += (t4 >>> 1) & 0x1fff;
    h6 += ((t4 >>> 14) | (t5 << 2)) & 0x1fff;
    h7 += ((t5 >>> 11) | (t6 << 5)) & 0x1fff;
    h8 += ((t6 >>> 8) | (t7 << 8)) & 0x1fff;
    h9 += (t7 >>> 5) | hibit;

    // h *= r (mod 2^130 - 5), partially reduced.
    let d0 = h0 * r0 + h1 * s9 + h2 * s8 + h3 * s7 + h4 * s6 + h5 * s5 + h6 * s4 + h7 * s3 +
      h8 * s2 + h9 * s1;
    c = (d0 * INV8192) | 0;
    d0 &= 0x1fff;
    let d1 = c + h0 * r1 + h1 * r0 + h2 * s9 + h3 * s8 + h4 * s7 + h5 * s6 + h6 * s5 + h7 * s4 +
      h8 * s3 + h9 * s2;
    c = (d1 * INV8192) | 0;
    d1 &= 0x1fff;
    let d2 = c + h0 * r2 + h1 * r1 + h2 * r0 + h3 * s9 + h4 * s8 + h5 * s7 + h6 * s6 + h7 * s5 +
      h8 * s4 + h9 * s3;
    c = (d2 * INV8192) | 0;
    d2 &= 0x1fff;
    let d3 = c + h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s9 + h5 * s8 + h6 * s7 + h7 * s6 +
      h8 * s5 + h9 * s4;
    c = (d3 * INV8192) | 0;
    d3 &= 0x1fff;
    let d4 = c + h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s9 + h6 * s8 + h7 * s7 +
      h8 * s6 + h9 * s5;
    c = (d4 * INV8192) | 0;
    d4 &= 0x1fff;
    let d5 = c + h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0 + h6 * s9 + h7 * s8 +
      h8 * s7 + h9 * s6;
    c = (d5 * INV8192) | 0;
    d5 &= 0x1fff;
    let d6 = c + h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2 + h5 * r1 + h6 * r0 + h7 * s9 +
      h8 * s8 + h9 * s7;
    c = (d6 * INV8192) | 0;
    d6 &= 0x1fff;
    let d7 = c + h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3 + h5 * r2 + h6 * r1 + h7 * r0 +
      h8 * s9 + h9 * s8;
    c = (d7 * INV8192) | 0;
    d7 &= 0x1fff;
    let d8 = c + h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4 + h5 * r3 + h6 * r2 + h7 * r1 +
      h8 * r0 + h9 * s9;
    c = (d8 * INV8192) | 0;
    d8 &= 0x1fff;
    let d9 = c + h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5 + h5 * r4 + h6 * r3 + h7 * r2 +
      h8 * r1 + h9 * r0;
    c = (d9 * INV8192) | 0;
    d9 &= 0x1fff;
    c = c * 5 + d0;
    h0 = c & 0x1fff;
    h1 = d1 + (c >>> 13);
    h2 = d2;
    h3 = d3;
    h4 = d4;
    h5 = d5;
    h6 = d6;
    h7 = d7;
    h8 = d8;
    h9 = d9;
  }

  // Full carry.
  c = h1 >>> 13;
  h1 &= 0x1fff;
  h2 += c;
  c = h2 >>> 13;
  h2 &= 0x1fff;
  h3 += c;
  c = h3 >>> 13;
  h3 &= 0x1fff;
  h4 += c;
  c = h4 >>> 13;
  h4 &= 0x1fff;
  h5 += c;
  c = h5 >>> 13;
  h5 &= 0x1fff;
  h6 += c;
  c = h6 >>> 13;
  h6 &= 0x1fff;
  h7 += c;
  c = h7 >>> 13;
  h7 &= 0x1fff;
  h8 += c;
  c = h8 >>> 13;
  h8 &= 0x1fff;
  h9 += c;
  c = h9 >>> 13;
  h9 &= 0x1fff;
  h0 += c * 5;
  c = h0 >>> 13;
  h0 &= 0x1fff;
  h1 += c;
  c = h1 >>> 13;
  h1 &= 0x1fff;
  h2 += c;

  // g = h + 5 - 2^130; use g when it does not go negative (h >= p).
  let g0 = h0 + 5;
  c = g0 >>> 13;
  g0 &= 0x1fff;
  let g1 = h1 + c;
  c = g1 >>> 13;
  g1 &= 0x1fff;
  let g2 = h2 + c;
  c = g2 >>> 13;
  g2 &= 0x1fff;
  let g3 = h3 + c;
  c = g3 >>> 13;
  g3 &= 0x1fff;
  let g4 = h4 + c;
  c = g4 >>> 13;
  g4 &= 0x1fff;
  let g5 = h5 + c;
  c = g5 >>> 13;
  g5 &= 0x1fff;
  let g6 = h6 + c;
  c = g6 >>> 13;
  g6 &= 0x1fff;
  let g7 = h7 + c;
  c = g7 >>> 13;
  g7 &= 0x1fff;
  let g8 = h8 + c;
  c = g8 >>> 13;
  g8 &= 0x1fff;
  const g9 = h9 + c - (1 << 13);
  const useG = (g9 >>> 31) - 1; // all ones when g9 >= 0
  const useH = ~useG;
  h0 = (h0 & useH) | (g0 & useG);
  h1 = (h1 & useH) | (g1 & useG);
  h2 = (h2 & useH) | (g2 & useG);
  h3 = (h3 & useH) | (g3 & useG);
  h4 = (h4 & useH) | (g4 & useG);
  h5 = (h5 & useH) | (g5 & useG);
  h6 = (h6 & useH) | (g6 & useG);
  h7 = (h7 & useH) | (g7 & useG);
  h8 = (h8 & useH) | (g8 & useG);
  h9 = (h9 & useH) | (g9 & useG);

  // Pack to 16-bit words and add s = key[16..32) mod 2^128.
  const out = new Uint8Array(16);
  let f = 0;
  for (let w = 0; w < 8; w++) {
    let v: number;
    switch (w) {
      case 0:
        v = h0 | (h1 << 13);
        break;
      case 1:
        v = (h1 >>> 3) | (h2 << 10);
        break;
      case 2:
        v = (h2 >>> 6) | (h3 << 7);
        break;
      case 3:
        v = (h3 >>> 9) | (h4 << 4);
        break;
      case 4:
        v = (h4 >>> 12) | (h5 << 1) | (h6 << 14);
        break;
      case 5:
        v = (h6 >>> 2) | (h7 << 11);
        break;
      case 6:
        v = (h7 >>> 5) | (h8 << 8);
        break;
      default:
        v = (h8 >>> 8) | (h9 << 5);
    }
    f = (v & 0xffff) + (key[16 + 2 * w] | (key[17 + 2 * w] << 8)) + (f >>> 16);
    out[2 * w] = f & 0xff;
    out[2 * w + 1] = (f >>> 8) & 0xff;
  }
  return out;
}
