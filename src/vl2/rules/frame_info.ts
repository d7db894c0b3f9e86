// Parses one Ethernet frame once into the fields rule matching needs (spec §8.3), without copying it.
import { BROADCAST_MAC, isMulticastMac, macFromBytes } from "../mac.ts";

/** Ethertypes the rules engine looks into. */
export const ETHER_IPV4 = 0x0800;
/** ARP. */
export const ETHER_ARP = 0x0806;
/** IPv6. */
export const ETHER_IPV6 = 0x86dd;

/**
 * The rule-relevant view of one frame. Offsets are absolute indexes into `data`; -1 means "not
 * present". The payload is `data[start..end)` = the Ethernet payload (starting at the IP header);
 * nothing is copied, so the view is valid only while the buffer is.
 */
export interface FrameInfo {
  /** Buffer holding the payload. */
  readonly data: Uint8Array;
  /** Payload start in `data`. */
  readonly start: number;
  /** Payload end in `data`. */
  readonly end: number;
  /** Payload length (the "frame length" of FRAME_SIZE_RANGE and TEE lengths). */
  readonly length: number;
  /** Ethertype. */
  readonly etherType: number;
  /** VLAN id (0: the reference never passes another). */
  readonly vlanId: number;
  /** Source MAC (48-bit). */
  readonly macSource: number;
  /** Destination MAC (48-bit). */
  readonly macDest: number;
  /** Destination MAC is multicast (includes broadcast). */
  readonly multicast: boolean;
  /** Destination MAC is ff:ff:ff:ff:ff:ff. */
  readonly broadcast: boolean;
  /** 4 = IPv4 with >= 20 bytes, 6 = IPv6 with >= 40 bytes, 0 = neither. */
  readonly ipVersion: 0 | 4 | 6;
  /** Offset of the source IP (4 or 16 bytes by `ipVersion`). */
  readonly ipSourceOffset: number;
  /** Offset of the destination IP. */
  readonly ipDestOffset: number;
  /** IPv4 TOS byte or IPv6 traffic class; -1 if not IP. */
  readonly tos: number;
  /**
   * IPv4 protocol, or IPv6 next header after hop-by-hop / routing / destination-options /
   * mobility headers; -1 if not IP or the IPv6 header chain is malformed.
   */
  readonly protocol: number;
  /**
   * Offset of the transport header: IPv4 start + 4 × IHL (not validated, as in the reference);
   * IPv6 after the header chain; -1 if not IP or the IPv6 chain is malformed.
   */
  readonly l4Offset: number;
  /** TCP/UDP/SCTP/UDP-Lite source port when the payload holds it (IPv4: > 4 bytes), else -1. */
  readonly sourcePort: number;
  /** Destination port, same conditions; -1 if absent. */
  readonly destPort: number;
  /** ICMP (v4) / ICMPv6 type when present (>= 2 bytes), else -1. */
  readonly icmpType: number;
  /** ICMP code when present, else -1. */
  readonly icmpCode: number;
  /** TCP flag bits 0..11 (flags byte | (data-offset-byte low nibble) << 8); 0 if not TCP. */
  readonly tcpFlags: number;
  /** IPv4 "more fragments" flag. */
  readonly moreFragments: boolean;
  /** IPv4 fragment offset (8-byte units); 0 otherwise. */
  readonly fragmentOffset: number;
  /** A fragment: IPv4 MF or non-zero offset, or an IPv6 fragment header (next header 44). */
  readonly fragment: boolean;
  /**
   * Offset of the sender address used for the ipauth characteristic (IPv4 source, IPv6 source or
   * neighbor-advertisement target, ARP sender IP); -1 if none.
   */
  readonly authIpOffset: number;
  /** Length of that address (4 or 16; 0 if none). */
  readonly authIpLength: number;
  /** IPv6 neighbor solicitation: counts as IP-authenticated (spec §8.3). */
  readonly neighborSolicitation: boolean;
}

const PORT_PROTOCOLS = new Set([6, 17, 132, 136]);

/**
 * The IPv6 upper-layer protocol and its offset for the packet at `b[s..e)` (spec §8.3): skips
 * hop-by-hop (0), routing (43), destination options (60) and mobility (135) headers. Undefined if
 * shorter than 40 bytes or an extension header runs past the end.
 */
function ipv6Payload(b: Uint8Array, s: number, e: number): [number, number] | undefined {
  const len = e - s;
  if (len < 40) return undefined;
  let pos = 40;
  let proto = b[s + 6];
  while (pos <= len) {
    if (proto !== 0 && proto !== 43 && proto !== 60 && proto !== 135) return [proto, pos];
    if (pos + 8 > len) return undefined;
    proto = b[s + pos];
    pos += b[s + pos + 1] * 8 + 8;
  }
  return undefined;
}

/**
 * Parses the Ethernet payload `data[start..end)` sent from `macSource` to `macDest` with
 * `etherType` (how FRAME / EXT_FRAME carry it). Never reads outside `[start, end)`; a window
 * outside `data` is clamped to it.
 */
export function parseFrame(
  macSource: number,
  macDest: number,
  etherType: number,
  data: Uint8Array,
  start: number,
  end: number,
  vlanId = 0,
): FrameInfo {
  const s = Math.max(0, Math.min(start, data.length));
  const e = Math.max(s, Math.min(end, data.length));
  const len = e - s;
  const b = data;
  let ipVersion: 0 | 4 | 6 = 0;
  let ipSourceOffset = -1, ipDestOffset = -1, tos = -1, protocol = -1, l4Offset = -1;
  let sourcePort = -1, destPort = -1, icmpType = -1, icmpCode = -1, tcpFlags = 0;
  let moreFragments = false, fragmentOffset = 0, fragment = false;
  let authIpOffset = -1, authIpLength = 0, neighborSolicitation = false;
  const at = (o: number) => (o >= 0 && o < len ? b[s + o] : 0);

  if (etherType === ETHER_IPV4 && len >= 20) {
    ipVersion = 4;
    ipSourceOffset = s + 12;
    ipDestOffset = s + 16;
    authIpOffset = s + 12;
    authIpLength = 4;
    tos = b[s + 1];
    protocol = b[s + 9];
    const hl = (b[s] & 0xf) * 4;
    l4Offset = s + hl;
    const ff = (b[s + 6] << 8) | b[s + 7];
    moreFragments = (ff & 0x2000) !== 0;
    fragmentOffset = ff & 0x1fff;
    fragment = moreFragments || fragmentOffset !== 0;
    if (PORT_PROTOCOLS.has(protocol) && len > hl + 4) {
      sourcePort = (b[s + hl] << 8) | b[s + hl + 1];
      destPort = (b[s + hl + 2] << 8) | b[s + hl + 3];
    }
    if (protocol === 1 && len >= hl + 2) {
      icmpType = b[s + hl];
      icmpCode = b[s + hl + 1];
    }
    if (protocol === 6) tcpFlags = at(hl + 13) | ((at(hl + 12) & 0x0f) << 8);
  } else if (etherType === ETHER_IPV6 && len >= 40) {
    ipVersion = 6;
    ipSourceOffset = s + 8;
    ipDestOffset = s + 24;
    tos = ((b[s] << 4) & 0xf0) | ((b[s + 1] >> 4) & 0x0f);
    const p = ipv6Payload(b, s, e);
    if (p) {
      const [proto, pos] = p;
      protocol = proto;
      l4Offset = s + pos;
      fragment = proto === 44;
      if (PORT_PROTOCOLS.has(proto) && len > pos + 4) {
        sourcePort = (b[s + pos] << 8) | b[s + pos + 1];
        destPort = (b[s + pos + 2] << 8) | b[s + pos + 3];
      }
      if (proto === 58 && len >= pos + 2) {
        icmpType = b[s + pos];
        icmpCode = b[s + pos + 1];
      }
      if (proto === 6 && len > pos + 14) {
        tcpFlags = b[s + pos + 13] | ((b[s + pos + 12] & 0x0f) << 8);
      }
    }
    // NDP: solicitations carry no reliable source; advertisements use the target address.
    if (len >= 64 && b[s + 6] === 58 && (b[s + 40] === 135 || b[s + 40] === 136)) {
      if (b[s + 40] === 135) neighborSolicitation = true;
      else {
        authIpOffset = s + 48;
        authIpLength = 16;
      }
    } else {
      authIpOffset = s + 8;
      authIpLength = 16;
    }
  } else if (etherType === ETHER_ARP && len >= 28) {
    authIpOffset = s + 14;
    authIpLength = 4;
  }

  return {
    data,
    start: s,
    end: e,
    length: len,
    etherType,
    vlanId,
    macSource,
    macDest,
    multicast: isMulticastMac(macDest),
    broadcast: macDest === BROADCAST_MAC,
    ipVersion,
    ipSourceOffset,
    ipDestOffset,
    tos,
    protocol,
    l4Offset,
    sourcePort,
    destPort,
    icmpType,
    icmpCode,
    tcpFlags,
    moreFragments,
    fragmentOffset,
    fragment,
    authIpOffset,
    authIpLength,
    neighborSolicitation,
  };
}

/**
 * Parses a whole Ethernet frame `data[start..end)` (dst MAC, src MAC, ethertype, payload - as a
 * tap delivers it). No 802.1Q unwrapping (like the reference, a tagged frame has ethertype
 * 0x8100). Undefined if shorter than the 14-byte header.
 */
export function parseEthernetFrame(
  data: Uint8Array,
  start: number,
  end: number,
): FrameInfo | undefined {
  if (start < 0 || end > data.length || end - start < 14) return undefined;
  return parseFrame(
    macFromBytes(data, start + 6),
    macFromBytes(data, start),
    (data[start + 12] << 8) | data[start + 13],
    data,
    start + 14,
    end,
  );
}
