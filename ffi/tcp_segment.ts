// TCP segmentation of GSO super-frames read from a TAP: split one big Ethernet/IP/TCP frame into MSS-sized frames with correct headers and checksums.
//
// The split happens in place: segment i's headers are written just before its payload chunk,
// over the tail of segment i-1's payload, which the sink has already consumed. So a 64 KiB
// super-frame becomes ~24-46 frames without copying any payload and without allocating; the only
// scratch is a copy of the original headers.
import { inetChecksum, pseudoSumV4, pseudoSumV6, setIpv4HeaderChecksum } from "./inet_checksum.ts";
import { VNET_GSO_ECN, VNET_GSO_TCPV4, VNET_GSO_TCPV6 } from "./virtio_net_hdr.ts";

/** Receives each segment: the Ethernet frame `buf[start, end)`, valid only during the call. */
export type SegmentSink = (buf: Uint8Array, start: number, end: number) => void;

/** Longest header block (Ethernet with tags + IP with extensions + TCP) a super-frame may have. */
export const MAX_SEGMENT_HEADERS = 384;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const PROTO_TCP = 6;
const IPV6_HOP_BY_HOP = 0;
const IPV6_DEST_OPTS = 60;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;

/**
 * Splits TCP super-frames (virtio gso_type TCPV4/TCPV6) into ordinary frames, as a NIC with TSO
 * would: each segment carries copies of the headers with IPv4 total length, ID + i and header
 * checksum (or IPv6 payload length), TCP sequence number + offset, FIN/PSH only on the last and
 * CWR only on the first segment, and a complete TCP checksum. Header lengths come from the
 * packet itself (up to two VLAN tags, IPv4 options, IPv6 hop-by-hop / destination options).
 */
export class TcpSegmenter {
  readonly #tpl = new Uint8Array(MAX_SEGMENT_HEADERS);

  /**
   * Segments the super-frame `buf[start, end)` (modified in place) into pieces of `gsoSize`
   * payload bytes and hands each to `sink` in order. Returns the number of segments delivered,
   * or -1 (nothing delivered, nothing thrown) if the frame is malformed: unknown GSO type, not
   * IPv4/IPv6 TCP matching the type, lengths that do not fit, fragments, no payload, gsoSize 0.
   * Bytes after the IP packet's end are ignored. Exceptions from `sink` propagate.
   */
  split(
    buf: Uint8Array,
    start: number,
    end: number,
    gsoType: number,
    gsoSize: number,
    sink: SegmentSink,
  ): number {
    if (start < 0 || end > buf.length || end - start < 14 || gsoSize <= 0) return -1;
    const type = gsoType & ~VNET_GSO_ECN;
    // Ethernet (+ up to two 802.1Q / 802.1ad tags)
    let l2 = 14;
    let etherType = (buf[start + 12] << 8) | buf[start + 13];
    for (let k = 0; k < 2 && (etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ); k++) {
      if (start + l2 + 4 > end) return -1;
      etherType = (buf[start + l2 + 2] << 8) | buf[start + l2 + 3];
      l2 += 4;
    }
    const ip = start + l2;
    let v6: boolean;
    let tcp: number;
    let ipEnd: number;
    if (type === VNET_GSO_TCPV4) {
      if (etherType !== ETHERTYPE_IPV4 || ip + 20 > end || (buf[ip] >>> 4) !== 4) return -1;
      const ihl = (buf[ip] & 15) * 4;
      const total = (buf[ip + 2] << 8) | buf[ip + 3];
      if (ihl < 20 || total < ihl + 20 || ip + total > end) return -1;
      if (((buf[ip + 6] << 8) | buf[ip + 7]) & 0x3fff) return -1; // MF or a fragment offset
      if (buf[ip + 9] !== PROTO_TCP) return -1;
      v6 = false;
      tcp = ip + ihl;
      ipEnd = ip + total;
    } else if (type === VNET_GSO_TCPV6) {
      if (etherType !== ETHERTYPE_IPV6 || ip + 40 > end || (buf[ip] >>> 4) !== 6) return -1;
      const payloadLen = (buf[ip + 4] << 8) | buf[ip + 5];
      if (payloadLen === 0 || ip + 40 + payloadLen > end) return -1; // 0: jumbogram
      ipEnd = ip + 40 + payloadLen;
      let next = buf[ip + 6];
      tcp = ip + 40;
      for (let k = 0; k < 4 && next !== PROTO_TCP; k++) {
        if ((next !== IPV6_HOP_BY_HOP && next !== IPV6_DEST_OPTS) || tcp + 8 > ipEnd) return -1;
        next = buf[tcp];
        tcp += (buf[tcp + 1] + 1) * 8;
      }
      if (next !== PROTO_TCP) return -1;
      v6 = true;
    } else {
      return -1;
    }
    if (tcp + 20 > ipEnd) return -1;
    const thl = (buf[tcp + 12] >>> 4) * 4;
    if (thl < 20 || tcp + thl > ipEnd) return -1;
    const hlen = tcp + thl - start;
    const payload = ipEnd - (tcp + thl);
    if (hlen > MAX_SEGMENT_HEADERS || payload <= 0) return -1;

    const tpl = this.#tpl;
    for (let j = 0; j < hlen; j++) tpl[j] = buf[start + j];
    const ipRel = l2;
    const tcpRel = tcp - start;
    const ipHdrLen = tcpRel - ipRel; // IPv4 header, or IPv6 header + extension headers
    const seq0 = ((tpl[tcpRel + 4] << 24) | (tpl[tcpRel + 5] << 16) | (tpl[tcpRel + 6] << 8) |
      tpl[tcpRel + 7]) >>> 0;
    const id0 = (tpl[ipRel + 4] << 8) | tpl[ipRel + 5];
    const flags0 = tpl[tcpRel + 13];
    const count = Math.ceil(payload / gsoSize);
    const payloadStart = start + hlen;
    for (let i = 0; i < count; i++) {
      const pStart = payloadStart + i * gsoSize;
      const pEnd = Math.min(pStart + gsoSize, ipEnd);
      const hs = pStart - hlen;
      if (i > 0) { for (let j = 0; j < hlen; j++) buf[hs + j] = tpl[j]; }
      const chunk = pEnd - pStart;
      const ipo = hs + ipRel;
      const tco = hs + tcpRel;
      if (v6) {
        const pl = ipHdrLen - 40 + thl + chunk;
        buf[ipo + 4] = pl >>> 8;
        buf[ipo + 5] = pl & 0xff;
      } else {
        const total = ipHdrLen + thl + chunk;
        const id = (id0 + i) & 0xffff;
        buf[ipo + 2] = total >>> 8;
        buf[ipo + 3] = total & 0xff;
        buf[ipo + 4] = id >>> 8;
        buf[ipo + 5] = id & 0xff;
        setIpv4HeaderChecksum(buf, ipo, ipHdrLen);
      }
      const seq = (seq0 + i * gsoSize) >>> 0;
      buf[tco + 4] = seq >>> 24;
      buf[tco + 5] = (seq >>> 16) & 0xff;
      buf[tco + 6] = (seq >>> 8) & 0xff;
      buf[tco + 7] = seq & 0xff;
      let flags = flags0;
      if (i > 0) flags &= ~TCP_CWR;
      if (i < count - 1) flags &= ~(TCP_FIN | TCP_PSH);
      buf[tco + 13] = flags;
      buf[tco + 16] = 0;
      buf[tco + 17] = 0;
      const tcpLen = thl + chunk;
      const pseudo = v6
        ? pseudoSumV6(buf, ipo, PROTO_TCP, tcpLen)
        : pseudoSumV4(buf, ipo, PROTO_TCP, tcpLen);
      const c = inetChecksum(buf, tco, pEnd, pseudo);
      buf[tco + 16] = c >>> 8;
      buf[tco + 17] = c & 0xff;
      sink(buf, hs, pEnd);
    }
    return count;
  }
}
