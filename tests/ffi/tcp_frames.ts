// Test helpers: hand-built Ethernet/IPv4/IPv6/TCP/UDP frames and an independent, naive checksum verifier for the TAP offload tests.

/** Naive Internet checksum: big-endian words, end-around carry after every add; `~sum`. */
export function naiveChecksum(
  b: Uint8Array,
  start: number,
  end: number,
  extraWords: number[] = [],
): number {
  let s = 0;
  const add = (w: number) => {
    s += w;
    if (s > 0xffff) s = (s & 0xffff) + 1;
  };
  for (const w of extraWords) add(w);
  for (let i = start; i < end; i += 2) add((b[i] << 8) | (i + 1 < end ? b[i + 1] : 0));
  return ~s & 0xffff;
}

/** Pseudo-header words of the IP header at `ip` for protocol `proto` and length `len`. */
export function pseudoWords(b: Uint8Array, ip: number, v6: boolean, proto: number, len: number) {
  const w: number[] = [];
  const from = v6 ? 8 : 12;
  const to = v6 ? 40 : 20;
  for (let i = from; i < to; i += 2) w.push((b[ip + i] << 8) | b[ip + i + 1]);
  w.push(proto, len >>> 16, len & 0xffff);
  return w;
}

const u16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number) =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** A TCP segment to build with {@link tcpFrame}. */
export interface SegSpec {
  v6?: boolean;
  seq: number;
  ack?: number;
  flags?: number;
  window?: number;
  /** TCP option bytes (padded to 4 by the caller). */
  options?: Uint8Array;
  payload: Uint8Array;
  id?: number;
  ttl?: number;
  tos?: number;
  df?: boolean;
  mf?: boolean;
  /** Extra IPv4 option bytes (multiple of 4). */
  ipOptions?: number;
  srcPort?: number;
  dstPort?: number;
  /** Last byte of the source IP (flows). */
  srcHost?: number;
  /** First byte of the destination MAC. */
  dstMac0?: number;
  /** 802.1Q tag (VLAN id). */
  vlan?: number;
  /** IPv6: an 8-byte hop-by-hop header before TCP. */
  hopByHop?: boolean;
  /** IPv6 flow label. */
  flowLabel?: number;
  /** Checksum field: "full" (default), "partial" (folded pseudo-header sum, as NEEDS_CSUM). */
  csum?: "full" | "partial";
  /** IP length override (lie). */
  ipLenOverride?: number;
}

/** Offsets of a frame built by {@link tcpFrame}. */
export interface Layout {
  ip: number;
  tcp: number;
  payload: number;
  end: number;
}

/** Where the IP and TCP headers of `f` are (untagged or one tag; IPv6 with optional HBH). */
export function layout(f: Uint8Array): Layout {
  let ip = 14;
  if (u16(f, 12) === 0x8100) ip += 4;
  const v6 = (f[ip] >> 4) === 6;
  let tcp = v6 ? ip + 40 : ip + (f[ip] & 15) * 4;
  if (v6 && f[ip + 6] === 0) tcp += 8;
  const end = v6 ? ip + 40 + u16(f, ip + 4) : ip + u16(f, ip + 2);
  return { ip, tcp, payload: tcp + (f[tcp + 12] >> 4) * 4, end };
}

/** Builds an Ethernet frame carrying one TCP segment with correct checksums. */
export function tcpFrame(s: SegSpec): Uint8Array {
  const v6 = s.v6 ?? false;
  const l2 = s.vlan !== undefined ? 18 : 14;
  const ipOpt = s.ipOptions ?? 0;
  const ipHl = v6 ? 40 + (s.hopByHop ? 8 : 0) : 20 + ipOpt;
  const opts = s.options ?? new Uint8Array(0);
  const thl = 20 + opts.length;
  const f = new Uint8Array(l2 + ipHl + thl + s.payload.length);
  f.set([s.dstMac0 ?? 0x32, 0, 0, 0, 0, 2, 0x32, 0, 0, 0, 0, 1]);
  if (s.vlan !== undefined) {
    f.set([0x81, 0x00, s.vlan >> 8, s.vlan & 0xff], 12);
  }
  f.set(v6 ? [0x86, 0xdd] : [0x08, 0x00], l2 - 2);
  const ip = l2;
  const ipLen = s.ipLenOverride ?? (v6 ? ipHl - 40 : ipHl) + thl + s.payload.length;
  const host = s.srcHost ?? 1;
  if (v6) {
    const fl = s.flowLabel ?? 0x12345;
    const tc = s.tos ?? 0;
    f.set([0x60 | (tc >> 4), ((tc & 15) << 4) | (fl >> 16), (fl >> 8) & 0xff, fl & 0xff], ip);
    f[ip + 4] = ipLen >> 8;
    f[ip + 5] = ipLen & 0xff;
    f[ip + 6] = s.hopByHop ? 0 : 6;
    f[ip + 7] = s.ttl ?? 64;
    f.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, host], ip + 8);
    f.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], ip + 24);
    if (s.hopByHop) f.set([6, 0, 1, 4, 0, 0, 0, 0], ip + 40); // next TCP, PadN
  } else {
    f[ip] = 0x40 | (ipHl / 4);
    f[ip + 1] = s.tos ?? 0;
    f[ip + 2] = ipLen >> 8;
    f[ip + 3] = ipLen & 0xff;
    const id = s.id ?? 0x1234;
    f[ip + 4] = id >> 8;
    f[ip + 5] = id & 0xff;
    f[ip + 6] = ((s.df ?? true) ? 0x40 : 0) | (s.mf ? 0x20 : 0);
    f[ip + 8] = s.ttl ?? 64;
    f[ip + 9] = 6;
    f.set([198, 19, 0, host], ip + 12);
    f.set([198, 19, 0, 2], ip + 16);
    for (let i = 20; i < ipHl; i++) f[ip + i] = 1; // NOP options
    const c = naiveChecksum(f, ip, ip + ipHl);
    f[ip + 10] = c >> 8;
    f[ip + 11] = c & 0xff;
  }
  const t = ip + ipHl;
  const sp = s.srcPort ?? 40000;
  const dp = s.dstPort ?? 5201;
  f.set([sp >> 8, sp & 0xff, dp >> 8, dp & 0xff], t);
  const w32 = (o: number, v: number) =>
    f.set([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff], o);
  w32(t + 4, s.seq >>> 0);
  w32(t + 8, (s.ack ?? 0xabcdef01) >>> 0);
  f[t + 12] = (thl / 4) << 4;
  f[t + 13] = s.flags ?? 0x10;
  const win = s.window ?? 502;
  f[t + 14] = win >> 8;
  f[t + 15] = win & 0xff;
  f.set(opts, t + 20);
  f.set(s.payload, t + thl);
  const tcpLen = thl + s.payload.length;
  const words = pseudoWords(f, ip, v6, 6, tcpLen);
  if (s.csum === "partial") {
    const c = ~naiveChecksum(f, 0, 0, words) & 0xffff;
    f[t + 16] = c >> 8;
    f[t + 17] = c & 0xff;
  } else {
    const c = naiveChecksum(f, t, t + tcpLen, words);
    f[t + 16] = c >> 8;
    f[t + 17] = c & 0xff;
  }
  return f;
}

/** Whether the IPv4 header (if any) and the TCP checksum of `f` verify (naive implementation). */
export function checksumsOk(f: Uint8Array): boolean {
  const l = layout(f);
  const v6 = (f[l.ip] >> 4) === 6;
  if (!v6 && naiveChecksum(f, l.ip, l.tcp) !== 0) return false;
  return naiveChecksum(f, l.tcp, l.end, pseudoWords(f, l.ip, v6, 6, l.end - l.tcp)) === 0;
}

/** Reads TCP fields of a frame. */
export function tcpFields(f: Uint8Array) {
  const l = layout(f);
  const v6 = (f[l.ip] >> 4) === 6;
  return {
    ...l,
    v6,
    ipLen: v6 ? u16(f, l.ip + 4) : u16(f, l.ip + 2),
    id: v6 ? 0 : u16(f, l.ip + 4),
    seq: u32(f, l.tcp + 4),
    ack: u32(f, l.tcp + 8),
    flags: f[l.tcp + 13],
    csumField: u16(f, l.tcp + 16),
    payloadBytes: f.slice(l.payload, l.end),
  };
}

/** Timestamp option block (NOP NOP TS val ecr), 12 bytes. */
export function tsOption(val: number, ecr = 7): Uint8Array {
  const o = new Uint8Array(12);
  o.set([1, 1, 8, 10]);
  new DataView(o.buffer).setUint32(4, val);
  new DataView(o.buffer).setUint32(8, ecr);
  return o;
}

/** Payload bytes i*k mod 251 (distinct across positions). */
export function pattern(n: number, k = 1): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * k + 3) % 251;
  return p;
}

/** An IPv4 UDP frame whose checksum field holds the folded pseudo-header sum (NEEDS_CSUM). */
export function udpPartialFrame(payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + payload.length);
  f.set([0x32, 0, 0, 0, 0, 2, 0x32, 0, 0, 0, 0, 1, 0x08, 0x00]);
  const ipLen = 28 + payload.length;
  f.set([
    0x45,
    0,
    ipLen >> 8,
    ipLen & 0xff,
    0,
    1,
    0x40,
    0,
    64,
    17,
    0,
    0,
    198,
    19,
    0,
    1,
    198,
    19,
    0,
    2,
  ], 14);
  const c = naiveChecksum(f, 14, 34);
  f[24] = c >> 8;
  f[25] = c & 0xff;
  const ul = 8 + payload.length;
  f.set([0x9c, 0x40, 0x13, 0x89, ul >> 8, ul & 0xff, 0, 0], 34);
  f.set(payload, 42);
  const p = ~naiveChecksum(f, 0, 0, pseudoWords(f, 14, false, 17, ul)) & 0xffff;
  f[40] = p >> 8;
  f[41] = p & 0xff;
  return f;
}
