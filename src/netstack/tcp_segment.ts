// TCP segments (RFC 9293 §3.1): header and option parse (MSS, window scale, SACK-permitted) and build.
import { fold, pseudoSum, sum16 } from "./checksum.ts";

/** TCP flag bits. */
export const FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20;

/** A parsed TCP segment; payload is `bytes[payloadStart, payloadEnd)`. */
export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** MSS option, if present. */
  mss?: number;
  /** Window-scale option shift, if present (clamped to 14). */
  wscale?: number;
  /** SACK-permitted option seen. */
  sackOk?: boolean;
  /** SACK blocks, if present. */
  sack?: [number, number][];
  bytes: Uint8Array;
  payloadStart: number;
  payloadEnd: number;
}

/**
 * Parses a TCP segment at `b[off, end)` and checks its checksum against the pseudo header of
 * `src` → `dst`; undefined if malformed (bad offset, bad options, bad checksum).
 */
export function parseTcp(
  b: Uint8Array,
  off: number,
  end: number,
  src: Uint8Array,
  dst: Uint8Array,
): TcpSegment | undefined {
  const len = end - off;
  if (len < 20) return undefined;
  const doff = (b[off + 12] >> 4) * 4;
  if (doff < 20 || doff > len) return undefined;
  if (fold(sum16(b, off, end, pseudoSum(src, dst, 6, len))) !== 0) return undefined;
  const seg: TcpSegment = {
    srcPort: (b[off] << 8) | b[off + 1],
    dstPort: (b[off + 2] << 8) | b[off + 3],
    seq: ((b[off + 4] << 24) | (b[off + 5] << 16) | (b[off + 6] << 8) | b[off + 7]) >>> 0,
    ack: ((b[off + 8] << 24) | (b[off + 9] << 16) | (b[off + 10] << 8) | b[off + 11]) >>> 0,
    flags: b[off + 13] & 0x3f,
    window: (b[off + 14] << 8) | b[off + 15],
    bytes: b,
    payloadStart: off + doff,
    payloadEnd: end,
  };
  return parseTcpOptions(b, off + 20, off + doff, seg) ? seg : undefined;
}

/** Reads options in `b[i, end)` into `seg`; false if malformed. */
export function parseTcpOptions(
  b: Uint8Array,
  start: number,
  end: number,
  seg: Pick<TcpSegment, "mss" | "wscale" | "sackOk" | "sack">,
): boolean {
  let i = start;
  while (i < end) {
    const kind = b[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false;
    const olen = b[i + 1];
    if (olen < 2 || i + olen > end) return false;
    if (kind === 2) {
      if (olen !== 4) return false;
      seg.mss = (b[i + 2] << 8) | b[i + 3];
    } else if (kind === 3) {
      if (olen !== 3) return false;
      seg.wscale = Math.min(14, b[i + 2]);
    } else if (kind === 4) {
      if (olen !== 2) return false;
      seg.sackOk = true;
    } else if (kind === 5) {
      if ((olen - 2) % 8 !== 0 || olen < 10 || olen > 34) return false;
      const blocks: [number, number][] = [];
      for (let j = i + 2; j < i + olen; j += 8) {
        const rd = (k: number) =>
          ((b[k] << 24) | (b[k + 1] << 16) | (b[k + 2] << 8) | b[k + 3]) >>> 0;
        blocks.push([rd(j), rd(j + 4)]);
      }
      seg.sack = blocks;
    }
    i += olen;
  }
  return true;
}

/** What to put in an outgoing segment. */
export interface TcpOut {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  mss?: number;
  wscale?: number;
  /** Send SACK-permitted (SYN only). */
  sackOk?: boolean;
  /** SACK blocks (RFC 2018), [left, right) sequence pairs, at most {@link MAX_SACK_BLOCKS}. */
  sack?: [number, number][];
}

/** Most SACK blocks in one segment (4 fit in 40 option bytes without timestamps). */
export const MAX_SACK_BLOCKS = 4;

/** Bytes of options {@link writeTcp} writes for `s`. */
export function tcpOptionsLen(s: TcpOut): number {
  const sack = s.sack?.length ? 4 + 8 * Math.min(s.sack.length, MAX_SACK_BLOCKS) : 0;
  return (s.mss !== undefined ? 4 : 0) + (s.wscale !== undefined ? 4 : 0) + (s.sackOk ? 4 : 0) +
    sack;
}

/**
 * Writes header, options and `payload[ps, pe)` at `b[off]` and fills the checksum for
 * `src` → `dst`. Returns the segment length.
 */
export function writeTcp(
  b: Uint8Array,
  off: number,
  s: TcpOut,
  src: Uint8Array,
  dst: Uint8Array,
  payload?: Uint8Array,
  ps = 0,
  pe = payload?.length ?? 0,
): number {
  const hlen = 20 + tcpOptionsLen(s);
  const len = hlen + (pe - ps);
  b[off] = s.srcPort >> 8;
  b[off + 1] = s.srcPort & 0xff;
  b[off + 2] = s.dstPort >> 8;
  b[off + 3] = s.dstPort & 0xff;
  b[off + 4] = s.seq >>> 24;
  b[off + 5] = (s.seq >>> 16) & 0xff;
  b[off + 6] = (s.seq >>> 8) & 0xff;
  b[off + 7] = s.seq & 0xff;
  b[off + 8] = s.ack >>> 24;
  b[off + 9] = (s.ack >>> 16) & 0xff;
  b[off + 10] = (s.ack >>> 8) & 0xff;
  b[off + 11] = s.ack & 0xff;
  b[off + 12] = (hlen / 4) << 4;
  b[off + 13] = s.flags;
  b[off + 14] = s.window >> 8;
  b[off + 15] = s.window & 0xff;
  b[off + 16] =
    b[off + 17] =
    b[off + 18] =
    b[off + 19] =
      0;
  let o = off + 20;
  if (s.mss !== undefined) {
    b.set([2, 4, s.mss >> 8, s.mss & 0xff], o);
    o += 4;
  }
  if (s.wscale !== undefined) {
    b.set([1, 3, 3, s.wscale], o);
    o += 4;
  }
  if (s.sackOk) {
    b.set([1, 1, 4, 2], o);
    o += 4;
  }
  if (s.sack?.length) {
    const blocks = s.sack.slice(0, MAX_SACK_BLOCKS);
    b.set([1, 1, 5, 2 + 8 * blocks.length], o);
    o += 4;
    for (const [l, r] of blocks) {
      for (const v of [l, r]) {
        b[o] = v >>> 24;
        b[o + 1] = (v >>> 16) & 0xff;
        b[o + 2] = (v >>> 8) & 0xff;
        b[o + 3] = v & 0xff;
        o += 4;
      }
    }
  }
  if (payload && pe > ps) b.set(payload.subarray(ps, pe), o);
  const c = fold(sum16(b, off, off + len, pseudoSum(src, dst, 6, len)));
  b[off + 16] = c >> 8;
  b[off + 17] = c & 0xff;
  return len;
}
