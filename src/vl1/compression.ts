// LZ4 compression of a packet's verb payload (bytes 28..) and its undoing (spec §3.6).
import { lz4Compress, lz4Decompress } from "../crypto/lz4.ts";
import {
  IDX_PAYLOAD,
  IDX_VERB,
  MAX_PACKET_LENGTH,
  MIN_PACKET_LENGTH,
  VERB_FLAG_COMPRESSED,
} from "./packet.ts";

/** Payloads of this many bytes or fewer are never compressed. */
export const COMPRESSION_MIN_PAYLOAD = 64;

/**
 * Compresses `pkt[28..len)` in place (before armoring) if the payload is longer than 64 bytes
 * and the LZ4 block is strictly smaller; then sets the verb's 0x80 bit. Returns the new packet
 * length (`len` unchanged when not compressed). Packets already marked compressed or shorter
 * than 28 bytes are left alone.
 */
export function compressPacket(pkt: Uint8Array, len: number): number {
  if (!(len >= MIN_PACKET_LENGTH && len <= pkt.length)) return len;
  if ((pkt[IDX_VERB] & VERB_FLAG_COMPRESSED) !== 0) return len;
  const payloadLen = len - IDX_PAYLOAD;
  if (payloadLen <= COMPRESSION_MIN_PAYLOAD) return len;
  const c = lz4Compress(pkt, IDX_PAYLOAD, len);
  if (c.length >= payloadLen) return len;
  pkt.set(c, IDX_PAYLOAD);
  pkt[IDX_VERB] |= VERB_FLAG_COMPRESSED;
  return IDX_PAYLOAD + c.length;
}

/**
 * Undoes payload compression of a dearmored packet `pkt[0..len)`. Returns the packet bytes with
 * the verb's 0x80 bit cleared: `pkt.subarray(0, len)` when it was not compressed, otherwise the
 * decompressed packet (written back into `pkt` if it has room, else a new array). Returns
 * undefined for a bad length or a payload that does not decompress within 10024 - 28 bytes.
 */
export function uncompressPacket(pkt: Uint8Array, len: number): Uint8Array | undefined {
  if (!(Number.isInteger(len) && len >= MIN_PACKET_LENGTH && len <= pkt.length)) return undefined;
  if ((pkt[IDX_VERB] & VERB_FLAG_COMPRESSED) === 0) return pkt.subarray(0, len);
  let out: Uint8Array;
  if (len === IDX_PAYLOAD) {
    out = pkt.subarray(0, len);
  } else {
    const d = lz4Decompress(pkt, MAX_PACKET_LENGTH - IDX_PAYLOAD, IDX_PAYLOAD, len);
    if (d === undefined) return undefined;
    const total = IDX_PAYLOAD + d.length;
    if (pkt.length >= total) {
      out = pkt.subarray(0, total);
    } else {
      out = new Uint8Array(total);
      out.set(pkt.subarray(0, IDX_PAYLOAD));
    }
    out.set(d, IDX_PAYLOAD);
  }
  out[IDX_VERB] &= ~VERB_FLAG_COMPRESSED;
  return out;
}
