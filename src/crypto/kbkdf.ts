// ZeroTier's single-block KBKDF (NIST SP 800-108 counter mode) over HMAC-SHA-384 (spec §3.4.3).
import { hmacSha384 } from "./sha.ts";

/**
 * ZeroTier's KBKDF-HMAC-SHA384 (spec §3.4.3): 48-byte output for label char code (e.g. 0x30 for
 * '0'). The PRF input is `counter(4, BE, =0) || "ZT" || label || 0x00 || context(0) || bits(4, BE, =384)`.
 * Throws if `key48` is not 48 bytes (a programmer error).
 */
export function kbkdfHmacSha384(key48: Uint8Array, label: number): Uint8Array {
  if (key48.length !== 48) {
    throw new Error(`kbkdfHmacSha384: key must be 48 bytes, got ${key48.length}`);
  }
  const msg = new Uint8Array(13);
  // msg[0..4) = iteration counter 0
  msg[4] = 0x5a; // 'Z'
  msg[5] = 0x54; // 'T'
  msg[6] = label & 0xff;
  // msg[7] = separator 0, msg[8] = context 0
  msg[11] = 0x01; // 384 bits, big-endian u32 = 00 00 01 80
  msg[12] = 0x80;
  return hmacSha384(key48, msg);
}
