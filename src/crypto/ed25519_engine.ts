// The seam for a native Ed25519 signer the host may plug in (e.g. libcrypto), used by c25519Sign.
//
// The core stays free of I/O and FFI: it only knows this interface. The service hands an engine
// to `setEd25519Engine` (src/crypto/c25519.ts) when one loads and passes its self-test.

/** Opaque per-key state of an engine (e.g. a native key object). */
export type Ed25519EngineKey = object;

/** Plain RFC 8032 Ed25519 (no context, no pre-hash) on 32-byte seeds. */
export interface Ed25519Engine {
  /** Short name for logs, e.g. "libcrypto". */
  readonly name: string;
  /** Keys a signer from a 32-byte Ed25519 seed. Throws on a bad length or engine failure. */
  key(seed: Uint8Array): Ed25519EngineKey;
  /** The 64-byte signature `R ‖ S` of `msg`. Throws on engine failure. */
  sign(key: Ed25519EngineKey, msg: Uint8Array): Uint8Array;
  /**
   * SHA-512 of `msg` (64 bytes), if the engine has it: ZeroTier signs SHA-512(message)[0..32),
   * and the pure-TypeScript hash of a config (~1-2 KB) costs more than a native signature.
   */
  sha512?(msg: Uint8Array): Uint8Array;
  /** Releases a key's resources; later use throws. */
  free(key: Ed25519EngineKey): void;
}
