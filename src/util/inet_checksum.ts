// The Internet checksum (RFC 1071): one's-complement sums over bytes, folding and pseudo-headers.
//
// Sums are plain numbers holding the unfolded total of big-endian 16-bit words; they stay exact
// far beyond any frame size (2^53 / 2^16 ≈ 2^37 words), so callers chain ranges by passing the
// previous sum in and fold once at the end. Nothing here allocates.

/**
 * Adds the big-endian 16-bit words of `b[start, end)` to `sum` and returns the (unfolded) total.
 * An odd trailing byte counts as the high byte of a word padded with zero, so a range of odd
 * length may only be the last one of a chain. Never reads outside `[start, end)`.
 */
export function onesSum(b: Uint8Array, start: number, end: number, sum = 0): number {
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
