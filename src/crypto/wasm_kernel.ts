// TypeScript face of the WebAssembly crypto kernel (wasm/zt_crypto.c): packet armor and primitives.
import { ZT_CRYPTO_WASM_BASE64 } from "./wasm/zt_crypto_wasm.ts";

/** Largest packet the kernel's I/O buffer takes (>= the protocol's 10024-byte maximum). */
export const WASM_MAX_PACKET = 10240;

interface Exports {
  memory: WebAssembly.Memory;
  zt_io(): number;
  zt_key(): number;
  zt_aux(): number;
  zt_io_size(): number;
  zt_salsa20_xor(len: number, rounds: number): number;
  zt_poly1305(len: number): number;
  zt_armor_c1(len: number, encrypt: number): number;
  zt_dearmor_c1(len: number, decrypt: number): number;
  zt_siv_ctx_size(): number;
  zt_siv_alloc(): number;
  zt_siv_free(ctx: number): void;
  zt_siv_init(ctx: number): void;
  zt_aes_block(ctx: number, which: number): void;
  zt_aes_ctr(ctx: number, len: number): number;
  zt_ghash(ctx: number, len: number): number;
  zt_armor_c3(ctx: number, len: number): number;
  zt_dearmor_c3(ctx: number, len: number): number;
  zt_identity_memhash(): void;
  zt_idmem(): number;
  zt_idmem_size(): number;
}

/**
 * Per-peer AES-GMAC-SIV key state living in kernel memory (expanded K0/K1, bitsliced K1, GHASH
 * table). Release it with `WasmKernel.freeSivKey` when the peer goes away.
 */
export class WasmSivKey {
  /** @param ctx address of the context in kernel memory (0 once freed) */
  constructor(public ctx: number) {}
}

/** Which AES operation `aesBlock` performs. */
export type AesBlockOp = "encrypt-k0" | "encrypt-k1" | "decrypt-k1";

/**
 * The instantiated kernel. Every call copies its input into kernel memory, runs, and copies the
 * result back; the protocol path is synchronous, so one shared I/O buffer serves every call.
 */
export class WasmKernel {
  readonly #x: Exports;
  #mem: Uint8Array;
  readonly #io: number;
  readonly #key: number;
  readonly #aux: number;

  private constructor(x: Exports) {
    this.#x = x;
    this.#mem = new Uint8Array(x.memory.buffer);
    this.#io = x.zt_io();
    this.#key = x.zt_key();
    this.#aux = x.zt_aux();
    if (x.zt_io_size() < WASM_MAX_PACKET) throw new Error("wasm kernel: I/O buffer too small");
  }

  /** Compiles and instantiates the embedded module synchronously. Throws if WASM is unusable. */
  static load(): WasmKernel {
    const instance = new WebAssembly.Instance(compileWasmKernel(), {});
    return new WasmKernel(instance.exports as unknown as Exports);
  }

  /** Memory view, renewed if the memory grew (growth detaches the old buffer). */
  #m(): Uint8Array {
    if (this.#mem.byteLength === 0) this.#mem = new Uint8Array(this.#x.memory.buffer);
    return this.#mem;
  }

  #putIo(buf: Uint8Array, start: number, end: number): Uint8Array {
    if (!(start >= 0 && start <= end && end <= buf.length && end - start <= WASM_MAX_PACKET)) {
      throw new RangeError(`wasm kernel: bad range [${start}, ${end}) of ${buf.length}`);
    }
    const m = this.#m();
    m.set(buf.subarray(start, end), this.#io);
    return m;
  }

  #putKey(key: Uint8Array, n: number, at = 0): void {
    if (key.length < n) throw new RangeError(`wasm kernel: key must be ${n} bytes`);
    this.#m().set(key.subarray(0, n), this.#key + at);
  }

  /**
   * Cipher 0/1 armor of pkt[0..len) in place (flags, incl. cipher bits, already set): mangles the
   * key, encrypts bytes 27.. when `encrypt`, writes the 8-byte Poly1305 MAC to bytes 19..26.
   */
  armorC1(pkt: Uint8Array, len: number, key32: Uint8Array, encrypt: boolean): void {
    const m = this.#putIo(pkt, 0, len);
    this.#putKey(key32, 32);
    if (this.#x.zt_armor_c1(len, encrypt ? 1 : 0) !== 0) {
      throw new RangeError(`wasm kernel: bad packet length ${len}`);
    }
    pkt.set(m.subarray(this.#io + 19, this.#io + len), 19);
  }

  /** Cipher 0/1 dearmor in place; returns false (packet untouched) if the MAC does not verify. */
  dearmorC1(pkt: Uint8Array, len: number, key32: Uint8Array, decrypt: boolean): boolean {
    const m = this.#putIo(pkt, 0, len);
    this.#putKey(key32, 32);
    if (this.#x.zt_dearmor_c1(len, decrypt ? 1 : 0) !== 1) return false;
    if (decrypt) pkt.set(m.subarray(this.#io + 27, this.#io + len), 27);
    return true;
  }

  /** XORs buf[start..end) with Salsa20 keystream (counter 0, from byte 0) of key32 / nonce8. */
  salsa20Xor(
    key32: Uint8Array,
    nonce8: Uint8Array,
    buf: Uint8Array,
    start: number,
    end: number,
    rounds: 12 | 20 = 12,
  ): void {
    const m = this.#putIo(buf, start, end);
    this.#putKey(key32, 32);
    if (nonce8.length < 8) throw new RangeError("wasm kernel: nonce must be 8 bytes");
    m.set(nonce8.subarray(0, 8), this.#aux);
    this.#x.zt_salsa20_xor(end - start, rounds);
    buf.set(m.subarray(this.#io, this.#io + end - start), start);
  }

  /**
   * The memory-hard identity digest (spec §1.3) from the 64-byte SHA-512 digest of a public key:
   * the 2 MiB fill and scramble run in the kernel (its own 2 MiB buffer). Returns 64 bytes.
   */
  identityMemhash(sha512Digest: Uint8Array): Uint8Array {
    if (sha512Digest.length !== 64) throw new RangeError("wasm kernel: digest must be 64 bytes");
    this.#putIo(sha512Digest, 0, 64);
    this.#x.zt_identity_memhash();
    return this.#m().slice(this.#io, this.#io + 64);
  }

  /**
   * Where the identity hash's scratch memory lies: kernel memory and a byte range of it. Every hash
   * writes all of it before reading it, so its pages may be given back to the OS between hashes.
   */
  identityScratch(): { buffer: ArrayBuffer; offset: number; length: number } {
    return {
      buffer: this.#x.memory.buffer as ArrayBuffer,
      offset: this.#x.zt_idmem(),
      length: this.#x.zt_idmem_size(),
    };
  }

  /** Poly1305 tag (16 bytes) of msg[start..end) under a 32-byte one-time key. */
  poly1305(key32: Uint8Array, msg: Uint8Array, start = 0, end = msg.length): Uint8Array {
    const m = this.#putIo(msg, start, end);
    this.#putKey(key32, 32);
    this.#x.zt_poly1305(end - start);
    return m.slice(this.#aux, this.#aux + 16);
  }

  /** Allocates and keys an AES-GMAC-SIV context from the two 32-byte keys K0 and K1. */
  sivKey(k0: Uint8Array, k1: Uint8Array): WasmSivKey {
    if (k0.length !== 32 || k1.length !== 32) {
      throw new RangeError("wasm kernel: AES-GMAC-SIV keys must be 32 bytes");
    }
    const ctx = this.#x.zt_siv_alloc();
    if (ctx === 0) throw new RangeError("wasm kernel: out of memory for AES-GMAC-SIV keys");
    this.#putKey(k0, 32, 0);
    this.#putKey(k1, 32, 32);
    this.#x.zt_siv_init(ctx);
    this.#m().fill(0, this.#key, this.#key + 64);
    return new WasmSivKey(ctx);
  }

  /** Wipes and frees a context; later use of `k` throws. Freeing twice is a no-op. */
  freeSivKey(k: WasmSivKey): void {
    if (k.ctx === 0) return;
    this.#x.zt_siv_free(k.ctx);
    k.ctx = 0;
  }

  #ctx(k: WasmSivKey): number {
    if (k.ctx === 0) throw new Error("wasm kernel: AES-GMAC-SIV key was freed");
    return k.ctx;
  }

  /**
   * Cipher 3 armor of pkt[0..len) in place (flags already set): IV = bytes 0..7, AAD = bytes
   * 8..18; writes the SIV tag to bytes 0..7 and 19..26 and encrypts bytes 27...
   */
  armorC3(pkt: Uint8Array, len: number, k: WasmSivKey): void {
    const m = this.#putIo(pkt, 0, len);
    if (this.#x.zt_armor_c3(this.#ctx(k), len) !== 0) {
      throw new RangeError(`wasm kernel: bad packet length ${len}`);
    }
    const io = this.#io;
    pkt.set(m.subarray(io, io + 8), 0);
    pkt.set(m.subarray(io + 19, io + len), 19);
  }

  /** Cipher 3 dearmor in place; returns false (packet untouched) if authentication fails. */
  dearmorC3(pkt: Uint8Array, len: number, k: WasmSivKey): boolean {
    const m = this.#putIo(pkt, 0, len);
    if (this.#x.zt_dearmor_c3(this.#ctx(k), len) !== 1) return false;
    pkt.set(m.subarray(this.#io + 27, this.#io + len), 27);
    return true;
  }

  /** One AES-256 block operation with the context's K0 or K1 (16 bytes in, 16 out). */
  aesBlock(k: WasmSivKey, op: AesBlockOp, block: Uint8Array): Uint8Array {
    if (block.length !== 16) throw new RangeError("wasm kernel: AES block must be 16 bytes");
    const ctx = this.#ctx(k);
    const m = this.#m();
    m.set(block, this.#aux);
    this.#x.zt_aes_block(ctx, op === "encrypt-k0" ? 0 : op === "encrypt-k1" ? 1 : 2);
    return m.slice(this.#aux + 16, this.#aux + 32);
  }

  /** AES-256-CTR with K1 (32-bit big-endian counter in bytes 12..15) over buf[start..end). */
  aesCtr(k: WasmSivKey, counter: Uint8Array, buf: Uint8Array, start: number, end: number): void {
    if (counter.length !== 16) throw new RangeError("wasm kernel: counter must be 16 bytes");
    const ctx = this.#ctx(k);
    const m = this.#putIo(buf, start, end);
    m.set(counter, this.#aux);
    this.#x.zt_aes_ctr(ctx, end - start);
    buf.set(m.subarray(this.#io, this.#io + end - start), start);
  }

  /** GHASH under H = AES_K0(0) of data zero padded to 16 bytes (no length block). */
  ghash(k: WasmSivKey, data: Uint8Array): Uint8Array {
    const ctx = this.#ctx(k);
    const m = this.#putIo(data, 0, data.length);
    this.#x.zt_ghash(ctx, data.length);
    return m.slice(this.#aux, this.#aux + 16);
  }
}

let cached: WasmKernel | null | undefined;

/** The shared kernel instance, or undefined if WebAssembly (with SIMD) is unavailable here. */
export function loadWasmKernel(): WasmKernel | undefined {
  if (cached === undefined) {
    try {
      cached = WasmKernel.load();
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}

/** Compiles the embedded kernel module (synchronously). Throws if WebAssembly is unusable. */
export function compileWasmKernel(): WebAssembly.Module {
  return new WebAssembly.Module(decodeBase64(ZT_CRYPTO_WASM_BASE64));
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
