// Tests for Ed25519 signing on the system's libcrypto (ffi/libcrypto_ed25519.ts), libsodium when
// installed (ffi/libsodium_ed25519.ts) and the built-in expanded-key signer: byte-exact against @noble/curves, vector 0 and the zerotier-idtool
// recordings, falling back to the built-in code when the engine fails.
import assert from "node:assert/strict";
import { ed25519 } from "@noble/curves/ed25519.js";
import { loadLibcryptoEd25519 } from "../../ffi/libcrypto_ed25519.ts";
import { loadLibsodiumEd25519 } from "../../ffi/libsodium_ed25519.ts";
import {
  c25519Generate,
  c25519Sign,
  c25519Verify,
  ed25519Engine,
  ed25519EngineSelfTest,
  setEd25519Engine,
} from "../../src/crypto/c25519.ts";
import type { Ed25519Engine } from "../../src/crypto/ed25519_engine.ts";
import { sha512 } from "../../src/crypto/sha.ts";
import { installSigningCrypto } from "../../src/service/signing_crypto.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import { seededRandom } from "../helpers/seeded_random.ts";

const engine = loadLibcryptoEd25519();
const missing = engine === undefined;
if (missing && Deno.env.get("CI") === "true") {
  throw new Error("libcrypto.so.3 must load in CI (Debian's libssl3)");
}
if (missing) console.log("libcrypto_ed25519_test: SKIPPED — libcrypto.so.3 not found");
/** libsodium is optional (used when installed); scripts/setup.sh installs it for CI. */
const sodium = loadLibsodiumEd25519();
if (sodium === undefined && Deno.env.get("CI") === "true") {
  throw new Error("libsodium.so.23 must load in CI (scripts/setup.sh installs libsodium23)");
}

/** Runs fn with `e` plugged in, restoring the previous engine after. */
function withEngine<T>(e: Ed25519Engine | undefined, fn: () => T): T {
  const saved = ed25519Engine();
  setEd25519Engine(e);
  try {
    return fn();
  } finally {
    setEd25519Engine(saved);
  }
}

/** ZeroTier's signature of `msg` computed from first principles with @noble/curves. */
function reference(privateKey: Uint8Array, msg: Uint8Array): string {
  const h = sha512(msg).subarray(0, 32);
  return toHex(ed25519.sign(h, privateKey.subarray(32, 64))) + toHex(h);
}

/** The identities' signatures equal ZeroTier One 1.14.1's recordings (signatures/*). */
function assertRecordedSignatures(): void {
  for (const h of ["a", "b"]) {
    const id = Identity.fromString(fixtureText(`identities/${h}.secret`))!;
    for (let n = 0; n < 3; n++) {
      const msg = fixtureBytes(`signatures/${h}-msg${n}.bin`);
      const sig = fixtureText(`signatures/${h}-msg${n}.sig`).trim().toLowerCase();
      assert.equal(toHex(id.sign(msg)), sig, `${h}-msg${n}`);
    }
  }
}

Deno.test({
  name: "libcrypto ed25519: passes the self-test; equals @noble/curves on random keys and lengths",
  ignore: missing,
  fn() {
    assert.ok(ed25519EngineSelfTest(engine!));
    const rnd = seededRandom(11);
    for (let i = 0; i < 24; i++) {
      const seed = rnd(32);
      const k = engine!.key(seed);
      try {
        for (const len of [0, 1, 31, 32, 33, 64, 1000, 9000]) {
          const msg = rnd(len);
          assert.equal(toHex(engine!.sign(k, msg)), toHex(ed25519.sign(msg, seed)), `${i}/${len}`);
        }
      } finally {
        engine!.free(k);
      }
    }
  },
});

Deno.test({
  name: "libcrypto ed25519: keys are independent (one context per key), freed keys refuse",
  ignore: missing,
  fn() {
    const rnd = seededRandom(12);
    const seeds = [rnd(32), rnd(32), rnd(32)];
    const keys = seeds.map((s) => engine!.key(s));
    const msg = rnd(32);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < keys.length; i++) {
        assert.equal(toHex(engine!.sign(keys[i], msg)), toHex(ed25519.sign(msg, seeds[i])));
      }
    }
    for (const k of keys) engine!.free(k);
    assert.throws(() => engine!.sign(keys[0], msg), /freed/);
    assert.throws(() => engine!.key(new Uint8Array(31)), /32 bytes/);
  },
});

Deno.test("c25519Sign: built-in expanded-key signer equals plain Ed25519 (many keys)", () => {
  withEngine(undefined, () => {
    const rnd = seededRandom(13);
    for (let i = 0; i < 16; i++) {
      const k = c25519Generate(rnd);
      for (const len of [0, 5, 32, 300]) {
        const msg = rnd(len);
        const sig = c25519Sign(k.privateKey, k.publicKey, msg);
        assert.equal(toHex(sig), reference(k.privateKey, msg));
        assert.ok(c25519Verify(k.publicKey, msg, sig));
      }
    }
  });
});

Deno.test("c25519Sign: a key array changed in place is re-expanded (no stale cached key)", () => {
  for (const e of missing ? [undefined] : [undefined, engine]) {
    withEngine(e, () => {
      const rnd = seededRandom(14);
      const a = c25519Generate(rnd);
      const b = c25519Generate(rnd);
      const key = a.privateKey.slice();
      const msg = rnd(40);
      assert.equal(toHex(c25519Sign(key, a.publicKey, msg)), reference(a.privateKey, msg));
      key.set(b.privateKey);
      assert.equal(toHex(c25519Sign(key, b.publicKey, msg)), reference(b.privateKey, msg));
    });
  }
});

Deno.test({
  name: "c25519Sign on libcrypto: vector 0 and the zerotier-idtool recordings byte for byte",
  ignore: missing,
  fn() {
    withEngine(engine, () => {
      const priv1 = fromHex(
        "e5f37bd40ec9dc775086dcf42ebcdb27f073d45873c44b718b3cc54fa87ca484d9962373b40316bf1ea12dd8c48ae78210dac9e5459b01dc73a6c917a815316d",
      );
      const agree = fromHex(
        "abced224e893b0e77214dcbb7d0fd894169eb57fd7195f3e2d45d5f7900b3e05182e2bf4fad4ec624a4f4850af1ce89f1ae13d704900a7e35b1ea19b681ea173",
      );
      assert.equal(
        toHex(c25519Sign(priv1, new Uint8Array(64), agree)),
        "edb6d0f0066e339c86fbe8c36c8ddedda6a02db90729a313bba4baec48c8f4568279e2b1d33d839f10e852e68b1c339e2bd2db621c56fd50407781ab21673e094ff251ac7de7d15d4be208c63f6a4dc85d74f63bec8ec60c32272f9c09485910",
      );
      assertRecordedSignatures();
    });
  },
});

Deno.test("c25519Sign: an engine that fails falls back to the built-in signer", () => {
  const broken: Ed25519Engine = {
    name: "broken",
    key: () => ({}),
    sign: () => {
      throw new Error("boom");
    },
    free: () => {},
  };
  const wrong: Ed25519Engine = { ...broken, sign: () => new Uint8Array(64) };
  assert.ok(!ed25519EngineSelfTest(broken));
  assert.ok(!ed25519EngineSelfTest(wrong));
  withEngine(broken, () => {
    const k = c25519Generate(seededRandom(15));
    const msg = new Uint8Array([1, 2, 3]);
    assert.equal(toHex(c25519Sign(k.privateKey, k.publicKey, msg)), reference(k.privateKey, msg));
  });
});

Deno.test("installSigningCrypto: ZT_LIBCRYPTO=0 keeps the built-in signer; ZT_ED25519 picks", () => {
  const saved = ed25519Engine();
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  try {
    const off = installSigningCrypto(env({ ZT_LIBCRYPTO: "0" }));
    assert.deepEqual(off, { ed25519: "builtin", reason: "ZT_LIBCRYPTO=0" });
    assert.equal(ed25519Engine(), undefined);
    assert.equal(installSigningCrypto(env({ ZT_ED25519: "builtin" })).ed25519, "builtin");
    assert.equal(ed25519Engine(), undefined);
    const bad = installSigningCrypto(env({ ZT_ED25519: "openssh" }));
    assert.equal(bad.ed25519, "builtin");
    assert.match(bad.reason ?? "", /expected libsodium, libcrypto or builtin/);
    const c = installSigningCrypto(env({ ZT_ED25519: "libcrypto" }));
    if (missing) assert.equal(c.ed25519, "builtin");
    else {
      assert.deepEqual(c, { ed25519: "libcrypto" });
      assert.equal(ed25519Engine()?.name, "libcrypto");
    }
    setEd25519Engine(undefined);
    const any = installSigningCrypto(env({}));
    const want = sodium !== undefined ? "libsodium" : missing ? "builtin" : "libcrypto";
    assert.equal(any.ed25519, want);
    assert.equal(installSigningCrypto(env({})).ed25519, want, "idempotent");
  } finally {
    setEd25519Engine(saved);
  }
});

Deno.test({
  name: "libsodium ed25519 (optional): self-test, equals @noble/curves, vector 0, recordings",
  ignore: sodium === undefined,
  fn() {
    assert.ok(ed25519EngineSelfTest(sodium!));
    const rnd = seededRandom(16);
    for (let i = 0; i < 16; i++) {
      const seed = rnd(32);
      const k = sodium!.key(seed);
      for (const len of [0, 1, 32, 64, 1000]) {
        const msg = rnd(len);
        assert.equal(toHex(sodium!.sign(k, msg)), toHex(ed25519.sign(msg, seed)), `${i}/${len}`);
      }
      sodium!.free(k);
      assert.throws(() => sodium!.sign(k, rnd(3)), /freed/);
    }
    withEngine(sodium, () => {
      assertRecordedSignatures();
    });
  },
});

Deno.test("ed25519 engines: native SHA-512 equals the built-in one; a wrong one fails the self-test", () => {
  const rnd = seededRandom(17);
  for (const e of [engine, sodium]) {
    if (e?.sha512 === undefined) continue;
    for (const len of [0, 1, 111, 112, 127, 128, 129, 1500, 10_000]) {
      const msg = rnd(len);
      assert.equal(toHex(e.sha512(msg)), toHex(sha512(msg)), `${e.name} ${len}`);
    }
  }
  const good = engine ?? sodium;
  if (good === undefined) return;
  const badHash: Ed25519Engine = {
    name: "bad-hash",
    key: (s) => good.key(s),
    sign: (k, m) => good.sign(k, m),
    sha512: () => new Uint8Array(64),
    free: (k) => good.free(k),
  };
  assert.ok(!ed25519EngineSelfTest(badHash));
  // a hash that throws: c25519Sign hashes with the built-in code and still signs natively
  const throwing: Ed25519Engine = {
    ...badHash,
    sha512: () => {
      throw new Error("boom");
    },
  };
  withEngine(throwing, () => {
    const k = c25519Generate(rnd);
    const msg = rnd(77);
    assert.equal(toHex(c25519Sign(k.privateKey, k.publicKey, msg)), reference(k.privateKey, msg));
  });
});
