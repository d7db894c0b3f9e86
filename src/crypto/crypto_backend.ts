// The seam for the primitives under c25519.ts and sha.ts: X25519, Ed25519, SHA-512/384, HMAC-SHA-384.
//
// Two backends implement it: the pure-TypeScript one on @noble/curves and @noble/hashes
// (noble_backend.ts, loaded only when needed: the npm modules cost a member ~20 MiB of RSS) and
// a native one the host may provide (ffi/libcrypto_c25519.ts, the system's OpenSSL). The core
// stays free of I/O and FFI: it only knows this interface. The host sets a backend that passed
// {@link cryptoBackendSelfTest} before c25519.ts and sha.ts are evaluated (cli.ts imports
// src/service/native_crypto.ts first); crypto_default.ts loads the noble one otherwise.
import type { Ed25519Engine } from "./ed25519_engine.ts";

/** The primitives behind the C25519 and SHA-2 modules. Inputs have the lengths named. */
export interface CryptoBackend {
  /** Short name for logs, e.g. "libcrypto" or "noble". */
  readonly name: string;
  /** SHA-512 (64 bytes). */
  sha512(data: Uint8Array): Uint8Array;
  /** SHA-384 (48 bytes). */
  sha384(data: Uint8Array): Uint8Array;
  /** HMAC-SHA-384 (48 bytes); any key length. */
  hmacSha384(key: Uint8Array, data: Uint8Array): Uint8Array;
  /**
   * X25519 of a 32-byte secret and a 32-byte public key. An all-zero result (a small-order
   * peer key) is returned as 32 zero bytes, not rejected, as the reference does.
   */
  x25519(secret: Uint8Array, theirPublic: Uint8Array): Uint8Array;
  /** The X25519 public key (32 bytes) of a 32-byte secret. */
  x25519PublicKey(secret: Uint8Array): Uint8Array;
  /** The Ed25519 public key (32 bytes) of a 32-byte seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  /** RFC 8032 Ed25519 verification of a 64-byte signature; false (never throws) when bad. */
  ed25519Verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean;
  /** RFC 8032 Ed25519 signing with per-key state (seed -> expanded key made once). */
  readonly ed25519: Ed25519Engine;
}

let current: CryptoBackend | undefined;
const listeners: Array<() => void> = [];

/** The backend in use (undefined only before crypto_default.ts ran). */
export function cryptoBackend(): CryptoBackend | undefined {
  return current;
}

/**
 * Sets the backend for every later call of c25519.ts and sha.ts (a process-wide choice; tests
 * switch between backends with it). Pass only a backend that passed
 * {@link cryptoBackendSelfTest}. Results are byte-identical either way.
 */
export function setCryptoBackend(b: CryptoBackend): void {
  current = b;
  for (const f of listeners) f();
}

/** Calls `f` after every {@link setCryptoBackend} (c25519.ts drops its per-key state). */
export function onCryptoBackendChange(f: () => void): void {
  listeners.push(f);
}

const hex = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
};

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** FIPS 180-2 "abc" digests, RFC 4231 test case 1, RFC 7748 §6.1, RFC 8032 §7.1 tests 1 and 2. */
const KAT = {
  abc: new Uint8Array([0x61, 0x62, 0x63]),
  sha512abc: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" +
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
  sha384abc: "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed" +
    "8086072ba1e7cc2358baeca134c825a7",
  hmacKey: new Uint8Array(20).fill(0x0b),
  hmacData: new TextEncoder().encode("Hi There"),
  hmac384: "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c" +
    "faea9ea9076ede7f4af152e8b2fa9cb6",
  xA: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
  xApub: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  xBpub: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
  xShared: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
  edSeed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
  edPub: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
  edMsg: "72",
  edSig: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
};

/**
 * Whether `b` computes the known answers: SHA-512, SHA-384, HMAC-SHA-384, X25519 (including an
 * all-zero result hashed as zeros: 32 zero bytes), the public keys, Ed25519 signing and
 * verification (a flipped bit, a short signature and a garbage key are refused, not thrown).
 * Never throws.
 */
export function cryptoBackendSelfTest(b: CryptoBackend): boolean {
  try {
    if (!same(b.sha512(KAT.abc), hex(KAT.sha512abc))) return false;
    if (!same(b.sha384(KAT.abc), hex(KAT.sha384abc))) return false;
    if (!same(b.hmacSha384(KAT.hmacKey, KAT.hmacData), hex(KAT.hmac384))) return false;
    if (b.sha512(new Uint8Array(0)).length !== 64) return false;
    if (!same(b.x25519PublicKey(hex(KAT.xA)), hex(KAT.xApub))) return false;
    if (!same(b.x25519(hex(KAT.xA), hex(KAT.xBpub)), hex(KAT.xShared))) return false;
    if (!same(b.x25519(hex(KAT.xA), new Uint8Array(32)), new Uint8Array(32))) return false;
    const seed = hex(KAT.edSeed);
    const pub = hex(KAT.edPub);
    const msg = hex(KAT.edMsg);
    const sig = hex(KAT.edSig);
    if (!same(b.ed25519PublicKey(seed), pub)) return false;
    const k = b.ed25519.key(seed);
    try {
      if (!same(b.ed25519.sign(k, msg), sig)) return false;
    } finally {
      b.ed25519.free(k);
    }
    if (!b.ed25519Verify(sig, msg, pub)) return false;
    const bad = sig.slice();
    bad[5] ^= 0x10;
    if (b.ed25519Verify(bad, msg, pub)) return false;
    if (b.ed25519Verify(sig.subarray(0, 63), msg, pub)) return false;
    if (b.ed25519Verify(sig, msg, new Uint8Array(32).fill(0xff))) return false;
    return true;
  } catch {
    return false;
  }
}
