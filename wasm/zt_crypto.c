// zt_crypto.c: WebAssembly kernel for zt's packet crypto (spec §3.4): cipher 1 (Salsa20/12 +
// Poly1305) and cipher 3 (AES-256-GMAC-SIV), plus the primitives they are built from.
//
// Written for zt from the published algorithm descriptions: Salsa20 (Bernstein), Poly1305
// (RFC 8439, 26-bit limbs with 64-bit products), AES (FIPS-197; 32-bit T-tables for single
// blocks, and a bitsliced 8-block SIMD path for CTR whose S-box is the Boyar-Peralta 113-gate
// circuit), GHASH (NIST SP 800-38D, per-position 4-bit tables).
//
// No libc. Build: scripts/build_wasm.sh. All multi-byte packet fields are handled as bytes; WASM is
// little-endian, so le32 loads are plain loads and big-endian values use byte swaps.

#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;

// ---------------------------------------------------------------------------------------------
// Small helpers

static inline u32 ld32(const u8 *p) {
  u32 v;
  __builtin_memcpy(&v, p, 4);
  return v;
}
static inline u64 ld64(const u8 *p) {
  u64 v;
  __builtin_memcpy(&v, p, 8);
  return v;
}
static inline void st32(u8 *p, u32 v) { __builtin_memcpy(p, &v, 4); }
static inline void st64(u8 *p, u64 v) { __builtin_memcpy(p, &v, 8); }
static inline u32 be32(const u8 *p) { return __builtin_bswap32(ld32(p)); }
static inline void stbe32(u8 *p, u32 v) { st32(p, __builtin_bswap32(v)); }
static inline u64 be64(const u8 *p) { return __builtin_bswap64(ld64(p)); }
static inline void stbe64(u8 *p, u64 v) { st64(p, __builtin_bswap64(v)); }

// The compiler may emit calls to these for struct copies and zeroing loops.
void *memcpy(void *dst, const void *src, size_t n) {
  u8 *d = (u8 *)dst;
  const u8 *s = (const u8 *)src;
  while (n--) *d++ = *s++;
  return dst;
}
void *memset(void *dst, int c, size_t n) {
  u8 *d = (u8 *)dst;
  while (n--) *d++ = (u8)c;
  return dst;
}

// ---------------------------------------------------------------------------------------------
// Shared buffers the TypeScript side reads and writes.

#define MAX_PACKET 10240 // >= ZT_PROTO_MAX_PACKET_LENGTH (10024)
#define IO_SIZE (MAX_PACKET + 64)

static u8 g_io[IO_SIZE] __attribute__((aligned(16)));   // packet / message buffer
static u8 g_key[64] __attribute__((aligned(16)));       // key input (32 or 48 bytes)
static u8 g_aux[64] __attribute__((aligned(16)));       // nonce, counter block, tag in/out
// Keystream scratch for cipher 1: block 0 (Poly1305 key) + up to MAX_PACKET bytes, in 4-block
// (256 byte) batches.
static u8 g_ks[MAX_PACKET + 64 + 256] __attribute__((aligned(16)));

EXPORT(zt_io) u8 *zt_io(void) { return g_io; }
EXPORT(zt_key) u8 *zt_key(void) { return g_key; }
EXPORT(zt_aux) u8 *zt_aux(void) { return g_aux; }
EXPORT(zt_io_size) u32 zt_io_size(void) { return IO_SIZE; }

// ---------------------------------------------------------------------------------------------
// Salsa20 (4 blocks per pass, one 32-bit word of four consecutive blocks per SIMD lane)

static inline v128_t rotl4(v128_t x, int n) {
  return wasm_v128_or(wasm_i32x4_shl(x, n), wasm_u32x4_shr(x, 32 - n));
}

#define QSTEP(a, b, c, n) a = wasm_v128_xor(a, rotl4(wasm_i32x4_add(b, c), n))

// Writes `nblocks` (a multiple of 4) keystream blocks starting at block counter `ctr` to out.
static void salsa_blocks(const u32 in[16], u64 ctr, u32 nblocks, int rounds, u8 *out) {
  for (u32 b = 0; b < nblocks; b += 4, ctr += 4) {
    v128_t x[16], s[16];
    for (int i = 0; i < 16; i++) s[i] = wasm_i32x4_splat((int)in[i]);
    // 64-bit counter per lane in words 8 (low) and 9 (high).
    u64 c0 = ctr, c1 = ctr + 1, c2 = ctr + 2, c3 = ctr + 3;
    s[8] = wasm_u32x4_make((u32)c0, (u32)c1, (u32)c2, (u32)c3);
    s[9] = wasm_u32x4_make((u32)(c0 >> 32), (u32)(c1 >> 32), (u32)(c2 >> 32), (u32)(c3 >> 32));
    for (int i = 0; i < 16; i++) x[i] = s[i];
    for (int r = 0; r < rounds; r += 2) {
      // Column round.
      QSTEP(x[4], x[0], x[12], 7);
      QSTEP(x[8], x[4], x[0], 9);
      QSTEP(x[12], x[8], x[4], 13);
      QSTEP(x[0], x[12], x[8], 18);
      QSTEP(x[9], x[5], x[1], 7);
      QSTEP(x[13], x[9], x[5], 9);
      QSTEP(x[1], x[13], x[9], 13);
      QSTEP(x[5], x[1], x[13], 18);
      QSTEP(x[14], x[10], x[6], 7);
      QSTEP(x[2], x[14], x[10], 9);
      QSTEP(x[6], x[2], x[14], 13);
      QSTEP(x[10], x[6], x[2], 18);
      QSTEP(x[3], x[15], x[11], 7);
      QSTEP(x[7], x[3], x[15], 9);
      QSTEP(x[11], x[7], x[3], 13);
      QSTEP(x[15], x[11], x[7], 18);
      // Row round.
      QSTEP(x[1], x[0], x[3], 7);
      QSTEP(x[2], x[1], x[0], 9);
      QSTEP(x[3], x[2], x[1], 13);
      QSTEP(x[0], x[3], x[2], 18);
      QSTEP(x[6], x[5], x[4], 7);
      QSTEP(x[7], x[6], x[5], 9);
      QSTEP(x[4], x[7], x[6], 13);
      QSTEP(x[5], x[4], x[7], 18);
      QSTEP(x[11], x[10], x[9], 7);
      QSTEP(x[8], x[11], x[10], 9);
      QSTEP(x[9], x[8], x[11], 13);
      QSTEP(x[10], x[9], x[8], 18);
      QSTEP(x[12], x[15], x[14], 7);
      QSTEP(x[13], x[12], x[15], 9);
      QSTEP(x[14], x[13], x[12], 13);
      QSTEP(x[15], x[14], x[13], 18);
    }
    for (int i = 0; i < 16; i++) x[i] = wasm_i32x4_add(x[i], s[i]);
    // Transpose each group of four words so lane j becomes 16 contiguous bytes of block j.
    for (int g = 0; g < 16; g += 4) {
      v128_t a = x[g], bb = x[g + 1], c = x[g + 2], d = x[g + 3];
      v128_t ab_lo = wasm_i32x4_shuffle(a, bb, 0, 4, 1, 5);
      v128_t ab_hi = wasm_i32x4_shuffle(a, bb, 2, 6, 3, 7);
      v128_t cd_lo = wasm_i32x4_shuffle(c, d, 0, 4, 1, 5);
      v128_t cd_hi = wasm_i32x4_shuffle(c, d, 2, 6, 3, 7);
      u8 *o = out + (size_t)b * 64 + (size_t)g * 4;
      wasm_v128_store(o, wasm_i64x2_shuffle(ab_lo, cd_lo, 0, 2));
      wasm_v128_store(o + 64, wasm_i64x2_shuffle(ab_lo, cd_lo, 1, 3));
      wasm_v128_store(o + 128, wasm_i64x2_shuffle(ab_hi, cd_hi, 0, 2));
      wasm_v128_store(o + 192, wasm_i64x2_shuffle(ab_hi, cd_hi, 1, 3));
    }
  }
}

static const u32 SIGMA[4] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};

static void salsa_setup(u32 st[16], const u8 *key, const u8 *nonce) {
  st[0] = SIGMA[0];
  for (int i = 0; i < 4; i++) st[1 + i] = ld32(key + 4 * i);
  st[5] = SIGMA[1];
  st[6] = ld32(nonce);
  st[7] = ld32(nonce + 4);
  st[8] = 0;
  st[9] = 0;
  st[10] = SIGMA[2];
  for (int i = 0; i < 4; i++) st[11 + i] = ld32(key + 16 + 4 * i);
  st[15] = SIGMA[3];
}

static void xor_bytes(u8 *dst, const u8 *ks, u32 n) {
  u32 i = 0;
  for (; i + 16 <= n; i += 16) {
    wasm_v128_store(dst + i, wasm_v128_xor(wasm_v128_load(dst + i), wasm_v128_load(ks + i)));
  }
  for (; i < n; i++) dst[i] ^= ks[i];
}

/**
 * XORs io[0..len) with the Salsa20 keystream (key = zt_key[0..32), nonce = zt_aux[0..8), counter 0,
 * `rounds` = 12 or 20). Returns 0, or -1 for a bad length.
 */
EXPORT(zt_salsa20_xor) int zt_salsa20_xor(u32 len, u32 rounds) {
  if (len > MAX_PACKET || (rounds != 12 && rounds != 20)) return -1;
  u32 st[16];
  salsa_setup(st, g_key, g_aux);
  u32 nb = ((len + 63) / 64 + 3) & ~3u;
  salsa_blocks(st, 0, nb, (int)rounds, g_ks);
  xor_bytes(g_io, g_ks, len);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Poly1305 (26-bit limbs, 64-bit products)

static void poly1305(const u8 *key, const u8 *m, u32 len, u8 out[16]) {
  const u32 M26 = 0x3ffffff;
  u32 r0 = ld32(key) & 0x3ffffff;
  u32 r1 = (ld32(key + 3) >> 2) & 0x3ffff03;
  u32 r2 = (ld32(key + 6) >> 4) & 0x3ffc0ff;
  u32 r3 = (ld32(key + 9) >> 6) & 0x3f03fff;
  u32 r4 = (ld32(key + 12) >> 8) & 0x00fffff;
  u64 s1 = r1 * 5ull, s2 = r2 * 5ull, s3 = r3 * 5ull, s4 = r4 * 5ull;
  u32 h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0;
  u8 last[16];
  while (len > 0) {
    const u8 *p = m;
    u32 hibit = 1u << 24;
    if (len < 16) {
      for (u32 i = 0; i < 16; i++) last[i] = i < len ? m[i] : (i == len ? 1 : 0);
      p = last;
      hibit = 0;
      len = 0;
    } else {
      m += 16;
      len -= 16;
    }
    h0 += ld32(p) & M26;
    h1 += (ld32(p + 3) >> 2) & M26;
    h2 += (ld32(p + 6) >> 4) & M26;
    h3 += (ld32(p + 9) >> 6) & M26;
    h4 += (ld32(p + 12) >> 8) | hibit;
    u64 d0 = (u64)h0 * r0 + (u64)h1 * s4 + (u64)h2 * s3 + (u64)h3 * s2 + (u64)h4 * s1;
    u64 d1 = (u64)h0 * r1 + (u64)h1 * r0 + (u64)h2 * s4 + (u64)h3 * s3 + (u64)h4 * s2;
    u64 d2 = (u64)h0 * r2 + (u64)h1 * r1 + (u64)h2 * r0 + (u64)h3 * s4 + (u64)h4 * s3;
    u64 d3 = (u64)h0 * r3 + (u64)h1 * r2 + (u64)h2 * r1 + (u64)h3 * r0 + (u64)h4 * s4;
    u64 d4 = (u64)h0 * r4 + (u64)h1 * r3 + (u64)h2 * r2 + (u64)h3 * r1 + (u64)h4 * r0;
    u64 c;
    c = d0 >> 26;
    h0 = (u32)d0 & M26;
    d1 += c;
    c = d1 >> 26;
    h1 = (u32)d1 & M26;
    d2 += c;
    c = d2 >> 26;
    h2 = (u32)d2 & M26;
    d3 += c;
    c = d3 >> 26;
    h3 = (u32)d3 & M26;
    d4 += c;
    c = d4 >> 26;
    h4 = (u32)d4 & M26;
    h0 += (u32)c * 5;
    h1 += h0 >> 26;
    h0 &= M26;
  }
  // Full carry, then reduce mod 2^130 - 5 with a constant-time select.
  u32 c;
  c = h1 >> 26; h1 &= M26; h2 += c;
  c = h2 >> 26; h2 &= M26; h3 += c;
  c = h3 >> 26; h3 &= M26; h4 += c;
  c = h4 >> 26; h4 &= M26; h0 += c * 5;
  c = h0 >> 26; h0 &= M26; h1 += c;
  u32 g0 = h0 + 5; c = g0 >> 26; g0 &= M26;
  u32 g1 = h1 + c; c = g1 >> 26; g1 &= M26;
  u32 g2 = h2 + c; c = g2 >> 26; g2 &= M26;
  u32 g3 = h3 + c; c = g3 >> 26; g3 &= M26;
  u32 g4 = h4 + c - (1u << 26);
  u32 useg = (g4 >> 31) - 1; // all ones when h >= p
  h0 = (h0 & ~useg) | (g0 & useg);
  h1 = (h1 & ~useg) | (g1 & useg);
  h2 = (h2 & ~useg) | (g2 & useg);
  h3 = (h3 & ~useg) | (g3 & useg);
  h4 = (h4 & ~useg) | (g4 & useg);
  u32 w0 = h0 | (h1 << 26);
  u32 w1 = (h1 >> 6) | (h2 << 20);
  u32 w2 = (h2 >> 12) | (h3 << 14);
  u32 w3 = (h3 >> 18) | (h4 << 8);
  u64 f;
  f = (u64)w0 + ld32(key + 16); st32(out, (u32)f);
  f = (u64)w1 + ld32(key + 20) + (f >> 32); st32(out + 4, (u32)f);
  f = (u64)w2 + ld32(key + 24) + (f >> 32); st32(out + 8, (u32)f);
  f = (u64)w3 + ld32(key + 28) + (f >> 32); st32(out + 12, (u32)f);
}

/** Poly1305 tag of io[0..len) under key zt_key[0..32); tag written to zt_aux[0..16). */
EXPORT(zt_poly1305) int zt_poly1305(u32 len) {
  if (len > IO_SIZE) return -1;
  poly1305(g_key, g_io, len, g_aux);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Cipher 0/1 armor (spec §3.4.1, §3.4.2). The packet is io[0..len) with its flags already set;
// the peer key is zt_key[0..32).

#define IDX_FLAGS 18
#define IDX_MAC 19
#define IDX_VERB 27

// Fills g_ks with block 0 (one-time key) then the payload keystream for a packet of `len` bytes.
static void c1_keystream(u32 len) {
  u8 mk[32];
  for (int i = 0; i < 18; i++) mk[i] = g_key[i] ^ g_io[i];
  mk[18] = g_key[18] ^ (g_io[IDX_FLAGS] & 0xf8);
  mk[19] = g_key[19] ^ (u8)(len & 0xff);
  mk[20] = g_key[20] ^ (u8)((len >> 8) & 0xff);
  for (int i = 21; i < 32; i++) mk[i] = g_key[i];
  u32 st[16];
  salsa_setup(st, mk, g_io);
  u32 nb = (1 + (len - IDX_VERB + 63) / 64 + 3) & ~3u;
  salsa_blocks(st, 0, nb, 12, g_ks);
}

/** Armors io[0..len) in place with cipher 0 (MAC only) or 1 (encrypt + MAC). Returns 0 or -1. */
EXPORT(zt_armor_c1) int zt_armor_c1(u32 len, u32 encrypt) {
  if (len < IDX_VERB + 1 || len > MAX_PACKET) return -1;
  c1_keystream(len);
  if (encrypt) xor_bytes(g_io + IDX_VERB, g_ks + 64, len - IDX_VERB);
  u8 tag[16];
  poly1305(g_ks, g_io + IDX_VERB, len - IDX_VERB, tag);
  for (int i = 0; i < 8; i++) g_io[IDX_MAC + i] = tag[i];
  return 0;
}

/** Verifies (and for `decrypt`, decrypts) io[0..len) in place. Returns 1 if authentic, else 0. */
EXPORT(zt_dearmor_c1) int zt_dearmor_c1(u32 len, u32 decrypt) {
  if (len < IDX_VERB + 1 || len > MAX_PACKET) return 0;
  c1_keystream(len);
  u8 tag[16];
  poly1305(g_ks, g_io + IDX_VERB, len - IDX_VERB, tag);
  u32 diff = 0;
  for (int i = 0; i < 8; i++) diff |= (u32)(tag[i] ^ g_io[IDX_MAC + i]);
  if (diff != 0) return 0;
  if (decrypt) xor_bytes(g_io + IDX_VERB, g_ks + 64, len - IDX_VERB);
  return 1;
}

// ---------------------------------------------------------------------------------------------
// AES-256 tables (built once, from GF(2^8) arithmetic)

static u8 SBOX[256], INV_SBOX[256];
static u32 TE[4][256], TD[4][256];
static int g_tables_ready;

static u8 xtime8(u8 a) { return (u8)((a << 1) ^ ((a & 0x80) ? 0x1b : 0)); }
static u8 gmul8(u8 a, u8 b) {
  u8 p = 0;
  for (int i = 0; i < 8; i++) {
    if (b & 1) p ^= a;
    a = xtime8(a);
    b >>= 1;
  }
  return p;
}
static u32 rotr8(u32 w) { return (w >> 8) | (w << 24); }

static void build_tables(void) {
  if (g_tables_ready) return;
  // Inverses via powers of the generator 3: exp[i] = 3^i, log[exp[i]] = i.
  u8 expt[256], logt[256];
  u8 v = 1;
  for (int i = 0; i < 255; i++) {
    expt[i] = v;
    logt[v] = (u8)i;
    v = gmul8(v, 3);
  }
  for (int x = 0; x < 256; x++) {
    u8 inv = x == 0 ? 0 : expt[(255 - logt[x]) % 255];
    u8 s = inv;
    for (int i = 1; i < 5; i++) s ^= (u8)((inv << i) | (inv >> (8 - i)));
    s ^= 0x63;
    SBOX[x] = s;
    INV_SBOX[s] = (u8)x;
  }
  for (int x = 0; x < 256; x++) {
    u8 s = SBOX[x];
    u32 e = ((u32)xtime8(s) << 24) | ((u32)s << 16) | ((u32)s << 8) | (u32)(xtime8(s) ^ s);
    u8 i = INV_SBOX[x];
    u32 d = ((u32)gmul8(i, 14) << 24) | ((u32)gmul8(i, 9) << 16) | ((u32)gmul8(i, 13) << 8) |
            (u32)gmul8(i, 11);
    for (int k = 0; k < 4; k++) {
      TE[k][x] = e;
      TD[k][x] = d;
      e = rotr8(e);
      d = rotr8(d);
    }
  }
  g_tables_ready = 1;
}

static u32 sub_word(u32 w) {
  return ((u32)SBOX[w >> 24] << 24) | ((u32)SBOX[(w >> 16) & 255] << 16) |
         ((u32)SBOX[(w >> 8) & 255] << 8) | SBOX[w & 255];
}

// AES-256 encryption schedule: 60 big-endian words.
static void aes_expand(u32 ek[60], const u8 key[32]) {
  for (int i = 0; i < 8; i++) ek[i] = be32(key + 4 * i);
  u32 rcon = 1;
  for (int i = 8; i < 60; i++) {
    u32 t = ek[i - 1];
    if (i % 8 == 0) {
      t = sub_word((t << 8) | (t >> 24)) ^ (rcon << 24);
      rcon = xtime8((u8)rcon);
    } else if (i % 8 == 4) {
      t = sub_word(t);
    }
    ek[i] = ek[i - 8] ^ t;
  }
}

// Equivalent-inverse-cipher schedule from the encryption schedule.
static void aes_expand_dec(u32 dk[60], const u32 ek[60]) {
  for (int r = 0; r <= 14; r++) {
    for (int j = 0; j < 4; j++) {
      u32 w = ek[4 * (14 - r) + j];
      if (r != 0 && r != 14) {
        // InvMixColumns(w) = TD applied to SBOX bytes (TD includes INV_SBOX).
        w = TD[0][SBOX[w >> 24]] ^ TD[1][SBOX[(w >> 16) & 255]] ^ TD[2][SBOX[(w >> 8) & 255]] ^
            TD[3][SBOX[w & 255]];
      }
      dk[4 * r + j] = w;
    }
  }
}

static void aes_encrypt_block(const u32 *rk, const u8 in[16], u8 out[16]) {
  u32 s0 = be32(in) ^ rk[0], s1 = be32(in + 4) ^ rk[1];
  u32 s2 = be32(in + 8) ^ rk[2], s3 = be32(in + 12) ^ rk[3];
  for (int r = 1; r < 14; r++) {
    const u32 *k = rk + 4 * r;
    u32 t0 = TE[0][s0 >> 24] ^ TE[1][(s1 >> 16) & 255] ^ TE[2][(s2 >> 8) & 255] ^ TE[3][s3 & 255] ^ k[0];
    u32 t1 = TE[0][s1 >> 24] ^ TE[1][(s2 >> 16) & 255] ^ TE[2][(s3 >> 8) & 255] ^ TE[3][s0 & 255] ^ k[1];
    u32 t2 = TE[0][s2 >> 24] ^ TE[1][(s3 >> 16) & 255] ^ TE[2][(s0 >> 8) & 255] ^ TE[3][s1 & 255] ^ k[2];
    u32 t3 = TE[0][s3 >> 24] ^ TE[1][(s0 >> 16) & 255] ^ TE[2][(s1 >> 8) & 255] ^ TE[3][s2 & 255] ^ k[3];
    s0 = t0; s1 = t1; s2 = t2; s3 = t3;
  }
  const u32 *k = rk + 56;
#define SB(a, b, c, d)                                                                            \
  (((u32)SBOX[(a) >> 24] << 24) | ((u32)SBOX[((b) >> 16) & 255] << 16) |                          \
   ((u32)SBOX[((c) >> 8) & 255] << 8) | (u32)SBOX[(d) & 255])
  stbe32(out, SB(s0, s1, s2, s3) ^ k[0]);
  stbe32(out + 4, SB(s1, s2, s3, s0) ^ k[1]);
  stbe32(out + 8, SB(s2, s3, s0, s1) ^ k[2]);
  stbe32(out + 12, SB(s3, s0, s1, s2) ^ k[3]);
#undef SB
}

static void aes_decrypt_block(const u32 *dk, const u8 in[16], u8 out[16]) {
  u32 s0 = be32(in) ^ dk[0], s1 = be32(in + 4) ^ dk[1];
  u32 s2 = be32(in + 8) ^ dk[2], s3 = be32(in + 12) ^ dk[3];
  for (int r = 1; r < 14; r++) {
    const u32 *k = dk + 4 * r;
    u32 t0 = TD[0][s0 >> 24] ^ TD[1][(s3 >> 16) & 255] ^ TD[2][(s2 >> 8) & 255] ^ TD[3][s1 & 255] ^ k[0];
    u32 t1 = TD[0][s1 >> 24] ^ TD[1][(s0 >> 16) & 255] ^ TD[2][(s3 >> 8) & 255] ^ TD[3][s2 & 255] ^ k[1];
    u32 t2 = TD[0][s2 >> 24] ^ TD[1][(s1 >> 16) & 255] ^ TD[2][(s0 >> 8) & 255] ^ TD[3][s3 & 255] ^ k[2];
    u32 t3 = TD[0][s3 >> 24] ^ TD[1][(s2 >> 16) & 255] ^ TD[2][(s1 >> 8) & 255] ^ TD[3][s0 & 255] ^ k[3];
    s0 = t0; s1 = t1; s2 = t2; s3 = t3;
  }
  const u32 *k = dk + 56;
#define ISB(a, b, c, d)                                                                           \
  (((u32)INV_SBOX[(a) >> 24] << 24) | ((u32)INV_SBOX[((b) >> 16) & 255] << 16) |                  \
   ((u32)INV_SBOX[((c) >> 8) & 255] << 8) | (u32)INV_SBOX[(d) & 255])
  stbe32(out, ISB(s0, s3, s2, s1) ^ k[0]);
  stbe32(out + 4, ISB(s1, s0, s3, s2) ^ k[1]);
  stbe32(out + 8, ISB(s2, s1, s0, s3) ^ k[2]);
  stbe32(out + 12, ISB(s3, s2, s1, s0) ^ k[3]);
#undef ISB
}

// ---------------------------------------------------------------------------------------------
// Bitsliced AES-256 over 8 blocks. Plane j holds bit j of every state byte: byte k of plane j,
// bit b, is bit j of byte k of block b. ShiftRows/MixColumns then move whole bytes (shuffles).

typedef struct {
  v128_t p[8];
} Planes;

static inline void swapmove(v128_t *a, v128_t *b, v128_t mask, int n) {
  v128_t t = wasm_v128_and(wasm_v128_xor(wasm_u64x2_shr(*a, n), *b), mask);
  *b = wasm_v128_xor(*b, t);
  *a = wasm_v128_xor(*a, wasm_i64x2_shl(t, n));
}

// 8x8 bit transpose inside every byte position across the 8 registers (an involution).
static inline void bs_transpose(v128_t r[8]) {
  const v128_t m1 = wasm_i8x16_splat(0x55), m2 = wasm_i8x16_splat(0x33);
  const v128_t m4 = wasm_i8x16_splat(0x0f);
  swapmove(&r[0], &r[1], m1, 1);
  swapmove(&r[2], &r[3], m1, 1);
  swapmove(&r[4], &r[5], m1, 1);
  swapmove(&r[6], &r[7], m1, 1);
  swapmove(&r[0], &r[2], m2, 2);
  swapmove(&r[1], &r[3], m2, 2);
  swapmove(&r[4], &r[6], m2, 2);
  swapmove(&r[5], &r[7], m2, 2);
  swapmove(&r[0], &r[4], m4, 4);
  swapmove(&r[1], &r[5], m4, 4);
  swapmove(&r[2], &r[6], m4, 4);
  swapmove(&r[3], &r[7], m4, 4);
}

// AES S-box on all 128 bytes: Boyar & Peralta's depth-16, 113-gate circuit (x0 = bit 7), minus
// its final complements (the S-box's 0x63 constant), which bs_expand folds into round keys 1..14.
static inline void bs_sbox(v128_t q[8]) {
#define X(a, b) wasm_v128_xor(a, b)
#define A(a, b) wasm_v128_and(a, b)
  const v128_t x0 = q[7], x1 = q[6], x2 = q[5], x3 = q[4];
  const v128_t x4 = q[3], x5 = q[2], x6 = q[1], x7 = q[0];
  // Top linear layer.
  v128_t y14 = X(x3, x5), y13 = X(x0, x6), y9 = X(x0, x3), y8 = X(x0, x5);
  v128_t t0 = X(x1, x2), y1 = X(t0, x7), y4 = X(y1, x3), y12 = X(y13, y14);
  v128_t y2 = X(y1, x0), y5 = X(y1, x6), y3 = X(y5, y8), t1 = X(x4, y12);
  v128_t y15 = X(t1, x5), y20 = X(t1, x1), y6 = X(y15, x7), y10 = X(y15, t0);
  v128_t y11 = X(y20, y9), y7 = X(x7, y11), y17 = X(y10, y11), y19 = X(y10, y8);
  v128_t y16 = X(t0, y11), y21 = X(y13, y16), y18 = X(x0, y16);
  // Shared non-linear middle (inversion in GF(2^4)^2).
  v128_t t2 = A(y12, y15), t3 = A(y3, y6), t4 = X(t3, t2), t5 = A(y4, x7);
  v128_t t6 = X(t5, t2), t7 = A(y13, y16), t8 = A(y5, y1), t9 = X(t8, t7);
  v128_t t10 = A(y2, y7), t11 = X(t10, t7), t12 = A(y9, y11), t13 = A(y14, y17);
  v128_t t14 = X(t13, t12), t15 = A(y8, y10), t16 = X(t15, t12), t17 = X(t4, t14);
  v128_t t18 = X(t6, t16), t19 = X(t9, t14), t20 = X(t11, t16), t21 = X(t17, y20);
  v128_t t22 = X(t18, y19), t23 = X(t19, y21), t24 = X(t20, y18);
  v128_t t25 = X(t21, t22), t26 = A(t21, t23), t27 = X(t24, t26), t28 = A(t25, t27);
  v128_t t29 = X(t28, t22), t30 = X(t23, t24), t31 = X(t22, t26), t32 = A(t31, t30);
  v128_t t33 = X(t32, t24), t34 = X(t23, t33), t35 = X(t27, t33), t36 = A(t24, t35);
  v128_t t37 = X(t36, t34), t38 = X(t27, t36), t39 = A(t29, t38), t40 = X(t25, t39);
  v128_t t41 = X(t40, t37), t42 = X(t29, t33), t43 = X(t29, t40), t44 = X(t33, t37);
  v128_t t45 = X(t42, t41);
  v128_t z0 = A(t44, y15), z1 = A(t37, y6), z2 = A(t33, x7), z3 = A(t43, y16);
  v128_t z4 = A(t40, y1), z5 = A(t29, y7), z6 = A(t42, y11), z7 = A(t45, y17);
  v128_t z8 = A(t41, y10), z9 = A(t44, y12), z10 = A(t37, y3), z11 = A(t33, y4);
  v128_t z12 = A(t43, y13), z13 = A(t40, y5), z14 = A(t29, y2), z15 = A(t42, y9);
  v128_t z16 = A(t45, y14), z17 = A(t41, y8);
  // Bottom linear layer.
  v128_t t46 = X(z15, z16), t47 = X(z10, z11), t48 = X(z5, z13), t49 = X(z9, z10);
  v128_t t50 = X(z2, z12), t51 = X(z2, z5), t52 = X(z7, z8), t53 = X(z0, z3);
  v128_t t54 = X(z6, z7), t55 = X(z16, z17), t56 = X(z12, t48), t57 = X(t50, t53);
  v128_t t58 = X(z4, t46), t59 = X(z3, t54), t60 = X(t46, t57), t61 = X(z14, t57);
  v128_t t62 = X(t52, t58), t63 = X(t49, t58), t64 = X(z4, t59), t65 = X(t61, t62);
  v128_t t66 = X(z1, t63);
  v128_t s0 = X(t59, t63), s6 = X(t56, t62), s7 = X(t48, t60), t67 = X(t64, t65);
  v128_t s3 = X(t53, t66), s4 = X(t51, t66), s5 = X(t47, t65), s1 = X(t64, s3);
  v128_t s2 = X(t55, t67);
  q[7] = s0;
  q[6] = s1;
  q[5] = s2;
  q[4] = s3;
  q[3] = s4;
  q[2] = s5;
  q[1] = s6;
  q[0] = s7;
#undef X
#undef A
}

// Byte k = row + 4*column. ShiftRows: new (r, c) = old (r, c + r).
#define SHIFT_ROWS(v) \
  wasm_i8x16_shuffle(v, v, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11)
// Rotate rows within each column: new (r, c) = old (r + 1, c), and by two.
#define ROT1(v) wasm_i8x16_shuffle(v, v, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12)
#define ROT2(v) wasm_i8x16_shuffle(v, v, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13)

static inline void bs_shift_rows(v128_t q[8]) {
  for (int j = 0; j < 8; j++) q[j] = SHIFT_ROWS(q[j]);
}

// MixColumns: out = xtime(a ^ rot1 a) ^ rot1 a ^ rot2(a ^ rot1 a).
static inline void bs_mix_columns(v128_t q[8]) {
  v128_t r1[8], t[8];
  for (int j = 0; j < 8; j++) {
    r1[j] = ROT1(q[j]);
    t[j] = wasm_v128_xor(q[j], r1[j]);
  }
  // xtime(t): bit j <- bit j-1, with bit 7 folded into bits 0, 1, 3, 4 (0x1b).
  v128_t x[8];
  x[0] = t[7];
  x[1] = wasm_v128_xor(t[0], t[7]);
  x[2] = t[1];
  x[3] = wasm_v128_xor(t[2], t[7]);
  x[4] = wasm_v128_xor(t[3], t[7]);
  x[5] = t[4];
  x[6] = t[5];
  x[7] = t[6];
  for (int j = 0; j < 8; j++) q[j] = wasm_v128_xor(wasm_v128_xor(x[j], r1[j]), ROT2(t[j]));
}

static inline void bs_add_key(v128_t q[8], const v128_t *k) {
  for (int j = 0; j < 8; j++) q[j] = wasm_v128_xor(q[j], k[j]);
}

// Encrypts 8 blocks in place (r[i] = block i) under a bitsliced schedule of 15 x 8 planes.
static void bs_encrypt8(v128_t r[8], const v128_t *bk) {
  bs_transpose(r);
  bs_add_key(r, bk);
  for (int round = 1; round < 14; round++) {
    bs_sbox(r);
    bs_shift_rows(r);
    bs_mix_columns(r);
    bs_add_key(r, bk + 8 * round);
  }
  bs_sbox(r);
  bs_shift_rows(r);
  bs_add_key(r, bk + 8 * 14);
  bs_transpose(r);
}

// Bitsliced schedule: each round key byte k becomes 0x00/0xFF in byte k of plane j for bit j.
// Keys 1..14 also carry the S-box constant 0x63 left out of bs_sbox: a constant in every byte
// passes ShiftRows and MixColumns unchanged (2c ^ 3c ^ c ^ c = c).
static void bs_expand(v128_t bk[120], const u32 ek[60]) {
  for (int round = 0; round < 15; round++) {
    u8 rk[16];
    for (int w = 0; w < 4; w++) stbe32(rk + 4 * w, ek[4 * round + w]);
    if (round > 0) {
      for (int k = 0; k < 16; k++) rk[k] ^= 0x63;
    }
    for (int j = 0; j < 8; j++) {
      u8 plane[16];
      for (int k = 0; k < 16; k++) plane[k] = (u8)(0 - ((rk[k] >> j) & 1));
      bk[8 * round + j] = wasm_v128_load(plane);
    }
  }
}

// CTR mode (32-bit big-endian counter in bytes 12..15, wrapping) over buf[0..len), 8 blocks a pass.
static void bs_ctr(const v128_t *bk, const u8 ctr0[16], u8 *buf, u32 len) {
  v128_t base = wasm_v128_load(ctr0);
  u32 ctr = be32(ctr0 + 12);
  u8 tmp[128] __attribute__((aligned(16)));
  while (len > 0) {
    v128_t r[8];
    for (int i = 0; i < 8; i++) {
      r[i] = wasm_i32x4_replace_lane(base, 3, (int)__builtin_bswap32(ctr + (u32)i));
    }
    ctr += 8;
    bs_encrypt8(r, bk);
    if (len >= 128) {
      for (int i = 0; i < 8; i++) {
        u8 *p = buf + 16 * i;
        wasm_v128_store(p, wasm_v128_xor(wasm_v128_load(p), r[i]));
      }
      buf += 128;
      len -= 128;
    } else {
      for (int i = 0; i < 8; i++) wasm_v128_store(tmp + 16 * i, r[i]);
      for (u32 i = 0; i < len; i++) buf[i] ^= tmp[i];
      len = 0;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GHASH with per-position 4-bit tables (NIST SP 800-38D): X * H is linear in X, so with
// T[j][n] = (block whose nibble j is n, others 0) * H, a multiply is the XOR of 32 lookups, one
// per nibble, with no shifting or reduction step. Entries and blocks stay in wire byte order (a
// byte's most significant bit is x^0; nibble 2i is byte i's high half, 2i + 1 its low half).

#define GH_ENTRIES (32 * 16)

// Fills t[0..GH_ENTRIES) from H (16 bytes, wire order).
static void ghash_init(v128_t *t, const u8 h[16]) {
  u64 hh = be64(h), hl = be64(h + 8); // x^k * H, k = 0, 1, ... in turn
  for (int j = 0; j < 32; j++) {
    v128_t *tj = t + 16 * j;
    for (int k = 3; k >= 0; k--) { // nibble value 1 << k of nibble j is x^(4j + 3 - k)
      u8 raw[16];
      stbe64(raw, hh);
      stbe64(raw + 8, hl);
      tj[1 << k] = wasm_v128_load(raw);
      u64 lsb = hl & 1;
      hl = (hl >> 1) | (hh << 63);
      hh = (hh >> 1) ^ (lsb ? 0xe100000000000000ull : 0);
    }
    tj[0] = wasm_i64x2_splat(0);
    for (int b = 2; b < 16; b <<= 1) {
      for (int i = 1; i < b; i++) tj[b + i] = wasm_v128_xor(tj[b], tj[i]);
    }
  }
}

#define GH_HI(i) t[32 * (i) + wasm_u8x16_extract_lane(hi, i)]
#define GH_LO(i) t[32 * (i) + 16 + wasm_u8x16_extract_lane(lo, i)]
#define GH_BYTE(i) wasm_v128_xor(GH_HI(i), GH_LO(i))

// Returns x * H.
static inline v128_t ghash_mul(const v128_t *t, v128_t x) {
  v128_t hi = wasm_u8x16_shr(x, 4), lo = wasm_v128_and(x, wasm_i8x16_splat(15));
  v128_t a = wasm_v128_xor(GH_BYTE(0), GH_BYTE(1));
  v128_t b = wasm_v128_xor(GH_BYTE(2), GH_BYTE(3));
  v128_t c = wasm_v128_xor(GH_BYTE(4), GH_BYTE(5));
  v128_t d = wasm_v128_xor(GH_BYTE(6), GH_BYTE(7));
  a = wasm_v128_xor(a, wasm_v128_xor(GH_BYTE(8), GH_BYTE(9)));
  b = wasm_v128_xor(b, wasm_v128_xor(GH_BYTE(10), GH_BYTE(11)));
  c = wasm_v128_xor(c, wasm_v128_xor(GH_BYTE(12), GH_BYTE(13)));
  d = wasm_v128_xor(d, wasm_v128_xor(GH_BYTE(14), GH_BYTE(15)));
  return wasm_v128_xor(wasm_v128_xor(a, b), wasm_v128_xor(c, d));
}

// Absorbs p[0..len) (zero padded) into y.
static v128_t ghash_update(const v128_t *t, v128_t y, const u8 *p, u32 len) {
  for (; len >= 16; p += 16, len -= 16) y = ghash_mul(t, wasm_v128_xor(y, wasm_v128_load(p)));
  if (len > 0) {
    u8 last[16];
    for (u32 i = 0; i < 16; i++) last[i] = i < len ? p[i] : 0;
    y = ghash_mul(t, wasm_v128_xor(y, wasm_v128_load(last)));
  }
  return y;
}

// ---------------------------------------------------------------------------------------------
// AES-GMAC-SIV context (one per peer) and cipher 3 armor (spec §3.4.3)

typedef struct {
  v128_t bk1[120];       // bitsliced K1 schedule (CTR)
  v128_t gh[GH_ENTRIES]; // GHASH tables for H = AES_K0(0^128)
  u32 ek0[60];
  u32 ek1[60];
  u32 dk1[60];
} SivCtx;

extern u8 __heap_base;
static uintptr_t g_heap_top;
static void *g_free_list;

/** Size in bytes of one AES-GMAC-SIV context. */
EXPORT(zt_siv_ctx_size) u32 zt_siv_ctx_size(void) { return (u32)sizeof(SivCtx); }

/** Allocates a context (growing memory if needed); returns its address, or 0 when out of memory. */
EXPORT(zt_siv_alloc) SivCtx *zt_siv_alloc(void) {
  if (g_free_list != 0) {
    void *p = g_free_list;
    g_free_list = *(void **)p;
    return (SivCtx *)p;
  }
  if (g_heap_top == 0) g_heap_top = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
  uintptr_t need = g_heap_top + sizeof(SivCtx);
  uintptr_t have = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u;
  if (need > have) {
    uintptr_t pages = (need - have + 65535) / 65536;
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return 0;
  }
  SivCtx *p = (SivCtx *)g_heap_top;
  g_heap_top = (need + 15) & ~(uintptr_t)15;
  return p;
}

/** Wipes and returns a context to the free list. */
EXPORT(zt_siv_free) void zt_siv_free(SivCtx *c) {
  volatile u8 *p = (volatile u8 *)c;
  for (size_t i = 0; i < sizeof(SivCtx); i++) p[i] = 0;
  *(void **)c = g_free_list;
  g_free_list = c;
}

/** Keys a context from K0 = zt_key[0..32) and K1 = zt_key[32..64). */
EXPORT(zt_siv_init) void zt_siv_init(SivCtx *c) {
  if (!g_tables_ready) build_tables();
  aes_expand(c->ek0, g_key);
  aes_expand(c->ek1, g_key + 32);
  aes_expand_dec(c->dk1, c->ek1);
  bs_expand(c->bk1, c->ek1);
  u8 h[16] = {0};
  aes_encrypt_block(c->ek0, h, h);
  ghash_init(c->gh, h);
}

/** aux[16..32) = AES_K(aux[0..16)) with K = K0 (which 0) or K1 (which 1); or K1^-1 (which 2). */
EXPORT(zt_aes_block) void zt_aes_block(const SivCtx *c, u32 which) {
  if (which == 0) aes_encrypt_block(c->ek0, g_aux, g_aux + 16);
  else if (which == 1) aes_encrypt_block(c->ek1, g_aux, g_aux + 16);
  else aes_decrypt_block(c->dk1, g_aux, g_aux + 16);
}

/** AES-CTR with K1 over io[0..len), initial counter block aux[0..16). Returns 0 or -1. */
EXPORT(zt_aes_ctr) int zt_aes_ctr(const SivCtx *c, u32 len) {
  if (len > IO_SIZE) return -1;
  bs_ctr(c->bk1, g_aux, g_io, len);
  return 0;
}

/** GHASH (H from K0) of io[0..len) zero padded, no length block; result to aux[0..16). */
EXPORT(zt_ghash) int zt_ghash(const SivCtx *c, u32 len) {
  if (len > IO_SIZE) return -1;
  wasm_v128_store(g_aux, ghash_update(c->gh, wasm_i64x2_splat(0), g_io, len));
  return 0;
}

// out[0..8) = iv, out[8..16) = folded GMAC tag over (aad of the packet in io) ‖ pad ‖ payload.
static void siv_gmac(const SivCtx *c, const u8 iv[8], u32 len, u8 out[16]) {
  u8 blk[16] = {0};
  for (int i = 0; i < 11; i++) blk[i] = g_io[8 + i];
  blk[10] &= 0xf8;
  v128_t y = ghash_mul(c->gh, wasm_v128_load(blk));
  y = ghash_update(c->gh, y, g_io + IDX_VERB, len - IDX_VERB);
  stbe64(blk, (u64)(16 + len - IDX_VERB) * 8);
  st64(blk + 8, 0);
  y = ghash_mul(c->gh, wasm_v128_xor(y, wasm_v128_load(blk)));
  wasm_v128_store(blk, y);
  u8 j0[16], e[16];
  for (int i = 0; i < 8; i++) j0[i] = iv[i];
  for (int i = 8; i < 15; i++) j0[i] = 0;
  j0[15] = 1;
  aes_encrypt_block(c->ek0, j0, e);
  u64 fold = be64(blk) ^ be64(blk + 8) ^ be64(e) ^ be64(e + 8);
  for (int i = 0; i < 8; i++) out[i] = iv[i];
  stbe64(out + 8, fold);
}

/** Cipher 3 armor of io[0..len) (flags already set): tag to bytes 0..8 and 19..27. 0 or -1. */
EXPORT(zt_armor_c3) int zt_armor_c3(const SivCtx *c, u32 len) {
  if (len < IDX_VERB + 1 || len > MAX_PACKET) return -1;
  u8 b[16];
  siv_gmac(c, g_io, len, b);
  aes_encrypt_block(c->ek1, b, b);
  for (int i = 0; i < 8; i++) {
    g_io[i] = b[i];
    g_io[IDX_MAC + i] = b[8 + i];
  }
  b[12] &= 0x7f;
  bs_ctr(c->bk1, b, g_io + IDX_VERB, len - IDX_VERB);
  return 0;
}

/** Cipher 3 dearmor of io[0..len) in place. Returns 1 if authentic, else 0. */
EXPORT(zt_dearmor_c3) int zt_dearmor_c3(const SivCtx *c, u32 len) {
  if (len < IDX_VERB + 1 || len > MAX_PACKET) return 0;
  u8 b[16], x[16], g[16];
  for (int i = 0; i < 8; i++) {
    b[i] = g_io[i];
    b[8 + i] = g_io[IDX_MAC + i];
  }
  aes_decrypt_block(c->dk1, b, x); // x = IV8 ‖ T8
  b[12] &= 0x7f;
  bs_ctr(c->bk1, b, g_io + IDX_VERB, len - IDX_VERB);
  siv_gmac(c, x, len, g);
  u32 diff = 0;
  for (int i = 8; i < 16; i++) diff |= (u32)(g[i] ^ x[i]);
  return diff == 0;
}

// ---------------------------------------------------------------------------------------------
// Identity proof of work (spec §1.3): the memory-hard part of the identity hash. The SHA-512
// digest of the public key keys Salsa20/20 (key = digest[0..32), nonce = digest[32..40)); a
// 2 MiB buffer is filled with the chained keystream (block i = block i-1 XOR keystream block i),
// then walked in 16-byte steps: each step swaps one 8-byte word of the digest (chosen by the
// step's first word mod 8) with one 8-byte word of the buffer (chosen by its second word, read
// big-endian, mod 262144), then XORs the digest with the next keystream block. The keystream
// blocks do not depend on the data, so they are made four at a time with the SIMD Salsa20.

#define ID_MEM_BYTES 2097152u
#define ID_MEM_BLOCKS (ID_MEM_BYTES / 64u)
#define ID_STEPS (ID_MEM_BYTES / 16u)
#define ID_KS_BATCH 64u

static u8 g_idmem[ID_MEM_BYTES] __attribute__((aligned(16)));
static u8 g_idks[ID_KS_BATCH * 64] __attribute__((aligned(16)));

/** Where the 2 MiB scratch memory is (the host may give its pages back between hashes). */
EXPORT(zt_idmem) u8 *zt_idmem(void) { return g_idmem; }
EXPORT(zt_idmem_size) u32 zt_idmem_size(void) { return ID_MEM_BYTES; }

/** Replaces io[0..64) (the SHA-512 digest of a public key) with the memory-hard digest. */
EXPORT(zt_identity_memhash) void zt_identity_memhash(void) {
  u32 st[16];
  salsa_setup(st, g_io, g_io + 32);
  salsa_blocks(st, 0, ID_MEM_BLOCKS, 20, g_idmem);
  for (u32 i = 1; i < ID_MEM_BLOCKS; i++) {
    u8 *b = g_idmem + (size_t)i * 64;
    for (u32 w = 0; w < 64; w += 16) {
      wasm_v128_store(b + w, wasm_v128_xor(wasm_v128_load(b + w), wasm_v128_load(b + w - 64)));
    }
  }
  u64 d[8];
  for (int i = 0; i < 8; i++) d[i] = ld64(g_io + 8 * i);
  u64 ctr = ID_MEM_BLOCKS;
  for (u32 step = 0; step < ID_STEPS; step += ID_KS_BATCH, ctr += ID_KS_BATCH) {
    salsa_blocks(st, ctr, ID_KS_BATCH, 20, g_idks);
    for (u32 k = 0; k < ID_KS_BATCH; k++) {
      const u8 *p = g_idmem + (size_t)(step + k) * 16;
      u32 i1 = p[7] & 7u;
      u32 i2 = ((u32)(p[13] & 3u) << 16) | ((u32)p[14] << 8) | p[15];
      u64 t = ld64(g_idmem + (size_t)i2 * 8);
      st64(g_idmem + (size_t)i2 * 8, d[i1]);
      d[i1] = t;
      const u8 *ks = g_idks + (size_t)k * 64;
      for (int i = 0; i < 8; i++) d[i] ^= ld64(ks + 8 * i);
    }
  }
  for (int i = 0; i < 8; i++) st64(g_io + 8 * i, d[i]);
}
