// 48-bit Ethernet MAC helpers: ZeroTier's per-network MAC <-> node address mapping and text form.
import { writeMac } from "../vl1/verbs/wire.ts";

const TWO32 = 0x1_0000_0000;
const TWO40 = 0x100_0000_0000;

/** The broadcast MAC ff:ff:ff:ff:ff:ff as a number. */
export const BROADCAST_MAC = 0xffff_ffff_ffff;

/**
 * First octet of every ZeroTier MAC on network `nwid` (spec §5.2): the low byte of the network
 * ID with the multicast bit cleared and the locally-administered bit set; 0x52 becomes 0x32.
 */
export function firstOctetForNetwork(nwid: bigint): number {
  const o = (Number(nwid & 0xfen)) | 0x02;
  return o === 0x52 ? 0x32 : o;
}

/** The 40-bit value XORed with a node address to form its MAC's low 40 bits (spec §5.2). */
export function macXorMask(nwid: bigint): number {
  const byte = (shift: bigint) => Number((nwid >> shift) & 0xffn);
  return byte(8n) * TWO32 + ((byte(16n) << 24) >>> 0) + (byte(24n) << 16) + (byte(32n) << 8) +
    byte(40n);
}

/** XOR of two non-negative integers below 2^40. */
function xor40(a: number, b: number): number {
  const ah = Math.floor(a / TWO32), bh = Math.floor(b / TWO32);
  return ((ah ^ bh) & 0xff) * TWO32 + (((a % TWO32) ^ (b % TWO32)) >>> 0);
}

/** The MAC (48-bit number) of the node with 40-bit `address` on network `nwid` (spec §5.2). */
export function macFromAddress(address: number, nwid: bigint): number {
  return firstOctetForNetwork(nwid) * TWO40 + xor40(address, macXorMask(nwid));
}

/** The 40-bit node address encoded in a ZeroTier MAC on network `nwid` (inverse of the above). */
export function macToAddress(mac: number, nwid: bigint): number {
  return xor40(mac % TWO40, macXorMask(nwid));
}

/** True if `mac`'s first octet is network `nwid`'s ZeroTier octet (i.e. it names a member). */
export function isNetworkMac(mac: number, nwid: bigint): boolean {
  return Math.floor(mac / TWO40) === firstOctetForNetwork(nwid);
}

/** True for multicast (and broadcast) MACs: bit 0x01 of the first octet. */
export function isMulticastMac(mac: number): boolean {
  return (Math.floor(mac / TWO40) & 1) === 1;
}

/** Reads 6 bytes at `off` as a MAC; the caller guarantees `off + 6 <= b.length`. */
export function macFromBytes(b: Uint8Array, off = 0): number {
  return ((b[off] << 8) | b[off + 1]) * TWO32 +
    (((b[off + 2] << 24) | (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5]) >>> 0);
}

/** Writes `mac` as 6 big-endian bytes at `off`; the caller guarantees room. */
export function macWriteTo(mac: number, b: Uint8Array, off = 0): void {
  writeMac(b, off, mac);
}

/** The 6-byte encoding of `mac`. */
export function macToBytes(mac: number): Uint8Array {
  const b = new Uint8Array(6);
  macWriteTo(mac, b, 0);
  return b;
}

/** Text form as ZeroTier prints it: six lowercase two-digit hex octets joined by ':'. */
export function macToString(mac: number): string {
  return Array.from(macToBytes(mac), (x) => x.toString(16).padStart(2, "0")).join(":");
}

/**
 * Parses "xx:xx:xx:xx:xx:xx" (either case; '-' also accepted as separator) or 12 bare hex
 * digits; undefined for anything else.
 */
export function parseMac(s: string): number | undefined {
  if (typeof s !== "string") return undefined;
  let hex: string;
  if (/^[0-9a-fA-F]{12}$/.test(s)) hex = s;
  else if (/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(s)) hex = s.replace(/[:-]/g, "");
  else return undefined;
  return parseInt(hex, 16);
}

/**
 * IPv6 neighbour-discovery multicast MAC 33:33:ff:XX:YY:ZZ for a 16-byte IPv6 address
 * (XX:YY:ZZ = its last three bytes; spec §5.3). The multicast group's ADI is 0.
 */
export function ndMulticastMac(ip6: Uint8Array): number {
  return 0x3333_ff00_0000 + ((ip6[13] << 16) | (ip6[14] << 8) | ip6[15]);
}
