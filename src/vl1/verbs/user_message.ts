// USER_MESSAGE (0x14) payload codec: 64-bit type ID followed by application bytes.
import { readU64, windowOf, writeU64 } from "./wire.ts";

/** A user message; type IDs ≤ 65535 are reserved for ZeroTier (spec §4.17). */
export interface UserMessage {
  /** Application-defined message type. */
  typeId: bigint;
  /** Message bytes (a copy when decoded). */
  data: Uint8Array;
}

/** Encodes `typeId(8) | data`. */
export function encodeUserMessage(m: UserMessage): Uint8Array {
  const out = new Uint8Array(8 + m.data.length);
  writeU64(out, 0, m.typeId);
  out.set(m.data, 8);
  return out;
}

/** Decodes a USER_MESSAGE payload; undefined if shorter than the 8-byte type ID. */
export function decodeUserMessage(
  payload: Uint8Array,
  start?: number,
  end?: number,
): UserMessage | undefined {
  const w = windowOf(payload, start, end);
  if (!w || w[1] - w[0] < 8) return undefined;
  return { typeId: readU64(payload, w[0]), data: payload.slice(w[0] + 8, w[1]) };
}
