// ZeroTier's "C25519" key pair: X25519 agreement plus Ed25519 96-byte signatures (spec §1.1, §2).
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { sha512 } from "./sha.ts";

/** Length of a C25519 public key: X25519 public (32) ‖ Ed25519 public (32). */
export const C25519_PUBLIC_KEY_LENGTH = 64;
/** Length of a C25519 private key: X25519 secret (32) ‖ Ed25519 seed (32). */
export const C25519_PRIVATE_KEY_LENGTH = 64;
/** Length of a ZeroTier signature: R (32) ‖ S (32) ‖ SHA-512(message)[0..32). */
export const C25519_SIGNATURE_LENGTH = 96;

/**
 * Key agreement: the full 64-byte `SHA-512(X25519(myPrivate[0..32), theirPublic[0..32)))`.
 * Like the reference, a small-order peer key (all-zero shared point) is not rejected: the raw
 * secret is then 32 zero bytes.
 * @throws Error when a key is shorter than 32 bytes (a programming error).
 */
export function c25519Agree(myPrivate: Uint8Array, theirPublic: Uint8Array): Uint8Array {
  if (myPrivate.length < 32 || theirPublic.length < 32) throw new Error("c25519Agree: short key");
  let raw: Uint8Array;
  try {
    raw = x25519.getSharedSecret(myPrivate.subarray(0, 32), theirPublic.subarray(0, 32));
  } catch {
    // @noble/curves refuses an all-zero result; the reference hashes the zeros.
    raw = new Uint8Array(32);
  }
  return sha512(raw);
}

/**
 * Signs `msg`: Ed25519 (seed = `privateKey[32..64)`) over `h = SHA-512(msg)[0..32)`, returned as
 * the 96 bytes `R ‖ S ‖ h`. Deterministic. `publicKey` is accepted for API symmetry (the Ed25519
 * public half is re-derived from the seed).
 * @throws Error when the private key is not 64 bytes (a programming error).
 */
export function c25519Sign(
  privateKey: Uint8Array,
  _publicKey: Uint8Array,
  msg: Uint8Array,
): Uint8Array {
  if (privateKey.length !== C25519_PRIVATE_KEY_LENGTH) throw new Error("c25519Sign: bad key");
  const h = sha512(msg).subarray(0, 32);
  const rs = ed25519.sign(h, privateKey.subarray(32, 64));
  const out = new Uint8Array(C25519_SIGNATURE_LENGTH);
  out.set(rs, 0);
  out.set(h, 64);
  return out;
}

/**
 * Verifies a 96-byte signature made by {@link c25519Sign} against `publicKey[32..64)`.
 * Returns false (never throws) for a wrong length, a digest mismatch or a bad Ed25519 signature.
 */
export function c25519Verify(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== C25519_SIGNATURE_LENGTH || publicKey.length !== C25519_PUBLIC_KEY_LENGTH) {
    return false;
  }
  const h = sha512(msg);
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= h[i] ^ sig[64 + i];
  if (diff !== 0) return false;
  try {
    return ed25519.verify(sig.subarray(0, 64), h.subarray(0, 32), publicKey.subarray(32, 64));
  } catch {
    return false;
  }
}

/** The 32-byte X25519 public key of a 32-byte secret (used when searching for an identity). */
export function x25519PublicKey(secret: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secret.subarray(0, 32));
}

/** Derives the 64-byte public key from a 64-byte private key. */
export function c25519PublicFromPrivate(privateKey: Uint8Array): Uint8Array {
  const pub = new Uint8Array(C25519_PUBLIC_KEY_LENGTH);
  pub.set(x25519PublicKey(privateKey), 0);
  pub.set(ed25519.getPublicKey(privateKey.subarray(32, 64)), 32);
  return pub;
}

/** Fresh key pair from 64 bytes of `random` (X25519 secret ‖ Ed25519 seed). */
export function c25519Generate(
  random: (n: number) => Uint8Array,
): { publicKey: Uint8Array; privateKey: Uint8Array } {
  const r = random(C25519_PRIVATE_KEY_LENGTH);
  if (r.length !== C25519_PRIVATE_KEY_LENGTH) throw new Error("c25519Generate: short random");
  const privateKey = new Uint8Array(r);
  return { publicKey: c25519PublicFromPrivate(privateKey), privateKey };
}
