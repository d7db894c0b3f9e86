// Chooses the Ed25519 signer at start: the system's libcrypto when it loads and signs exactly as
// the built-in code (ZT_LIBCRYPTO=0 turns it off). The controller signs every config it sends.
import { loadLibcryptoEd25519 } from "../../ffi/libcrypto_ed25519.ts";
import { ed25519Engine, ed25519EngineSelfTest, setEd25519Engine } from "../crypto/c25519.ts";

/** What {@link installSigningCrypto} chose. */
export interface SigningCryptoChoice {
  /** Ed25519 signing: "libcrypto" (native) or "builtin" (@noble/curves, expanded key cached). */
  ed25519: "libcrypto" | "builtin";
  /** Why libcrypto is not used, if it is not. */
  reason?: string;
}

/**
 * Plugs the libcrypto Ed25519 signer into `c25519Sign` when possible. Idempotent; a
 * process-wide choice (the signer is module state). Signatures are byte-identical either way.
 */
export function installSigningCrypto(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): SigningCryptoChoice {
  if (env("ZT_LIBCRYPTO") === "0") {
    setEd25519Engine(undefined);
    return { ed25519: "builtin", reason: "ZT_LIBCRYPTO=0" };
  }
  if (ed25519Engine() !== undefined) return { ed25519: "libcrypto" };
  let engine;
  try {
    engine = loadLibcryptoEd25519();
  } catch (e) {
    return { ed25519: "builtin", reason: `libcrypto: ${e}` };
  }
  if (engine === undefined) return { ed25519: "builtin", reason: "libcrypto.so.3 not found" };
  if (!ed25519EngineSelfTest(engine)) {
    return { ed25519: "builtin", reason: "libcrypto failed the Ed25519 self-test" };
  }
  setEd25519Engine(engine);
  return { ed25519: "libcrypto" };
}
