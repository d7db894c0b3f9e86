// AES-256-GMAC-SIV, ZeroTier's packet cipher 3 (spec §3.4.3): GMAC(K0) -> SIV tag -> AES-CTR(K1).
import { Aes256 } from "./aes.ts";
import { Ghash } from "./ghash.ts";
import { kbkdfHmacSha384 } from "./kbkdf.ts";

/** Length of the additional data (dest 5 || source 5 || flags 1) that ZeroTier authenticates. */
const AAD_LEN = 11;

/** AES-256-GMAC-SIV as ZeroTier's cipher 3 (spec §3.4.3). k0/k1 are the 32-byte AES keys. */
export class AesGmacSiv {
  readonly #aes0: Aes256;
  readonly #aes1: Aes256;
  readonly #ghash: Ghash;
  /** SIV tag / CTR counter block. */
  readonly #blk = new Uint8Array(16);
  /** Decrypted SIV tag (IV8 || T8) on receive. */
  readonly #x = new Uint8Array(16);
  /** E_K0(J0). */
  readonly #e = new Uint8Array(16);

  /** @param k0 32-byte GMAC key @param k1 32-byte SIV/CTR key (throws on other lengths). */
  constructor(k0: Uint8Array, k1: Uint8Array) {
    if (k0.length !== 32 || k1.length !== 32) {
      throw new Error(`AesGmacSiv: keys must be 32 bytes, got ${k0.length} and ${k1.length}`);
    }
    this.#aes0 = new Aes256(k0);
    this.#aes1 = new Aes256(k1);
    const h = new Uint8Array(16);
    this.#aes0.encryptBlock(h, 0, h, 0);
    this.#ghash = new Ghash(h);
  }

  /** From a 48-byte peer key: K0/K1 = first 32 bytes of KBKDF(key,'0')/KBKDF(key,'1'). */
  static fromPeerKey(key48: Uint8Array): AesGmacSiv {
    return new AesGmacSiv(
      kbkdfHmacSha384(key48, 0x30).subarray(0, 32),
      kbkdfHmacSha384(key48, 0x31).subarray(0, 32),
    );
  }

  /**
   * Encrypts buf[start,end) in place; writes the 16-byte SIV tag into tagOut[tagOff..+16).
   * aad is 11 bytes. Throws only on programmer errors (bad lengths/ranges).
   */
  encrypt(
    iv8: Uint8Array,
    aad: Uint8Array,
    buf: Uint8Array,
    start: number,
    end: number,
    tagOut: Uint8Array,
    tagOff = 0,
  ): void {
    if (iv8.length < 8) throw new Error("AesGmacSiv.encrypt: iv must be 8 bytes");
    if (aad.length !== AAD_LEN) throw new Error("AesGmacSiv.encrypt: aad must be 11 bytes");
    checkRange(buf, start, end);
    if (!(tagOff >= 0 && tagOff + 16 <= tagOut.length)) {
      throw new RangeError("AesGmacSiv.encrypt: tag output out of range");
    }
    const b = this.#blk;
    this.#gmacFolded(iv8, 0, aad, buf, start, end, b); // b = IV8 || T8
    this.#aes1.encryptBlock(b, 0, b, 0); // b = SIV tag
    for (let i = 0; i < 16; i++) tagOut[tagOff + i] = b[i];
    b[12] &= 0x7f;
    this.#aes1.ctr(b, buf, start, end);
  }

  /**
   * Decrypts buf[start,end) in place given the 16-byte tag (tag[tagOff..+16)); returns false if
   * authentication fails (buffer contents are then unspecified and must be dropped).
   */
  decrypt(
    tag: Uint8Array,
    tagOff: number,
    aad: Uint8Array,
    buf: Uint8Array,
    start: number,
    end: number,
  ): boolean {
    if (aad.length !== AAD_LEN) throw new Error("AesGmacSiv.decrypt: aad must be 11 bytes");
    checkRange(buf, start, end);
    if (!(tagOff >= 0 && tagOff + 16 <= tag.length)) return false;
    // Copy the tag first so the caller may pass a tag that lives inside `buf`.
    const b = this.#blk, x = this.#x;
    for (let i = 0; i < 16; i++) b[i] = x[i] = tag[tagOff + i];
    this.#aes1.decryptBlock(x, 0, x, 0); // x = IV8 || T8
    b[12] &= 0x7f;
    this.#aes1.ctr(b, buf, start, end);
    this.#gmacFolded(x, 0, aad, buf, start, end, b); // b = IV8 || T8'
    let diff = 0;
    for (let i = 8; i < 16; i++) diff |= b[i] ^ x[i];
    return diff === 0;
  }

  /** out[0..8) = iv, out[8..16) = first half XOR second half of the GMAC tag over aad||pad||msg. */
  #gmacFolded(
    iv: Uint8Array,
    ivOff: number,
    aad: Uint8Array,
    msg: Uint8Array,
    start: number,
    end: number,
    out: Uint8Array,
  ): void {
    const g = this.#ghash;
    g.reset();
    g.update(aad, 0, AAD_LEN); // zero padded to one block
    g.update(msg, start, end);
    const bits = (16 + end - start) * 8; // AAD (padded) || msg, all treated as GCM AAD
    g.updateWords(Math.floor(bits / 0x100000000), bits | 0, 0, 0);
    // J0 = IV8 || 00000000 || 00000001; tag = GHASH ^ E_K0(J0).
    const e = this.#e;
    for (let i = 0; i < 8; i++) e[i] = out[i] = iv[ivOff + i];
    e.fill(0, 8, 15);
    e[15] = 1;
    this.#aes0.encryptBlock(e, 0, e, 0);
    for (let i = 0; i < 8; i++) {
      const j = 24 - 8 * (i & 3);
      const t0 = (g.word(i >> 2) >>> j) & 255;
      const t1 = (g.word(2 + (i >> 2)) >>> j) & 255;
      out[8 + i] = t0 ^ t1 ^ e[i] ^ e[8 + i];
    }
  }
}

function checkRange(buf: Uint8Array, start: number, end: number): void {
  if (!(start >= 0 && start <= end && end <= buf.length)) {
    throw new RangeError(`AesGmacSiv: bad range [${start}, ${end}) of ${buf.length}`);
  }
}
