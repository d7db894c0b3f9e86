// zt library entry: the public API of the protocol core.
export { ZT_VERSION } from "./src/version.ts";
export { Salsa20 } from "./src/crypto/salsa20.ts";
