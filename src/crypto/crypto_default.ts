// Makes sure a crypto backend is set before c25519.ts and sha.ts run: the one the host set (the
// native one, see crypto_backend.ts), else the @noble one, imported only then.
import { cryptoBackend, setCryptoBackend } from "./crypto_backend.ts";

if (cryptoBackend() === undefined) {
  setCryptoBackend((await import("./noble_backend.ts")).nobleBackend);
}
