// Ethernet II frames of the userspace stack: header parse and build (48-bit MACs as numbers).

/** EtherType values the stack handles. */
export const ETH_IPV4 = 0x0800;
/** ARP EtherType. */
export const ETH_ARP = 0x0806;
/** IPv6 EtherType. */
export const ETH_IPV6 = 0x86dd;
/** Ethernet header length. */
export const ETH_HLEN = 14;
/** The broadcast MAC. */
export const MAC_BROADCAST = 0xffff_ffff_ffff;

/** A parsed Ethernet header (payload is `frame[ETH_HLEN, end)`). */
export interface EthHeader {
  dst: number;
  src: number;
  type: number;
}

/** Reads a 48-bit MAC at `off`. */
export function readMac(b: Uint8Array, off: number): number {
  return ((b[off] << 8) | b[off + 1]) * 0x1_0000_0000 +
    ((b[off + 2] << 24) >>> 0) + ((b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5]);
}

/** Writes a 48-bit MAC at `off`. */
export function writeMac(b: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / 0x1_0000_0000);
  const lo = mac >>> 0;
  b[off] = hi >> 8;
  b[off + 1] = hi & 0xff;
  b[off + 2] = lo >>> 24;
  b[off + 3] = (lo >>> 16) & 0xff;
  b[off + 4] = (lo >>> 8) & 0xff;
  b[off + 5] = lo & 0xff;
}

/** Parses an Ethernet header; undefined if the frame is too short. */
export function parseEth(f: Uint8Array): EthHeader | undefined {
  if (f.length < ETH_HLEN) return undefined;
  return { dst: readMac(f, 0), src: readMac(f, 6), type: (f[12] << 8) | f[13] };
}

/** A frame of `ETH_HLEN + payloadLen` bytes with its header written. */
export function newFrame(dst: number, src: number, type: number, payloadLen: number): Uint8Array {
  const f = new Uint8Array(ETH_HLEN + payloadLen);
  writeMac(f, 0, dst);
  writeMac(f, 6, src);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  return f;
}
