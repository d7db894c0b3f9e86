// Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-header sums used by UDP, TCP and ICMPv6.

/** One's-complement sum of `b[start, end)` added to `acc` (not folded, not inverted). */
export function sum16(b: Uint8Array, start: number, end: number, acc = 0): number {
  let s = acc;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  return s;
}

/** Folds a 32-bit-ish sum to 16 bits and inverts it: the checksum field value. */
export function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return (~s) & 0xffff;
}

/** The checksum of `b[start, end)`. */
export function checksum(b: Uint8Array, start: number, end: number): number {
  return fold(sum16(b, start, end));
}

/** The pseudo-header sum for `proto` with `len` bytes of payload between `src` and `dst`. */
export function pseudoSum(src: Uint8Array, dst: Uint8Array, proto: number, len: number): number {
  let s = sum16(src, 0, src.length);
  s = sum16(dst, 0, dst.length, s);
  return s + proto + (len & 0xffff) + Math.floor(len / 0x10000);
}
