// The seam for a native AES-GMAC-SIV (packet cipher 3) that the host may plug in (e.g. libcrypto).
//
// The core stays free of I/O and FFI: it only knows this interface. The service hands an engine
// to `setSivEngine` (src/vl1/armor.ts) at start when one loads and passes its self-test.

/** Opaque per-peer key state of an engine (contexts keyed with K0 and K1). */
export type SivEngineKey = object;

/** AES-256-GMAC-SIV exactly as ZeroTier's cipher 3 (spec §3.4.3), on whole packets in place. */
export interface SivEngine {
  /** Short name for logs and metrics, e.g. "libcrypto". */
  readonly name: string;
  /** Keys a context from the two 32-byte AES keys. Throws on bad lengths or engine failure. */
  key(k0: Uint8Array, k1: Uint8Array): SivEngineKey;
  /** Releases a key's resources; later use throws. */
  free(key: SivEngineKey): void;
  /**
   * Armors pkt[0..len) in place (flags already set): IV = bytes 0..7, AAD = bytes 8..18 with the
   * hop bits masked; writes the tag to bytes 0..7 and 19..26 and encrypts bytes 27.. .
   */
  armorC3(pkt: Uint8Array, len: number, key: SivEngineKey): void;
  /** Dearmors in place; false if authentication fails (bytes from 27 are then unspecified). */
  dearmorC3(pkt: Uint8Array, len: number, key: SivEngineKey): boolean;
}
