// ZeroTier's "C25519" key pair: X25519 agreement plus Ed25519 96-byte signatures (spec §1.1, §2).
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { sha512 } from "./sha.ts";
import type { Ed25519Engine, Ed25519EngineKey } from "./ed25519_engine.ts";

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

/** Per-private-key signing state: the expanded Ed25519 key, and the engine's key if one is set. */
interface SignerState {
  /** The seed this was made from (a changed key array is re-expanded). */
  seed: Uint8Array;
  /** RFC 8032 5.1.5: the secret scalar, the nonce prefix and the public key A. */
  scalar: bigint;
  prefix: Uint8Array;
  pointBytes: Uint8Array;
  /** The engine and its key made from `seed`, when an engine was set at first use. */
  engine?: Ed25519Engine;
  engineKey?: Ed25519EngineKey;
}

let engine: Ed25519Engine | undefined;
/** Keyed by the private key array itself (an identity keeps one): no copy of keys in a table. */
let signers = new WeakMap<Uint8Array, SignerState>();
const engineKeys = new FinalizationRegistry<{ e: Ed25519Engine; k: Ed25519EngineKey }>(
  ({ e, k }) => {
    try {
      e.free(k);
    } catch {
      // the engine is gone with it
    }
  },
);

/** The plugged-in Ed25519 signer, if any. */
export function ed25519Engine(): Ed25519Engine | undefined {
  return engine;
}

/**
 * Plugs in (or, with undefined, removes) a native Ed25519 signer for {@link c25519Sign}. Pass
 * only an engine that passed {@link ed25519EngineSelfTest}. Signatures are the same either way.
 */
export function setEd25519Engine(e: Ed25519Engine | undefined): void {
  engine = e;
  signers = new WeakMap();
}

/**
 * Whether `e` signs (and, if it has SHA-512, hashes) exactly as this module's own code (several
 * keys and message lengths, including the 32-byte digests ZeroTier signs). Never throws.
 */
export function ed25519EngineSelfTest(e: Ed25519Engine): boolean {
  try {
    for (let i = 0; i < 2; i++) {
      const seed = new Uint8Array(32).map((_, j) => (j * 29 + i * 71 + 5) & 0xff);
      const k = e.key(seed);
      try {
        for (const len of [0, 32, 200]) {
          const msg = new Uint8Array(len).map((_, j) => (j * 13 + i + len) & 0xff);
          const want = ed25519.sign(msg, seed);
          const got = e.sign(k, msg);
          if (got.length !== 64) return false;
          for (let j = 0; j < 64; j++) if (got[j] !== want[j]) return false;
          if (e.sha512 !== undefined && !sameBytes(e.sha512(msg), sha512(msg))) return false;
        }
      } finally {
        e.free(k);
      }
    }
    return true;
  } catch {
    return false;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function signerOf(privateKey: Uint8Array): SignerState {
  const seed = privateKey.subarray(32, 64);
  let s = signers.get(privateKey);
  if (s !== undefined && sameBytes(s.seed, seed)) return s;
  const x = ed25519.utils.getExtendedPublicKey(seed);
  s = { seed: seed.slice(), scalar: x.scalar, prefix: x.prefix, pointBytes: x.pointBytes };
  if (engine !== undefined) {
    try {
      s.engineKey = engine.key(s.seed);
      s.engine = engine;
      engineKeys.register(s, { e: engine, k: s.engineKey });
    } catch {
      // sign with the built-in code
    }
  }
  signers.set(privateKey, s);
  return s;
}

const Fn = ed25519.Point.Fn;

function leScalar(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return Fn.create(v);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.length;
  }
  return out;
}

/**
 * RFC 8032 Ed25519 of `msg` with an expanded key (one base-point multiplication: the public key
 * was derived once). Byte-identical to `ed25519.sign(msg, seed)`.
 */
function ed25519SignExpanded(s: SignerState, msg: Uint8Array): Uint8Array {
  const r = leScalar(sha512(concat(s.prefix, msg)));
  const R = ed25519.Point.BASE.multiply(r).toBytes();
  const k = leScalar(sha512(concat(R, s.pointBytes, msg)));
  const S = Fn.create(r + k * s.scalar);
  return concat(R, Fn.toBytes(S));
}

/**
 * Signs `msg`: Ed25519 (seed = `privateKey[32..64)`) over `h = SHA-512(msg)[0..32)`, returned as
 * the 96 bytes `R ‖ S ‖ h`. Deterministic. `publicKey` is accepted for API symmetry (the Ed25519
 * public half is derived from the seed, once per key array). Uses the plugged-in engine when
 * there is one ({@link setEd25519Engine}), falling back to the built-in code if it fails.
 * @throws Error when the private key is not 64 bytes (a programming error).
 */
export function c25519Sign(
  privateKey: Uint8Array,
  _publicKey: Uint8Array,
  msg: Uint8Array,
): Uint8Array {
  if (privateKey.length !== C25519_PRIVATE_KEY_LENGTH) throw new Error("c25519Sign: bad key");
  const s = signerOf(privateKey);
  let h: Uint8Array | undefined;
  if (s.engine?.sha512 !== undefined) {
    try {
      h = s.engine.sha512(msg).subarray(0, 32);
    } catch {
      h = undefined;
    }
  }
  h ??= sha512(msg).subarray(0, 32);
  let rs: Uint8Array | undefined;
  if (s.engine !== undefined && s.engineKey !== undefined) {
    try {
      rs = s.engine.sign(s.engineKey, h);
    } catch {
      rs = undefined;
    }
  }
  rs ??= ed25519SignExpanded(s, h);
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
