// OK (0x03) generic header codec: in-re verb, in-re packet ID, then verb-specific body.
import { readU64, windowOf, writeU64 } from "./wire.ts";

/** Length of the OK / ERROR in-re header: verb (1) + packet ID (8). */
export const IN_RE_HEADER_LENGTH = 9;

/** The generic part of a decoded OK payload. */
export interface OkHeader {
  /** Verb of the request being answered (low 5 bits are meaningful). */
  inReVerb: number;
  /** Packet ID of the request being answered (as seen on the wire). */
  inRePacketId: bigint;
  /** Absolute offset of the verb-specific body in the decoded buffer. */
  bodyStart: number;
  /** Absolute end offset (exclusive) of the body. */
  bodyEnd: number;
}

/** Encodes an OK payload: `inReVerb(1) | inRePacketId(8) | body`. */
export function encodeOk(inReVerb: number, inRePacketId: bigint, body?: Uint8Array): Uint8Array {
  const out = new Uint8Array(IN_RE_HEADER_LENGTH + (body ? body.length : 0));
  out[0] = inReVerb & 0xff;
  writeU64(out, 1, inRePacketId);
  if (body) out.set(body, IN_RE_HEADER_LENGTH);
  return out;
}

/**
 * Decodes the in-re header of an OK payload `payload[start..end)`; the body is left in place.
 * Undefined if shorter than 9 bytes.
 */
export function decodeOk(payload: Uint8Array, start?: number, end?: number): OkHeader | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const [s, e] = w;
  if (e - s < IN_RE_HEADER_LENGTH) return undefined;
  return {
    inReVerb: payload[s],
    inRePacketId: readU64(payload, s + 1),
    bodyStart: s + IN_RE_HEADER_LENGTH,
    bodyEnd: e,
  };
}
