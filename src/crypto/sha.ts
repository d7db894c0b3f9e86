// SHA-512, SHA-384 and HMAC-SHA-384, synchronous, on the crypto backend (crypto_backend.ts).
import "./crypto_default.ts";
import { type CryptoBackend, cryptoBackend, onCryptoBackendChange } from "./crypto_backend.ts";

let b = cryptoBackend() as CryptoBackend;
onCryptoBackendChange(() => b = cryptoBackend() as CryptoBackend);

/** SHA-512 digest (64 bytes) of `data`. */
export function sha512(data: Uint8Array): Uint8Array {
  return b.sha512(data);
}

/** SHA-384 digest (48 bytes) of `data`. */
export function sha384(data: Uint8Array): Uint8Array {
  return b.sha384(data);
}

/** HMAC-SHA-384 (48 bytes) of `data` under `key`. */
export function hmacSha384(key: Uint8Array, data: Uint8Array): Uint8Array {
  return b.hmacSha384(key, data);
}
