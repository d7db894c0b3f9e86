// Tests for Identity: memory-hard validation, text/binary forms, agreement and signatures.
import { backendTest } from "../helpers/crypto_backends.ts";
import assert from "node:assert/strict";
import { sha384 } from "@noble/hashes/sha2.js";
import { c25519PublicFromPrivate } from "../../src/crypto/c25519.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { identityHash, setIdentityHashBackend } from "../../src/vl1/identity_hash.ts";
import { Random } from "../../src/sim/random.ts";
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import { seededRandom } from "../helpers/seeded_random.ts";

// spec §12.1 (selftest.cpp KNOWN_GOOD_IDENTITY / KNOWN_BAD_IDENTITY).
const KNOWN_GOOD =
  "8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d7:bd8dd6e4ce7022d2f812797a80c6ee8ad180dc4ebf301dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171ff16e";
const KNOWN_BAD = "9e4df28b72" + KNOWN_GOOD.slice(10);
// spec §6.3: roots of the compiled-in default planet.
const DEFAULT_ROOTS = [
  "cafe9efeb9:0:ccdef76bc7b97ded904eabc5df09886d9c1514a610036cb9139cc214001a2958978efcec15712dd3948c6e6b3a8e893df01ff493d1f8d9806a860c5420571bf0",
  "778cde7190:0:3f6681a99e5ad1895e9fba33e6212d4454e168bcec7112101bf000956ed8e92e42892cb6f2ec410881a84ab19da50e1287ba3d926c3a1f755cccf299a1207055",
  "62f865ae71:0:e2076c57de870e6288d7d5e7404408b1545efca37d67f77b87e9e54168c25d3ef1a9abf2905ea5e785c01dff23887ad4232d95c7a8fd2c27111a72bd159322dc",
  "cafe04eba9:0:6c6a9d1dea55c1616bfe2a2b8f0ff9a8cacaf70374fb1f39e3bef81cbfebef17b7228268a0a2a29d3488c752565c6c965cbd6506ec24397cc8a5d9d15285a87f",
];
// spec §12.5.
const BIN_PUBLIC =
  "8e4df28b7200ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16" +
  "f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d700";
const BIN_SECRET =
  "8e4df28b7200ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16" +
  "f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d740bd8dd6e4ce7022d2f812797a80c6ee8a" +
  "d180dc4ebf301dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171f" +
  "f16e";
const HELLO_SIG = "5cc06833aa2bc5d6db0bda30d881ba7bbbfc1b56b92e5ec8dd21502fa70de3211072baf6d1eb32" +
  "8509bf5d3146b19fe0c4ca90a19b7e962a128f7fc28c73040b9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890c" +
  "aadae2dff72519673ca7";

const HOSTS = ["a", "b", "c", "r"];

function mustParse(s: string): Identity {
  const id = Identity.fromString(s);
  assert.ok(id, `parse ${s.slice(0, 20)}`);
  return id;
}

/** Replaces the hex digit at `pos` with a different one. */
function flipDigit(s: string, pos: number): string {
  const c = s[pos] === "0" ? "1" : "0";
  return s.slice(0, pos) + c + s.slice(pos + 1);
}

backendTest("identity: every fixture identity parses, validates and reproduces its files", () => {
  for (const h of HOSTS) {
    const secretText = fixtureText(`identities/${h}.secret`);
    const publicText = fixtureText(`identities/${h}.public`);
    const sec = mustParse(secretText);
    const pub = mustParse(publicText);
    assert.ok(sec.hasPrivate() && !pub.hasPrivate(), h);
    assert.ok(sec.validate(), `${h}.secret validates`);
    assert.ok(pub.validate(), `${h}.public validates`);
    assert.equal(sec.toString(true), secretText.trim());
    assert.equal(sec.toString(), publicText.trim());
    assert.equal(pub.toString(true), publicText.trim());
    assert.ok(sec.equals(pub) && pub.equals(sec));
    assert.equal(toHex(c25519PublicFromPrivate(sec.privateKey!)), toHex(sec.publicKey));
  }
});

backendTest("identity: KNOWN_GOOD validates with digest[0] = 16, KNOWN_BAD fails", () => {
  const good = mustParse(KNOWN_GOOD);
  const d = identityHash(good.publicKey);
  assert.equal(d.length, 64);
  assert.equal(d[0], 16);
  assert.equal(toHex(d, 59, 64), "8e4df28b72");
  assert.ok(good.validate());
  assert.equal(good.toString(true), KNOWN_GOOD);
  const bad = mustParse(KNOWN_BAD);
  assert.ok(!bad.validate());
});

backendTest("identity: default planet roots validate (cafe9efeb9 digest[0] = 12)", () => {
  for (const s of DEFAULT_ROOTS) assert.ok(mustParse(s).validate(), s.slice(0, 10));
  const cafe = mustParse(DEFAULT_ROOTS[0]);
  assert.equal(identityHash(cafe.publicKey)[0], 12);
});

backendTest("identity: one changed hex digit in address or key fails validation", () => {
  const base = fixtureText("identities/a.public").trim();
  const positions = [0, 1, 4, 7, 9]; // address digits
  for (let p = 13; p < 13 + 128; p += 9) positions.push(p); // both key halves
  for (const p of positions) {
    const id = Identity.fromString(flipDigit(base, p));
    assert.ok(id === undefined || !id.validate(), `digit ${p}`);
  }
});

backendTest("identity: binary form matches the §12.5 vectors and round trips", () => {
  const id = mustParse(KNOWN_GOOD);
  assert.equal(toHex(id.serialize()), BIN_PUBLIC);
  assert.equal(toHex(id.serialize(false)), BIN_PUBLIC);
  assert.equal(toHex(id.serialize(true)), BIN_SECRET);
  const pubOnly = mustParse(id.toString());
  assert.equal(toHex(pubOnly.serialize(true)), BIN_PUBLIC);

  const framed = new Uint8Array([1, 2, 3, ...fromHex(BIN_SECRET), 9]);
  const r = Identity.deserialize(framed, 3);
  assert.ok(r);
  assert.equal(r.length, 135);
  assert.equal(r.identity.toString(true), KNOWN_GOOD);
  const r2 = Identity.deserialize(fromHex(BIN_PUBLIC));
  assert.ok(r2);
  assert.equal(r2.length, 71);
  assert.ok(!r2.identity.hasPrivate());
  assert.ok(r2.identity.equals(id));
  // The result owns its bytes: mutating the input afterwards changes nothing.
  framed.fill(0);
  assert.equal(r.identity.toString(true), KNOWN_GOOD);
});

backendTest("identity: deserialize rejects truncation, bad type and bad private length", () => {
  const sec = fromHex(BIN_SECRET);
  for (let n = 0; n < 71; n++) assert.equal(Identity.deserialize(sec.subarray(0, n)), undefined);
  for (let n = 71; n < 135; n++) assert.equal(Identity.deserialize(sec.subarray(0, n)), undefined);
  const badType = sec.slice();
  badType[5] = 1;
  assert.equal(Identity.deserialize(badType), undefined);
  for (const len of [1, 32, 63, 65, 255]) {
    const b = sec.slice();
    b[70] = len;
    assert.equal(Identity.deserialize(b), undefined, `privLen ${len}`);
  }
  assert.equal(Identity.deserialize(sec, 1), undefined);
  assert.equal(Identity.deserialize(sec, -1), undefined);
  assert.equal(Identity.deserialize(sec, 200), undefined);
});

backendTest("identity: malformed text forms are rejected", () => {
  const [addr, , pub, priv] = KNOWN_GOOD.split(":");
  const bad = [
    "",
    addr,
    `${addr}:0`,
    `${addr}:0:${pub}:${priv}:00`,
    `${addr}:1:${pub}`,
    `${addr}:00:${pub}`,
    `${addr}::${pub}`,
    `${addr}:0:${pub.slice(2)}`,
    `${addr}:0:${pub}00`,
    `${addr}:0:${pub.slice(1)}`,
    `${addr}:0:${pub.slice(0, 127)}g`,
    `${addr}:0:${pub}:${priv.slice(2)}`,
    `${addr}:0:${pub}:${priv}00`,
    `${addr}:0:${pub}:`,
    `${addr}:0:${pub}:zz${priv.slice(2)}`,
    `0000000000:0:${pub}`,
    `ff4df28b72:0:${pub}`,
    `8e4df28b72z:0:${pub}`,
    `:0:${pub}`,
    `18e4df28b72:0:${pub}`,
    KNOWN_GOOD + " ".repeat(10) + "x",
    `${addr}:0:${pub}:${priv}` + ":" + "0".repeat(300),
  ];
  for (const s of bad) assert.equal(Identity.fromString(s), undefined, s.slice(0, 40));
  // Over-long input is refused even when the extra is inside a field.
  assert.equal(Identity.fromString(`${addr}:0:${pub}:${priv}${"0".repeat(200)}`), undefined);
  // Whitespace around the string is ignored, and hex case does not matter.
  assert.ok(Identity.fromString(`  ${KNOWN_GOOD}\n`)?.validate());
  assert.equal(Identity.fromString(KNOWN_GOOD.toUpperCase())?.toString(true), KNOWN_GOOD);
});

backendTest("identity: §12.5 signature of 'hello' is byte-identical and verifies", () => {
  const id = mustParse(KNOWN_GOOD);
  const msg = new TextEncoder().encode("hello");
  const sig = id.sign(msg);
  assert.equal(toHex(sig), HELLO_SIG);
  assert.ok(mustParse(id.toString()).verify(msg, sig));
  assert.ok(!mustParse(DEFAULT_ROOTS[0]).verify(msg, sig));
  assert.throws(() => mustParse(id.toString()).sign(msg), Error);
});

backendTest("identity: zerotier-idtool signatures verify and are reproduced exactly", () => {
  for (const h of ["a", "b"]) {
    const id = mustParse(fixtureText(`identities/${h}.secret`));
    const pub = mustParse(fixtureText(`identities/${h}.public`));
    const other = mustParse(fixtureText(`identities/${h === "a" ? "b" : "a"}.public`));
    for (let n = 0; n < 3; n++) {
      const msg = fixtureBytes(`signatures/${h}-msg${n}.bin`);
      const sig = fromHex(fixtureText(`signatures/${h}-msg${n}.sig`).trim());
      assert.equal(sig.length, 96);
      assert.ok(pub.verify(msg, sig), `${h}-msg${n}`);
      assert.ok(!other.verify(msg, sig), `${h}-msg${n} by other`);
      assert.equal(toHex(id.sign(msg)), toHex(sig), `${h}-msg${n} reproduced`);
      for (let bit = 0; bit < msg.length * 8; bit++) {
        const m = msg.slice();
        m[bit >> 3] ^= 1 << (bit & 7);
        assert.ok(!pub.verify(m, sig), `${h}-msg${n} msg bit ${bit}`);
      }
      for (let bit = 0; bit < 96 * 8; bit += n === 0 ? 1 : 7) {
        const s = sig.slice();
        s[bit >> 3] ^= 1 << (bit & 7);
        assert.ok(!pub.verify(msg, s), `${h}-msg${n} sig bit ${bit}`);
      }
      assert.ok(!pub.verify(msg, sig.subarray(0, 95)));
    }
  }
});

backendTest("identity: agreement is symmetric, 48 bytes, needs a private key", () => {
  const a = mustParse(fixtureText("identities/a.secret"));
  const b = mustParse(fixtureText("identities/b.secret"));
  const bPub = mustParse(fixtureText("identities/b.public"));
  const ab = a.agree(bPub);
  assert.ok(ab);
  assert.equal(ab.length, 48);
  assert.equal(toHex(ab), toHex(b.agree(a)!));
  assert.equal(bPub.agree(a), undefined);
  const c = mustParse(fixtureText("identities/c.public"));
  assert.notEqual(toHex(a.agree(c)!), toHex(ab));
});

backendTest("identity: equality is by address and public key", () => {
  const a = mustParse(fixtureText("identities/a.public"));
  assert.ok(a.equals(mustParse(fixtureText("identities/a.secret"))));
  assert.ok(!a.equals(mustParse(fixtureText("identities/b.public"))));
  assert.ok(!mustParse(KNOWN_GOOD).equals(mustParse(KNOWN_BAD)));
  const pub = fixtureText("identities/a.public").trim();
  assert.ok(!a.equals(mustParse(flipDigit(pub, 20))));
});

backendTest("identity: publicKeyHash is SHA-384 over address and public key", () => {
  const id = mustParse(KNOWN_GOOD);
  const h = id.publicKeyHash();
  assert.equal(h.length, 48);
  assert.notEqual(toHex(h), toHex(mustParse(KNOWN_BAD).publicKeyHash()));
  const b = new Uint8Array(69);
  id.address.writeTo(b, 0);
  b.set(id.publicKey, 5);
  assert.equal(toHex(h), toHex(sha384(b)));
});

backendTest("identity: publicKeyHash is cached but callers get their own copy", () => {
  const id = mustParse(KNOWN_GOOD);
  const h1 = id.publicKeyHash();
  const want = toHex(h1);
  h1.fill(0);
  const h2 = id.publicKeyHash();
  assert.equal(toHex(h2), want, "mutating a returned hash does not change the cached one");
  assert.notEqual(h1, h2);
});

backendTest("identity: generation (seeded) validates, round trips and is reproducible", () => {
  let attempts = 0;
  const id = Identity.generate(seededRandom(10), (n) => (attempts = n));
  assert.ok(attempts >= 1);
  assert.ok(id.hasPrivate());
  assert.ok(!id.address.isReserved());
  // Fresh objects (no cached verdict) must validate.
  const fromText = mustParse(id.toString(true));
  assert.ok(fromText.validate());
  assert.ok(mustParse(id.toString()).validate());
  assert.equal(toHex(c25519PublicFromPrivate(id.privateKey!)), toHex(id.publicKey));
  const bin = Identity.deserialize(id.serialize(true));
  assert.ok(bin && bin.identity.toString(true) === id.toString(true));
  const again = Identity.generate(seededRandom(10));
  assert.equal(again.toString(true), id.toString(true));
  const msg = new TextEncoder().encode("generated identity");
  assert.ok(fromText.verify(msg, id.sign(msg)));
  const other = Identity.generate(seededRandom(9));
  assert.ok(!other.equals(id));
  assert.equal(toHex(id.agree(other)!), toHex(other.agree(id)!));
});

backendTest("identity hash: the WASM kernel and the TypeScript code agree", () => {
  const rnd = new Random("identity-hash-backends");
  try {
    for (let i = 0; i < 3; i++) {
      const pub = rnd.bytes(64);
      setIdentityHashBackend("ts");
      const a = identityHash(pub);
      if (setIdentityHashBackend("wasm") !== "wasm") return; // no WebAssembly here
      assert.deepEqual(identityHash(pub), a);
    }
  } finally {
    setIdentityHashBackend("wasm");
  }
});
