// ZeroTier's "C25519" key pair: X25519 agreement plus Ed25519 96-byte signatures (spec §1.1, §2).
//
// The curve arithmetic is the crypto backend's (crypto_backend.ts: the system's libcrypto when the
// host set it, else @noble); a native Ed25519 signer may be plugged in on top for signing only.
import "./crypto_default.ts";
import { type CryptoBackend, cryptoBackend, onCryptoBackendChange } from "./crypto_backend.ts";
import { sha512 } from "./sha.ts";
import type { Ed25519Engine, Ed25519EngineKey } from "./ed25519_engine.ts";

let backend = cryptoBackend() as CryptoBackend;
onCryptoBackendChange(() => {
  backend = cryptoBackend() as CryptoBackend;
  signers = new WeakMap();
});

/** Length of a C25519 public key: X25519 public (32) || Ed25519 public (32). */
export const C25519_PUBLIC_KEY_LENGTH = 64;
/** Length of a C25519 private key: X25519 secret (32) || Ed25519 seed (32). */
export const C25519_PRIVATE_KEY_LENGTH = 64;
/** Length of a ZeroTier signature: R (32) || S (32) || SHA-512(message)[0..32). */
export const C25519_SIGNATURE_LENGTH = 96;

/** The name of the crypto backend in use ("libcrypto" or "noble"), for logs. */
export function c25519BackendName(): string {
  return backend.name;
}

/**
 * Key agreement: the full 64-byte `SHA-512(X25519(myPrivate[0..32), theirPublic[0..32)))`.
 * Like the reference, a small-order peer key (all-zero shared point) is not rejected: the raw
 * secret is then 32 zero bytes.
 * @throws Error when a key is shorter than 32 bytes (a programming error).
 */
export function c25519Agree(myPrivate: Uint8Array, theirPublic: Uint8Array): Uint8Array {
  if (myPrivate.length < 32 || theirPublic.length < 32) throw new Error("c25519Agree: short key");
  return sha512(backend.x25519(myPrivate.subarray(0, 32), theirPublic.subarray(0, 32)));
}

/** Per-private-key signing state: the engine that signs and its key made from the seed. */
interface SignerState {
  /** The seed this was made from (a changed key array is re-keyed). */
  seed: Uint8Array;
  engine: Ed25519Engine;
  engineKey: Ed25519EngineKey;
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
 * Plugs in (or, with undefined, removes) a native Ed25519 signer for {@link c25519Sign}, used
 * instead of the backend's. Pass only an engine that passed {@link ed25519EngineSelfTest}.
 * Signatures are the same either way.
 */
export function setEd25519Engine(e: Ed25519Engine | undefined): void {
  engine = e;
  signers = new WeakMap();
}

/** RFC 8032 §7.1 test 3 (a two-byte message). */
const RFC8032_3 = {
  seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
  msg: "af82",
  sig: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac" +
    "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
};

function fromHexSmall(s: string): Uint8Array {
  const out = new Uint8Array(s.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Whether `e` signs (and, if it has SHA-512, hashes) exactly as the crypto backend (a known
 * answer, then several keys and message lengths, including the 32-byte digests ZeroTier signs).
 * Never throws.
 */
export function ed25519EngineSelfTest(e: Ed25519Engine): boolean {
  try {
    const k0 = e.key(fromHexSmall(RFC8032_3.seed));
    try {
      if (!sameBytes(e.sign(k0, fromHexSmall(RFC8032_3.msg)), fromHexSmall(RFC8032_3.sig))) {
        return false;
      }
    } finally {
      e.free(k0);
    }
    const ref = backend.ed25519;
    for (let i = 0; i < 2; i++) {
      const seed = new Uint8Array(32).map((_, j) => (j * 29 + i * 71 + 5) & 0xff);
      const k = e.key(seed);
      const rk = ref.key(seed);
      try {
        for (const len of [0, 32, 200]) {
          const msg = new Uint8Array(len).map((_, j) => (j * 13 + i + len) & 0xff);
          const want = ref.sign(rk, msg);
          const got = e.sign(k, msg);
          if (!sameBytes(got, want)) return false;
          if (e.sha512 !== undefined && !sameBytes(e.sha512(msg), sha512(msg))) return false;
        }
      } finally {
        e.free(k);
        ref.free(rk);
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

function keyed(seed: Uint8Array, e: Ed25519Engine): SignerState {
  const s: SignerState = { seed, engine: e, engineKey: e.key(seed) };
  engineKeys.register(s, { e, k: s.engineKey });
  return s;
}

function signerOf(privateKey: Uint8Array): SignerState {
  const seed = privateKey.subarray(32, 64);
  let s = signers.get(privateKey);
  if (s !== undefined && sameBytes(s.seed, seed)) return s;
  s = undefined;
  if (engine !== undefined) {
    try {
      s = keyed(seed.slice(), engine);
    } catch {
      // sign with the backend
    }
  }
  s ??= keyed(seed.slice(), backend.ed25519);
  signers.set(privateKey, s);
  return s;
}

/**
 * Signs `msg`: Ed25519 (seed = `privateKey[32..64)`) over `h = SHA-512(msg)[0..32)`, returned as
 * the 96 bytes `R || S || h`. Deterministic. `publicKey` is accepted for API symmetry (the Ed25519
 * public half is derived from the seed, once per key array). Uses the plugged-in engine when
 * there is one ({@link setEd25519Engine}), falling back to the backend's if it fails.
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
  if (s.engine.sha512 !== undefined) {
    try {
      h = s.engine.sha512(msg).subarray(0, 32);
    } catch {
      h = undefined;
    }
  }
  h ??= sha512(msg).subarray(0, 32);
  let rs: Uint8Array | undefined;
  try {
    rs = s.engine.sign(s.engineKey, h);
  } catch {
    rs = undefined;
  }
  if (rs === undefined) {
    // the plugged-in engine failed: the backend signs (a fresh key, not kept)
    const b = backend.ed25519;
    const k = b.key(s.seed);
    try {
      rs = b.sign(k, h);
    } finally {
      b.free(k);
    }
  }
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
    return backend.ed25519Verify(
      sig.subarray(0, 64),
      h.subarray(0, 32),
      publicKey.subarray(32, 64),
    );
  } catch {
    return false;
  }
}

/** The 32-byte X25519 public key of a 32-byte secret (used when searching for an identity). */
export function x25519PublicKey(secret: Uint8Array): Uint8Array {
  return backend.x25519PublicKey(secret.subarray(0, 32));
}

/** Derives the 64-byte public key from a 64-byte private key. */
export function c25519PublicFromPrivate(privateKey: Uint8Array): Uint8Array {
  const pub = new Uint8Array(C25519_PUBLIC_KEY_LENGTH);
  pub.set(x25519PublicKey(privateKey), 0);
  pub.set(backend.ed25519PublicKey(privateKey.subarray(32, 64)), 32);
  return pub;
}

/** Fresh key pair from 64 bytes of `random` (X25519 secret || Ed25519 seed). */
export function c25519Generate(
  random: (n: number) => Uint8Array,
): { publicKey: Uint8Array; privateKey: Uint8Array } {
  const r = random(C25519_PRIVATE_KEY_LENGTH);
  if (r.length !== C25519_PRIVATE_KEY_LENGTH) throw new Error("c25519Generate: short random");
  const privateKey = new Uint8Array(r);
  return { publicKey: c25519PublicFromPrivate(privateKey), privateKey };
}
