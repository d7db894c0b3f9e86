// Salsa20 stream cipher (12 or 20 rounds, 64-bit nonce, 64-bit block counter) as ZeroTier uses it.

/** Number of Salsa20 double-round pairs: 12 for packet armor, 20 for the identity hash. */
export type SalsaRounds = 12 | 20;

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

/**
 * A Salsa20 keystream with ZeroTier's semantics: every `xor` call consumes whole 64-byte blocks,
 * so a call over 10 bytes advances the stream by one full block (as the reference does).
 */
export class Salsa20 {
  readonly #state = new Uint32Array(16);
  readonly #block = new Uint32Array(16);
  readonly #blockBytes = new Uint8Array(this.#block.buffer);
  readonly #rounds: SalsaRounds;

  /** @param key 32 bytes @param nonce 8 bytes (read from `nonceOffset`) */
  constructor(key: Uint8Array, nonce: Uint8Array, rounds: SalsaRounds, nonceOffset = 0) {
    this.#rounds = rounds;
    this.init(key, nonce, nonceOffset);
  }

  /** Re-key in place (avoids allocation on the packet path). Counter restarts at 0. */
  init(key: Uint8Array, nonce: Uint8Array, nonceOffset = 0): void {
    salsa20Init(this.#state, key, nonce, nonceOffset);
  }

  /** XOR `buf[start, end)` with the next keystream bytes, consuming whole 64-byte blocks. */
  xor(buf: Uint8Array, start = 0, end = buf.length): void {
    const kb = this.#blockBytes;
    let i = start;
    while (i < end) {
      salsa20Block(this.#state, this.#rounds, ZERO_BLOCK, 0, this.#block, 0);
      const n = Math.min(64, end - i);
      for (let j = 0; j < n; j++) buf[i + j] ^= kb[j];
      i += n;
    }
  }
}

/** Sixteen zero words: XORing them with a block yields the raw keystream. */
const ZERO_BLOCK = new Uint32Array(16);

/**
 * Sets a 16-word Salsa20 input state: sigma, `key[0, 32)`, the 8-byte nonce at `nonceOffset` and a
 * zero 64-bit block counter. Shared by {@link Salsa20} and the identity hash (spec §1.3).
 */
export function salsa20Init(
  s: Uint32Array,
  key: Uint8Array,
  nonce: Uint8Array,
  nonceOffset: number,
): void {
  s[0] = SIGMA[0];
  s[1] = le32(key, 0);
  s[2] = le32(key, 4);
  s[3] = le32(key, 8);
  s[4] = le32(key, 12);
  s[5] = SIGMA[1];
  s[6] = le32(nonce, nonceOffset);
  s[7] = le32(nonce, nonceOffset + 4);
  s[8] = 0;
  s[9] = 0;
  s[10] = SIGMA[2];
  s[11] = le32(key, 16);
  s[12] = le32(key, 20);
  s[13] = le32(key, 24);
  s[14] = le32(key, 28);
  s[15] = SIGMA[3];
}

/**
 * The Salsa20 core, shared by {@link Salsa20} and the identity hash (spec §1.3): sets
 * `dst[d, d+16) = src[so, so+16) XOR` the keystream block of `state` (from {@link salsa20Init}),
 * then advances its 64-bit counter. Words are in native order, so the bytes in memory are the
 * little-endian keystream; `src` and `dst` may be the same range.
 */
export function salsa20Block(
  state: Uint32Array,
  rounds: SalsaRounds,
  src: Uint32Array,
  so: number,
  dst: Uint32Array,
  d: number,
): void {
  let x0 = state[0], x1 = state[1], x2 = state[2], x3 = state[3];
  let x4 = state[4], x5 = state[5], x6 = state[6], x7 = state[7];
  let x8 = state[8], x9 = state[9], x10 = state[10], x11 = state[11];
  let x12 = state[12], x13 = state[13], x14 = state[14], x15 = state[15];
  for (let r = 0; r < rounds; r += 2) {
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
    dst[d + 0] = src[so + 0] ^ ((x0 + state[0]) | 0);
    dst[d + 1] = src[so + 1] ^ ((x1 + state[1]) | 0);
    dst[d + 2] = src[so + 2] ^ ((x2 + state[2]) | 0);
    dst[d + 3] = src[so + 3] ^ ((x3 + state[3]) | 0);
    dst[d + 4] = src[so + 4] ^ ((x4 + state[4]) | 0);
    dst[d + 5] = src[so + 5] ^ ((x5 + state[5]) | 0);
    dst[d + 6] = src[so + 6] ^ ((x6 + state[6]) | 0);
    dst[d + 7] = src[so + 7] ^ ((x7 + state[7]) | 0);
    dst[d + 8] = src[so + 8] ^ ((x8 + state[8]) | 0);
    dst[d + 9] = src[so + 9] ^ ((x9 + state[9]) | 0);
    dst[d + 10] = src[so + 10] ^ ((x10 + state[10]) | 0);
    dst[d + 11] = src[so + 11] ^ ((x11 + state[11]) | 0);
    dst[d + 12] = src[so + 12] ^ ((x12 + state[12]) | 0);
    dst[d + 13] = src[so + 13] ^ ((x13 + state[13]) | 0);
    dst[d + 14] = src[so + 14] ^ ((x14 + state[14]) | 0);
    dst[d + 15] = src[so + 15] ^ ((x15 + state[15]) | 0);
  } else {
    dst[d + 0] = src[so + 0] ^ bswap((x0 + state[0]) | 0);
    dst[d + 1] = src[so + 1] ^ bswap((x1 + state[1]) | 0);
    dst[d + 2] = src[so + 2] ^ bswap((x2 + state[2]) | 0);
    dst[d + 3] = src[so + 3] ^ bswap((x3 + state[3]) | 0);
    dst[d + 4] = src[so + 4] ^ bswap((x4 + state[4]) | 0);
    dst[d + 5] = src[so + 5] ^ bswap((x5 + state[5]) | 0);
    dst[d + 6] = src[so + 6] ^ bswap((x6 + state[6]) | 0);
    dst[d + 7] = src[so + 7] ^ bswap((x7 + state[7]) | 0);
    dst[d + 8] = src[so + 8] ^ bswap((x8 + state[8]) | 0);
    dst[d + 9] = src[so + 9] ^ bswap((x9 + state[9]) | 0);
    dst[d + 10] = src[so + 10] ^ bswap((x10 + state[10]) | 0);
    dst[d + 11] = src[so + 11] ^ bswap((x11 + state[11]) | 0);
    dst[d + 12] = src[so + 12] ^ bswap((x12 + state[12]) | 0);
    dst[d + 13] = src[so + 13] ^ bswap((x13 + state[13]) | 0);
    dst[d + 14] = src[so + 14] ^ bswap((x14 + state[14]) | 0);
    dst[d + 15] = src[so + 15] ^ bswap((x15 + state[15]) | 0);
  }
  state[8] = (state[8] + 1) >>> 0;
  if (state[8] === 0) state[9] = (state[9] + 1) >>> 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function bswap(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

function le32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}
