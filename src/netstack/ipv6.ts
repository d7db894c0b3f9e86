// IPv6 (RFC 8200): fixed header parse/build; extension headers other than none are not followed.

/** A parsed IPv6 packet: header fields and the payload `bytes[payloadStart, payloadEnd)`. */
export interface Ipv6Packet {
  src: Uint8Array;
  dst: Uint8Array;
  next: number;
  hopLimit: number;
  bytes: Uint8Array;
  payloadStart: number;
  payloadEnd: number;
}

/** Parses an IPv6 packet at `b[off, end)`; undefined if malformed. */
export function parseIpv6(b: Uint8Array, off: number, end = b.length): Ipv6Packet | undefined {
  if (end - off < 40 || b[off] >> 4 !== 6) return undefined;
  const plen = (b[off + 4] << 8) | b[off + 5];
  if (40 + plen > end - off) return undefined;
  return {
    src: b.slice(off + 8, off + 24),
    dst: b.slice(off + 24, off + 40),
    next: b[off + 6],
    hopLimit: b[off + 7],
    bytes: b,
    payloadStart: off + 40,
    payloadEnd: off + 40 + plen,
  };
}

/** Writes a 40-byte IPv6 header at `b[off]`. */
export function writeIpv6Header(
  b: Uint8Array,
  off: number,
  src: Uint8Array,
  dst: Uint8Array,
  next: number,
  payloadLen: number,
  hopLimit = 64,
): void {
  b[off] = 0x60;
  b[off + 1] = b[off + 2] = b[off + 3] = 0;
  b[off + 4] = payloadLen >> 8;
  b[off + 5] = payloadLen & 0xff;
  b[off + 6] = next;
  b[off + 7] = hopLimit;
  b.set(src, off + 8);
  b.set(dst, off + 24);
}

/** The solicited-node multicast address of `ip` (ff02::1:ffXX:XXXX). */
export function solicitedNode(ip: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff], 0);
  out.set(ip.subarray(13, 16), 13);
  return out;
}

/** The Ethernet multicast MAC of an IPv6 multicast address (33:33 + low 32 bits). */
export function multicastMac(ip: Uint8Array): number {
  return 0x3333 * 0x1_0000_0000 +
    (((ip[12] << 24) | (ip[13] << 16) | (ip[14] << 8) | ip[15]) >>> 0);
}

/** The link-local fe80::/64 address made from a MAC (modified EUI-64). */
export function linkLocalFromMac(mac: number): Uint8Array {
  const m = new Uint8Array(6);
  let v = mac;
  for (let i = 5; i >= 0; i--) {
    m[i] = v % 256;
    v = Math.floor(v / 256);
  }
  const out = new Uint8Array(16);
  out[0] = 0xfe;
  out[1] = 0x80;
  out.set([m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]], 8);
  return out;
}
