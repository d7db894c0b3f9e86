// Chooses the packet crypto at start: AES-GMAC-SIV on the system's libcrypto when it loads and
// passes its self-test (ZT_LIBCRYPTO=0 turns it off), and with it the default peer cipher.
//
// libcrypto is the fast path for traffic (AES-NI; ~1 µs a packet), but a packet after a pause pays
// for cold caches: its 8 FFI calls then cost ~35-55 µs where the WASM kernel's one call costs
// ~10-30 µs (measured 2026-12-06 on the shared 2-core box: lab stamps and a micro-probe that runs
// other code for 20 ms between packets). A lone packet (a ping, a request) is latency, so the
// engine installed is a {@link BurstSiv}: the first few packets of a burst go through the WASM
// kernel, the rest through libcrypto. ZT_SIV_BURST=0 keeps every packet on libcrypto.
import { loadLibcryptoSiv } from "../../ffi/libcrypto.ts";
import { setSivEngine, sivEngine, sivEngineSelfTest } from "../vl1/armor.ts";
import type { PeerCipher } from "../vl1/node_settings.ts";
import type { SivEngine, SivEngineKey } from "../crypto/siv_engine.ts";
import { loadWasmKernel, type WasmKernel, type WasmSivKey } from "../crypto/wasm_kernel.ts";

/** A {@link BurstSiv} key: the native engine's and the kernel's (none beyond the cap). */
interface BurstSivKey {
  native: SivEngineKey;
  wasm: WasmSivKey | undefined;
}

/** Packets of a burst that go through the WASM kernel (see {@link BurstSiv}). */
export const BURST_WASM_PACKETS = 8;
/** A burst of {@link BurstSiv} starts after this long without a packet, ms. */
export const BURST_QUIET_MS = 2;
/**
 * Most peers with a kernel key too (each takes ~11 KB of WASM memory, which never shrinks); the
 * packets of peers keyed beyond it all go through the native engine.
 */
export const BURST_MAX_WASM_KEYS = 256;

/**
 * Cipher 3 on two engines that give the same bytes: after a quiet spell of at least
 * {@link BURST_QUIET_MS} without a packet (armored or dearmored), the first
 * {@link BURST_WASM_PACKETS} packets go through the WASM kernel, every later one through `native`
 * until the next quiet spell. A ping or a request/answer exchange thus never touches the native
 * engine's cold FFI path, while a steady stream runs wholly on it. (Windows of fixed length, as
 * first built, sent the first packets of every window of bulk traffic through the kernel too:
 * ~8 packets in 100 at ~50k packets/s, each ~10x the native cost.)
 */
export class BurstSiv implements SivEngine {
  readonly name: string;
  readonly #native: SivEngine;
  readonly #kernel: WasmKernel;
  readonly #clock: () => number;
  #last = -Infinity;
  #count = 0;
  #wasmKeys = 0;

  /** `clock` (ms, monotonic) defaults to performance.now. */
  constructor(
    native: SivEngine,
    kernel: WasmKernel,
    clock: () => number = () => performance.now(),
  ) {
    this.#native = native;
    this.#kernel = kernel;
    this.#clock = clock;
    this.name = `${native.name}+wasm`;
  }

  /** Packets that went through the WASM kernel / the native engine. */
  readonly counters = { wasm: 0, native: 0 };

  key(k0: Uint8Array, k1: Uint8Array): BurstSivKey {
    const native = this.#native.key(k0, k1);
    let wasm: WasmSivKey | undefined;
    if (this.#wasmKeys < BURST_MAX_WASM_KEYS) {
      try {
        wasm = this.#kernel.sivKey(k0, k1);
        this.#wasmKeys++;
      } catch {
        wasm = undefined; // out of kernel memory: this peer stays on the native engine
      }
    }
    return { native, wasm };
  }

  free(key: SivEngineKey): void {
    const k = key as BurstSivKey;
    this.#native.free(k.native);
    if (k.wasm !== undefined && k.wasm.ctx !== 0) {
      this.#kernel.freeSivKey(k.wasm);
      this.#wasmKeys--;
    }
  }

  /** Whether this packet goes through the kernel (counts it in the burst). */
  #lone(k: BurstSivKey): boolean {
    if (k.wasm === undefined) {
      this.counters.native++;
      return false;
    }
    const now = this.#clock();
    if (now - this.#last >= BURST_QUIET_MS) this.#count = 0;
    this.#last = now;
    if (this.#count < BURST_WASM_PACKETS) {
      this.#count++;
      this.counters.wasm++;
      return true;
    }
    this.counters.native++;
    return false;
  }

  armorC3(pkt: Uint8Array, len: number, key: SivEngineKey): void {
    const k = key as BurstSivKey;
    if (this.#lone(k)) this.#kernel.armorC3(pkt, len, k.wasm!);
    else this.#native.armorC3(pkt, len, k.native);
  }

  dearmorC3(pkt: Uint8Array, len: number, key: SivEngineKey): boolean {
    const k = key as BurstSivKey;
    return this.#lone(k)
      ? this.#kernel.dearmorC3(pkt, len, k.wasm!)
      : this.#native.dearmorC3(pkt, len, k.native);
  }
}

/** What {@link installPacketCrypto} chose. */
export interface PacketCryptoChoice {
  /** Cipher 3 implementation: "libcrypto" (native AES) or "wasm" (bitsliced, WASM/TS fallback). */
  aes: "libcrypto" | "wasm";
  /** Default cipher toward AES-capable peers when local.conf does not say. */
  defaultCipher: PeerCipher;
  /** Why libcrypto is not used, if it is not. */
  reason?: string;
}

/**
 * Plugs the libcrypto AES-GMAC-SIV into the armor layer when possible. Idempotent; a process-wide
 * choice (the armor layer's engine is module state).
 */
export function installPacketCrypto(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): PacketCryptoChoice {
  if (env("ZT_LIBCRYPTO") === "0") {
    setSivEngine(undefined);
    return { aes: "wasm", defaultCipher: "salsa2012", reason: "ZT_LIBCRYPTO=0" };
  }
  if (sivEngine() !== undefined) return { aes: "libcrypto", defaultCipher: "aes" };
  let engine;
  try {
    engine = loadLibcryptoSiv();
  } catch (e) {
    return { aes: "wasm", defaultCipher: "salsa2012", reason: `libcrypto: ${e}` };
  }
  if (engine === undefined) {
    return { aes: "wasm", defaultCipher: "salsa2012", reason: "libcrypto.so.3 not found" };
  }
  if (!sivEngineSelfTest(engine)) {
    return { aes: "wasm", defaultCipher: "salsa2012", reason: "libcrypto failed the self-test" };
  }
  const kernel = env("ZT_SIV_BURST") === "0" ? undefined : loadWasmKernel();
  if (kernel !== undefined) {
    const burst = new BurstSiv(engine, kernel);
    if (sivEngineSelfTest(burst)) engine = burst;
  }
  setSivEngine(engine);
  return { aes: "libcrypto", defaultCipher: "aes" };
}
