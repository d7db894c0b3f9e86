// X25519, Ed25519, SHA-512/384 and HMAC-SHA-384 on the system's OpenSSL libcrypto through Deno FFI.
//
// The whole crypto backend of a member (src/crypto/crypto_backend.ts): with it a member loads no
// npm module (@noble costs ~20 MiB of RSS; the member opens libcrypto for AES anyway). Keys are
// EVP_PKEYs made from raw bytes; an X25519 agreement reuses the last private key's EVP_PKEY (a node
// agrees with every peer under its one identity, and making the key derives its public half).
// Every entry point checks lengths before a pointer crosses the boundary, and a failed call
// leaves nothing on OpenSSL's error queue. Ed25519 signing is the engine of libcrypto_ed25519.ts.
import { dlopenFirst } from "./dlopen_first.ts";
import { loadLibcryptoEd25519 } from "./libcrypto_ed25519.ts";
import type { CryptoBackend } from "../src/crypto/crypto_backend.ts";
import type { Ed25519Engine } from "../src/crypto/ed25519_engine.ts";

const SYMBOLS = {
  EVP_PKEY_new_raw_private_key: {
    parameters: ["i32", "pointer", "buffer", "usize"],
    result: "pointer",
  },
  EVP_PKEY_new_raw_public_key: {
    parameters: ["i32", "pointer", "buffer", "usize"],
    result: "pointer",
  },
  // the length in and out is a size_t: an 8-byte buffer
  EVP_PKEY_get_raw_public_key: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_PKEY_free: { parameters: ["pointer"], result: "void" },
  EVP_PKEY_CTX_new: { parameters: ["pointer", "pointer"], result: "pointer" },
  EVP_PKEY_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_PKEY_derive_init: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_derive_set_peer: { parameters: ["pointer", "pointer"], result: "i32" },
  EVP_PKEY_derive: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_MD_CTX_new: { parameters: [], result: "pointer" },
  EVP_MD_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_DigestVerifyInit: {
    parameters: ["pointer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  EVP_DigestVerify: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize"],
    result: "i32",
  },
  // one-shot digests into the caller's buffer (return that pointer, NULL on failure)
  SHA512: { parameters: ["buffer", "usize", "buffer"], result: "pointer" },
  SHA384: { parameters: ["buffer", "usize", "buffer"], result: "pointer" },
  EVP_sha384: { parameters: [], result: "pointer" },
  // HMAC(md, key, int key_len, data, size_t n, out, unsigned *out_len)
  HMAC: {
    parameters: ["pointer", "buffer", "i32", "buffer", "usize", "buffer", "pointer"],
    result: "pointer",
  },
  ERR_clear_error: { parameters: [], result: "void" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** OpenSSL's EVP_PKEY_X25519 (= NID_X25519) and EVP_PKEY_ED25519 (= NID_ED25519). */
const EVP_PKEY_X25519 = 1034;
const EVP_PKEY_ED25519 = 1087;

/** Library names tried in order. */
const open = dlopenFirst(["libcrypto.so.3", "libcrypto.so"], SYMBOLS);

/** A non-empty stand-in for an empty input (no NULL pointer reaches OpenSSL). */
const ONE = new Uint8Array(1);
const nonEmpty = (b: Uint8Array): Uint8Array => b.length === 0 ? ONE : b;

function need32(b: Uint8Array, what: string): void {
  if (b.length !== 32) throw new RangeError(`libcrypto: ${what} is 32 bytes, got ${b.length}`);
}

/** The crypto backend on libcrypto. Build with {@link loadLibcryptoBackend}. */
class LibcryptoBackend implements CryptoBackend {
  readonly name = "libcrypto";
  readonly ed25519: Ed25519Engine;
  readonly #l: Lib;
  readonly #sha384: Deno.PointerValue;
  readonly #len = new BigUint64Array(1);
  readonly #lenBytes = new Uint8Array(this.#len.buffer);
  /** The last X25519 private key: its bytes and its EVP_PKEY. */
  #xSecret = new Uint8Array(32);
  #xKey: Deno.PointerValue = null;

  constructor(l: Lib, ed: Ed25519Engine) {
    this.#l = l;
    this.ed25519 = ed;
    this.#sha384 = l.EVP_sha384();
    if (this.#sha384 === null) throw new Error("libcrypto: no SHA-384");
  }

  sha512(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(64);
    if (this.#l.SHA512(nonEmpty(data), BigInt(data.length), out) === null) {
      this.#l.ERR_clear_error();
      throw new Error("libcrypto: SHA-512 failed");
    }
    return out;
  }

  sha384(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(48);
    if (this.#l.SHA384(nonEmpty(data), BigInt(data.length), out) === null) {
      this.#l.ERR_clear_error();
      throw new Error("libcrypto: SHA-384 failed");
    }
    return out;
  }

  hmacSha384(key: Uint8Array, data: Uint8Array): Uint8Array {
    if (key.length > 0x7fffffff) throw new RangeError("libcrypto: HMAC key too long");
    const out = new Uint8Array(48);
    const r = this.#l.HMAC(
      this.#sha384,
      nonEmpty(key),
      key.length,
      nonEmpty(data),
      BigInt(data.length),
      out,
      null,
    );
    if (r === null) {
      this.#l.ERR_clear_error();
      throw new Error("libcrypto: HMAC-SHA-384 failed");
    }
    return out;
  }

  /** The EVP_PKEY of X25519 secret `s`: the cached one when `s` is the last secret used. */
  #xPrivate(s: Uint8Array): Deno.PointerValue {
    if (this.#xKey !== null) {
      let d = 0;
      for (let i = 0; i < 32; i++) d |= s[i] ^ this.#xSecret[i];
      if (d === 0) return this.#xKey;
    }
    const l = this.#l;
    const k = l.EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, null, s, 32n);
    if (k === null) {
      l.ERR_clear_error();
      throw new Error("libcrypto: could not make an X25519 key");
    }
    if (this.#xKey !== null) l.EVP_PKEY_free(this.#xKey);
    this.#xKey = k;
    this.#xSecret.set(s);
    return k;
  }

  x25519(secret: Uint8Array, theirPublic: Uint8Array): Uint8Array {
    need32(secret, "an X25519 secret");
    need32(theirPublic, "an X25519 public key");
    const l = this.#l;
    const mine = this.#xPrivate(secret);
    const peer = l.EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, null, theirPublic, 32n);
    if (peer === null) {
      l.ERR_clear_error();
      throw new Error("libcrypto: could not make an X25519 public key");
    }
    const ctx = l.EVP_PKEY_CTX_new(mine, null);
    try {
      if (
        ctx === null || l.EVP_PKEY_derive_init(ctx) !== 1 ||
        l.EVP_PKEY_derive_set_peer(ctx, peer) !== 1
      ) {
        l.ERR_clear_error();
        throw new Error("libcrypto: X25519 setup failed");
      }
      const out = new Uint8Array(32);
      this.#len[0] = 32n;
      if (l.EVP_PKEY_derive(ctx, out, this.#lenBytes) !== 1) {
        // With the keys made and the context set, the derivation fails only on an all-zero
        // result (a small-order peer key), which the reference hashes as 32 zero bytes.
        l.ERR_clear_error();
        return new Uint8Array(32);
      }
      if (this.#len[0] !== 32n) throw new Error("libcrypto: X25519 gave a short secret");
      return out;
    } finally {
      if (ctx !== null) l.EVP_PKEY_CTX_free(ctx);
      l.EVP_PKEY_free(peer);
    }
  }

  #publicOf(type: number, secret: Uint8Array): Uint8Array {
    const l = this.#l;
    const k = l.EVP_PKEY_new_raw_private_key(type, null, secret, 32n);
    if (k === null) {
      l.ERR_clear_error();
      throw new Error("libcrypto: could not make a key");
    }
    try {
      const out = new Uint8Array(32);
      this.#len[0] = 32n;
      if (l.EVP_PKEY_get_raw_public_key(k, out, this.#lenBytes) !== 1 || this.#len[0] !== 32n) {
        l.ERR_clear_error();
        throw new Error("libcrypto: could not read a public key");
      }
      return out;
    } finally {
      l.EVP_PKEY_free(k);
    }
  }

  x25519PublicKey(secret: Uint8Array): Uint8Array {
    need32(secret, "an X25519 secret");
    return this.#publicOf(EVP_PKEY_X25519, secret);
  }

  ed25519PublicKey(seed: Uint8Array): Uint8Array {
    need32(seed, "an Ed25519 seed");
    return this.#publicOf(EVP_PKEY_ED25519, seed);
  }

  ed25519Verify(sig: Uint8Array, msg: Uint8Array, publicKey: Uint8Array): boolean {
    if (sig.length !== 64 || publicKey.length !== 32) return false;
    const l = this.#l;
    const k = l.EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, null, publicKey, 32n);
    if (k === null) {
      l.ERR_clear_error();
      return false;
    }
    const ctx = l.EVP_MD_CTX_new();
    try {
      const ok = ctx !== null && l.EVP_DigestVerifyInit(ctx, null, null, null, k) === 1 &&
        l.EVP_DigestVerify(ctx, sig, 64n, nonEmpty(msg), BigInt(msg.length)) === 1;
      if (!ok) l.ERR_clear_error();
      return ok;
    } finally {
      if (ctx !== null) l.EVP_MD_CTX_free(ctx);
      l.EVP_PKEY_free(k);
    }
  }
}

/**
 * The crypto backend on the system's libcrypto, or undefined when the library is missing or
 * lacks a function. Check it with `cryptoBackendSelfTest` before setting it.
 */
export function loadLibcryptoBackend(): CryptoBackend | undefined {
  const l = open();
  if (l === undefined) return undefined;
  const ed = loadLibcryptoEd25519();
  if (ed === undefined) return undefined;
  try {
    return new LibcryptoBackend(l, ed);
  } catch {
    return undefined;
  }
}
