// UDP (RFC 768): datagram parse with checksum check (optional over IPv4) and build.
import { fold, pseudoSum, sum16 } from "./checksum.ts";

/** A parsed UDP datagram; payload is `bytes[payloadStart, payloadEnd)`. */
export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  bytes: Uint8Array;
  payloadStart: number;
  payloadEnd: number;
}

/** Parses UDP at `b[off, end)` sent `src` → `dst`; undefined if malformed or bad checksum. */
export function parseUdp(
  b: Uint8Array,
  off: number,
  end: number,
  src: Uint8Array,
  dst: Uint8Array,
): UdpDatagram | undefined {
  if (end - off < 8) return undefined;
  const len = (b[off + 4] << 8) | b[off + 5];
  if (len < 8 || len > end - off) return undefined;
  const ck = (b[off + 6] << 8) | b[off + 7];
  if (ck === 0 && src.length === 16) return undefined; // mandatory over IPv6
  if (ck !== 0 && fold(sum16(b, off, off + len, pseudoSum(src, dst, 17, len))) !== 0) {
    return undefined;
  }
  return {
    srcPort: (b[off] << 8) | b[off + 1],
    dstPort: (b[off + 2] << 8) | b[off + 3],
    bytes: b,
    payloadStart: off + 8,
    payloadEnd: off + len,
  };
}

/** Writes a UDP datagram (header + payload, checksum filled) at `b[off]`; returns its length. */
export function writeUdp(
  b: Uint8Array,
  off: number,
  srcPort: number,
  dstPort: number,
  src: Uint8Array,
  dst: Uint8Array,
  payload: Uint8Array,
): number {
  const len = 8 + payload.length;
  b[off] = srcPort >> 8;
  b[off + 1] = srcPort & 0xff;
  b[off + 2] = dstPort >> 8;
  b[off + 3] = dstPort & 0xff;
  b[off + 4] = len >> 8;
  b[off + 5] = len & 0xff;
  b[off + 6] = b[off + 7] = 0;
  b.set(payload, off + 8);
  let c = fold(sum16(b, off, off + len, pseudoSum(src, dst, 17, len)));
  if (c === 0) c = 0xffff;
  b[off + 6] = c >> 8;
  b[off + 7] = c & 0xff;
  return len;
}
