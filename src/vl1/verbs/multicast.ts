// MULTICAST_LIKE (0x09), MULTICAST_GATHER (0x0d), MULTICAST_FRAME (0x0e) and their OK codecs.
import type { Address } from "../address.ts";
import { Verb } from "../packet.ts";
import { comLength } from "./credentials.ts";
import { decodeOk, encodeOk } from "./ok.ts";
import { Reader, windowOf, Writer } from "./wire.ts";

/** Size of one MULTICAST_LIKE entry: nwid (8) + MAC (6) + ADI (4). */
export const MULTICAST_LIKE_ENTRY_LENGTH = 18;

/** MULTICAST_GATHER flag: a (legacy) COM follows the gather limit. */
export const MULTICAST_GATHER_FLAG_COM = 0x01;

/** MULTICAST_FRAME flag: a (legacy) COM follows the flags byte. */
export const MULTICAST_FRAME_FLAG_COM = 0x01;
/** MULTICAST_FRAME flag: a 4-byte gather limit is present (implicit gather). */
export const MULTICAST_FRAME_FLAG_GATHER = 0x02;
/** MULTICAST_FRAME flag: an explicit source MAC is present. */
export const MULTICAST_FRAME_FLAG_SOURCE_MAC = 0x04;
/** MULTICAST_FRAME flag: replication requested (sent to a multicast replicator). */
export const MULTICAST_FRAME_FLAG_REPLICATE = 0x08;

/** OK(MULTICAST_FRAME) flag: a legacy COM is included. */
export const OK_MULTICAST_FRAME_FLAG_COM = 0x01;
/** OK(MULTICAST_FRAME) flag: gather results are included. */
export const OK_MULTICAST_FRAME_FLAG_GATHER = 0x02;

/** One multicast subscription: network plus group (MAC, ADI) (spec §5.3). */
export interface MulticastSubscription {
  /** Network ID. */
  networkId: bigint;
  /** Group MAC (48-bit). */
  mac: number;
  /** Additional distinguishing information (32-bit). */
  adi: number;
}

/** A MULTICAST_LIKE payload: repeated subscriptions. */
export interface MulticastLike {
  /** The advertised subscriptions, in order. */
  groups: MulticastSubscription[];
}

/** Encodes MULTICAST_LIKE: 18 bytes per subscription. */
export function encodeMulticastLike(m: MulticastLike): Uint8Array {
  const w = new Writer(m.groups.length * MULTICAST_LIKE_ENTRY_LENGTH);
  for (const g of m.groups) w.u64(g.networkId).u48(g.mac).u32(g.adi);
  return w.finish();
}

/** Decodes MULTICAST_LIKE; undefined unless the length is a multiple of 18. */
export function decodeMulticastLike(
  payload: Uint8Array,
  start?: number,
  end?: number,
): MulticastLike | undefined {
  const w = windowOf(payload, start, end);
  if (!w || (w[1] - w[0]) % MULTICAST_LIKE_ENTRY_LENGTH !== 0) return undefined;
  const r = new Reader(payload, w[0], w[1]);
  const groups: MulticastSubscription[] = [];
  while (r.remaining > 0) groups.push({ networkId: r.u64(), mac: r.u48(), adi: r.u32() });
  return { groups };
}

/** A MULTICAST_GATHER request. */
export interface MulticastGather {
  /** Network ID. */
  networkId: bigint;
  /** Flags byte as received; bit 0x01 is set/cleared automatically from `com` when encoding. */
  flags: number;
  /** Group MAC (48-bit). */
  mac: number;
  /** Group ADI (32-bit). */
  adi: number;
  /** Most members wanted in the reply (0 = no reply). */
  gatherLimit: number;
  /**
   * Legacy inline COM (a view into the input when decoded). Like the reference, a malformed
   * COM is discarded (left undefined) rather than failing the whole request.
   */
  com?: Uint8Array;
}

/** Encodes `nwid | flags | mac | adi | gatherLimit | [COM]` (spec §4.13). */
export function encodeMulticastGather(g: MulticastGather): Uint8Array {
  const w = new Writer(23 + (g.com ? g.com.length : 0));
  const flags = g.com ? g.flags | MULTICAST_GATHER_FLAG_COM : g.flags & ~MULTICAST_GATHER_FLAG_COM;
  w.u64(g.networkId).u8(flags).u48(g.mac).u32(g.adi).u32(g.gatherLimit);
  if (g.com) w.bytes(g.com);
  return w.finish();
}

/** Decodes MULTICAST_GATHER; undefined if the fixed 23-byte part is truncated. */
export function decodeMulticastGather(
  payload: Uint8Array,
  start?: number,
  end?: number,
): MulticastGather | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const r = new Reader(payload, w[0], w[1]);
  const g: MulticastGather = {
    networkId: r.u64(),
    flags: r.u8(),
    mac: r.u48(),
    adi: r.u32(),
    gatherLimit: r.u32(),
  };
  if (!r.ok) return undefined;
  if (g.flags & MULTICAST_GATHER_FLAG_COM) {
    const n = comLength(payload, r.pos, r.end);
    if (n !== undefined) g.com = payload.subarray(r.pos, r.pos + n);
  }
  return g;
}

/** Gather results carried by OK(MULTICAST_GATHER) and OK(MULTICAST_FRAME). */
export interface GatherResults {
  /** Total members the responder knows for the group (32-bit). */
  totalKnown: number;
  /** The members returned (a subset, <= 65535). */
  members: Address[];
}

function writeGather(w: Writer, g: GatherResults): void {
  w.u32(g.totalKnown).u16(g.members.length);
  for (const a of g.members) w.address(a);
}

function readGather(r: Reader): GatherResults | undefined {
  const totalKnown = r.u32();
  const count = r.u16();
  if (!r.has(count * 5)) return undefined;
  const members: Address[] = [];
  for (let i = 0; i < count; i++) members.push(r.address());
  return r.ok ? { totalKnown, members } : undefined;
}

/** OK(MULTICAST_GATHER): `nwid | mac | adi | totalKnown | count | addresses` after the in-re header. */
export interface OkMulticastGather extends GatherResults {
  /** Packet ID of the MULTICAST_GATHER being answered. */
  inRePacketId: bigint;
  /** Network ID. */
  networkId: bigint;
  /** Group MAC. */
  mac: number;
  /** Group ADI. */
  adi: number;
}

/** Encodes a whole OK payload in reply to MULTICAST_GATHER (spec §4.13). */
export function encodeOkMulticastGather(o: OkMulticastGather): Uint8Array {
  const w = new Writer(24 + o.members.length * 5);
  w.u64(o.networkId).u48(o.mac).u32(o.adi);
  writeGather(w, o);
  return encodeOk(Verb.MULTICAST_GATHER, o.inRePacketId, w.finish());
}

/** Decodes a whole OK(MULTICAST_GATHER) payload; undefined if not one or truncated. */
export function decodeOkMulticastGather(
  payload: Uint8Array,
  start?: number,
  end?: number,
): OkMulticastGather | undefined {
  const ok = decodeOk(payload, start, end);
  if (!ok || ok.inReVerb !== Verb.MULTICAST_GATHER) return undefined;
  const r = new Reader(payload, ok.bodyStart, ok.bodyEnd);
  const networkId = r.u64();
  const mac = r.u48();
  const adi = r.u32();
  const g = readGather(r);
  if (!g || !r.ok) return undefined;
  return { inRePacketId: ok.inRePacketId, networkId, mac, adi, ...g };
}

/** MULTICAST_FRAME fields for encoding. Flags 0x01/0x02/0x04 follow the optional fields. */
export interface MulticastFrameFields {
  /** Network ID. */
  networkId: bigint;
  /** Flags; only 0x08 (replicate) is taken from here, the others are derived. */
  flags: number;
  /** Legacy inline COM (flag 0x01). */
  com?: Uint8Array;
  /** Implicit gather limit (flag 0x02). */
  gatherLimit?: number;
  /** Explicit source MAC (flag 0x04); when absent the receiver uses MAC(sender, nwid). */
  source?: number;
  /** Destination group MAC. */
  mac: number;
  /** Destination group ADI. */
  adi: number;
  /** Ethertype. */
  etherType: number;
  /** Ethernet payload (copied). */
  payload: Uint8Array;
}

/** A decoded MULTICAST_FRAME; the Ethernet payload is `payload[payloadStart..payloadEnd)`. */
export interface MulticastFrame {
  /** Network ID. */
  networkId: bigint;
  /** Flags byte as received. */
  flags: number;
  /** Legacy inline COM (view into the input), if flag 0x01. */
  com?: Uint8Array;
  /** Gather limit if flag 0x02. */
  gatherLimit?: number;
  /** Explicit source MAC if flag 0x04. */
  source?: number;
  /** Destination group MAC. */
  mac: number;
  /** Destination group ADI. */
  adi: number;
  /** Ethertype. */
  etherType: number;
  /** Absolute start offset of the Ethernet payload. */
  payloadStart: number;
  /** Absolute end offset (exclusive). The receiver accepts only 1..10000 payload bytes. */
  payloadEnd: number;
}

/** Encodes a MULTICAST_FRAME payload (spec §4.14). */
export function encodeMulticastFrame(f: MulticastFrameFields): Uint8Array {
  let flags = f.flags & MULTICAST_FRAME_FLAG_REPLICATE;
  if (f.com) flags |= MULTICAST_FRAME_FLAG_COM;
  if (f.gatherLimit !== undefined) flags |= MULTICAST_FRAME_FLAG_GATHER;
  if (f.source !== undefined) flags |= MULTICAST_FRAME_FLAG_SOURCE_MAC;
  const w = new Writer(40 + f.payload.length + (f.com ? f.com.length : 0));
  w.u64(f.networkId).u8(flags);
  if (f.com) w.bytes(f.com);
  if (f.gatherLimit !== undefined) w.u32(f.gatherLimit);
  if (f.source !== undefined) w.u48(f.source);
  w.u48(f.mac).u32(f.adi).u16(f.etherType).bytes(f.payload);
  return w.finish();
}

/** Decodes a MULTICAST_FRAME without copying the payload; undefined if truncated/malformed. */
export function decodeMulticastFrame(
  payload: Uint8Array,
  start?: number,
  end?: number,
): MulticastFrame | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const r = new Reader(payload, w[0], w[1]);
  const networkId = r.u64();
  const flags = r.u8();
  if (!r.ok) return undefined;
  const f: MulticastFrame = {
    networkId,
    flags,
    mac: 0,
    adi: 0,
    etherType: 0,
    payloadStart: 0,
    payloadEnd: w[1],
  };
  if (flags & MULTICAST_FRAME_FLAG_COM) {
    const n = comLength(payload, r.pos, r.end);
    if (n === undefined) return undefined;
    f.com = r.view(n);
  }
  if (flags & MULTICAST_FRAME_FLAG_GATHER) f.gatherLimit = r.u32();
  if (flags & MULTICAST_FRAME_FLAG_SOURCE_MAC) f.source = r.u48();
  f.mac = r.u48();
  f.adi = r.u32();
  f.etherType = r.u16();
  if (!r.ok) return undefined;
  f.payloadStart = r.pos;
  return f;
}

/** OK(MULTICAST_FRAME): group echo plus optional legacy COM and gather results. */
export interface OkMulticastFrame {
  /** Packet ID of the MULTICAST_FRAME being answered. */
  inRePacketId: bigint;
  /** Network ID. */
  networkId: bigint;
  /** Group MAC. */
  mac: number;
  /** Group ADI. */
  adi: number;
  /** Flags byte as received (0x01 COM, 0x02 gather results); derived when encoding. */
  flags: number;
  /** Legacy COM (view into the input), if flag 0x01. */
  com?: Uint8Array;
  /** Gather results, if flag 0x02. */
  gather?: GatherResults;
}

/** Encodes a whole OK payload in reply to MULTICAST_FRAME (spec §4.14). */
export function encodeOkMulticastFrame(o: OkMulticastFrame): Uint8Array {
  let flags = 0;
  if (o.com) flags |= OK_MULTICAST_FRAME_FLAG_COM;
  if (o.gather) flags |= OK_MULTICAST_FRAME_FLAG_GATHER;
  const w = new Writer(64);
  w.u64(o.networkId).u48(o.mac).u32(o.adi).u8(flags);
  if (o.com) w.bytes(o.com);
  if (o.gather) writeGather(w, o.gather);
  return encodeOk(Verb.MULTICAST_FRAME, o.inRePacketId, w.finish());
}

/** Decodes a whole OK(MULTICAST_FRAME) payload; undefined if not one, truncated or malformed. */
export function decodeOkMulticastFrame(
  payload: Uint8Array,
  start?: number,
  end?: number,
): OkMulticastFrame | undefined {
  const ok = decodeOk(payload, start, end);
  if (!ok || ok.inReVerb !== Verb.MULTICAST_FRAME) return undefined;
  const r = new Reader(payload, ok.bodyStart, ok.bodyEnd);
  const o: OkMulticastFrame = {
    inRePacketId: ok.inRePacketId,
    networkId: r.u64(),
    mac: r.u48(),
    adi: r.u32(),
    flags: r.u8(),
  };
  if (!r.ok) return undefined;
  if (o.flags & OK_MULTICAST_FRAME_FLAG_COM) {
    const n = comLength(payload, r.pos, r.end);
    if (n === undefined) return undefined;
    o.com = r.view(n);
  }
  if (o.flags & OK_MULTICAST_FRAME_FLAG_GATHER) {
    const g = readGather(r);
    if (!g) return undefined;
    o.gather = g;
  }
  return o;
}
