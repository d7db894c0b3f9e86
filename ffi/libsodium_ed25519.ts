// Ed25519 signing on the system's libsodium through Deno FFI, when it is installed (optional:
// about twice as fast as libcrypto's Ed25519 here; the controller signs every config it sends).
//
// The library is opened on first use. A key is libsodium's 64-byte secret key (seed ‖ public key),
// derived once from the seed; each signature is one crypto_sign_detached call. The SHA-512 that
// ZeroTier signs is crypto_hash_sha512.
import { dlopenFirst } from "./dlopen_first.ts";
import type { Ed25519Engine, Ed25519EngineKey } from "../src/crypto/ed25519_engine.ts";

const SYMBOLS = {
  sodium_init: { parameters: [], result: "i32" },
  crypto_hash_sha512: { parameters: ["buffer", "buffer", "u64"], result: "i32" },
  crypto_sign_seed_keypair: { parameters: ["buffer", "buffer", "buffer"], result: "i32" },
  // the signature length out pointer may be NULL
  crypto_sign_detached: {
    parameters: ["buffer", "pointer", "buffer", "u64", "buffer"],
    result: "i32",
  },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** The library (names tried in order); sodium_init: 0 = initialised now, 1 = already, -1 = failed. */
const open = dlopenFirst(
  ["libsodium.so.23", "libsodium.so"],
  SYMBOLS,
  (l) => l.sodium_init() >= 0,
);

class SodiumKey {
  constructor(public secret: Uint8Array | null) {}
}

/** Ed25519 on libsodium. Build with {@link loadLibsodiumEd25519}. */
class LibsodiumEd25519 implements Ed25519Engine {
  readonly name = "libsodium";
  readonly #l: Lib;

  constructor(l: Lib) {
    this.#l = l;
  }

  key(seed: Uint8Array): SodiumKey {
    if (seed.length !== 32) throw new RangeError("libsodium: an Ed25519 seed is 32 bytes");
    const pk = new Uint8Array(32);
    const sk = new Uint8Array(64);
    if (this.#l.crypto_sign_seed_keypair(pk, sk, seed) !== 0) {
      throw new Error("libsodium: could not make an Ed25519 key");
    }
    return new SodiumKey(sk);
  }

  sign(key: Ed25519EngineKey, msg: Uint8Array): Uint8Array {
    const k = key as SodiumKey;
    if (k.secret === null) throw new Error("libsodium: Ed25519 key was freed");
    const sig = new Uint8Array(64);
    if (this.#l.crypto_sign_detached(sig, null, msg, BigInt(msg.length), k.secret) !== 0) {
      throw new Error("libsodium: Ed25519 signing failed");
    }
    return sig;
  }

  sha512(msg: Uint8Array): Uint8Array {
    const out = new Uint8Array(64);
    if (this.#l.crypto_hash_sha512(out, msg, BigInt(msg.length)) !== 0) {
      throw new Error("libsodium: SHA-512 failed");
    }
    return out;
  }

  free(key: Ed25519EngineKey): void {
    const k = key as SodiumKey;
    k.secret?.fill(0);
    k.secret = null;
  }
}

/**
 * Ed25519 on the system's libsodium, or undefined when it is not installed or fails to start.
 * Check it with `ed25519EngineSelfTest` before plugging it in.
 */
export function loadLibsodiumEd25519(): Ed25519Engine | undefined {
  const l = open();
  return l === undefined ? undefined : new LibsodiumEd25519(l);
}
