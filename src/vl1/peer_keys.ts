// Per-peer symmetric key material: the 48-byte agreed key plus the lazily derived AES-GMAC-SIV keys.
import { AesGmacSiv } from "../crypto/aes_gmac_siv.ts";

/** Length of the per-peer shared secret (`ZT_SYMMETRIC_KEY_SIZE`). */
export const PEER_KEY_LENGTH = 48;

/**
 * The key material for one peer. The AES-GMAC-SIV instance (KBKDF-derived K0/K1, spec §3.4.3) is
 * built on first use and then kept, so the packet path never re-derives keys.
 */
export class PeerKeys {
  /** The 48-byte shared secret (Salsa20 uses bytes 0..31; KBKDF uses all 48). */
  readonly key: Uint8Array;
  #aes: AesGmacSiv | undefined;

  /** @throws RangeError if `key48` is not 48 bytes (a programming error). The key is copied. */
  constructor(key48: Uint8Array) {
    if (key48.length !== PEER_KEY_LENGTH) {
      throw new RangeError(`PeerKeys: key must be ${PEER_KEY_LENGTH} bytes, got ${key48.length}`);
    }
    this.key = key48.slice();
  }

  /** The AES-GMAC-SIV cipher for this peer, derived once on first call. */
  get aes(): AesGmacSiv {
    return (this.#aes ??= AesGmacSiv.fromPeerKey(this.key));
  }
}
