// Managed IPv6 addresses derived from network ID + node address: RFC4193 (/88) and 6PLANE (/40).
import { InetAddress } from "../vl1/inet_address.ts";

/** Writes the low `n` bytes of `v` big-endian into `b` at `off`. */
function putBig(b: Uint8Array, off: number, v: bigint, n: number): void {
  for (let i = n - 1; i >= 0; i--) {
    b[off + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/**
 * RFC4193 address of node `address` (40-bit) on network `nwid` (spec §5.5):
 * `fd || nwid (8 bytes) || 99 93 || address (5 bytes)`, returned with port = 88 (prefix bits).
 */
export function rfc4193Address(nwid: bigint, address: number): InetAddress {
  const ip = new Uint8Array(16);
  ip[0] = 0xfd;
  putBig(ip, 1, nwid, 8);
  ip[9] = 0x99;
  ip[10] = 0x93;
  putBig(ip, 11, BigInt(address), 5);
  return new InetAddress(ip, 88);
}

/** The 32-bit 6PLANE network hash `(nwid XOR (nwid >> 32)) & 0xffffffff` (spec §5.5). */
export function sixPlaneHash(nwid: bigint): number {
  return Number((nwid ^ (nwid >> 32n)) & 0xffff_ffffn);
}

/**
 * 6PLANE address of node `address` (40-bit) on network `nwid` (spec §5.5):
 * `fc || hash (4 bytes) || address (5 bytes) || 00 00 00 00 00 01`, returned with port = 40
 * (prefix bits; each node owns the /80 under its address).
 */
export function sixPlaneAddress(nwid: bigint, address: number): InetAddress {
  const ip = new Uint8Array(16);
  ip[0] = 0xfc;
  putBig(ip, 1, BigInt(sixPlaneHash(nwid)), 4);
  putBig(ip, 5, BigInt(address), 5);
  ip[15] = 0x01;
  return new InetAddress(ip, 40);
}
