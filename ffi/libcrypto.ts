// AES-256-GMAC-SIV (packet cipher 3) on the system's OpenSSL libcrypto through Deno FFI (AES-NI).
//
// The library is opened on first use. Each key holds four OpenSSL cipher contexts keyed once
// (GCM under K0 for the GMAC, ECB encrypt/decrypt and CTR under K1); a packet only resets IVs.
// GMAC is computed as a GCM tag with an empty plaintext: IV = IV8 || 00000000 (so J0 = IV8 || 0 || 1),
// AAD = the 11 header bytes zero padded to 16 || the payload - which is exactly ZeroTier's GHASH
// input and length block. Nothing here allocates per packet.
import { dlopenFirst } from "./dlopen_first.ts";
import { FLAGS_AUTH_MASK, IDX_FLAGS, IDX_MAC, IDX_VERB } from "../src/vl1/packet.ts";
import type { SivEngine, SivEngineKey } from "../src/crypto/siv_engine.ts";

const SYMBOLS = {
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  EVP_CIPHER_CTX_set_padding: { parameters: ["pointer", "i32"], result: "i32" },
  EVP_aes_256_gcm: { parameters: [], result: "pointer" },
  EVP_aes_256_ecb: { parameters: [], result: "pointer" },
  EVP_aes_256_ctr: { parameters: [], result: "pointer" },
  EVP_EncryptInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  EVP_DecryptInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  // int lengths are declared i32; the out-length pointer is a 4-byte buffer.
  EVP_EncryptUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_DecryptUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  /** EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv): the per-packet IV reset. */
  EVP_EncryptInit_iv: {
    name: "EVP_EncryptInit_ex",
    parameters: ["pointer", "pointer", "pointer", "pointer", "buffer"],
    result: "i32",
  },
  /** EVP_EncryptUpdate(ctx, NULL, &outl, in, inl): GCM additional data. */
  EVP_EncryptUpdate_aad: {
    name: "EVP_EncryptUpdate",
    parameters: ["pointer", "pointer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_EncryptFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
} as const;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const EVP_CTRL_GCM_SET_IVLEN = 0x9;
const EVP_CTRL_GCM_GET_TAG = 0x10;

/** Library names tried in order. */
const open = dlopenFirst(["libcrypto.so.3", "libcrypto.so"], SYMBOLS);

class LibcryptoKey {
  constructor(
    public gcm: Deno.PointerValue,
    public ecbEnc: Deno.PointerValue,
    public ecbDec: Deno.PointerValue,
    public ctr: Deno.PointerValue,
  ) {}
}

/** Scratch shared by every call (the packet path is synchronous). */
const AAD16 = new Uint8Array(16);
const IV12 = new Uint8Array(12);
const BLK = new Uint8Array(16);
const TAG = new Uint8Array(16);
const CTR_IV = new Uint8Array(16);
const OUTLEN = new Uint8Array(4);
const NULLBUF = null;

/** AES-GMAC-SIV on libcrypto. Build with {@link loadLibcryptoSiv}. */
class LibcryptoSiv implements SivEngine {
  readonly name = "libcrypto";
  readonly #l: Lib;
  readonly #gcm: Deno.PointerValue;
  readonly #ecb: Deno.PointerValue;
  readonly #ctr: Deno.PointerValue;

  constructor(l: Lib) {
    this.#l = l;
    this.#gcm = l.EVP_aes_256_gcm();
    this.#ecb = l.EVP_aes_256_ecb();
    this.#ctr = l.EVP_aes_256_ctr();
    if (this.#gcm === null || this.#ecb === null || this.#ctr === null) {
      throw new Error("libcrypto: AES-256 ciphers unavailable");
    }
  }

  key(k0: Uint8Array, k1: Uint8Array): LibcryptoKey {
    if (k0.length !== 32 || k1.length !== 32) {
      throw new RangeError("libcrypto: AES-GMAC-SIV keys must be 32 bytes");
    }
    const l = this.#l;
    const gcm = l.EVP_CIPHER_CTX_new();
    const ecbEnc = l.EVP_CIPHER_CTX_new();
    const ecbDec = l.EVP_CIPHER_CTX_new();
    const ctr = l.EVP_CIPHER_CTX_new();
    const k = new LibcryptoKey(gcm, ecbEnc, ecbDec, ctr);
    const ok = gcm !== null && ecbEnc !== null && ecbDec !== null && ctr !== null &&
      l.EVP_EncryptInit_ex(gcm, this.#gcm, null, NULLBUF, NULLBUF) === 1 &&
      l.EVP_CIPHER_CTX_ctrl(gcm, EVP_CTRL_GCM_SET_IVLEN, 12, NULLBUF) === 1 &&
      l.EVP_EncryptInit_ex(gcm, null, null, k0, NULLBUF) === 1 &&
      l.EVP_EncryptInit_ex(ecbEnc, this.#ecb, null, k1, NULLBUF) === 1 &&
      l.EVP_CIPHER_CTX_set_padding(ecbEnc, 0) === 1 &&
      l.EVP_DecryptInit_ex(ecbDec, this.#ecb, null, k1, NULLBUF) === 1 &&
      l.EVP_CIPHER_CTX_set_padding(ecbDec, 0) === 1 &&
      l.EVP_EncryptInit_ex(ctr, this.#ctr, null, k1, NULLBUF) === 1;
    if (!ok) {
      this.free(k);
      throw new Error("libcrypto: could not key AES-GMAC-SIV contexts");
    }
    return k;
  }

  free(key: SivEngineKey): void {
    const k = key as LibcryptoKey;
    const l = this.#l;
    for (const p of [k.gcm, k.ecbEnc, k.ecbDec, k.ctr]) if (p !== null) l.EVP_CIPHER_CTX_free(p);
    k.gcm =
      k.ecbEnc =
      k.ecbDec =
      k.ctr =
        null;
  }

  /**
   * BLK[8..16) = folded GMAC of AAD16 || body with IV8 = BLK[0..8); `body` is pkt[27..len) (one
   * view per packet, shared with {@link #ctrXor}), empty when len <= 27.
   */
  #gmac(k: LibcryptoKey, body: Uint8Array | undefined): boolean {
    const l = this.#l;
    for (let i = 0; i < 8; i++) IV12[i] = BLK[i];
    if (l.EVP_EncryptInit_iv(k.gcm, null, null, null, IV12) !== 1) return false;
    if (l.EVP_EncryptUpdate_aad(k.gcm, null, OUTLEN, AAD16, 16) !== 1) return false;
    if (body !== undefined) {
      if (l.EVP_EncryptUpdate_aad(k.gcm, null, OUTLEN, body, body.length) !== 1) return false;
    }
    if (l.EVP_EncryptFinal_ex(k.gcm, TAG, OUTLEN) !== 1) return false;
    if (l.EVP_CIPHER_CTX_ctrl(k.gcm, EVP_CTRL_GCM_GET_TAG, 16, TAG) !== 1) return false;
    for (let i = 0; i < 8; i++) BLK[8 + i] = TAG[i] ^ TAG[8 + i];
    return true;
  }

  #ctrXor(k: LibcryptoKey, tag: Uint8Array, body: Uint8Array | undefined): boolean {
    if (body === undefined) return true;
    const l = this.#l;
    CTR_IV.set(tag);
    CTR_IV[12] &= 0x7f;
    if (l.EVP_EncryptInit_iv(k.ctr, null, null, null, CTR_IV) !== 1) return false;
    return l.EVP_EncryptUpdate(k.ctr, body, OUTLEN, body, body.length) === 1;
  }

  armorC3(pkt: Uint8Array, len: number, key: SivEngineKey): void {
    const k = key as LibcryptoKey;
    if (k.gcm === null) throw new Error("libcrypto: AES-GMAC-SIV key was freed");
    loadAad(pkt);
    for (let i = 0; i < 8; i++) BLK[i] = pkt[i];
    const l = this.#l;
    const body = len > IDX_VERB ? pkt.subarray(IDX_VERB, len) : undefined;
    if (
      !this.#gmac(k, body) ||
      l.EVP_EncryptUpdate(k.ecbEnc, TAG, OUTLEN, BLK, 16) !== 1 ||
      !this.#ctrXor(k, TAG, body)
    ) {
      throw new Error("libcrypto: AES-GMAC-SIV armor failed");
    }
    for (let i = 0; i < 8; i++) {
      pkt[i] = TAG[i];
      pkt[IDX_MAC + i] = TAG[8 + i];
    }
  }

  dearmorC3(pkt: Uint8Array, len: number, key: SivEngineKey): boolean {
    const k = key as LibcryptoKey;
    if (k.gcm === null) throw new Error("libcrypto: AES-GMAC-SIV key was freed");
    const l = this.#l;
    const tag = SIV_TAG;
    for (let i = 0; i < 8; i++) {
      tag[i] = pkt[i];
      tag[8 + i] = pkt[IDX_MAC + i];
    }
    loadAad(pkt);
    // IV8 || T8 = AES_K1^-1(tag)
    if (l.EVP_DecryptUpdate(k.ecbDec, BLK, OUTLEN, tag, 16) !== 1) return false;
    for (let i = 0; i < 8; i++) EXPECT[i] = BLK[8 + i];
    const body = len > IDX_VERB ? pkt.subarray(IDX_VERB, len) : undefined;
    if (!this.#ctrXor(k, tag, body)) return false;
    if (!this.#gmac(k, body)) return false;
    let diff = 0;
    for (let i = 0; i < 8; i++) diff |= BLK[8 + i] ^ EXPECT[i];
    return diff === 0;
  }
}

const SIV_TAG = new Uint8Array(16);
const EXPECT = new Uint8Array(8);

function loadAad(pkt: Uint8Array): void {
  for (let i = 0; i < 11; i++) AAD16[i] = pkt[8 + i];
  AAD16[10] = pkt[IDX_FLAGS] & FLAGS_AUTH_MASK;
}

/**
 * AES-GMAC-SIV on the system's libcrypto, or undefined when the library is missing, lacks the
 * ciphers, or fails a known-answer self-test.
 */
export function loadLibcryptoSiv(): SivEngine | undefined {
  const l = open();
  if (l === undefined) return undefined;
  try {
    return new LibcryptoSiv(l);
  } catch {
    return undefined;
  }
}
