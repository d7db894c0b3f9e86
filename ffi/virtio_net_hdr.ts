// The virtio-net header a Linux TAP with IFF_VNET_HDR puts before each frame: fields, writing, checksum completion.
//
// Layout (10 bytes, little-endian on the hosts we run on): u8 flags, u8 gso_type, u16 hdr_len,
// u16 gso_size, u16 csum_start, u16 csum_offset. csum_start counts from the start of the
// Ethernet frame; with NEEDS_CSUM the 16-bit field at csum_start + csum_offset holds the folded
// pseudo-header sum and the sum over [csum_start, end) still has to be completed.
import { inetChecksum } from "./inet_checksum.ts";

/** Size of the header (struct virtio_net_hdr without num_buffers). */
export const VNET_HDR_LEN = 10;
/** flags: the checksum at csum_start + csum_offset is partial and must be completed. */
export const VNET_F_NEEDS_CSUM = 0x01;
/** flags: the checksum was already validated. */
export const VNET_F_DATA_VALID = 0x02;
/** gso_type: not a GSO frame. */
export const VNET_GSO_NONE = 0;
/** gso_type: IPv4 TCP super-frame. */
export const VNET_GSO_TCPV4 = 1;
/** gso_type: IPv6 TCP super-frame. */
export const VNET_GSO_TCPV6 = 4;
/** gso_type bit: the TCP stream uses ECN (CWR only on the first segment). */
export const VNET_GSO_ECN = 0x80;
/** Offset of the UDP checksum in its header (a computed 0 is sent as 0xffff). */
const UDP_CHECKSUM_OFFSET = 6;

/** The fields of a virtio-net header (see {@link readVnetHdr}). */
export interface VnetHdr {
  /** NEEDS_CSUM / DATA_VALID bits. */
  flags: number;
  /** GSO type, ECN bit included. */
  gsoType: number;
  /** Length of the headers (Ethernet + IP + TCP) of a GSO frame; advisory. */
  hdrLen: number;
  /** Payload bytes per segment of a GSO frame. */
  gsoSize: number;
  /** Where checksumming starts, from the start of the Ethernet frame. */
  csumStart: number;
  /** Offset of the checksum field from csumStart. */
  csumOffset: number;
}

/** Reads the header at `b[off, off + 10)` into `out` (reused, no allocation); returns `out`. */
export function readVnetHdr(b: Uint8Array, off: number, out: VnetHdr): VnetHdr {
  out.flags = b[off];
  out.gsoType = b[off + 1];
  out.hdrLen = b[off + 2] | (b[off + 3] << 8);
  out.gsoSize = b[off + 4] | (b[off + 5] << 8);
  out.csumStart = b[off + 6] | (b[off + 7] << 8);
  out.csumOffset = b[off + 8] | (b[off + 9] << 8);
  return out;
}

/** Writes a header at `b[off, off + 10)`. */
export function writeVnetHdr(
  b: Uint8Array,
  off: number,
  flags: number,
  gsoType: number,
  hdrLen: number,
  gsoSize: number,
  csumStart: number,
  csumOffset: number,
): void {
  b[off] = flags;
  b[off + 1] = gsoType;
  b[off + 2] = hdrLen & 0xff;
  b[off + 3] = hdrLen >>> 8;
  b[off + 4] = gsoSize & 0xff;
  b[off + 5] = gsoSize >>> 8;
  b[off + 6] = csumStart & 0xff;
  b[off + 7] = csumStart >>> 8;
  b[off + 8] = csumOffset & 0xff;
  b[off + 9] = csumOffset >>> 8;
}

/**
 * Completes a NEEDS_CSUM checksum of the Ethernet frame `b[start, end)` in place: the field at
 * `csumStart + csumOffset` (which holds the folded pseudo-header sum) becomes
 * `~fold(sum of b[start + csumStart, end))`, big-endian; for UDP (offset 6) a result of 0 is
 * written as 0xffff. Returns false, touching nothing, if the field lies outside the frame.
 */
export function completeChecksum(
  b: Uint8Array,
  start: number,
  end: number,
  csumStart: number,
  csumOffset: number,
): boolean {
  const from = start + csumStart;
  const field = from + csumOffset;
  if (csumStart < 0 || csumOffset < 0 || field + 2 > end) return false;
  let c = inetChecksum(b, from, end);
  if (c === 0 && csumOffset === UDP_CHECKSUM_OFFSET) c = 0xffff;
  b[field] = c >>> 8;
  b[field + 1] = c & 0xff;
  return true;
}
