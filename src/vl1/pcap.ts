// Classic pcap reader: extracts the UDP datagrams (IPv4/IPv6) of Ethernet, Linux SLL/SLL2 and raw-IP captures.
import { InetAddress } from "./inet_address.ts";
import type { CapturedDatagram } from "./capture_jsonl.ts";
import { MAX_CAPTURE_DATAGRAMS } from "./capture_jsonl.ts";

/** Link type: BSD loopback (4-byte host-order address family). */
export const LINKTYPE_NULL = 0;
/** Link type: Ethernet II (optionally 802.1Q / 802.1ad tagged). */
export const LINKTYPE_ETHERNET = 1;
/** Link type: raw IPv4/IPv6, version taken from the first nibble. */
export const LINKTYPE_RAW = 101;
/** Link type: Linux "cooked" capture v1 (SLL, 16-byte header). */
export const LINKTYPE_LINUX_SLL = 113;
/** Link type: raw IPv4 only. */
export const LINKTYPE_IPV4 = 228;
/** Link type: raw IPv6 only. */
export const LINKTYPE_IPV6 = 229;
/** Link type: Linux "cooked" capture v2 (SLL2, 20-byte header). */
export const LINKTYPE_LINUX_SLL2 = 276;
/** Older numbers some platforms write for raw IP (DLT_RAW). */
const RAW_ALIASES = new Set([12, 14]);

/** Largest captured frame length accepted (bigger means a corrupt record header). */
export const MAX_PCAP_RECORD_LENGTH = 262144;

const GLOBAL_HEADER_LENGTH = 24;
const RECORD_HEADER_LENGTH = 16;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const IPPROTO_UDP = 17;

/** Facts about a pcap file besides its datagrams. */
export interface PcapInfo {
  /** Link-layer header type (low 16 bits of the global header field). */
  linkType: number;
  /** True when the file was written big-endian. */
  bigEndian: boolean;
  /** True for the nanosecond-resolution variant of the format. */
  nanosecond: boolean;
  /** Number of records (frames) in the file. */
  records: number;
  /**
   * Frames that carry no complete UDP datagram: other protocols, IP fragments, frames cut short
   * by the snap length, or malformed IP/UDP headers.
   */
  skipped: number;
}

/** Outcome of {@link parsePcap}. */
export type PcapResult =
  | { ok: true; datagrams: CapturedDatagram[]; info: PcapInfo }
  | { ok: false; error: string };

/** Magic numbers and what they say about byte order and time resolution. */
function readMagic(b: Uint8Array): { bigEndian: boolean; nanosecond: boolean } | undefined {
  if (b.length < 4) return undefined;
  const m = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  switch (m) {
    case 0xa1b2c3d4:
      return { bigEndian: true, nanosecond: false };
    case 0xd4c3b2a1:
      return { bigEndian: false, nanosecond: false };
    case 0xa1b23c4d:
      return { bigEndian: true, nanosecond: true };
    case 0x4d3cb2a1:
      return { bigEndian: false, nanosecond: true };
    default:
      return undefined;
  }
}

/** True when `b` starts with a classic pcap magic number (either byte order or resolution). */
export function isPcap(b: Uint8Array): boolean {
  return readMagic(b) !== undefined;
}

/** True when `b` starts like a pcapng file (section header block), which is not supported. */
export function isPcapng(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x0a && b[1] === 0x0d && b[2] === 0x0d && b[3] === 0x0a;
}

/** The IP packet inside one link-layer frame, or undefined if it carries none. */
function ipPacket(linkType: number, f: Uint8Array, bigEndian: boolean): Uint8Array | undefined {
  let ethertype: number;
  let off: number;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (f.length < 14) return undefined;
      off = 12;
      ethertype = (f[off] << 8) | f[off + 1];
      off += 2;
      for (
        let tags = 0;
        tags < 2 && (ethertype === ETHERTYPE_VLAN || ethertype === ETHERTYPE_QINQ);
        tags++
      ) {
        if (f.length < off + 4) return undefined;
        ethertype = (f[off + 2] << 8) | f[off + 3];
        off += 4;
      }
      break;
    }
    case LINKTYPE_LINUX_SLL:
      if (f.length < 16) return undefined;
      ethertype = (f[14] << 8) | f[15];
      off = 16;
      break;
    case LINKTYPE_LINUX_SLL2:
      if (f.length < 20) return undefined;
      ethertype = (f[0] << 8) | f[1];
      off = 20;
      break;
    case LINKTYPE_NULL: {
      if (f.length < 4) return undefined;
      const fam = bigEndian
        ? ((f[0] << 24) | (f[1] << 16) | (f[2] << 8) | f[3]) >>> 0
        : ((f[3] << 24) | (f[2] << 16) | (f[1] << 8) | f[0]) >>> 0;
      // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24, 28 or 30 (BSDs, macOS).
      if (fam === 2) ethertype = ETHERTYPE_IPV4;
      else if (fam === 10 || fam === 24 || fam === 28 || fam === 30) ethertype = ETHERTYPE_IPV6;
      else return undefined;
      off = 4;
      break;
    }
    case LINKTYPE_IPV4:
      return f;
    case LINKTYPE_IPV6:
      return f;
    default:
      // LINKTYPE_RAW and its aliases: caller only passes supported types.
      return f;
  }
  if (ethertype !== ETHERTYPE_IPV4 && ethertype !== ETHERTYPE_IPV6) return undefined;
  const ip = f.subarray(off);
  const version = ip.length > 0 ? ip[0] >> 4 : 0;
  return (ethertype === ETHERTYPE_IPV4 && version === 4) ||
      (ethertype === ETHERTYPE_IPV6 && version === 6)
    ? ip
    : undefined;
}

/** Source, destination and payload of the UDP datagram in an IP packet, if it is one. */
function udpOf(
  ip: Uint8Array,
): { src: InetAddress; dst: InetAddress; data: Uint8Array } | undefined {
  if (ip.length < 1) return undefined;
  const version = ip[0] >> 4;
  let srcIp: Uint8Array, dstIp: Uint8Array, udp: Uint8Array;
  if (version === 4) {
    if (ip.length < 20) return undefined;
    const ihl = (ip[0] & 0x0f) * 4;
    const total = (ip[2] << 8) | ip[3];
    if (ihl < 20 || total < ihl || total > ip.length) return undefined;
    if (ip[9] !== IPPROTO_UDP) return undefined;
    const fragBits = ((ip[6] << 8) | ip[7]) & 0x3fff; // MF flag + fragment offset
    if (fragBits !== 0) return undefined;
    srcIp = ip.subarray(12, 16);
    dstIp = ip.subarray(16, 20);
    udp = ip.subarray(ihl, total);
  } else if (version === 6) {
    if (ip.length < 40) return undefined;
    const payloadLen = (ip[4] << 8) | ip[5];
    if (40 + payloadLen > ip.length) return undefined;
    let next = ip[6];
    let off = 40;
    const end = 40 + payloadLen;
    // Walk extension headers (hop-by-hop, routing, destination options); fragments are skipped.
    for (let n = 0; n < 8 && (next === 0 || next === 43 || next === 60); n++) {
      if (off + 8 > end) return undefined;
      const len = 8 + ip[off + 1] * 8;
      next = ip[off];
      off += len;
    }
    if (next !== IPPROTO_UDP || off > end) return undefined;
    srcIp = ip.subarray(8, 24);
    dstIp = ip.subarray(24, 40);
    udp = ip.subarray(off, end);
  } else {
    return undefined;
  }
  if (udp.length < 8) return undefined;
  const udpLen = (udp[4] << 8) | udp[5];
  if (udpLen < 8 || udpLen > udp.length) return undefined;
  return {
    src: new InetAddress(srcIp, (udp[0] << 8) | udp[1]),
    dst: new InetAddress(dstIp, (udp[2] << 8) | udp[3]),
    data: udp.slice(8, udpLen),
  };
}

/**
 * Reads a classic pcap file (either byte order, micro- or nanosecond timestamps) and returns
 * every complete UDP datagram over IPv4 or IPv6 in file order. Supported link types: Ethernet
 * (with up to two VLAN tags), Linux SLL and SLL2, raw IP (101, 12, 14, 228, 229) and BSD
 * loopback. Frames without a complete UDP datagram are counted in `info.skipped`. A bad magic
 * number, an unsupported link type, a truncated or oversized record is an error. Never throws.
 */
export function parsePcap(b: Uint8Array): PcapResult {
  if (isPcapng(b)) {
    return { ok: false, error: "pcapng is not supported; convert it with: editcap -F pcap" };
  }
  const magic = readMagic(b);
  if (!magic) return { ok: false, error: "not a pcap file (bad magic number)" };
  if (b.length < GLOBAL_HEADER_LENGTH) return { ok: false, error: "truncated pcap header" };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = !magic.bigEndian;
  const major = dv.getUint16(4, le);
  if (major !== 2) return { ok: false, error: `unsupported pcap version ${major}` };
  const linkType = dv.getUint32(20, le) & 0xffff;
  const supported = linkType === LINKTYPE_ETHERNET || linkType === LINKTYPE_LINUX_SLL ||
    linkType === LINKTYPE_LINUX_SLL2 || linkType === LINKTYPE_RAW || linkType === LINKTYPE_NULL ||
    linkType === LINKTYPE_IPV4 || linkType === LINKTYPE_IPV6 || RAW_ALIASES.has(linkType);
  if (!supported) return { ok: false, error: `unsupported pcap link type ${linkType}` };
  const info: PcapInfo = {
    linkType,
    bigEndian: magic.bigEndian,
    nanosecond: magic.nanosecond,
    records: 0,
    skipped: 0,
  };
  const datagrams: CapturedDatagram[] = [];
  const fracDiv = magic.nanosecond ? 1e9 : 1e6;
  let p = GLOBAL_HEADER_LENGTH;
  while (p < b.length) {
    if (p + RECORD_HEADER_LENGTH > b.length) {
      return { ok: false, error: `truncated record header at byte ${p}` };
    }
    const sec = dv.getUint32(p, le);
    const frac = dv.getUint32(p + 4, le);
    const incl = dv.getUint32(p + 8, le);
    if (incl > MAX_PCAP_RECORD_LENGTH) {
      return { ok: false, error: `record at byte ${p} claims ${incl} bytes (corrupt file?)` };
    }
    if (frac >= fracDiv) {
      return { ok: false, error: `record at byte ${p} has an invalid timestamp fraction` };
    }
    const start = p + RECORD_HEADER_LENGTH;
    if (start + incl > b.length) {
      return { ok: false, error: `truncated record at byte ${p} (${incl} bytes announced)` };
    }
    p = start + incl;
    info.records++;
    const frame = b.subarray(start, start + incl);
    // A frame cut by the snap length is caught by the IP/UDP length checks.
    const ip = ipPacket(linkType, frame, magic.bigEndian);
    const udp = ip ? udpOf(ip) : undefined;
    if (!udp) {
      info.skipped++;
      continue;
    }
    if (datagrams.length >= MAX_CAPTURE_DATAGRAMS) {
      return { ok: false, error: `more than ${MAX_CAPTURE_DATAGRAMS} datagrams` };
    }
    datagrams.push({
      time: sec + frac / fracDiv,
      src: udp.src.toString(),
      dst: udp.dst.toString(),
      data: udp.data,
    });
  }
  return { ok: true, datagrams, info };
}
