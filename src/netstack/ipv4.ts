// IPv4 (RFC 791): header parse/build with checksum, and bounded fragment reassembly (RFC 815).
import { checksum } from "./checksum.ts";

/** A parsed IPv4 packet: header fields and the payload `bytes[payloadStart, payloadEnd)`. */
export interface Ipv4Packet {
  src: Uint8Array;
  dst: Uint8Array;
  proto: number;
  ttl: number;
  id: number;
  /** More-fragments flag. */
  mf: boolean;
  /** Don't-fragment flag. */
  df: boolean;
  /** Fragment offset in bytes. */
  fragOffset: number;
  bytes: Uint8Array;
  payloadStart: number;
  payloadEnd: number;
}

/** Parses an IPv4 packet at `b[off, end)`; undefined if malformed or the checksum is wrong. */
export function parseIpv4(b: Uint8Array, off: number, end = b.length): Ipv4Packet | undefined {
  if (end - off < 20 || b[off] >> 4 !== 4) return undefined;
  const ihl = (b[off] & 0x0f) * 4;
  const total = (b[off + 2] << 8) | b[off + 3];
  if (ihl < 20 || total < ihl || total > end - off) return undefined;
  if (checksum(b, off, off + ihl) !== 0) return undefined;
  const flags = b[off + 6];
  if (flags & 0x80) return undefined; // reserved bit
  return {
    src: b.slice(off + 12, off + 16),
    dst: b.slice(off + 16, off + 20),
    proto: b[off + 9],
    ttl: b[off + 8],
    id: (b[off + 4] << 8) | b[off + 5],
    mf: (flags & 0x20) !== 0,
    df: (flags & 0x40) !== 0,
    fragOffset: (((flags & 0x1f) << 8) | b[off + 7]) * 8,
    bytes: b,
    payloadStart: off + ihl,
    payloadEnd: off + total,
  };
}

/** Writes a 20-byte IPv4 header at `b[off]` for `payloadLen` bytes (DF set, checksum filled). */
export function writeIpv4Header(
  b: Uint8Array,
  off: number,
  src: Uint8Array,
  dst: Uint8Array,
  proto: number,
  payloadLen: number,
  id: number,
  ttl = 64,
): void {
  const total = 20 + payloadLen;
  b[off] = 0x45;
  b[off + 1] = 0;
  b[off + 2] = total >> 8;
  b[off + 3] = total & 0xff;
  b[off + 4] = (id >> 8) & 0xff;
  b[off + 5] = id & 0xff;
  b[off + 6] = 0x40;
  b[off + 7] = 0;
  b[off + 8] = ttl;
  b[off + 9] = proto;
  b[off + 10] = b[off + 11] = 0;
  b.set(src, off + 12);
  b.set(dst, off + 16);
  const c = checksum(b, off, off + 20);
  b[off + 10] = c >> 8;
  b[off + 11] = c & 0xff;
}

/** Limits of {@link Reassembler}. */
export interface ReassemblyLimits {
  /** Most datagrams being reassembled at once (oldest dropped beyond). */
  maxDatagrams: number;
  /** Largest reassembled datagram payload. */
  maxBytes: number;
  /** How long a partial datagram is kept, ms. */
  timeoutMs: number;
}

interface Partial {
  key: string;
  started: number;
  data: Uint8Array;
  /** Received [start, end) ranges. */
  ranges: [number, number][];
  total: number;
}

/** Bounded IPv4 fragment reassembly; time is passed in. */
export class Reassembler {
  readonly #limits: ReassemblyLimits;
  readonly #parts = new Map<string, Partial>();
  /** Datagrams dropped (timeout, overflow, overlap or too big). */
  dropped = 0;

  constructor(limits: ReassemblyLimits = { maxDatagrams: 16, maxBytes: 65535, timeoutMs: 30_000 }) {
    this.#limits = limits;
  }

  /** Number of datagrams in progress. */
  get pending(): number {
    return this.#parts.size;
  }

  /**
   * Adds a fragment; returns the whole payload when complete, else undefined.
   */
  add(now: number, p: Ipv4Packet): Uint8Array | undefined {
    const key = `${p.src.join(".")}>${p.dst.join(".")}/${p.proto}/${p.id}`;
    const len = p.payloadEnd - p.payloadStart;
    const start = p.fragOffset, end = start + len;
    if (end > this.#limits.maxBytes || (p.mf && len % 8 !== 0) || len === 0) {
      this.#drop(key);
      return undefined;
    }
    let part = this.#parts.get(key);
    if (!part) {
      while (this.#parts.size >= this.#limits.maxDatagrams) {
        const oldest = this.#parts.keys().next().value as string;
        this.#drop(oldest);
      }
      part = { key, started: now, data: new Uint8Array(0), ranges: [], total: -1 };
      this.#parts.set(key, part);
    }
    if (!p.mf) {
      if (part.total >= 0 && part.total !== end) return this.#drop(key);
      part.total = end;
    }
    for (const [s, e] of part.ranges) {
      if (start < e && s < end) return this.#drop(key); // overlap: drop (RFC 5722 style)
    }
    if (part.total >= 0 && end > part.total) return this.#drop(key);
    if (part.data.length < end) {
      const grown = new Uint8Array(
        Math.min(this.#limits.maxBytes, Math.max(end, part.data.length * 2)),
      );
      grown.set(part.data);
      part.data = grown;
    }
    part.data.set(p.bytes.subarray(p.payloadStart, p.payloadEnd), start);
    part.ranges.push([start, end]);
    if (part.total < 0) return undefined;
    let have = 0;
    for (const [s, e] of part.ranges) have += e - s;
    if (have !== part.total) return undefined;
    this.#parts.delete(key);
    return part.data.slice(0, part.total);
  }

  /** Drops datagrams older than the timeout. */
  expire(now: number): void {
    for (const [k, p] of this.#parts) {
      if (now - p.started >= this.#limits.timeoutMs) this.#drop(k);
    }
  }

  /** The earliest expiry, or Infinity. */
  nextDeadline(): number {
    let d = Infinity;
    for (const p of this.#parts.values()) d = Math.min(d, p.started + this.#limits.timeoutMs);
    return d;
  }

  #drop(key: string): undefined {
    if (this.#parts.delete(key)) this.dropped++;
    return undefined;
  }
}
