// Chooses the crypto backend of c25519.ts and sha.ts when imported: the system's libcrypto when it
// loads and passes the known-answer self-test, else @noble (loaded then by crypto_default.ts).
// ZT_CRYPTO=js or ZT_LIBCRYPTO=0 forces @noble. cli.ts imports this module first: the choice must be
// made before any module that imports c25519.ts or sha.ts runs, so this one imports neither.
import { loadLibcryptoBackend } from "../../ffi/libcrypto_c25519.ts";
import {
  cryptoBackend,
  cryptoBackendSelfTest,
  setCryptoBackend,
} from "../crypto/crypto_backend.ts";

/** What was chosen: "libcrypto", or "noble" with the reason. */
export interface NativeCryptoChoice {
  backend: "libcrypto" | "noble";
  reason?: string;
}

/**
 * Sets the libcrypto backend when possible (and no backend is set yet). Never throws. Exported
 * for tests; the module runs it once when imported.
 */
export function installNativeCrypto(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): NativeCryptoChoice {
  const set = cryptoBackend();
  if (set !== undefined) {
    return set.name === "libcrypto"
      ? { backend: "libcrypto" }
      : { backend: "noble", reason: "a backend was set before" };
  }
  let forced: string | undefined;
  try {
    if (env("ZT_CRYPTO") === "js") forced = "ZT_CRYPTO=js";
    else if (env("ZT_LIBCRYPTO") === "0") forced = "ZT_LIBCRYPTO=0";
  } catch {
    // no env permission: try libcrypto
  }
  if (forced !== undefined) return { backend: "noble", reason: forced };
  let b;
  try {
    b = loadLibcryptoBackend();
  } catch (e) {
    return { backend: "noble", reason: `libcrypto: ${e}` };
  }
  if (b === undefined) return { backend: "noble", reason: "libcrypto.so.3 not found" };
  if (!cryptoBackendSelfTest(b)) {
    return { backend: "noble", reason: "libcrypto failed the self-test" };
  }
  setCryptoBackend(b);
  return { backend: "libcrypto" };
}

/** The choice made when this module was imported. */
export const nativeCrypto: NativeCryptoChoice = installNativeCrypto();
