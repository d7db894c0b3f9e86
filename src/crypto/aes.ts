// AES-256 block cipher (FIPS-197) with 32-bit T-tables: block encrypt/decrypt and 32-bit-counter CTR.
import { be32, put32 } from "./words.ts";

/** Forward S-box. */
const SBOX = new Uint8Array(256);
/** Inverse S-box. */
const INV_SBOX = new Uint8Array(256);
// Encryption tables: TE0[x] = (2s, s, s, 3s) big-endian, TE1..3 its byte rotations to the right.
const TE0 = new Int32Array(256);
const TE1 = new Int32Array(256);
const TE2 = new Int32Array(256);
const TE3 = new Int32Array(256);
// Decryption tables: TD0[x] = (14i, 9i, 13i, 11i) with i = INV_SBOX[x], TD1..3 rotations.
const TD0 = new Int32Array(256);
const TD1 = new Int32Array(256);
const TD2 = new Int32Array(256);
const TD3 = new Int32Array(256);

function xtime(a: number): number {
  return ((a << 1) ^ ((a & 0x80) !== 0 ? 0x1b : 0)) & 0xff;
}

function gmul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if ((b & 1) !== 0) p ^= a;
    a = xtime(a);
    b >>>= 1;
  }
  return p;
}

function rotr8(w: number): number {
  return (w >>> 8) | (w << 24);
}

(function buildTables(): void {
  // S-box: multiplicative inverse in GF(2^8) followed by the affine map.
  for (let x = 0; x < 256; x++) {
    let inv = 0;
    if (x !== 0) {
      for (let y = 1; y < 256; y++) {
        if (gmul(x, y) === 1) {
          inv = y;
          break;
        }
      }
    }
    let s = inv;
    for (let i = 1; i < 5; i++) s ^= ((inv << i) | (inv >>> (8 - i))) & 0xff;
    s ^= 0x63;
    SBOX[x] = s;
    INV_SBOX[s] = x;
  }
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x];
    const e = (xtime(s) << 24) | (s << 16) | (s << 8) | (xtime(s) ^ s);
    TE0[x] = e;
    TE1[x] = rotr8(e);
    TE2[x] = rotr8(rotr8(e));
    TE3[x] = rotr8(rotr8(rotr8(e)));
    const i = INV_SBOX[x];
    const d = (gmul(i, 14) << 24) | (gmul(i, 9) << 16) | (gmul(i, 13) << 8) | gmul(i, 11);
    TD0[x] = d;
    TD1[x] = rotr8(d);
    TD2[x] = rotr8(rotr8(d));
    TD3[x] = rotr8(rotr8(rotr8(d)));
  }
})();

function subWord(w: number): number {
  return (SBOX[w >>> 24] << 24) | (SBOX[(w >>> 16) & 255] << 16) | (SBOX[(w >>> 8) & 255] << 8) |
    SBOX[w & 255];
}

/** Number of AES-256 rounds. */
const ROUNDS = 14;

/**
 * AES-256 with a precomputed key schedule. Encryption is table driven; the decryption key
 * schedule is built on first use of {@link Aes256.decryptBlock}.
 */
export class Aes256 {
  /** Encryption round keys, 60 big-endian words. */
  readonly rk: Int32Array = new Int32Array(4 * (ROUNDS + 1));
  #dk: Int32Array | undefined;

  /** @param key exactly 32 bytes (throws otherwise). */
  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error(`Aes256: key must be 32 bytes, got ${key.length}`);
    const rk = this.rk;
    for (let i = 0; i < 8; i++) rk[i] = be32(key, 4 * i);
    let rcon = 1;
    for (let i = 8; i < rk.length; i++) {
      let t = rk[i - 1];
      if (i % 8 === 0) {
        t = subWord((t << 8) | (t >>> 24)) ^ (rcon << 24);
        rcon = xtime(rcon);
      } else if (i % 8 === 4) {
        t = subWord(t);
      }
      rk[i] = rk[i - 8] ^ t;
    }
  }

  /** Encrypt one 16-byte block `src[so..so+16)` into `dst[do_..do_+16)` (may alias). */
  encryptBlock(src: Uint8Array, so: number, dst: Uint8Array, do_: number): void {
    const rk = this.rk;
    let s0 = be32(src, so) ^ rk[0], s1 = be32(src, so + 4) ^ rk[1];
    let s2 = be32(src, so + 8) ^ rk[2], s3 = be32(src, so + 12) ^ rk[3];
    let k = 4;
    for (let r = 1; r < ROUNDS; r++) {
      const t0 = TE0[s0 >>> 24] ^ TE1[(s1 >>> 16) & 255] ^ TE2[(s2 >>> 8) & 255] ^ TE3[s3 & 255] ^
        rk[k];
      const t1 = TE0[s1 >>> 24] ^ TE1[(s2 >>> 16) & 255] ^ TE2[(s3 >>> 8) & 255] ^ TE3[s0 & 255] ^
        rk[k + 1];
      const t2 = TE0[s2 >>> 24] ^ TE1[(s3 >>> 16) & 255] ^ TE2[(s0 >>> 8) & 255] ^ TE3[s1 & 255] ^
        rk[k + 2];
      const t3 = TE0[s3 >>> 24] ^ TE1[(s0 >>> 16) & 255] ^ TE2[(s1 >>> 8) & 255] ^ TE3[s2 & 255] ^
        rk[k + 3];
      s0 = t0;
      s1 = t1;
      s2 = t2;
      s3 = t3;
      k += 4;
    }
    put32(dst, do_, lastRound(s0, s1, s2, s3) ^ rk[k]);
    put32(dst, do_ + 4, lastRound(s1, s2, s3, s0) ^ rk[k + 1]);
    put32(dst, do_ + 8, lastRound(s2, s3, s0, s1) ^ rk[k + 2]);
    put32(dst, do_ + 12, lastRound(s3, s0, s1, s2) ^ rk[k + 3]);
  }

  /** Decrypt one 16-byte block `src[so..so+16)` into `dst[do_..do_+16)` (may alias). */
  decryptBlock(src: Uint8Array, so: number, dst: Uint8Array, do_: number): void {
    const dk = this.#dk ?? (this.#dk = decryptionSchedule(this.rk));
    let s0 = be32(src, so) ^ dk[0], s1 = be32(src, so + 4) ^ dk[1];
    let s2 = be32(src, so + 8) ^ dk[2], s3 = be32(src, so + 12) ^ dk[3];
    let k = 4;
    for (let r = 1; r < ROUNDS; r++) {
      const t0 = TD0[s0 >>> 24] ^ TD1[(s3 >>> 16) & 255] ^ TD2[(s2 >>> 8) & 255] ^ TD3[s1 & 255] ^
        dk[k];
      const t1 = TD0[s1 >>> 24] ^ TD1[(s0 >>> 16) & 255] ^ TD2[(s3 >>> 8) & 255] ^ TD3[s2 & 255] ^
        dk[k + 1];
      const t2 = TD0[s2 >>> 24] ^ TD1[(s1 >>> 16) & 255] ^ TD2[(s0 >>> 8) & 255] ^ TD3[s3 & 255] ^
        dk[k + 2];
      const t3 = TD0[s3 >>> 24] ^ TD1[(s2 >>> 16) & 255] ^ TD2[(s1 >>> 8) & 255] ^ TD3[s0 & 255] ^
        dk[k + 3];
      s0 = t0;
      s1 = t1;
      s2 = t2;
      s3 = t3;
      k += 4;
    }
    put32(dst, do_, invLastRound(s0, s3, s2, s1) ^ dk[k]);
    put32(dst, do_ + 4, invLastRound(s1, s0, s3, s2) ^ dk[k + 1]);
    put32(dst, do_ + 8, invLastRound(s2, s1, s0, s3) ^ dk[k + 2]);
    put32(dst, do_ + 12, invLastRound(s3, s2, s1, s0) ^ dk[k + 3]);
  }

  /**
   * AES-CTR over `buf[start,end)` in place. The counter block is `ctr[0..16)`; its last 4 bytes are
   * a big-endian counter incremented mod 2^32 per block (WebCrypto `AES-CTR` with `length: 32`).
   * `ctr` itself is not modified.
   */
  ctr(ctr: Uint8Array, buf: Uint8Array, start: number, end: number): void {
    const rk = this.rk;
    const c0 = be32(ctr, 0), c1 = be32(ctr, 4), c2 = be32(ctr, 8);
    let c3 = be32(ctr, 12);
    // Words 0..2 of the counter block never change, so most of round 1 is loop invariant.
    const s0 = c0 ^ rk[0], s1 = c1 ^ rk[1], s2 = c2 ^ rk[2], k3 = rk[3];
    const a0 = TE0[s0 >>> 24] ^ TE1[(s1 >>> 16) & 255] ^ TE2[(s2 >>> 8) & 255] ^ rk[4];
    const a1 = TE0[s1 >>> 24] ^ TE1[(s2 >>> 16) & 255] ^ TE3[s0 & 255] ^ rk[5];
    const a2 = TE0[s2 >>> 24] ^ TE2[(s0 >>> 8) & 255] ^ TE3[s1 & 255] ^ rk[6];
    const a3 = TE1[(s0 >>> 16) & 255] ^ TE2[(s1 >>> 8) & 255] ^ TE3[s2 & 255] ^ rk[7];
    for (let p = start; p < end; p += 16) {
      const s3 = c3 ^ k3;
      c3 = (c3 + 1) | 0;
      // 13 full rounds, unrolled (state alternates between t* and u*).
      let t0 = a0 ^ TE3[s3 & 255];
      let t1 = a1 ^ TE2[(s3 >>> 8) & 255];
      let t2 = a2 ^ TE1[(s3 >>> 16) & 255];
      let t3 = a3 ^ TE0[s3 >>> 24];
      let u0: number, u1: number, u2: number, u3: number;
      u0 = TE0[t0 >>> 24] ^ TE1[(t1 >>> 16) & 255] ^ TE2[(t2 >>> 8) & 255] ^ TE3[t3 & 255] ^ rk[8];
      u1 = TE0[t1 >>> 24] ^ TE1[(t2 >>> 16) & 255] ^ TE2[(t3 >>> 8) & 255] ^ TE3[t0 & 255] ^ rk[9];
      u2 = TE0[t2 >>> 24] ^ TE1[(t3 >>> 16) & 255] ^ TE2[(t0 >>> 8) & 255] ^ TE3[t1 & 255] ^ rk[10];
      u3 = TE0[t3 >>> 24] ^ TE1[(t0 >>> 16) & 255] ^ TE2[(t1 >>> 8) & 255] ^ TE3[t2 & 255] ^ rk[11];
      t0 = TE0[u0 >>> 24] ^ TE1[(u1 >>> 16) & 255] ^ TE2[(u2 >>> 8) & 255] ^ TE3[u3 & 255] ^ rk[12];
      t1 = TE0[u1 >>> 24] ^ TE1[(u2 >>> 16) & 255] ^ TE2[(u3 >>> 8) & 255] ^ TE3[u0 & 255] ^ rk[13];
      t2 = TE0[u2 >>> 24] ^ TE1[(u3 >>> 16) & 255] ^ TE2[(u0 >>> 8) & 255] ^ TE3[u1 & 255] ^ rk[14];
      t3 = TE0[u3 >>> 24] ^ TE1[(u0 >>> 16) & 255] ^ TE2[(u1 >>> 8) & 255] ^ TE3[u2 & 255] ^ rk[15];
      u0 = TE0[t0 >>> 24] ^ TE1[(t1 >>> 16) & 255] ^ TE2[(t2 >>> 8) & 255] ^ TE3[t3 & 255] ^ rk[16];
      u1 = TE0[t1 >>> 24] ^ TE1[(t2 >>> 16) & 255] ^ TE2[(t3 >>> 8) & 255] ^ TE3[t0 & 255] ^ rk[17];
      u2 = TE0[t2 >>> 24] ^ TE1[(t3 >>> 16) & 255] ^ TE2[(t0 >>> 8) & 255] ^ TE3[t1 & 255] ^ rk[18];
      u3 = TE0[t3 >>> 24] ^ TE1[(t0 >>> 16) & 255] ^ TE2[(t1 >>> 8) & 255] ^ TE3[t2 & 255] ^ rk[19];
      t0 = TE0[u0 >>> 24] ^ TE1[(u1 >>> 16) & 255] ^ TE2[(u2 >>> 8) & 255] ^ TE3[u3 & 255] ^ rk[20];
      t1 = TE0[u1 >>> 24] ^ TE1[(u2 >>> 16) & 255] ^ TE2[(u3 >>> 8) & 255] ^ TE3[u0 & 255] ^ rk[21];
      t2 = TE0[u2 >>> 24] ^ TE1[(u3 >>> 16) & 255] ^ TE2[(u0 >>> 8) & 255] ^ TE3[u1 & 255] ^ rk[22];
      t3 = TE0[u3 >>> 24] ^ TE1[(u0 >>> 16) & 255] ^ TE2[(u1 >>> 8) & 255] ^ TE3[u2 & 255] ^ rk[23];
      u0 = TE0[t0 >>> 24] ^ TE1[(t1 >>> 16) & 255] ^ TE2[(t2 >>> 8) & 255] ^ TE3[t3 & 255] ^ rk[24];
      u1 = TE0[t1 >>> 24] ^ TE1[(t2 >>> 16) & 255] ^ TE2[(t3 >>> 8) & 255] ^ TE3[t0 & 255] ^ rk[25];
      u2 = TE0[t2 >>> 24] ^ TE1[(t3 >>> 16) & 255] ^ TE2[(t0 >>> 8) & 255] ^ TE3[t1 & 255] ^ rk[26];
      u3 = TE0[t3 >>> 24] ^ TE1[(t0 >>> 16) & 255] ^ TE2[(t1 >>> 8) & 255] ^ TE3[t2 & 255] ^ rk[27];
      t0 = TE0[u0 >>> 24] ^ TE1[(u1 >>> 16) & 255] ^ TE2[(u2 >>> 8) & 255] ^ TE3[u3 & 255] ^ rk[28];
      t1 = TE0[u1 >>> 24] ^ TE1[(u2 >>> 16) & 255] ^ TE2[(u3 >>> 8) & 255] ^ TE3[u0 & 255] ^ rk[29];
      t2 = TE0[u2 >>> 24] ^ TE1[(u3 >>> 16) & 255] ^ TE2[(u0 >>> 8) & 255] ^ TE3[u1 & 255] ^ rk[30];
      t3 = TE0[u3 >>> 24] ^ TE1[(u0 >>> 16) & 255] ^ TE2[(u1 >>> 8) & 255] ^ TE3[u2 & 255] ^ rk[31];
      u0 = TE0[t0 >>> 24] ^ TE1[(t1 >>> 16) & 255] ^ TE2[(t2 >>> 8) & 255] ^ TE3[t3 & 255] ^ rk[32];
      u1 = TE0[t1 >>> 24] ^ TE1[(t2 >>> 16) & 255] ^ TE2[(t3 >>> 8) & 255] ^ TE3[t0 & 255] ^ rk[33];
      u2 = TE0[t2 >>> 24] ^ TE1[(t3 >>> 16) & 255] ^ TE2[(t0 >>> 8) & 255] ^ TE3[t1 & 255] ^ rk[34];
      u3 = TE0[t3 >>> 24] ^ TE1[(t0 >>> 16) & 255] ^ TE2[(t1 >>> 8) & 255] ^ TE3[t2 & 255] ^ rk[35];
      t0 = TE0[u0 >>> 24] ^ TE1[(u1 >>> 16) & 255] ^ TE2[(u2 >>> 8) & 255] ^ TE3[u3 & 255] ^ rk[36];
      t1 = TE0[u1 >>> 24] ^ TE1[(u2 >>> 16) & 255] ^ TE2[(u3 >>> 8) & 255] ^ TE3[u0 & 255] ^ rk[37];
      t2 = TE0[u2 >>> 24] ^ TE1[(u3 >>> 16) & 255] ^ TE2[(u0 >>> 8) & 255] ^ TE3[u1 & 255] ^ rk[38];
      t3 = TE0[u3 >>> 24] ^ TE1[(u0 >>> 16) & 255] ^ TE2[(u1 >>> 8) & 255] ^ TE3[u2 & 255] ^ rk[39];
      u0 = TE0[t0 >>> 24] ^ TE1[(t1 >>> 16) & 255] ^ TE2[(t2 >>> 8) & 255] ^ TE3[t3 & 255] ^ rk[40];
      u1 = TE0[t1 >>> 24] ^ TE1[(t2 >>> 16) & 255] ^ TE2[(t3 >>> 8) & 255] ^ TE3[t0 & 255] ^ rk[41];
      u2 = TE0[t2 >>> 24] ^ TE1[(t3 >>> 16) & 255] ^ TE2[(t0 >>> 8) & 255] ^ TE3[t1 & 255] ^ rk[42];
      u3 = TE0[t3 >>> 24] ^ TE1[(t0 >>> 16) & 255] ^ TE2[(t1 >>> 8) & 255] ^ TE3[t2 & 255] ^ rk[43];
      t0 = TE0[u0 >>> 24] ^ TE1[(u1 >>> 16) & 255] ^ TE2[(u2 >>> 8) & 255] ^ TE3[u3 & 255] ^ rk[44];
      t1 = TE0[u1 >>> 24] ^ TE1[(u2 >>> 16) & 255] ^ TE2[(u3 >>> 8) & 255] ^ TE3[u0 & 255] ^ rk[45];
      t2 = TE0[u2 >>> 24] ^ TE1[(u3 >>> 16) & 255] ^ TE2[(u0 >>> 8) & 255] ^ TE3[u1 & 255] ^ rk[46];
      t3 = TE0[u3 >>> 24] ^ TE1[(u0 >>> 16) & 255] ^ TE2[(u1 >>> 8) & 255] ^ TE3[u2 & 255] ^ rk[47];
      u0 = TE0[t0 >>> 24] ^ TE1[(t1 >>> 16) & 255] ^ TE2[(t2 >>> 8) & 255] ^ TE3[t3 & 255] ^ rk[48];
      u1 = TE0[t1 >>> 24] ^ TE1[(t2 >>> 16) & 255] ^ TE2[(t3 >>> 8) & 255] ^ TE3[t0 & 255] ^ rk[49];
      u2 = TE0[t2 >>> 24] ^ TE1[(t3 >>> 16) & 255] ^ TE2[(t0 >>> 8) & 255] ^ TE3[t1 & 255] ^ rk[50];
      u3 = TE0[t3 >>> 24] ^ TE1[(t0 >>> 16) & 255] ^ TE2[(t1 >>> 8) & 255] ^ TE3[t2 & 255] ^ rk[51];
      t0 = TE0[u0 >>> 24] ^ TE1[(u1 >>> 16) & 255] ^ TE2[(u2 >>> 8) & 255] ^ TE3[u3 & 255] ^ rk[52];
      t1 = TE0[u1 >>> 24] ^ TE1[(u2 >>> 16) & 255] ^ TE2[(u3 >>> 8) & 255] ^ TE3[u0 & 255] ^ rk[53];
      t2 = TE0[u2 >>> 24] ^ TE1[(u3 >>> 16) & 255] ^ TE2[(u0 >>> 8) & 255] ^ TE3[u1 & 255] ^ rk[54];
      t3 = TE0[u3 >>> 24] ^ TE1[(u0 >>> 16) & 255] ^ TE2[(u1 >>> 8) & 255] ^ TE3[u2 & 255] ^ rk[55];
      const o0 = lastRound(t0, t1, t2, t3) ^ rk[56];
      const o1 = lastRound(t1, t2, t3, t0) ^ rk[57];
      const o2 = lastRound(t2, t3, t0, t1) ^ rk[58];
      const o3 = lastRound(t3, t0, t1, t2) ^ rk[59];
      if (end - p >= 16) {
        buf[p] ^= o0 >>> 24;
        buf[p + 1] ^= o0 >>> 16;
        buf[p + 2] ^= o0 >>> 8;
        buf[p + 3] ^= o0;
        buf[p + 4] ^= o1 >>> 24;
        buf[p + 5] ^= o1 >>> 16;
        buf[p + 6] ^= o1 >>> 8;
        buf[p + 7] ^= o1;
        buf[p + 8] ^= o2 >>> 24;
        buf[p + 9] ^= o2 >>> 16;
        buf[p + 10] ^= o2 >>> 8;
        buf[p + 11] ^= o2;
        buf[p + 12] ^= o3 >>> 24;
        buf[p + 13] ^= o3 >>> 16;
        buf[p + 14] ^= o3 >>> 8;
        buf[p + 15] ^= o3;
      } else {
        const n = end - p;
        for (let i = 0; i < n; i++) {
          const w = i < 4 ? o0 : i < 8 ? o1 : i < 12 ? o2 : o3;
          buf[p + i] ^= w >>> (24 - 8 * (i & 3));
        }
      }
    }
  }
}

function lastRound(a: number, b: number, c: number, d: number): number {
  return (SBOX[a >>> 24] << 24) | (SBOX[(b >>> 16) & 255] << 16) | (SBOX[(c >>> 8) & 255] << 8) |
    SBOX[d & 255];
}

function invLastRound(a: number, b: number, c: number, d: number): number {
  return (INV_SBOX[a >>> 24] << 24) | (INV_SBOX[(b >>> 16) & 255] << 16) |
    (INV_SBOX[(c >>> 8) & 255] << 8) | INV_SBOX[d & 255];
}

/** Equivalent-inverse-cipher schedule: round keys reversed, InvMixColumns on the inner ones. */
function decryptionSchedule(rk: Int32Array): Int32Array {
  const dk = new Int32Array(rk.length);
  for (let r = 0; r <= ROUNDS; r++) {
    for (let j = 0; j < 4; j++) {
      const w = rk[4 * (ROUNDS - r) + j];
      dk[4 * r + j] = r === 0 || r === ROUNDS ? w : TD0[SBOX[w >>> 24]] ^
        TD1[SBOX[(w >>> 16) & 255]] ^ TD2[SBOX[(w >>> 8) & 255]] ^ TD3[SBOX[w & 255]];
    }
  }
  return dk;
}
