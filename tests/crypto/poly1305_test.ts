// Poly1305 against the selftest vectors (spec §12.1), RFC 8439 and a cross-check with @noble/ciphers.
import assert from "node:assert/strict";
import { poly1305 as noblePoly1305 } from "@noble/ciphers/_poly1305.js";
import { poly1305 } from "../../src/crypto/poly1305.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";
import { seededBytes as bytes } from "../helpers/seeded_random.ts";

const KEY = fromHex("746869732069732033322d62797465206b657920666f7220506f6c7931333035");

Deno.test("poly1305 selftest vector: 32 zero bytes", () => {
  assert.equal(toHex(poly1305(KEY, new Uint8Array(32))), "49ec78090e481ec6c26b33b91ccc0307");
});

Deno.test("poly1305 selftest vector: Hello world!", () => {
  const msg = new TextEncoder().encode("Hello world!");
  assert.equal(toHex(poly1305(KEY, msg)), "a6f745008f81c916a20dcc74eef2b2f0");
});

Deno.test("poly1305 RFC 8439 §2.5.2 vector", () => {
  const key = fromHex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
  const msg = new TextEncoder().encode("Cryptographic Forum Research Group");
  assert.equal(toHex(poly1305(key, msg)), "a8061dc1305136c6c22b8baf0c0127a9");
});

Deno.test("poly1305 start/end select a sub-range without copying", () => {
  const msg = new Uint8Array(300).map((_, i) => (i * 7 + 3) & 255);
  for (const [s, e] of [[0, 0], [27, 300], [5, 21], [100, 117], [299, 300]]) {
    assert.equal(toHex(poly1305(KEY, msg, s, e)), toHex(poly1305(KEY, msg.slice(s, e))));
  }
});

Deno.test("poly1305 agrees with @noble/ciphers for lengths 0..300 and extreme inputs", () => {
  for (let n = 0; n <= 300; n++) {
    const key = bytes(32, n + 1), msg = bytes(n, 1000 + n);
    assert.equal(toHex(poly1305(key, msg)), toHex(noblePoly1305(msg, key)), `length ${n}`);
  }
  for (const n of [15, 16, 17, 64, 1400]) {
    const key = new Uint8Array(32).fill(0xff), msg = new Uint8Array(n).fill(0xff);
    assert.equal(toHex(poly1305(key, msg)), toHex(noblePoly1305(msg, key)), `0xff length ${n}`);
  }
});

Deno.test("poly1305 rejects programmer errors", () => {
  assert.throws(() => poly1305(new Uint8Array(31), new Uint8Array(1)), /32 bytes/);
  assert.throws(() => poly1305(KEY, new Uint8Array(10), 5, 11), RangeError);
  assert.throws(() => poly1305(KEY, new Uint8Array(10), 6, 5), RangeError);
});
