// ZeroTier's memory-hard identity hash (spec §1.3): SHA-512 + 2 MiB Salsa20/20 scramble.
import { sha512 } from "../crypto/sha.ts";

/** Size of the scratch memory the hash fills and scrambles. */
const MEM_BYTES = 2097152;
/** Number of 8-byte words in the scratch memory. */
const MEM_WORDS64 = MEM_BYTES / 8;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Salsa20/20 input state (sigma, key, nonce, 64-bit block counter in words 8 and 9). */
const S = new Uint32Array(16);
/** The running 64-byte digest, as 16 native words and as bytes (same storage). */
const D32 = new Uint32Array(16);
const D8 = new Uint8Array(D32.buffer);
/** The shared 2 MiB scratch memory, allocated on first use and reused afterwards. */
let mem32: Uint32Array | undefined;
let mem8: Uint8Array | undefined;

/**
 * The 64-byte memory-hard digest of a 64-byte public key (spec §1.3). An identity is valid when
 * its address is not reserved, `digest[0] < 17` and `digest[59..64)` equals the address.
 * Synchronous and self-contained, so the shared module-level buffer is safe to reuse.
 */
export function identityHash(publicKey: Uint8Array): Uint8Array {
  if (mem32 === undefined || mem8 === undefined) {
    mem32 = new Uint32Array(MEM_BYTES / 4);
    mem8 = new Uint8Array(mem32.buffer);
  }
  const m32 = mem32;
  const m8 = mem8;
  D8.set(sha512(publicKey).subarray(0, 64));

  // Salsa20/20 keyed with digest[0..32), nonce digest[32..40), counter 0.
  S[0] = 0x61707865;
  S[1] = le32(D8, 0);
  S[2] = le32(D8, 4);
  S[3] = le32(D8, 8);
  S[4] = le32(D8, 12);
  S[5] = 0x3320646e;
  S[6] = le32(D8, 32);
  S[7] = le32(D8, 36);
  S[8] = 0;
  S[9] = 0;
  S[10] = 0x79622d32;
  S[11] = le32(D8, 16);
  S[12] = le32(D8, 20);
  S[13] = le32(D8, 24);
  S[14] = le32(D8, 28);
  S[15] = 0x6b206574;

  // Fill: block 0 = keystream block 0; block i = block i-1 XOR next keystream block.
  m32.fill(0, 0, 16);
  salsaXor(m32, 0, m32, 0);
  for (let o = 16; o < m32.length; o += 16) salsaXor(m32, o - 16, m32, o);

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
    salsaXor(D32, 0, D32, 0);
  }
  return D8.slice();
}

/**
 * One Salsa20/20 block from state `S` (counter then advanced): `dst[d..d+16) = src[so..so+16) XOR
 * keystream`, words in native order so the bytes in memory are the little-endian keystream.
 */
function salsaXor(src: Uint32Array, so: number, dst: Uint32Array, d: number): void {
  const s0 = S[0];
  const s1 = S[1];
  const s2 = S[2];
  const s3 = S[3];
  const s4 = S[4];
  const s5 = S[5];
  const s6 = S[6];
  const s7 = S[7];
  const s8 = S[8];
  const s9 = S[9];
  const s10 = S[10];
  const s11 = S[11];
  const s12 = S[12];
  const s13 = S[13];
  const s14 = S[14];
  const s15 = S[15];
  let x0 = s0,
    x1 = s1,
    x2 = s2,
    x3 = s3,
    x4 = s4,
    x5 = s5,
    x6 = s6,
    x7 = s7,
    x8 = s8,
    x9 = s9,
    x10 = s10,
    x11 = s11,
    x12 = s12,
    x13 = s13,
    x14 = s14,
    x15 = s15;
  for (let r = 0; r < 10; r++) {
    let u: number;
    u = (x0 + x12) | 0;
    x4 ^= (u << 7) | (u >>> 25);
    u = (x4 + x0) | 0;
    x8 ^= (u << 9) | (u >>> 23);
    u = (x8 + x4) | 0;
    x12 ^= (u << 13) | (u >>> 19);
    u = (x12 + x8) | 0;
    x0 ^= (u << 18) | (u >>> 14);
    u = (x5 + x1) | 0;
    x9 ^= (u << 7) | (u >>> 25);
    u = (x9 + x5) | 0;
    x13 ^= (u << 9) | (u >>> 23);
    u = (x13 + x9) | 0;
    x1 ^= (u << 13) | (u >>> 19);
    u = (x1 + x13) | 0;
    x5 ^= (u << 18) | (u >>> 14);
    u = (x10 + x6) | 0;
    x14 ^= (u << 7) | (u >>> 25);
    u = (x14 + x10) | 0;
    x2 ^= (u << 9) | (u >>> 23);
    u = (x2 + x14) | 0;
    x6 ^= (u << 13) | (u >>> 19);
    u = (x6 + x2) | 0;
    x10 ^= (u << 18) | (u >>> 14);
    u = (x15 + x11) | 0;
    x3 ^= (u << 7) | (u >>> 25);
    u = (x3 + x15) | 0;
    x7 ^= (u << 9) | (u >>> 23);
    u = (x7 + x3) | 0;
    x11 ^= (u << 13) | (u >>> 19);
    u = (x11 + x7) | 0;
    x15 ^= (u << 18) | (u >>> 14);
    u = (x0 + x3) | 0;
    x1 ^= (u << 7) | (u >>> 25);
    u = (x1 + x0) | 0;
    x2 ^= (u << 9) | (u >>> 23);
    u = (x2 + x1) | 0;
    x3 ^= (u << 13) | (u >>> 19);
    u = (x3 + x2) | 0;
    x0 ^= (u << 18) | (u >>> 14);
    u = (x5 + x4) | 0;
    x6 ^= (u << 7) | (u >>> 25);
    u = (x6 + x5) | 0;
    x7 ^= (u << 9) | (u >>> 23);
    u = (x7 + x6) | 0;
    x4 ^= (u << 13) | (u >>> 19);
    u = (x4 + x7) | 0;
    x5 ^= (u << 18) | (u >>> 14);
    u = (x10 + x9) | 0;
    x11 ^= (u << 7) | (u >>> 25);
    u = (x11 + x10) | 0;
    x8 ^= (u << 9) | (u >>> 23);
    u = (x8 + x11) | 0;
    x9 ^= (u << 13) | (u >>> 19);
    u = (x9 + x8) | 0;
    x10 ^= (u << 18) | (u >>> 14);
    u = (x15 + x14) | 0;
    x12 ^= (u << 7) | (u >>> 25);
    u = (x12 + x15) | 0;
    x13 ^= (u << 9) | (u >>> 23);
    u = (x13 + x12) | 0;
    x14 ^= (u << 13) | (u >>> 19);
    u = (x14 + x13) | 0;
    x15 ^= (u << 18) | (u >>> 14);
  }
  if (LITTLE_ENDIAN) {
    dst[d + 0] = src[so + 0] ^ ((x0 + s0) | 0);
    dst[d + 1] = src[so + 1] ^ ((x1 + s1) | 0);
    dst[d + 2] = src[so + 2] ^ ((x2 + s2) | 0);
    dst[d + 3] = src[so + 3] ^ ((x3 + s3) | 0);
    dst[d + 4] = src[so + 4] ^ ((x4 + s4) | 0);
    dst[d + 5] = src[so + 5] ^ ((x5 + s5) | 0);
    dst[d + 6] = src[so + 6] ^ ((x6 + s6) | 0);
    dst[d + 7] = src[so + 7] ^ ((x7 + s7) | 0);
    dst[d + 8] = src[so + 8] ^ ((x8 + s8) | 0);
    dst[d + 9] = src[so + 9] ^ ((x9 + s9) | 0);
    dst[d + 10] = src[so + 10] ^ ((x10 + s10) | 0);
    dst[d + 11] = src[so + 11] ^ ((x11 + s11) | 0);
    dst[d + 12] = src[so + 12] ^ ((x12 + s12) | 0);
    dst[d + 13] = src[so + 13] ^ ((x13 + s13) | 0);
    dst[d + 14] = src[so + 14] ^ ((x14 + s14) | 0);
    dst[d + 15] = src[so + 15] ^ ((x15 + s15) | 0);
  } else {
    dst[d + 0] = src[so + 0] ^ bswap((x0 + s0) | 0);
    dst[d + 1] = src[so + 1] ^ bswap((x1 + s1) | 0);
    dst[d + 2] = src[so + 2] ^ bswap((x2 + s2) | 0);
    dst[d + 3] = src[so + 3] ^ bswap((x3 + s3) | 0);
    dst[d + 4] = src[so + 4] ^ bswap((x4 + s4) | 0);
    dst[d + 5] = src[so + 5] ^ bswap((x5 + s5) | 0);
    dst[d + 6] = src[so + 6] ^ bswap((x6 + s6) | 0);
    dst[d + 7] = src[so + 7] ^ bswap((x7 + s7) | 0);
    dst[d + 8] = src[so + 8] ^ bswap((x8 + s8) | 0);
    dst[d + 9] = src[so + 9] ^ bswap((x9 + s9) | 0);
    dst[d + 10] = src[so + 10] ^ bswap((x10 + s10) | 0);
    dst[d + 11] = src[so + 11] ^ bswap((x11 + s11) | 0);
    dst[d + 12] = src[so + 12] ^ bswap((x12 + s12) | 0);
    dst[d + 13] = src[so + 13] ^ bswap((x13 + s13) | 0);
    dst[d + 14] = src[so + 14] ^ bswap((x14 + s14) | 0);
    dst[d + 15] = src[so + 15] ^ bswap((x15 + s15) | 0);
  }
  S[8] = (s8 + 1) >>> 0;
  if (S[8] === 0) S[9] = (s9 + 1) >>> 0;
}

function bswap(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

function le32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
