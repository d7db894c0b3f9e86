// Chooses the packet crypto at start: AES-GMAC-SIV on the system's libcrypto when it loads and
// passes its self-test (ZT_LIBCRYPTO=0 turns it off), and with it the default peer cipher.
import { loadLibcryptoSiv } from "../../ffi/libcrypto.ts";
import { setSivEngine, sivEngine, sivEngineSelfTest } from "../vl1/armor.ts";
import type { PeerCipher } from "../vl1/node_settings.ts";

/** What {@link installPacketCrypto} chose. */
export interface PacketCryptoChoice {
  /** Cipher 3 implementation: "libcrypto" (native AES) or "wasm" (bitsliced, WASM/TS fallback). */
  aes: "libcrypto" | "wasm";
  /** Default cipher toward AES-capable peers when local.conf does not say. */
  defaultCipher: PeerCipher;
  /** Why libcrypto is not used, if it is not. */
  reason?: string;
}

/**
 * Plugs the libcrypto AES-GMAC-SIV into the armor layer when possible. Idempotent; a process-wide
 * choice (the armor layer's engine is module state).
 */
export function installPacketCrypto(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): PacketCryptoChoice {
  if (env("ZT_LIBCRYPTO") === "0") {
    setSivEngine(undefined);
    return { aes: "wasm", defaultCipher: "salsa2012", reason: "ZT_LIBCRYPTO=0" };
  }
  if (sivEngine() !== undefined) return { aes: "libcrypto", defaultCipher: "aes" };
  let engine;
  try {
    engine = loadLibcryptoSiv();
  } catch (e) {
    return { aes: "wasm", defaultCipher: "salsa2012", reason: `libcrypto: ${e}` };
  }
  if (engine === undefined) {
    return { aes: "wasm", defaultCipher: "salsa2012", reason: "libcrypto.so.3 not found" };
  }
  if (!sivEngineSelfTest(engine)) {
    return { aes: "wasm", defaultCipher: "salsa2012", reason: "libcrypto failed the self-test" };
  }
  setSivEngine(engine);
  return { aes: "libcrypto", defaultCipher: "aes" };
}
