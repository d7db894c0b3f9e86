// In-place packet armor/dearmor for ciphers 0, 1, 3 and the HELLO cryptField (spec §3.4).
import { kbkdfHmacSha384 } from "../crypto/kbkdf.ts";
import { AesGmacSiv } from "../crypto/aes_gmac_siv.ts";
import { poly1305 } from "../crypto/poly1305.ts";
import { Salsa20 } from "../crypto/salsa20.ts";
import type { SivEngine, SivEngineKey } from "../crypto/siv_engine.ts";
import { loadWasmKernel, type WasmKernel, type WasmSivKey } from "../crypto/wasm_kernel.ts";
import {
  Cipher,
  FLAG_ENCRYPTED,
  FLAGS_AUTH_MASK,
  FLAGS_CIPHER_MASK,
  IDX_DEST,
  IDX_FLAGS,
  IDX_MAC,
  IDX_VERB,
  MAX_PACKET_LENGTH,
  MIN_PACKET_LENGTH,
} from "./packet.ts";
import type { PeerKeys } from "./peer_keys.ts";

/** Ciphers `armor` can apply. */
export type ArmorCipher = 0 | 1 | 3;

/** Implementation behind armor/dearmor/helloCryptField: the WASM kernel or plain TypeScript. */
export type ArmorBackend = "wasm" | "ts";

// The WASM kernel (wasm/zt_crypto.c) when it instantiates here; the TypeScript code otherwise.
const KERNEL: WasmKernel | undefined = loadWasmKernel();
let wasm: WasmKernel | undefined = KERNEL;

/** The backend now in use. */
export function armorBackend(): ArmorBackend {
  return wasm !== undefined ? "wasm" : "ts";
}

/**
 * Chooses the backend (tests and benchmarks compare both). "wasm" takes effect only if the kernel
 * loaded. Returns the backend now in use.
 */
export function setArmorBackend(backend: ArmorBackend): ArmorBackend {
  wasm = backend === "wasm" ? KERNEL : undefined;
  return armorBackend();
}

// A native AES-GMAC-SIV plugged in by the host (libcrypto with AES-NI), used for cipher 3 before
// the WASM kernel and the TypeScript code.
let siv: SivEngine | undefined;

/** The native cipher 3 engine in use, if any. */
export function sivEngine(): SivEngine | undefined {
  return siv;
}

/**
 * Plugs in (or, with undefined, removes) a native AES-GMAC-SIV for cipher 3. Callers should pass
 * only an engine that passed {@link sivEngineSelfTest}.
 */
export function setSivEngine(engine: SivEngine | undefined): void {
  siv = engine;
}

interface EngineKey {
  engine: SivEngine;
  key: SivEngineKey;
}
const ENGINE_KEYS = new WeakMap<PeerKeys, EngineKey>();
const ENGINE_FREE = new FinalizationRegistry<EngineKey>((k) => k.engine.free(k.key));

function engineKey(engine: SivEngine, keys: PeerKeys): SivEngineKey {
  const have = ENGINE_KEYS.get(keys);
  if (have !== undefined && have.engine === engine) return have.key;
  if (have !== undefined) {
    ENGINE_FREE.unregister(keys);
    have.engine.free(have.key);
  }
  const k0 = kbkdfHmacSha384(keys.key, 0x30).subarray(0, 32);
  const k1 = kbkdfHmacSha384(keys.key, 0x31).subarray(0, 32);
  try {
    const ek: EngineKey = { engine, key: engine.key(k0, k1) };
    ENGINE_KEYS.set(keys, ek);
    ENGINE_FREE.register(keys, ek, keys);
    return ek.key;
  } finally {
    k0.fill(0);
    k1.fill(0);
  }
}

/**
 * Checks an engine against the TypeScript AES-GMAC-SIV on a few packets of different lengths,
 * both directions and a tampered packet. True when it agrees byte for byte.
 */
export function sivEngineSelfTest(engine: SivEngine): boolean {
  try {
    const key = new Uint8Array(48);
    for (let i = 0; i < 48; i++) key[i] = (i * 7 + 3) & 0xff;
    const k0 = kbkdfHmacSha384(key, 0x30).subarray(0, 32);
    const k1 = kbkdfHmacSha384(key, 0x31).subarray(0, 32);
    const ts = new AesGmacSiv(k0, k1);
    const ek = engine.key(k0, k1);
    try {
      for (const len of [MIN_PACKET_LENGTH, 29, 43, 44, 60, 1400, 2838]) {
        const a = new Uint8Array(len);
        for (let i = 0; i < len; i++) a[i] = (i * 31 + len) & 0xff;
        a[IDX_FLAGS] = (a[IDX_FLAGS] & ~FLAGS_CIPHER_MASK & ~FLAG_ENCRYPTED) | (3 << 3);
        const b = a.slice();
        engine.armorC3(a, len, ek);
        for (let i = 0; i < 8; i++) IV8[i] = b[i];
        loadAad(b);
        ts.encrypt(IV8, AAD, b, IDX_VERB, len, TAG, 0);
        for (let i = 0; i < 8; i++) {
          b[i] = TAG[i];
          b[IDX_MAC + i] = TAG[8 + i];
        }
        for (let i = 0; i < len; i++) if (a[i] !== b[i]) return false;
        const c = a.slice();
        if (!engine.dearmorC3(a, len, ek)) return false;
        c[len - 1] ^= 1;
        if (engine.dearmorC3(c, len, ek)) return false;
      }
    } finally {
      engine.free(ek);
    }
    return true;
  } catch {
    return false;
  }
}

// Per-peer AES-GMAC-SIV contexts in kernel memory, freed when their PeerKeys is collected.
const SIV_KEYS = new WeakMap<PeerKeys, WasmSivKey>();
const SIV_FREE = new FinalizationRegistry<WasmSivKey>((k) => KERNEL?.freeSivKey(k));

function wasmSivKey(kernel: WasmKernel, keys: PeerKeys): WasmSivKey {
  let k = SIV_KEYS.get(keys);
  if (k === undefined) {
    const k0 = kbkdfHmacSha384(keys.key, 0x30).subarray(0, 32);
    const k1 = kbkdfHmacSha384(keys.key, 0x31).subarray(0, 32);
    k = kernel.sivKey(k0, k1);
    k0.fill(0);
    k1.fill(0);
    SIV_KEYS.set(keys, k);
    SIV_FREE.register(keys, k);
  }
  return k;
}

// Module-level scratch: the packet path is synchronous, so one set serves every call.
const SALSA = new Salsa20(new Uint8Array(32), new Uint8Array(8), 12);
const MANGLED = new Uint8Array(32); // per-packet Salsa20 key
const OTK = new Uint8Array(64); // keystream block 0; bytes 0..31 are the Poly1305 key
const OTK32 = OTK.subarray(0, 32);
const NONCE = new Uint8Array(8); // cryptField nonce
const IV8 = new Uint8Array(8); // cipher 3 IV (pre-armor packet ID)
const AAD = new Uint8Array(11); // cipher 3 AAD: dest, source, flags (hops masked)
const TAG = new Uint8Array(16); // cipher 3 tag: wire packet ID || MAC field

/** Derives the per-packet Salsa20 key and the Poly1305 one-time key into MANGLED / OTK. */
function initSalsa(key: Uint8Array, pkt: Uint8Array, len: number): void {
  const mk = MANGLED;
  for (let i = 0; i < 18; i++) mk[i] = key[i] ^ pkt[i];
  mk[18] = key[18] ^ (pkt[IDX_FLAGS] & FLAGS_AUTH_MASK);
  mk[19] = key[19] ^ (len & 0xff);
  mk[20] = key[20] ^ ((len >>> 8) & 0xff);
  for (let i = 21; i < 32; i++) mk[i] = key[i];
  SALSA.init(mk, pkt, 0);
  OTK.fill(0);
  SALSA.xor(OTK, 0, 64); // block 0; payload keystream continues at byte 64
}

function loadAad(pkt: Uint8Array): void {
  for (let i = 0; i < 11; i++) AAD[i] = pkt[IDX_DEST + i];
  AAD[10] &= FLAGS_AUTH_MASK;
}

function badLength(pkt: Uint8Array, len: number): boolean {
  return !(Number.isInteger(len) && len >= MIN_PACKET_LENGTH && len <= MAX_PACKET_LENGTH &&
    len <= pkt.length);
}

/**
 * Armors `pkt[0..len)` in place for sending: sets the cipher bits (and the legacy 0x80 flag for
 * cipher 1), then fills the MAC field (cipher 0), encrypts and MACs (cipher 1), or encrypts with
 * AES-GMAC-SIV, which also replaces the packet ID with the first half of the tag (cipher 3).
 * The FRAGMENTED flag must already be set if the packet will be fragmented; hops should be 0.
 * For cipher 3 the wire packet ID (bytes 0..7 afterwards) is what replies will refer to.
 * @throws RangeError if `len` is outside 28..10024 or beyond `pkt` (a programming error).
 */
export function armor(pkt: Uint8Array, len: number, keys: PeerKeys, cipher: ArmorCipher): void {
  if (badLength(pkt, len)) throw new RangeError(`armor: bad packet length ${len}`);
  let f = pkt[IDX_FLAGS] & ~(FLAGS_CIPHER_MASK | FLAG_ENCRYPTED);
  f |= cipher << 3;
  if (cipher === Cipher.C25519_POLY1305_SALSA2012) f |= FLAG_ENCRYPTED;
  pkt[IDX_FLAGS] = f;

  if (cipher === Cipher.AES_GMAC_SIV && siv !== undefined) {
    siv.armorC3(pkt, len, engineKey(siv, keys));
    return;
  }
  if (wasm !== undefined) {
    if (cipher === Cipher.AES_GMAC_SIV) wasm.armorC3(pkt, len, wasmSivKey(wasm, keys));
    else wasm.armorC1(pkt, len, keys.key, cipher === Cipher.C25519_POLY1305_SALSA2012);
    return;
  }
  if (cipher === Cipher.AES_GMAC_SIV) {
    for (let i = 0; i < 8; i++) IV8[i] = pkt[i];
    loadAad(pkt);
    keys.aes.encrypt(IV8, AAD, pkt, IDX_VERB, len, TAG, 0);
    for (let i = 0; i < 8; i++) {
      pkt[i] = TAG[i];
      pkt[IDX_MAC + i] = TAG[8 + i];
    }
    return;
  }
  initSalsa(keys.key, pkt, len);
  if (cipher === Cipher.C25519_POLY1305_SALSA2012) SALSA.xor(pkt, IDX_VERB, len);
  const mac = poly1305(OTK32, pkt, IDX_VERB, len);
  for (let i = 0; i < 8; i++) pkt[IDX_MAC + i] = mac[i];
}

/**
 * Authenticates and (ciphers 1, 3) decrypts `pkt[0..len)` in place. Accepts ciphers 0, 1 and 3
 * whatever the peer's version; hop bits are ignored. Returns false for a bad MAC, an unsupported
 * cipher (2 is the caller's trusted-path business) or a bad length; on false the buffer contents
 * after byte 27 are unspecified. After cipher 3 bytes 0..7 still hold the wire packet ID.
 */
export function dearmor(pkt: Uint8Array, len: number, keys: PeerKeys): boolean {
  if (badLength(pkt, len)) return false;
  const cipher = (pkt[IDX_FLAGS] & FLAGS_CIPHER_MASK) >>> 3;
  if (cipher === Cipher.AES_GMAC_SIV && siv !== undefined) {
    return siv.dearmorC3(pkt, len, engineKey(siv, keys));
  }
  if (wasm !== undefined) {
    if (cipher === Cipher.AES_GMAC_SIV) return wasm.dearmorC3(pkt, len, wasmSivKey(wasm, keys));
    if (cipher === Cipher.C25519_POLY1305_NONE) return wasm.dearmorC1(pkt, len, keys.key, false);
    if (cipher === Cipher.C25519_POLY1305_SALSA2012) {
      return wasm.dearmorC1(pkt, len, keys.key, true);
    }
    return false;
  }
  if (cipher === Cipher.AES_GMAC_SIV) {
    for (let i = 0; i < 8; i++) {
      TAG[i] = pkt[i];
      TAG[8 + i] = pkt[IDX_MAC + i];
    }
    loadAad(pkt);
    return keys.aes.decrypt(TAG, 0, AAD, pkt, IDX_VERB, len);
  }
  if (cipher !== Cipher.C25519_POLY1305_NONE && cipher !== Cipher.C25519_POLY1305_SALSA2012) {
    return false;
  }
  initSalsa(keys.key, pkt, len);
  const mac = poly1305(OTK32, pkt, IDX_VERB, len);
  let diff = 0;
  for (let i = 0; i < 8; i++) diff |= mac[i] ^ pkt[IDX_MAC + i];
  if (diff !== 0) return false;
  if (cipher === Cipher.C25519_POLY1305_SALSA2012) SALSA.xor(pkt, IDX_VERB, len);
  return true;
}

/**
 * HELLO partial encryption (spec §3.4.4): XORs `pkt[start..end)` with Salsa20/12 keystream from
 * byte 0, key = the raw peer key bytes 0..31, nonce = packet ID with its last byte ANDed 0xF8.
 * Self-inverse. Apply before `armor` (cipher 0) when sending, and after `dearmor` when receiving.
 * Returns false (doing nothing) if the range is outside `pkt` or starts inside the header.
 */
export function helloCryptField(
  pkt: Uint8Array,
  start: number,
  end: number,
  keys: PeerKeys,
): boolean {
  if (!(start >= IDX_VERB && start <= end && end <= pkt.length)) return false;
  for (let i = 0; i < 8; i++) NONCE[i] = pkt[i];
  NONCE[7] &= 0xf8;
  if (wasm !== undefined) {
    wasm.salsa20Xor(keys.key, NONCE, pkt, start, end);
    return true;
  }
  SALSA.init(keys.key, NONCE, 0);
  SALSA.xor(pkt, start, end);
  return true;
}
