// ICMPv4 (RFC 792) echo and ICMPv6 (RFC 4443) echo plus NDP (RFC 4861) neighbor messages.
import { checksum, fold, pseudoSum, sum16 } from "./checksum.ts";
import { readMac, writeMac } from "./ethernet.ts";

/** ICMPv4 echo request/reply types. */
export const ICMP_ECHO_REQUEST = 8, ICMP_ECHO_REPLY = 0;
/** ICMPv6 types. */
export const ICMP6_ECHO_REQUEST = 128,
  ICMP6_ECHO_REPLY = 129,
  NDP_NS = 135,
  NDP_NA = 136;

/** A parsed ICMP message (type, code; body is `bytes[bodyStart, end)` after the 4-byte head). */
export interface IcmpMessage {
  type: number;
  code: number;
  bytes: Uint8Array;
  bodyStart: number;
  end: number;
}

/** Parses ICMPv4 at `b[off, end)`; undefined if short or bad checksum. */
export function parseIcmp4(b: Uint8Array, off: number, end: number): IcmpMessage | undefined {
  if (end - off < 8 || checksum(b, off, end) !== 0) return undefined;
  return { type: b[off], code: b[off + 1], bytes: b, bodyStart: off + 4, end };
}

/** Parses ICMPv6 at `b[off, end)` sent `src` → `dst`; undefined if short or bad checksum. */
export function parseIcmp6(
  b: Uint8Array,
  off: number,
  end: number,
  src: Uint8Array,
  dst: Uint8Array,
): IcmpMessage | undefined {
  if (end - off < 8) return undefined;
  if (fold(sum16(b, off, end, pseudoSum(src, dst, 58, end - off))) !== 0) return undefined;
  return { type: b[off], code: b[off + 1], bytes: b, bodyStart: off + 4, end };
}

/** Writes ICMPv4 `type`/`code` + body at `b[off]` with checksum; returns the length. */
export function writeIcmp4(
  b: Uint8Array,
  off: number,
  type: number,
  code: number,
  body: Uint8Array,
): number {
  b[off] = type;
  b[off + 1] = code;
  b[off + 2] = b[off + 3] = 0;
  b.set(body, off + 4);
  const c = checksum(b, off, off + 4 + body.length);
  b[off + 2] = c >> 8;
  b[off + 3] = c & 0xff;
  return 4 + body.length;
}

/** Writes ICMPv6 `type`/`code` + body at `b[off]` with checksum for `src` → `dst`. */
export function writeIcmp6(
  b: Uint8Array,
  off: number,
  type: number,
  code: number,
  body: Uint8Array,
  src: Uint8Array,
  dst: Uint8Array,
): number {
  const len = 4 + body.length;
  b[off] = type;
  b[off + 1] = code;
  b[off + 2] = b[off + 3] = 0;
  b.set(body, off + 4);
  const c = fold(sum16(b, off, off + len, pseudoSum(src, dst, 58, len)));
  b[off + 2] = c >> 8;
  b[off + 3] = c & 0xff;
  return len;
}

/** A neighbor solicitation/advertisement: target and link-layer address option if any. */
export interface NdpMessage {
  target: Uint8Array;
  /** Source (NS) or target (NA) link-layer address option. */
  mac?: number;
  /** NA flags byte (R, S, O in the top bits). */
  flags: number;
}

/** Parses the body of an NS/NA (after the ICMPv6 head); undefined if malformed. */
export function parseNdp(m: IcmpMessage): NdpMessage | undefined {
  const b = m.bytes;
  if (m.code !== 0 || m.end - m.bodyStart < 20) return undefined;
  const out: NdpMessage = {
    target: b.slice(m.bodyStart + 4, m.bodyStart + 20),
    flags: b[m.bodyStart],
  };
  for (let i = m.bodyStart + 20; i < m.end;) {
    if (i + 2 > m.end) return undefined;
    const olen = b[i + 1] * 8;
    if (olen === 0 || i + olen > m.end) return undefined;
    if ((b[i] === 1 || b[i] === 2) && olen === 8) out.mac = readMac(b, i + 2);
    i += olen;
  }
  return out;
}

/** The body of an NS (`opt` 1) or NA (`opt` 2) for `target` with our MAC as option. */
export function ndpBody(target: Uint8Array, mac: number, opt: 1 | 2, flags = 0): Uint8Array {
  const body = new Uint8Array(28);
  body[0] = flags;
  body.set(target, 4);
  body[20] = opt;
  body[21] = 1;
  writeMac(body, 22, mac);
  return body;
}
