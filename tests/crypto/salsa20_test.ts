// Salsa20/12 and Salsa20/20 against the reference self-test vectors (spec §12.1).
import assert from "node:assert/strict";
import { Salsa20 } from "../../src/crypto/salsa20.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";

const KEY = fromHex("0f62b5085bae0154a7fa4da0f34699ec3f92e5388bde3184d72a7dd02376c91c");
const IV = fromHex("288ff65dc42b92f9");

Deno.test("salsa20/20 keystream matches selftest vector", () => {
  const buf = new Uint8Array(64);
  new Salsa20(KEY, IV, 20).xor(buf);
  assert.equal(
    toHex(buf),
    "5e5e71f90199340304abb22a37b6625bf883fb89ce3b21f54a10b81066ef87da30b77699aa7379da595c77dd59542da208e5954f89e40eb7aa80a84a6176663f",
  );
});

Deno.test("salsa20/12 keystream matches selftest vector", () => {
  const buf = new Uint8Array(64);
  new Salsa20(KEY, IV, 12).xor(buf);
  assert.equal(
    toHex(buf),
    "99db33ad11ce0ccb3bfdbf8d0c18160452d014cde989b4c411a559ff7c20a169e6dc9909d816becedc4063ce07cea828f44bf9b6c9a0a0b200e1b52af41859c5",
  );
});

Deno.test("salsa20 partial calls consume whole blocks", () => {
  const whole = new Uint8Array(128);
  new Salsa20(KEY, IV, 12).xor(whole);
  const s = new Salsa20(KEY, IV, 12);
  const a = new Uint8Array(10);
  s.xor(a);
  const b = new Uint8Array(64);
  s.xor(b);
  assert.deepEqual(a, whole.subarray(0, 10));
  assert.deepEqual(b, whole.subarray(64, 128));
});
