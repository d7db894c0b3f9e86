// IPv6 NDP emulation (spec §9.11): answers neighbor solicitations for RFC4193/6PLANE peers locally.
import type { InetAddress } from "../vl1/inet_address.ts";
import {
  ETHERNET_HEADER_LENGTH,
  ETHERTYPE_IPV6,
  ethSrc,
  ethType,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  icmpv6Checksum,
  IPPROTO_ICMPV6,
  IPV6_HEADER_LENGTH,
  neighborSolicitationTarget,
  writeEthernetHeader,
} from "./ethernet.ts";
import { macFromAddress, macWriteTo } from "./mac.ts";

/** Length of the synthetic neighbor advertisement as an IPv6 packet. */
export const NDP_ADVERTISEMENT_IP_LENGTH = 72;
/** Length of the synthetic neighbor advertisement as an Ethernet frame. */
export const NDP_ADVERTISEMENT_FRAME_LENGTH = ETHERNET_HEADER_LENGTH + NDP_ADVERTISEMENT_IP_LENGTH;
/** Neighbor advertisement flag byte: solicited (0x40). */
export const NDP_ADVERTISEMENT_FLAGS = 0x40;

/** Largest valid node address. */
const MAX_ADDRESS = 0xff_ffff_ffff;

function read40(b: Uint8Array, off: number): number {
  return b[off] * 0x1_0000_0000 +
    (((b[off + 1] << 24) | (b[off + 2] << 16) | (b[off + 3] << 8) | b[off + 4]) >>> 0);
}

function samePrefix(a: Uint8Array, aOff: number, b: Uint8Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}

/**
 * The ZeroTier address NDP emulation resolves for the IPv6 address `b[off..off+16)`, given our
 * managed addresses `ours` (spec §9.11): inside one of our RFC4193 /88 prefixes (`fd`, bytes
 * 9..10 = 99 93) -> its last 5 bytes; inside one of our 6PLANE /40 prefixes (`fc`) -> bytes 5..9.
 * Returns -1 if neither applies or the result is zero.
 */
export function ndpEmulatedAddress(
  b: Uint8Array,
  off: number,
  ours: readonly InetAddress[],
): number {
  for (const ip of ours) {
    if (ip.family !== 6) continue;
    const o = ip.ip;
    let a = -1;
    if (o[0] === 0xfd && o[9] === 0x99 && o[10] === 0x93 && samePrefix(b, off, o, 11)) {
      a = read40(b, off + 11);
    } else if (o[0] === 0xfc && ip.port === 40 && samePrefix(b, off, o, 5)) {
      a = read40(b, off + 5);
    }
    if (a > 0 && a <= MAX_ADDRESS) return a;
  }
  return -1;
}

/**
 * NDP emulation for one outbound tap frame `frame[start..end)` (a whole Ethernet frame). If it
 * is an ICMPv6 neighbor solicitation for a peer inside our RFC4193/6PLANE prefixes (and not for
 * ourselves, not duplicate-address detection), writes the synthetic neighbor advertisement
 * (Ethernet frame, {@link NDP_ADVERTISEMENT_FRAME_LENGTH} bytes) into `out[0..)` and returns its
 * length; otherwise returns 0 and the frame should be sent normally. The caller checks the
 * network's NDP emulation flag. `out` must hold at least 86 bytes.
 */
export function ndpEmulate(
  nwid: bigint,
  ourAddress: number,
  ours: readonly InetAddress[],
  frame: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
): number {
  if (start < 0 || end > frame.length || end - start < ETHERNET_HEADER_LENGTH) return 0;
  if (out.length < NDP_ADVERTISEMENT_FRAME_LENGTH) return 0;
  if (ethType(frame, start) !== ETHERTYPE_IPV6) return 0;
  const ip = start + ETHERNET_HEADER_LENGTH;
  const t = neighborSolicitationTarget(frame, ip, end);
  if (t < 0) return 0;
  const peer = ndpEmulatedAddress(frame, t, ours);
  if (peer < 0 || peer === ourAddress) return 0;
  // The solicitation's source address; the unspecified address means DAD: never answer.
  let unspecified = true;
  for (let i = 0; i < 16; i++) {
    if (frame[ip + 8 + i] !== 0) {
      unspecified = false;
      break;
    }
  }
  if (unspecified) return 0;

  const requesterMac = ethSrc(frame, start);
  const peerMac = macFromAddress(peer, nwid);
  writeEthernetHeader(out, 0, requesterMac, peerMac, ETHERTYPE_IPV6);
  const o = ETHERNET_HEADER_LENGTH;
  out.fill(0, o, o + NDP_ADVERTISEMENT_IP_LENGTH);
  out[o] = 0x60; // version 6, traffic class 0, flow label 0
  out[o + 4] = 0;
  out[o + 5] = NDP_ADVERTISEMENT_IP_LENGTH - IPV6_HEADER_LENGTH; // payload length 32
  out[o + 6] = IPPROTO_ICMPV6;
  out[o + 7] = 255; // hop limit (required by RFC 4861)
  out.set(frame.subarray(t, t + 16), o + 8); // source = the solicited target
  out.set(frame.subarray(ip + 8, ip + 24), o + 24); // destination = the solicitor
  const icmp = o + IPV6_HEADER_LENGTH;
  out[icmp] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
  out[icmp + 1] = 0;
  out[icmp + 4] = NDP_ADVERTISEMENT_FLAGS;
  out.set(frame.subarray(t, t + 16), icmp + 8);
  out[icmp + 24] = 2; // option: target link-layer address
  out[icmp + 25] = 1; // length in units of 8 bytes
  macWriteTo(peerMac, out, icmp + 26);
  const sum = icmpv6Checksum(out, icmp, icmp + 32, out, o + 8, out, o + 24);
  out[icmp + 2] = sum >>> 8;
  out[icmp + 3] = sum & 0xff;
  return NDP_ADVERTISEMENT_FRAME_LENGTH;
}
