// The two crypto backends (src/crypto/crypto_backend.ts) agree byte for byte, and the libcrypto
// one's FFI boundary takes any input: wrong lengths throw a RangeError before a pointer crosses,
// garbage signatures and keys verify false, views into larger buffers are read at their offset.
import assert from "node:assert/strict";
import { type CryptoBackend, cryptoBackendSelfTest } from "../../src/crypto/crypto_backend.ts";
import { nobleBackend } from "../../src/crypto/noble_backend.ts";
import {
  c25519Agree,
  c25519Generate,
  c25519PublicFromPrivate,
  c25519Sign,
  c25519Verify,
  x25519PublicKey,
} from "../../src/crypto/c25519.ts";
import { toHex } from "../../src/util/hex.ts";
import { backendTest, CRYPTO_BACKENDS, libcryptoBackend } from "../helpers/crypto_backends.ts";
import { seededRandom } from "../helpers/seeded_random.ts";

const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

function le32(v: bigint): Uint8Array {
  const o = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    o[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return o;
}

function fromLe(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

/** `b` copied into a larger buffer at an odd offset (a view with byteOffset != 0). */
function offsetView(b: Uint8Array): Uint8Array {
  const big = new Uint8Array(b.length + 13).fill(0xa5);
  big.set(b, 7);
  return big.subarray(7, 7 + b.length);
}

/** Small-order (and twist) u-coordinates, canonical and not, with and without the top bit. */
function specialU(): Uint8Array[] {
  const us = [
    0n,
    1n,
    P - 1n,
    P,
    P + 1n,
    325606250916557431795983626356110631294008115727848805560023387167927233504n,
    39382357235489614581723060781553021112529911719440698176882885853963445705823n,
    (1n << 255n) - 1n,
    P - 2n,
    9n,
  ];
  const out: Uint8Array[] = [];
  for (const u of us) {
    const a = le32(u);
    out.push(a);
    const hi = a.slice();
    hi[31] |= 0x80;
    out.push(hi);
  }
  return out;
}

const only = libcryptoBackend;
const lc = only === undefined ? [] : [only];

Deno.test("crypto backends: every backend passes the known-answer self-test", () => {
  for (const b of CRYPTO_BACKENDS) assert.ok(cryptoBackendSelfTest(b), b.name);
});

for (const b of lc) {
  Deno.test("crypto backends: SHA-512, SHA-384 and HMAC-SHA-384 agree on many lengths and offsets", () => {
    const rnd = seededRandom(7);
    for (const n of [0, 1, 55, 56, 63, 64, 111, 112, 127, 128, 129, 1000, 65537]) {
      const d = rnd(n);
      for (const x of [d, offsetView(d)]) {
        assert.equal(toHex(b.sha512(x)), toHex(nobleBackend.sha512(x)), `sha512 ${n}`);
        assert.equal(toHex(b.sha384(x)), toHex(nobleBackend.sha384(x)), `sha384 ${n}`);
      }
      for (const kn of [0, 1, 32, 48, 127, 128, 129, 300]) {
        const k = rnd(kn);
        assert.equal(
          toHex(b.hmacSha384(offsetView(k), offsetView(d))),
          toHex(nobleBackend.hmacSha384(k, d)),
          `hmac key ${kn} data ${n}`,
        );
      }
    }
  });

  Deno.test("crypto backends: X25519 and public keys agree, also on small-order and non-canonical keys", () => {
    const rnd = seededRandom(11);
    for (let i = 0; i < 40; i++) {
      const s = rnd(32);
      const t = rnd(32);
      assert.equal(toHex(b.x25519PublicKey(s)), toHex(nobleBackend.x25519PublicKey(s)));
      assert.equal(toHex(b.ed25519PublicKey(s)), toHex(nobleBackend.ed25519PublicKey(s)));
      assert.equal(toHex(b.x25519(s, t)), toHex(nobleBackend.x25519(s, t)), `random u ${i}`);
      // the cached private key is replaced, then reused: alternate two secrets
      const t2 = b.x25519PublicKey(t);
      assert.equal(toHex(b.x25519(offsetView(s), offsetView(t2))), toHex(b.x25519(s, t2)));
      assert.equal(toHex(b.x25519(t, b.x25519PublicKey(s))), toHex(b.x25519(s, t2)));
    }
    const s = rnd(32);
    let zeros = 0;
    for (const u of specialU()) {
      const want = toHex(nobleBackend.x25519(s, u));
      assert.equal(toHex(b.x25519(s, u)), want, toHex(u));
      if (want === "00".repeat(32)) zeros++;
    }
    assert.ok(zeros >= 10, `small-order keys give zeros (${zeros})`);
  });

  Deno.test("crypto backends: Ed25519 signatures agree; verification agrees on garbage and edge cases", () => {
    const rnd = seededRandom(13);
    for (let i = 0; i < 20; i++) {
      const seed = rnd(32);
      const msg = rnd(i * 37);
      const kb = b.ed25519.key(seed);
      const kn = nobleBackend.ed25519.key(seed);
      const sig = b.ed25519.sign(kb, offsetView(msg));
      assert.equal(toHex(sig), toHex(nobleBackend.ed25519.sign(kn, msg)));
      b.ed25519.free(kb);
      const pub = b.ed25519PublicKey(seed);
      for (const be of [b, nobleBackend]) {
        assert.ok(be.ed25519Verify(sig, msg, pub), `${be.name} verifies`);
        assert.ok(be.ed25519Verify(offsetView(sig), offsetView(msg), offsetView(pub)));
      }
      // S + L (non-canonical S), a garbage signature, a garbage key, a flipped message
      const bigS = sig.slice();
      bigS.set(le32(fromLe(sig.subarray(32)) + L), 32);
      const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
        [bigS, msg, pub],
        [rnd(64), msg, pub],
        [sig, msg, rnd(32)],
        [sig, msg, le32(P + 1n)],
        [sig, msg, new Uint8Array(32).fill(0xff)],
        [new Uint8Array(64), msg, pub],
        [sig, msg.length > 0 ? msg.map((x, j) => j === 0 ? x ^ 1 : x) : new Uint8Array(1), pub],
      ];
      for (const [s, m, k] of cases) {
        assert.equal(b.ed25519Verify(s, m, k), false);
        assert.equal(nobleBackend.ed25519Verify(s, m, k), false);
      }
    }
    // the identity point as key and R with S = 0: both accept it (as the reference's ref10 does)
    const id = le32(1n);
    const weak = new Uint8Array(64);
    weak.set(id, 0);
    const m = rnd(32);
    assert.equal(b.ed25519Verify(weak, m, id), nobleBackend.ed25519Verify(weak, m, id));
  });

  Deno.test("crypto backends: libcrypto's boundary — wrong lengths throw RangeError, verify never throws", () => {
    const rnd = seededRandom(17);
    for (const n of [0, 1, 31, 33, 64, 1000]) {
      const x = rnd(n);
      assert.throws(() => b.x25519(x, rnd(32)), RangeError);
      assert.throws(() => b.x25519(rnd(32), x), RangeError);
      assert.throws(() => b.x25519PublicKey(x), RangeError);
      assert.throws(() => b.ed25519PublicKey(x), RangeError);
      assert.throws(() => b.ed25519.key(x), RangeError);
      assert.equal(b.ed25519Verify(x, rnd(10), rnd(32)), false);
      assert.equal(b.ed25519Verify(rnd(64), rnd(10), x), false);
    }
    // many failing calls leave nothing behind (OpenSSL's error queue is cleared each time)
    for (let i = 0; i < 3000; i++) {
      assert.equal(b.ed25519Verify(rnd(64), rnd(i % 97), rnd(32)), false);
      assert.equal(toHex(b.x25519(rnd(32), new Uint8Array(32))), "00".repeat(32));
    }
    assert.ok(cryptoBackendSelfTest(b));
  });
}

backendTest(
  "c25519 API: fuzzed inputs never throw past verify; agree/sign take keys of any view",
  () => {
    const rnd = seededRandom(23);
    const k = c25519Generate(rnd);
    const msg = rnd(300);
    const sig = c25519Sign(k.privateKey, k.publicKey, msg);
    assert.ok(c25519Verify(offsetView(k.publicKey), offsetView(msg), offsetView(sig)));
    for (let i = 0; i < 300; i++) {
      const badSig = rnd([0, 1, 63, 64, 95, 96, 97, 200][i % 8]);
      const badKey = rnd([0, 32, 63, 64, 65][i % 5]);
      assert.equal(c25519Verify(k.publicKey, msg, badSig), false);
      assert.equal(c25519Verify(badKey, msg, sig), false);
      // a signature whose digest matches but whose R ‖ S is garbage
      const forged = rnd(96);
      forged.set(sig.subarray(64), 64);
      assert.equal(c25519Verify(k.publicKey, msg, forged), false);
    }
    assert.equal(
      c25519Verify(
        k.publicKey,
        new Uint8Array(0),
        c25519Sign(k.privateKey, k.publicKey, new Uint8Array(0)),
      ),
      true,
    );
    // keys longer than needed: the first 32 bytes count (as the reference reads them)
    const other = c25519Generate(rnd);
    const long = new Uint8Array(100);
    long.set(other.publicKey);
    assert.equal(
      toHex(c25519Agree(k.privateKey, long)),
      toHex(c25519Agree(k.privateKey, other.publicKey)),
    );
    assert.throws(() => c25519Agree(k.privateKey, rnd(31)));
    assert.throws(() => c25519Sign(rnd(63), k.publicKey, msg));
    assert.equal(toHex(c25519PublicFromPrivate(offsetView(k.privateKey))), toHex(k.publicKey));
    assert.equal(toHex(x25519PublicKey(k.privateKey)), toHex(k.publicKey.subarray(0, 32)));
  },
);

function nameOf(b: CryptoBackend): string {
  return b.name;
}

Deno.test("crypto backends: the set under test is noble plus libcrypto where it loads", () => {
  assert.deepEqual(CRYPTO_BACKENDS.map(nameOf), only ? ["noble", "libcrypto"] : ["noble"]);
});
