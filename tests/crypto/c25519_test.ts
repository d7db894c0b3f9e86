// Tests for the C25519 agreement and 96-byte signature primitives against selftest vector 0.
import { backendTest } from "../helpers/crypto_backends.ts";
import assert from "node:assert/strict";
import {
  c25519Agree,
  c25519Generate,
  c25519PublicFromPrivate,
  c25519Sign,
  c25519Verify,
} from "../../src/crypto/c25519.ts";
import { sha512 } from "../../src/crypto/sha.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";
import { seededRandom } from "../helpers/seeded_random.ts";

// spec §12.1, C25519 selftest vector 0.
const V0 = {
  pub1: fromHex(
    "a1fc7ab46ddf7dcfe7ec75e5fadd11cbcc37f8845d1c924e098965fcd8e95a30dae486a335b4190cbc7bcb3eb94cbd16e83d132bc9c339eaf142e76f69789ab7",
  ),
  priv1: fromHex(
    "e5f37bd40ec9dc775086dcf42ebcdb27f073d45873c44b718b3cc54fa87ca484d9962373b40316bf1ea12dd8c48ae78210dac9e5459b01dc73a6c917a815316d",
  ),
  pub2: fromHex(
    "3e49a40e3aafa3073df72aec43b1d4091acb8e92f96595046d2d9b34a3bf5100e2ee23f5280aa9b1570b965662ba1294afc65fb561430fde0babfa4ffec5e718",
  ),
  priv2: fromHex(
    "004d418de46923ae98c43e770f1d945d293e945a3839200fd36f76a2290203cb0b7f4f1a295113337c99b3818239440597fb0df293a24094f4ff5d0961e45f76",
  ),
  agree:
    "abced224e893b0e77214dcbb7d0fd894169eb57fd7195f3e2d45d5f7900b3e05182e2bf4fad4ec624a4f4850af1ce89f1ae13d704900a7e35b1ea19b681ea173",
  sig1:
    "edb6d0f0066e339c86fbe8c36c8ddedda6a02db90729a313bba4baec48c8f4568279e2b1d33d839f10e852e68b1c339e2bd2db621c56fd50407781ab21673e094ff251ac7de7d15d4be208c63f6a4dc85d74f63bec8ec60c32272f9c09485910",
  sig2:
    "230fa3e269ceb9b9d11c4eab63c92e1e7ea2a2a0492e78e48a023ba7ab1fd4ce05e28009093c61c7103a9cf495ac896f23b309e2243ff6960236411632e166054ff251ac7de7d15d4be208c63f6a4dc85d74f63bec8ec60c32272f9c09485910",
};

backendTest("c25519: public keys derive from private keys (vector 0)", () => {
  assert.equal(toHex(c25519PublicFromPrivate(V0.priv1)), toHex(V0.pub1));
  assert.equal(toHex(c25519PublicFromPrivate(V0.priv2)), toHex(V0.pub2));
});

backendTest("c25519: agreement is the full 64-byte SHA-512 of X25519, both directions", () => {
  const a = c25519Agree(V0.priv1, V0.pub2);
  const b = c25519Agree(V0.priv2, V0.pub1);
  assert.equal(a.length, 64);
  assert.equal(toHex(a), V0.agree);
  assert.equal(toHex(b), V0.agree);
});

backendTest("c25519: signatures of the agreement match vector 0 byte for byte", () => {
  const msg = fromHex(V0.agree);
  const s1 = c25519Sign(V0.priv1, V0.pub1, msg);
  const s2 = c25519Sign(V0.priv2, V0.pub2, msg);
  assert.equal(toHex(s1), V0.sig1);
  assert.equal(toHex(s2), V0.sig2);
  assert.equal(toHex(s1.subarray(64)), toHex(sha512(msg).subarray(0, 32)));
  assert.ok(c25519Verify(V0.pub1, msg, fromHex(V0.sig1)));
  assert.ok(c25519Verify(V0.pub2, msg, fromHex(V0.sig2)));
  assert.ok(!c25519Verify(V0.pub2, msg, fromHex(V0.sig1)));
  assert.ok(!c25519Verify(V0.pub1, msg, fromHex(V0.sig2)));
});

backendTest("c25519: any flipped bit in message or signature fails verification", () => {
  const msg = fromHex(V0.agree);
  const sig = fromHex(V0.sig1);
  for (let bit = 0; bit < sig.length * 8; bit++) {
    const s = sig.slice();
    s[bit >> 3] ^= 1 << (bit & 7);
    assert.ok(!c25519Verify(V0.pub1, msg, s), `sig bit ${bit}`);
  }
  for (let bit = 0; bit < msg.length * 8; bit++) {
    const m = msg.slice();
    m[bit >> 3] ^= 1 << (bit & 7);
    assert.ok(!c25519Verify(V0.pub1, m, sig), `msg bit ${bit}`);
  }
});

backendTest("c25519: verify returns false (never throws) on bad lengths and garbage keys", () => {
  const msg = fromHex(V0.agree);
  const sig = fromHex(V0.sig1);
  assert.ok(!c25519Verify(V0.pub1, msg, sig.subarray(0, 64)));
  assert.ok(!c25519Verify(V0.pub1, msg, new Uint8Array([...sig, 0])));
  assert.ok(!c25519Verify(V0.pub1.subarray(0, 32), msg, sig));
  assert.ok(!c25519Verify(new Uint8Array(64).fill(0xff), msg, sig));
  const zeroSig = new Uint8Array(96);
  zeroSig.set(sha512(msg).subarray(0, 32), 64);
  assert.ok(!c25519Verify(V0.pub1, msg, zeroSig));
});

backendTest("c25519: small-order peer key hashes an all-zero secret instead of throwing", () => {
  const pub = new Uint8Array(64); // u = 0 is a small-order point
  assert.equal(toHex(c25519Agree(V0.priv1, pub)), toHex(sha512(new Uint8Array(32))));
});

backendTest("c25519: generated pairs agree, sign and verify; generation is deterministic", () => {
  const k1 = c25519Generate(seededRandom(1));
  const k2 = c25519Generate(seededRandom(2));
  assert.equal(toHex(c25519Generate(seededRandom(1)).publicKey), toHex(k1.publicKey));
  assert.equal(toHex(c25519PublicFromPrivate(k1.privateKey)), toHex(k1.publicKey));
  assert.notEqual(toHex(k1.publicKey), toHex(k2.publicKey));
  assert.equal(
    toHex(c25519Agree(k1.privateKey, k2.publicKey)),
    toHex(c25519Agree(k2.privateKey, k1.publicKey)),
  );
  const msg = new TextEncoder().encode("generated");
  const sig = c25519Sign(k1.privateKey, k1.publicKey, msg);
  assert.ok(c25519Verify(k1.publicKey, msg, sig));
  assert.ok(!c25519Verify(k2.publicKey, msg, sig));
});
