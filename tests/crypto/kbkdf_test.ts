// ZeroTier KBKDF-HMAC-SHA384 against spec §12.2 and the §12.4 pair key.
import assert from "node:assert/strict";
import { kbkdfHmacSha384 } from "../../src/crypto/kbkdf.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";

Deno.test("kbkdf §12.2 vectors (key byte i = 0x11*i)", () => {
  const key = new Uint8Array(48).map((_, i) => (0x11 * i) & 0xff);
  assert.equal(
    toHex(kbkdfHmacSha384(key, 0x30)),
    "8bea14f0f6cea347ebb124d0b93c9e07f75b63a5a38fcefbf7d24f42055d218b2331d07a6af291bad317faff2b9274ab",
  );
  assert.equal(
    toHex(kbkdfHmacSha384(key, 0x31)),
    "7cf4f93b1241b36b2c6f0d53d1dc316ef3918a8524ff90a453c27291e61b6f4a7c46794dd1afeeefca7f8086f0ae3f3b",
  );
});

Deno.test("kbkdf §12.4 AES keys for the HELLO pair", () => {
  const key = fromHex(
    "c0f4e1be63427a3c96e17d99d7d3eb8af1728fc20fdf28d9548ba4dd4e39c3f7bfd9058589ab3dc7b4656b4f52aa91bb",
  );
  assert.equal(
    toHex(kbkdfHmacSha384(key, 0x30)),
    "47820cca5ec315043c6dc7a81fcf4c2536e72229580aa9d82f199103eb5b492d32b52f82eb92ab6e79911e488a68e5ff",
  );
  assert.equal(
    toHex(kbkdfHmacSha384(key, 0x31)),
    "1ad4026f763a63995f3ac4a015f1898101f29e4d793f1f021183931f83e62395a335696edc6f4825ac8fa6429bc12ed9",
  );
});

Deno.test("kbkdf rejects keys that are not 48 bytes", () => {
  assert.throws(() => kbkdfHmacSha384(new Uint8Array(32), 0x30), /48 bytes/);
});
