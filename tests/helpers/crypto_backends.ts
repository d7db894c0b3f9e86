// Runs a test once per crypto backend (src/crypto/crypto_backend.ts): the @noble one and the
// system's libcrypto one (required when CI=true; skipped with a note when the library is missing).
import { loadLibcryptoBackend } from "../../ffi/libcrypto_c25519.ts";
import {
  type CryptoBackend,
  cryptoBackend,
  cryptoBackendSelfTest,
  setCryptoBackend,
} from "../../src/crypto/crypto_backend.ts";
import { nobleBackend } from "../../src/crypto/noble_backend.ts";

/** The libcrypto backend, or undefined when libcrypto.so.3 is not installed. */
export const libcryptoBackend: CryptoBackend | undefined = loadLibcryptoBackend();
if (libcryptoBackend === undefined) {
  if (Deno.env.get("CI") === "true") {
    throw new Error("libcrypto.so.3 must load in CI (Debian's libssl3)");
  }
  console.log("crypto backends: libcrypto SKIPPED — libcrypto.so.3 not found");
} else if (!cryptoBackendSelfTest(libcryptoBackend)) {
  throw new Error("the libcrypto backend fails its known-answer self-test");
}

/** Every backend to test: @noble, and libcrypto when it loads. */
export const CRYPTO_BACKENDS: CryptoBackend[] = libcryptoBackend === undefined
  ? [nobleBackend]
  : [nobleBackend, libcryptoBackend];

/** Runs `fn` with backend `b` set, then restores the previous backend. */
export async function withCryptoBackend<T>(
  b: CryptoBackend,
  fn: () => T | Promise<T>,
): Promise<T> {
  const prev = cryptoBackend();
  setCryptoBackend(b);
  try {
    return await fn();
  } finally {
    if (prev !== undefined) setCryptoBackend(prev);
  }
}

/** `Deno.test(name, fn)` once per backend, named `name [backend]`. */
export function backendTest(name: string, fn: (b: CryptoBackend) => void | Promise<void>): void {
  for (const b of CRYPTO_BACKENDS) {
    Deno.test(`${name} [${b.name}]`, () => withCryptoBackend(b, () => fn(b)));
  }
}
