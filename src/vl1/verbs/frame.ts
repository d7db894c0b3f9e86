// FRAME (0x06), EXT_FRAME (0x07) and OK(EXT_FRAME) payload codecs; decoding is zero-copy.
import { Verb } from "../packet.ts";
import { comLength } from "./credentials.ts";
import { decodeOk, encodeOk } from "./ok.ts";
import {
  Reader,
  readMac,
  readU16,
  readU64,
  windowOf,
  writeMac,
  Writer,
  writeU16,
  writeU64,
} from "./wire.ts";

/** FRAME header length before the Ethernet payload: network ID (8) + ethertype (2). */
export const FRAME_HEADER_LENGTH = 10;

/** EXT_FRAME flag: a (legacy) COM is inlined after the flags byte. */
export const EXT_FRAME_FLAG_COM = 0x01;
/** EXT_FRAME flag: the sender asks for OK(EXT_FRAME). */
export const EXT_FRAME_FLAG_ACK = 0x10;
/** EXT_FRAME flags emitted by 1.14 (spec §4.7); receivers only interpret 0x01 and 0x10. */
export const EXT_FRAME_FLAGS = {
  NORMAL: 0x00,
  TEE_OUTBOUND: 0x02,
  WATCH_OUTBOUND: 0x16,
  REDIRECT_OUTBOUND: 0x04,
  TEE_INBOUND: 0x08,
  WATCH_INBOUND: 0x1c,
  REDIRECT_INBOUND: 0x0a,
} as const;

/** FRAME fields for encoding. */
export interface FrameFields {
  /** Network ID. */
  networkId: bigint;
  /** Ethertype (16 bits). */
  etherType: number;
  /** Ethernet payload (copied into the encoding). */
  payload: Uint8Array;
}

/** A decoded FRAME: the Ethernet payload is `payload[payloadStart..payloadEnd)` of the input. */
export interface Frame {
  /** Network ID. */
  networkId: bigint;
  /** Ethertype (16 bits). */
  etherType: number;
  /** Absolute start offset of the Ethernet payload in the decoded buffer. */
  payloadStart: number;
  /** Absolute end offset (exclusive) of the Ethernet payload. */
  payloadEnd: number;
}

/** Writes the 10-byte FRAME header at `b[off..)` (caller guarantees room); returns off + 10. */
export function writeFrameHeader(
  b: Uint8Array,
  off: number,
  networkId: bigint,
  etherType: number,
): number {
  writeU64(b, off, networkId);
  writeU16(b, off + 8, etherType);
  return off + FRAME_HEADER_LENGTH;
}

/** Encodes a FRAME payload: `nwid(8) | ethertype(2) | payload` (spec §4.6). */
export function encodeFrame(f: FrameFields): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_LENGTH + f.payload.length);
  writeFrameHeader(out, 0, f.networkId, f.etherType);
  out.set(f.payload, FRAME_HEADER_LENGTH);
  return out;
}

/** Decodes a FRAME payload `payload[start..end)` without copying; undefined if < 10 bytes. */
export function decodeFrame(payload: Uint8Array, start?: number, end?: number): Frame | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const [s, e] = w;
  if (e - s < FRAME_HEADER_LENGTH) return undefined;
  return {
    networkId: readU64(payload, s),
    etherType: readU16(payload, s + 8),
    payloadStart: s + FRAME_HEADER_LENGTH,
    payloadEnd: e,
  };
}

/** EXT_FRAME fields for encoding. */
export interface ExtFrameFields {
  /** Network ID. */
  networkId: bigint;
  /** Flags byte; bit 0x01 is set/cleared automatically from `com`. */
  flags: number;
  /** Serialized legacy COM to inline (sets flag 0x01). Deprecated; 1.14 never sends it. */
  com?: Uint8Array;
  /** Destination MAC (48-bit). */
  to: number;
  /** Source MAC (48-bit). */
  from: number;
  /** Ethertype (16 bits). */
  etherType: number;
  /** Ethernet payload (copied). */
  payload: Uint8Array;
}

/** A decoded EXT_FRAME; the Ethernet payload is `payload[payloadStart..payloadEnd)`. */
export interface ExtFrame {
  /** Network ID. */
  networkId: bigint;
  /** Flags byte as received (0x01 COM attached, 0x10 ACK requested, others informational). */
  flags: number;
  /** The inline COM as a view into the input, if flag 0x01 was set. */
  com?: Uint8Array;
  /** Destination MAC (48-bit). */
  to: number;
  /** Source MAC (48-bit). */
  from: number;
  /** Ethertype (16 bits). */
  etherType: number;
  /** Absolute start offset of the Ethernet payload. */
  payloadStart: number;
  /** Absolute end offset (exclusive) of the Ethernet payload. */
  payloadEnd: number;
}

/**
 * Writes an EXT_FRAME header without COM (`nwid | flags | to | from | ethertype`, 23 bytes) at
 * `b[off..)`; returns the offset after it. Caller guarantees room.
 */
export function writeExtFrameHeader(
  b: Uint8Array,
  off: number,
  networkId: bigint,
  flags: number,
  to: number,
  from: number,
  etherType: number,
): number {
  writeU64(b, off, networkId);
  b[off + 8] = flags & ~EXT_FRAME_FLAG_COM & 0xff;
  writeMac(b, off + 9, to);
  writeMac(b, off + 15, from);
  writeU16(b, off + 21, etherType);
  return off + 23;
}

/** Encodes an EXT_FRAME payload (spec §4.7). */
export function encodeExtFrame(f: ExtFrameFields): Uint8Array {
  const comLen = f.com ? f.com.length : 0;
  const out = new Uint8Array(23 + comLen + f.payload.length);
  writeU64(out, 0, f.networkId);
  out[8] = f.com ? (f.flags | EXT_FRAME_FLAG_COM) & 0xff : f.flags & ~EXT_FRAME_FLAG_COM & 0xff;
  let p = 9;
  if (f.com) {
    out.set(f.com, p);
    p += comLen;
  }
  writeMac(out, p, f.to);
  writeMac(out, p + 6, f.from);
  writeU16(out, p + 12, f.etherType);
  out.set(f.payload, p + 14);
  return out;
}

/**
 * Decodes an EXT_FRAME payload without copying. Undefined if the header (including a flagged
 * COM) is truncated or the COM is malformed. The Ethernet payload may be empty.
 */
export function decodeExtFrame(
  payload: Uint8Array,
  start?: number,
  end?: number,
): ExtFrame | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const [s, e] = w;
  if (e - s < 9) return undefined;
  const flags = payload[s + 8];
  let p = s + 9;
  let com: Uint8Array | undefined;
  if (flags & EXT_FRAME_FLAG_COM) {
    const n = comLength(payload, p, e);
    if (n === undefined) return undefined;
    com = payload.subarray(p, p + n);
    p += n;
  }
  if (p + 14 > e) return undefined;
  const f: ExtFrame = {
    networkId: readU64(payload, s),
    flags,
    to: readMac(payload, p),
    from: readMac(payload, p + 6),
    etherType: readU16(payload, p + 12),
    payloadStart: p + 14,
    payloadEnd: e,
  };
  if (com) f.com = com;
  return f;
}

/** OK(EXT_FRAME): the acknowledgement of an EXT_FRAME sent with flag 0x10. */
export interface OkExtFrame {
  /** Packet ID of the acknowledged EXT_FRAME. */
  inRePacketId: bigint;
  /** Network ID. */
  networkId: bigint;
}

/** Encodes a whole OK payload `0x07 | in-re packet ID | nwid(8)`. */
export function encodeOkExtFrame(o: OkExtFrame): Uint8Array {
  return encodeOk(Verb.EXT_FRAME, o.inRePacketId, new Writer(8).u64(o.networkId).finish());
}

/** Decodes a whole OK payload in reply to EXT_FRAME; undefined if not one or truncated. */
export function decodeOkExtFrame(
  payload: Uint8Array,
  start?: number,
  end?: number,
): OkExtFrame | undefined {
  const ok = decodeOk(payload, start, end);
  if (!ok || ok.inReVerb !== Verb.EXT_FRAME) return undefined;
  const r = new Reader(payload, ok.bodyStart, ok.bodyEnd);
  const networkId = r.u64();
  return r.ok ? { inRePacketId: ok.inRePacketId, networkId } : undefined;
}
