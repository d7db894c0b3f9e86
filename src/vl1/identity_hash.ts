// ZeroTier's memory-hard identity hash (spec §1.3): SHA-512 + 2 MiB Salsa20/20 scramble.
import { salsa20Block, salsa20Init } from "../crypto/salsa20.ts";
import { sha512 } from "../crypto/sha.ts";
import { loadWasmKernel, type WasmKernel } from "../crypto/wasm_kernel.ts";

/** The WASM kernel when it loads here (about 3× faster); the TypeScript code otherwise. */
const KERNEL: WasmKernel | undefined = loadWasmKernel();
let useKernel = KERNEL !== undefined;

/**
 * Chooses the implementation of {@link identityHash} (tests and benchmarks compare both):
 * "wasm" takes effect only if the kernel loaded. Returns the one now in use.
 */
export function setIdentityHashBackend(backend: "wasm" | "ts"): "wasm" | "ts" {
  useKernel = backend === "wasm" && KERNEL !== undefined;
  return useKernel ? "wasm" : "ts";
}

/** Size of the scratch memory the hash fills and scrambles. */
const MEM_BYTES = 2097152;
/** Number of 8-byte words in the scratch memory. */
const MEM_WORDS64 = MEM_BYTES / 8;

/** Salsa20/20 input state, re-keyed from the SHA-512 digest on each call. */
const S = new Uint32Array(16);
/** The running 64-byte digest, as 16 native words and as bytes (same storage). */
const D32 = new Uint32Array(16);
const D8 = new Uint8Array(D32.buffer);
/** The shared 2 MiB scratch memory, allocated on first use and reused afterwards. */
let mem32: Uint32Array | undefined;
let mem8: Uint8Array | undefined;

/**
 * The scratch memory {@link identityHash} keeps between calls, for giving its pages back to the
 * OS while no hash runs: the kernel's 2 MiB inside its WASM memory (every hash writes all of it
 * before reading, so zeroed pages are fine). Undefined when the TypeScript code is in use: its
 * buffer is dropped instead (allocated again by the next hash).
 */
export function releasableIdentityScratch():
  | { buffer: ArrayBuffer; offset: number; length: number }
  | undefined {
  if (useKernel && KERNEL !== undefined) return KERNEL.identityScratch();
  mem32 = undefined;
  mem8 = undefined;
  return undefined;
}

/**
 * The 64-byte memory-hard digest of a 64-byte public key (spec §1.3). An identity is valid when
 * its address is not reserved, `digest[0] < 17` and `digest[59..64)` equals the address.
 * Synchronous and self-contained, so the shared module-level buffer is safe to reuse.
 */
export function identityHash(publicKey: Uint8Array): Uint8Array {
  if (useKernel && KERNEL !== undefined) {
    return KERNEL.identityMemhash(sha512(publicKey).subarray(0, 64));
  }
  if (mem32 === undefined || mem8 === undefined) {
    mem32 = new Uint32Array(MEM_BYTES / 4);
    mem8 = new Uint8Array(mem32.buffer);
  }
  const m32 = mem32;
  const m8 = mem8;
  D8.set(sha512(publicKey).subarray(0, 64));

  // Salsa20/20 keyed with digest[0..32), nonce digest[32..40), counter 0.
  salsa20Init(S, D8, D8, 32);

  // Fill: block 0 = keystream block 0; block i = block i-1 XOR next keystream block.
  m32.fill(0, 0, 16);
  salsa20Block(S, 20, m32, 0, m32, 0);
  for (let o = 16; o < m32.length; o += 16) salsa20Block(S, 20, m32, o - 16, m32, o);

  // Scramble: for each pair of 8-byte words, W[i] (big-endian) mod 8 picks a digest word and
  // W[i+1] mod 262144 a memory word; swap them raw, then XOR the digest with the next block.
  for (let i = 0; i < MEM_WORDS64; i += 2) {
    const b = i << 3;
    const idx1 = (m8[b + 7] & 7) << 1;
    const idx2 = (((m8[b + 13] & 3) << 16) | (m8[b + 14] << 8) | m8[b + 15]) << 1;
    let t = m32[idx2];
    m32[idx2] = D32[idx1];
    D32[idx1] = t;
    t = m32[idx2 + 1];
    m32[idx2 + 1] = D32[idx1 + 1];
    D32[idx1 + 1] = t;
    salsa20Block(S, 20, D32, 0, D32, 0);
  }
  return D8.slice();
}
