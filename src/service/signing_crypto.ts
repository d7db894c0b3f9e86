// Chooses the Ed25519 signer at start: the system's libsodium, else its libcrypto, whichever first
// loads and signs exactly as the built-in code (ZT_LIBCRYPTO=0 turns both off; ZT_ED25519=
// libsodium | libcrypto | builtin names the one to use, for benchmarks). The controller
// signs every config it sends: this is most of the cost of answering a config request.
import { loadLibcryptoEd25519 } from "../../ffi/libcrypto_ed25519.ts";
import { loadLibsodiumEd25519 } from "../../ffi/libsodium_ed25519.ts";
import { ed25519Engine, ed25519EngineSelfTest, setEd25519Engine } from "../crypto/c25519.ts";
import type { Ed25519Engine } from "../crypto/ed25519_engine.ts";

/** What {@link installSigningCrypto} chose. */
export interface SigningCryptoChoice {
  /**
   * Ed25519 signing: "libsodium" or "libcrypto" (a plugged-in native engine), or "builtin" (the
   * crypto backend's own signer: libcrypto's or @noble's, see src/crypto/crypto_backend.ts).
   */
  ed25519: "libsodium" | "libcrypto" | "builtin";
  /** Why no native signer is used, if none is. */
  reason?: string;
}

const LOADERS: Array<[string, () => Ed25519Engine | undefined]> = [
  ["libsodium", loadLibsodiumEd25519],
  ["libcrypto", loadLibcryptoEd25519],
];

/**
 * Plugs a native Ed25519 signer into `c25519Sign` when possible. Idempotent; a process-wide
 * choice (the signer is module state). Signatures are byte-identical either way.
 */
export function installSigningCrypto(
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): SigningCryptoChoice {
  if (env("ZT_LIBCRYPTO") === "0") {
    setEd25519Engine(undefined);
    return { ed25519: "builtin", reason: "ZT_LIBCRYPTO=0" };
  }
  const only = env("ZT_ED25519");
  if (only === "builtin") {
    setEd25519Engine(undefined);
    return { ed25519: "builtin", reason: "ZT_ED25519=builtin" };
  }
  const loaders = LOADERS.filter(([n]) => only === undefined || only === "" || n === only);
  if (loaders.length === 0) {
    return {
      ed25519: "builtin",
      reason: `ZT_ED25519=${only}: expected libsodium, libcrypto or builtin`,
    };
  }
  const current = ed25519Engine()?.name;
  if (loaders.some(([n]) => n === current)) {
    return { ed25519: current as "libsodium" | "libcrypto" };
  }
  const why: string[] = [];
  for (const [name, load] of loaders) {
    let engine;
    try {
      engine = load();
    } catch (e) {
      why.push(`${name}: ${e}`);
      continue;
    }
    if (engine === undefined) why.push(`${name} not found`);
    else if (!ed25519EngineSelfTest(engine)) why.push(`${name} failed the Ed25519 self-test`);
    else {
      setEd25519Engine(engine);
      return { ed25519: name as "libsodium" | "libcrypto" };
    }
  }
  return { ed25519: "builtin", reason: why.join("; ") };
}
