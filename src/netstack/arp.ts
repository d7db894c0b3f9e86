// ARP (RFC 826) for IPv4 over Ethernet: packet parse and build.

/** ARP request opcode. */
export const ARP_REQUEST = 1;
/** ARP reply opcode. */
export const ARP_REPLY = 2;
/** ARP packet length for Ethernet/IPv4. */
export const ARP_LEN = 28;

/** A parsed Ethernet/IPv4 ARP packet. */
export interface ArpPacket {
  op: number;
  senderMac: number;
  senderIp: Uint8Array;
  targetMac: number;
  targetIp: Uint8Array;
}

import { readMac, writeMac } from "./ethernet.ts";

/** Parses `b[off, end)`; undefined unless it is Ethernet/IPv4 ARP with a known opcode. */
export function parseArp(b: Uint8Array, off: number, end = b.length): ArpPacket | undefined {
  if (end - off < ARP_LEN) return undefined;
  if (b[off] !== 0 || b[off + 1] !== 1 || b[off + 2] !== 0x08 || b[off + 3] !== 0) return undefined;
  if (b[off + 4] !== 6 || b[off + 5] !== 4) return undefined;
  const op = (b[off + 6] << 8) | b[off + 7];
  if (op !== ARP_REQUEST && op !== ARP_REPLY) return undefined;
  return {
    op,
    senderMac: readMac(b, off + 8),
    senderIp: b.slice(off + 14, off + 18),
    targetMac: readMac(b, off + 18),
    targetIp: b.slice(off + 24, off + 28),
  };
}

/** Writes an ARP packet at `b[off]` (ARP_LEN bytes). */
export function writeArp(b: Uint8Array, off: number, p: ArpPacket): void {
  b.set([0, 1, 0x08, 0, 6, 4, 0, p.op], off);
  writeMac(b, off + 8, p.senderMac);
  b.set(p.senderIp, off + 14);
  writeMac(b, off + 18, p.targetMac);
  b.set(p.targetIp, off + 24);
}
