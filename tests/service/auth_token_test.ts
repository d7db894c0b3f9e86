// Tests for API tokens: format, uniform alphabet use, file creation, comparison, token sources.
import assert from "node:assert/strict";
import {
  generateToken,
  presentedToken,
  readOrCreateToken,
  tokensEqual,
} from "../../src/service/auth_token.ts";
import { systemRandom } from "../../src/service/service.ts";

Deno.test("generateToken: 24 chars of [a-z0-9], rejection of biased bytes", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const t = generateToken(systemRandom);
    assert.match(t, /^[a-z0-9]{24}$/);
    for (const ch of t) seen.add(ch);
  }
  assert.equal(seen.size, 36);
  // bytes >= 252 are skipped; 0 maps to 'a', 35 to '9', 36 wraps to 'a'
  const fixed = (n: number) => Uint8Array.from({ length: n }, (_, i) => [255, 0, 35, 36][i % 4]);
  assert.equal(generateToken(fixed), "a9a".repeat(8));
  assert.throws(() => generateToken((n) => new Uint8Array(n).fill(255)));
});

Deno.test("tokensEqual and presentedToken", () => {
  assert.ok(tokensEqual("abc", "abc"));
  assert.ok(!tokensEqual("abd", "abc"));
  assert.ok(!tokensEqual("ab", "abc"));
  assert.ok(!tokensEqual("abcd", "abc"));
  assert.ok(!tokensEqual("", ""));
  const h = (m: Record<string, string>) => (n: string) => m[n];
  assert.equal(presentedToken(h({ "x-zt1-auth": "x" }), h({ auth: "q" })), "x");
  assert.equal(presentedToken(h({ authorization: "Bearer b" }), h({ auth: "q" })), "q");
  assert.equal(presentedToken(h({ authorization: "BEARER b" }), h({})), "b");
  assert.equal(presentedToken(h({ authorization: "Bearer  b" }), h({})), undefined);
  assert.equal(presentedToken(h({ authorization: "Token b" }), h({})), undefined);
  assert.equal(presentedToken(h({}), h({})), undefined);
});

Deno.test("readOrCreateToken: creates 0600 file once, trims on read", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const p = `${dir}/authtoken.secret`;
    const a = readOrCreateToken(p, systemRandom);
    assert.ok(a.created);
    assert.equal(Deno.readTextFileSync(p), a.token);
    assert.equal(Deno.statSync(p).mode! & 0o777, 0o600);
    const b = readOrCreateToken(p, systemRandom);
    assert.deepEqual(b, { token: a.token, created: false });
    Deno.writeTextFileSync(p, "  tok-x \n");
    assert.equal(readOrCreateToken(p, systemRandom).token, "tok-x");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
