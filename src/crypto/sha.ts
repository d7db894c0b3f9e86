// SHA-512, SHA-384 and HMAC-SHA-384 as thin synchronous wrappers over @noble/hashes.
import { sha384 as nobleSha384, sha512 as nobleSha512 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";

/** SHA-512 digest (64 bytes) of `data`. */
export function sha512(data: Uint8Array): Uint8Array {
  return nobleSha512(data);
}

/** SHA-384 digest (48 bytes) of `data`. */
export function sha384(data: Uint8Array): Uint8Array {
  return nobleSha384(data);
}

/** HMAC-SHA-384 (48 bytes) of `data` under `key`. */
export function hmacSha384(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha384, key, data);
}
