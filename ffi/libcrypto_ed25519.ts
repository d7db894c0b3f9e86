// Ed25519 signing on the system's OpenSSL libcrypto through Deno FFI (the controller's hot path).
//
// The library is opened on first use. A key is one EVP_PKEY made once from the 32-byte seed (its
// public half is derived then, not per signature) with its own EVP_MD_CTX (OpenSSL 3.0 keeps the
// first key of a context re-initialised with another one); each signature re-initialises the
// key's context and makes a one-shot EVP_DigestSign (Ed25519 takes no separate digest). The
// SHA-512 that ZeroTier signs is OpenSSL's one-shot SHA512().
import { dlopenFirst } from "./dlopen_first.ts";
import type { Ed25519Engine, Ed25519EngineKey } from "../src/crypto/ed25519_engine.ts";

const SYMBOLS = {
  EVP_PKEY_new_raw_private_key: {
    parameters: ["i32", "pointer", "buffer", "usize"],
    result: "pointer",
  },
  EVP_PKEY_free: { parameters: ["pointer"], result: "void" },
  // one-shot SHA-512 into the caller's 64 bytes (returns that pointer, NULL on failure)
  SHA512: { parameters: ["buffer", "usize", "buffer"], result: "pointer" },
  EVP_MD_CTX_new: { parameters: [], result: "pointer" },
  EVP_MD_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_DigestSignInit: {
    parameters: ["pointer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  // the signature length in and out is a size_t: an 8-byte buffer
  EVP_DigestSign: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "usize"],
    result: "i32",
  },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** OpenSSL's EVP_PKEY_ED25519 (= NID_ED25519). */
const EVP_PKEY_ED25519 = 1087;
/** Library names tried in order. */
const open = dlopenFirst(["libcrypto.so.3", "libcrypto.so"], SYMBOLS);

class LibcryptoEd25519Key {
  constructor(public pkey: Deno.PointerValue, public ctx: Deno.PointerValue) {}
}

/** Ed25519 on libcrypto. Build with {@link loadLibcryptoEd25519}. */
class LibcryptoEd25519 implements Ed25519Engine {
  readonly name = "libcrypto";
  readonly #l: Lib;
  readonly #sigLen = new BigUint64Array(1);
  readonly #sigLenBytes = new Uint8Array(this.#sigLen.buffer);

  constructor(l: Lib) {
    this.#l = l;
  }

  key(seed: Uint8Array): LibcryptoEd25519Key {
    if (seed.length !== 32) throw new RangeError("libcrypto: an Ed25519 seed is 32 bytes");
    const pkey = this.#l.EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, null, seed, 32n);
    if (pkey === null) throw new Error("libcrypto: could not make an Ed25519 key");
    const ctx = this.#l.EVP_MD_CTX_new();
    if (ctx === null) {
      this.#l.EVP_PKEY_free(pkey);
      throw new Error("libcrypto: EVP_MD_CTX_new failed");
    }
    return new LibcryptoEd25519Key(pkey, ctx);
  }

  sign(key: Ed25519EngineKey, msg: Uint8Array): Uint8Array {
    const k = key as LibcryptoEd25519Key;
    if (k.pkey === null || k.ctx === null) throw new Error("libcrypto: Ed25519 key was freed");
    const l = this.#l;
    const sig = new Uint8Array(64);
    this.#sigLen[0] = 64n;
    if (
      l.EVP_DigestSignInit(k.ctx, null, null, null, k.pkey) !== 1 ||
      l.EVP_DigestSign(k.ctx, sig, this.#sigLenBytes, msg, BigInt(msg.length)) !== 1 ||
      this.#sigLen[0] !== 64n
    ) {
      throw new Error("libcrypto: Ed25519 signing failed");
    }
    return sig;
  }

  sha512(msg: Uint8Array): Uint8Array {
    const out = new Uint8Array(64);
    if (this.#l.SHA512(msg, BigInt(msg.length), out) === null) {
      throw new Error("libcrypto: SHA-512 failed");
    }
    return out;
  }

  free(key: Ed25519EngineKey): void {
    const k = key as LibcryptoEd25519Key;
    if (k.ctx !== null) this.#l.EVP_MD_CTX_free(k.ctx);
    if (k.pkey !== null) this.#l.EVP_PKEY_free(k.pkey);
    k.ctx = null;
    k.pkey = null;
  }
}

/**
 * Ed25519 on the system's libcrypto, or undefined when the library is missing or lacks Ed25519.
 * Check it with `ed25519EngineSelfTest` before plugging it in.
 */
export function loadLibcryptoEd25519(): Ed25519Engine | undefined {
  const l = open();
  if (l === undefined) return undefined;
  try {
    return new LibcryptoEd25519(l);
  } catch {
    return undefined;
  }
}
