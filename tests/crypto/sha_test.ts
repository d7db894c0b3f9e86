// SHA-512 selftest vector (spec §12.1) plus SHA-384 and HMAC-SHA-384 standard vectors.
import { backendTest } from "../helpers/crypto_backends.ts";
import assert from "node:assert/strict";
import { hmacSha384, sha384, sha512 } from "../../src/crypto/sha.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";

const enc = (s: string) => new TextEncoder().encode(s);

backendTest("sha512 selftest vector", () => {
  assert.equal(
    toHex(sha512(enc("supercalifragilisticexpealidocious"))),
    "182a855969e5d3e6cbf60524adf288d1bbf25292812431f6d252f1dbc1cb44df21573de1b06b6875959f3b6f87b11381d0bc792c433a13553ce084c29255311c",
  );
});

backendTest("sha384 FIPS 180 'abc'", () => {
  assert.equal(
    toHex(sha384(enc("abc"))),
    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
  );
});

backendTest("hmacSha384 RFC 4231 test case 1", () => {
  assert.equal(
    toHex(hmacSha384(fromHex("0b".repeat(20)), enc("Hi There"))),
    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
  );
});
