// The Internet checksum (RFC 1071): one's-complement sums over bytes, folding and pseudo-headers.
//
// Sums are plain numbers holding the unfolded total of big-endian 16-bit words; they stay exact
// far beyond any frame size (2^53 / 2^16 ~ 2^37 words), so callers chain ranges by passing the
// previous sum in and fold once at the end. Nothing here allocates.

/**
 * Adds the big-endian 16-bit words of `b[start, end)` to `sum` and returns the (unfolded) total.
 * An odd trailing byte counts as the high byte of a word padded with zero, so a range of odd
 * length may only be the last one of a chain. Never reads outside `[start, end)`.
 */
export function onesSum(b: Uint8Array, start: number, end: number, sum = 0): number {
  if (end - start >= WIDE_MIN && end - start <= WIDE_MAX) return sum + wideSum(b, start, end);
  // Even-position (high) and odd-position (low) bytes are summed separately and combined once:
  // two additions per word and no shifts in the loop. Small integer accumulators stay exact for
  // 2^22 bytes each round, so longer ranges run in rounds.
  let total = sum;
  let i = start;
  while (i + 1 < end) {
    const stop = Math.min(end - ((end - i) & 1), i + 0x400000);
    let hi = 0;
    let lo = 0;
    const stop8 = stop - ((stop - i) & 7);
    for (; i < stop8; i += 8) {
      hi += b[i] + b[i + 2] + b[i + 4] + b[i + 6];
      lo += b[i + 1] + b[i + 3] + b[i + 5] + b[i + 7];
    }
    for (; i < stop; i += 2) {
      hi += b[i];
      lo += b[i + 1];
    }
    total += hi * 256 + lo;
  }
  if (i < end) total += b[i] * 256;
  return total;
}

/** Ranges at least this long are summed 32 bits at a time ({@link wideSum}). */
const WIDE_MIN = 64;
/** Longest range {@link wideSum} takes (its two accumulators then stay below 2^51: exact). */
const WIDE_MAX = 1 << 22;

/** A Uint32Array over the whole buffer last summed (one view, made again for another buffer). */
let words: Uint32Array | undefined;

/**
 * {@link onesSum} of `b[start, end)` reading aligned 32-bit little-endian words: the sum of the
 * words, folded, is the one's complement sum of the little-endian 16-bit words, which is the
 * big-endian sum byte-swapped when the words start at an even distance from `start` (RFC 1071's
 * byte-order independence). Bytes before the first aligned word and after the last are added one
 * by one with their parity.
 */
function wideSum(b: Uint8Array, start: number, end: number): number {
  const buf = b.buffer;
  let w = words;
  if (w === undefined || w.buffer !== buf || w.length !== buf.byteLength >>> 2) {
    w = words = new Uint32Array(buf, 0, buf.byteLength >>> 2);
  }
  let s = 0;
  let i = start;
  const base = b.byteOffset;
  while (((base + i) & 3) !== 0) {
    s += ((i - start) & 1) === 0 ? b[i] << 8 : b[i];
    i++;
  }
  const first = (base + i) >>> 2;
  const last = (base + end) >>> 2; // exclusive: whole words that end by `end`
  let a0 = 0;
  let a1 = 0;
  let k = first;
  for (; k + 4 <= last; k += 4) {
    a0 += w[k] + w[k + 1];
    a1 += w[k + 2] + w[k + 3];
  }
  for (; k < last; k++) a0 += w[k];
  let f = foldSum(a0 + a1);
  if (((i - start) & 1) === 0) f = ((f & 0xff) << 8) | (f >>> 8);
  s += f;
  for (i = (last << 2) - base; i < end; i++) s += ((i - start) & 1) === 0 ? b[i] << 8 : b[i];
  return s;
}

/** Folds a sum from {@link onesSum} into 16 bits (end-around carry), not complemented. */
export function foldSum(sum: number): number {
  let s = sum;
  // `s & 0xffff` is the low 16 bits even above 2^32 (ToInt32 keeps them); the quotient is exact.
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/**
 * The Internet checksum of `b[start, end)` with `sum` (e.g. a pseudo-header sum) added:
 * `~fold(sum + words) & 0xffff`. Over data that includes a correct checksum field it is 0.
 */
export function inetChecksum(b: Uint8Array, start: number, end: number, sum = 0): number {
  return ~foldSum(onesSum(b, start, end, sum)) & 0xffff;
}

/**
 * The unfolded sum of an IPv4 pseudo-header: source and destination addresses (the 8 bytes at
 * `ipOff + 12` of the IPv4 header at `ipOff`), protocol and upper-layer length.
 */
export function pseudoSumV4(
  b: Uint8Array,
  ipOff: number,
  protocol: number,
  length: number,
): number {
  return onesSum(b, ipOff + 12, ipOff + 20, protocol + length);
}

/**
 * The unfolded sum of an IPv6 pseudo-header: source and destination addresses (the 32 bytes at
 * `ipOff + 8` of the IPv6 header at `ipOff`), next header and upper-layer length (< 2^32).
 */
export function pseudoSumV6(
  b: Uint8Array,
  ipOff: number,
  nextHeader: number,
  length: number,
): number {
  return onesSum(b, ipOff + 8, ipOff + 40, nextHeader + (length >>> 16) + (length & 0xffff));
}

/** Recomputes and stores the header checksum of the IPv4 header at `b[ip, ip + ihl)`. */
export function setIpv4HeaderChecksum(b: Uint8Array, ip: number, ihl: number): void {
  b[ip + 10] = 0;
  b[ip + 11] = 0;
  const c = inetChecksum(b, ip, ip + ihl);
  b[ip + 10] = c >>> 8;
  b[ip + 11] = c & 0xff;
}
