// The pure-TypeScript crypto backend: @noble/curves (X25519, Ed25519) and @noble/hashes (SHA-2, HMAC).
//
// Loaded only when no native backend is set (crypto_default.ts) or by tests: importing it costs a
// process ~20 MiB of RSS (noble's precomputed base-point tables and Deno's npm machinery).
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { sha384, sha512 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import type { CryptoBackend } from "./crypto_backend.ts";
import type { Ed25519Engine, Ed25519EngineKey } from "./ed25519_engine.ts";
import { concatBytes } from "../util/bytes.ts";

/** RFC 8032 5.1.5: the secret scalar, the nonce prefix and the public key A of a seed. */
class ExpandedKey {
  constructor(
    public scalar: bigint,
    public prefix: Uint8Array,
    public pointBytes: Uint8Array,
  ) {}
}

const Fn = ed25519.Point.Fn;

function leScalar(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return Fn.create(v);
}

/**
 * Ed25519 with an expanded key: one base-point multiplication per signature (the public key is
 * derived once per key). Byte-identical to `ed25519.sign(msg, seed)`.
 */
const nobleEd25519: Ed25519Engine = {
  name: "noble",
  key(seed: Uint8Array): Ed25519EngineKey {
    if (seed.length !== 32) throw new RangeError("noble: an Ed25519 seed is 32 bytes");
    const x = ed25519.utils.getExtendedPublicKey(seed);
    return new ExpandedKey(x.scalar, x.prefix, x.pointBytes);
  },
  sign(key: Ed25519EngineKey, msg: Uint8Array): Uint8Array {
    const s = key as ExpandedKey;
    const r = leScalar(sha512(concatBytes([s.prefix, msg])));
    const R = ed25519.Point.BASE.multiply(r).toBytes();
    const k = leScalar(sha512(concatBytes([R, s.pointBytes, msg])));
    const S = Fn.create(r + k * s.scalar);
    return concatBytes([R, Fn.toBytes(S)]);
  },
  sha512(msg: Uint8Array): Uint8Array {
    return sha512(msg);
  },
  free(_key: Ed25519EngineKey): void {
    // nothing native to release
  },
};

/** The @noble backend. */
export const nobleBackend: CryptoBackend = {
  name: "noble",
  sha512: (data) => sha512(data),
  sha384: (data) => sha384(data),
  hmacSha384: (key, data) => hmac(sha384, key, data),
  x25519(secret, theirPublic) {
    if (secret.length !== 32 || theirPublic.length !== 32) {
      throw new RangeError("noble: X25519 keys are 32 bytes");
    }
    try {
      return x25519.getSharedSecret(secret, theirPublic);
    } catch {
      // @noble/curves refuses an all-zero result; the reference hashes the zeros.
      return new Uint8Array(32);
    }
  },
  x25519PublicKey: (secret) => x25519.getPublicKey(secret),
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Verify(sig, msg, publicKey) {
    if (sig.length !== 64 || publicKey.length !== 32) return false;
    try {
      return ed25519.verify(sig, msg, publicKey);
    } catch {
      return false;
    }
  },
  ed25519: nobleEd25519,
};
