// Ethernet framing helpers: header read/write, ethertypes, ARP request and IPv6 neighbor-solicitation parsing.
import { macFromBytes, macWriteTo } from "./mac.ts";

/** Length of an untagged Ethernet II header: dst MAC (6) + src MAC (6) + ethertype (2). */
export const ETHERNET_HEADER_LENGTH = 14;

/** Ethertype: IPv4. */
export const ETHERTYPE_IPV4 = 0x0800;
/** Ethertype: ARP. */
export const ETHERTYPE_ARP = 0x0806;
/** Ethertype: IPv6. */
export const ETHERTYPE_IPV6 = 0x86dd;

/** IPv6 next-header value for ICMPv6. */
export const IPPROTO_ICMPV6 = 58;
/** ICMPv6 type: neighbor solicitation. */
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
/** ICMPv6 type: neighbor advertisement. */
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/** IPv6 fixed header length. */
export const IPV6_HEADER_LENGTH = 40;

/** Destination MAC of the Ethernet frame at `b[start..)`; the caller guarantees 14 bytes. */
export function ethDst(b: Uint8Array, start: number): number {
  return macFromBytes(b, start);
}

/** Source MAC of the Ethernet frame at `b[start..)`; the caller guarantees 14 bytes. */
export function ethSrc(b: Uint8Array, start: number): number {
  return macFromBytes(b, start + 6);
}

/** Ethertype of the Ethernet frame at `b[start..)`; the caller guarantees 14 bytes. */
export function ethType(b: Uint8Array, start: number): number {
  return (b[start + 12] << 8) | b[start + 13];
}

/**
 * Writes an Ethernet header `dst | src | ethertype` at `b[off..off+14)` (caller guarantees
 * room); returns `off + 14`.
 */
export function writeEthernetHeader(
  b: Uint8Array,
  off: number,
  dst: number,
  src: number,
  etherType: number,
): number {
  macWriteTo(dst, b, off);
  macWriteTo(src, b, off + 6);
  b[off + 12] = (etherType >>> 8) & 0xff;
  b[off + 13] = etherType & 0xff;
  return off + ETHERNET_HEADER_LENGTH;
}

/** Builds a whole Ethernet frame (header + copy of `payload`) in a fresh buffer. */
export function buildEthernetFrame(
  dst: number,
  src: number,
  etherType: number,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(ETHERNET_HEADER_LENGTH + payload.length);
  writeEthernetHeader(out, 0, dst, src, etherType);
  out.set(payload, ETHERNET_HEADER_LENGTH);
  return out;
}

/**
 * If `b[start..end)` (an ARP payload, i.e. after the Ethernet header) is an IPv4-over-Ethernet
 * ARP request (htype 1, ptype 0x0800, hlen 6, plen 4, opcode 1, at least 28 bytes), returns the
 * target IPv4 address (ARP offset 24) as a big-endian u32 - the ADI of its multicast group
 * (spec §5.3). Otherwise -1.
 */
export function arpRequestTarget(b: Uint8Array, start: number, end: number): number {
  if (start < 0 || end > b.length || end - start < 28) return -1;
  const p = start;
  if (b[p] !== 0 || b[p + 1] !== 1) return -1; // htype Ethernet
  if (b[p + 2] !== 0x08 || b[p + 3] !== 0x00) return -1; // ptype IPv4
  if (b[p + 4] !== 6 || b[p + 5] !== 4) return -1;
  if (b[p + 6] !== 0 || b[p + 7] !== 1) return -1; // opcode request
  return ((b[p + 24] << 24) | (b[p + 25] << 16) | (b[p + 26] << 8) | b[p + 27]) >>> 0;
}

/**
 * If `b[start..end)` (an IPv6 packet, after the Ethernet header) is an ICMPv6 neighbor
 * solicitation directly after the fixed header, returns the absolute offset of its 16-byte
 * target address; otherwise -1. (Extension headers are not followed, as NDP never uses them.)
 */
export function neighborSolicitationTarget(b: Uint8Array, start: number, end: number): number {
  if (start < 0 || end > b.length || end - start < IPV6_HEADER_LENGTH + 24) return -1;
  if ((b[start] >>> 4) !== 6) return -1;
  if (b[start + 6] !== IPPROTO_ICMPV6) return -1;
  const icmp = start + IPV6_HEADER_LENGTH;
  if (b[icmp] !== ICMPV6_NEIGHBOR_SOLICITATION || b[icmp + 1] !== 0) return -1;
  return icmp + 8;
}

/** IPv4 address as a big-endian u32 from 4 bytes at `off`. */
export function ipv4ToU32(b: Uint8Array, off = 0): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/**
 * Internet checksum (RFC 1071) of the ICMPv6 message `b[start..end)` with the IPv6
 * pseudo-header (source, destination, upper-layer length, next header 58). The checksum field
 * inside the message must be zero when computing.
 */
export function icmpv6Checksum(
  b: Uint8Array,
  start: number,
  end: number,
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
): number {
  let sum = 0;
  for (let i = 0; i < 16; i += 2) {
    sum += (src[srcOff + i] << 8) | src[srcOff + i + 1];
    sum += (dst[dstOff + i] << 8) | dst[dstOff + i + 1];
  }
  const len = end - start;
  sum += (len >>> 16) + (len & 0xffff) + IPPROTO_ICMPV6;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i < end) sum += b[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
