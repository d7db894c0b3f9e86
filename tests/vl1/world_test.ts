// Tests for worlds (planet/moon): fixtures, §12.7 vector, update rule, default planet, bounds.
import assert from "node:assert/strict";
import {
  DEFAULT_PLANET,
  deserializeWorld,
  parseWorld,
  serializeWorld,
  shouldReplaceWorld,
  signWorld,
  verifyWorld,
  type World,
  WORLD_ID_EARTH,
  worldSignedBytes,
  WorldType,
} from "../../src/vl1/world.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { c25519PublicFromPrivate } from "../../src/crypto/c25519.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";
import { fixtureBytes, fixtureText } from "../fixtures.ts";

const KNOWN_GOOD =
  "8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d7:bd8dd6e4ce7022d2f812797a80c6ee8ad180dc4ebf301dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171ff16e";

/** planet.signing.c25519 holds the 64-byte public key followed by the 64-byte private key. */
function planetSigningKey(): { pub: Uint8Array; priv: Uint8Array } {
  const k = fixtureBytes("planet.signing.c25519");
  assert.equal(k.length, 128);
  return { pub: k.slice(0, 64), priv: k.slice(64, 128) };
}

/** Same world with other fields, re-signed. */
function resign(
  w: World,
  changes: Partial<Omit<World, "signature">>,
  priv: Uint8Array,
  pub: Uint8Array,
): World {
  return signWorld({ ...w, ...changes }, priv, pub);
}

Deno.test("custom planet fixture: parse, verify, re-serialize, re-sign", () => {
  const bytes = fixtureBytes("planet.bin");
  const w = parseWorld(bytes)!;
  assert.ok(w);
  assert.equal(w.type, WorldType.PLANET);
  assert.equal(w.id, 149604618n);
  assert.equal(w.timestamp, 1700000000000n);
  assert.equal(w.roots.length, 1);
  assert.equal(w.roots[0].identity.toString(), fixtureText("identities/r.public").trim());
  assert.deepEqual(w.roots[0].stableEndpoints.map(String), ["198.18.0.1/9993"]);
  assert.ok(verifyWorld(w));
  assert.deepEqual(serializeWorld(w), bytes);
  // The signing key file: public key = updatesMustBeSignedBy, and the private half reproduces the
  // signature exactly (signatures are deterministic).
  const { pub, priv } = planetSigningKey();
  assert.deepEqual(pub, w.updatesMustBeSignedBy);
  assert.deepEqual(c25519PublicFromPrivate(priv), pub);
  assert.deepEqual(serializeWorld(signWorld(w, priv, pub)), bytes);
  for (const h of ["a", "b", "c", "r"]) assert.deepEqual(fixtureBytes(`homes/${h}/planet`), bytes);
});

Deno.test("moon fixture: parse, verify, matches moon.json and genmoon output", () => {
  const bytes = fixtureBytes("0000008fc24dde94.moon");
  const json = JSON.parse(fixtureText("moon.json"));
  const w = parseWorld(bytes)!;
  assert.ok(w);
  assert.equal(w.type, WorldType.MOON);
  assert.equal(json.worldType, "moon");
  assert.equal(w.id, BigInt("0x" + json.id));
  const ts = /timestamp (\d+)/.exec(fixtureText("genmoon.txt"))![1];
  assert.equal(w.timestamp, BigInt(ts));
  assert.equal(toHex(w.updatesMustBeSignedBy), json.updatesMustBeSignedBy);
  assert.equal(w.roots.length, json.roots.length);
  for (let i = 0; i < w.roots.length; i++) {
    assert.equal(w.roots[i].identity.toString(), json.roots[i].identity);
    assert.deepEqual(w.roots[i].stableEndpoints.map(String), json.roots[i].stableEndpoints);
  }
  assert.ok(verifyWorld(w));
  assert.ok(verifyWorld(w, fromHex(json.signingKey)));
  const bytesOut = serializeWorld(w);
  assert.deepEqual(bytesOut, bytes);
  assert.equal(toHex(bytesOut.subarray(bytesOut.length - 2)), "0000");
  const resigned = signWorld(w, fromHex(json.signingKey_SECRET), fromHex(json.signingKey));
  assert.deepEqual(serializeWorld(resigned), bytes);
  // Signed by the moon's key, not the planet's.
  assert.ok(!verifyWorld(w, planetSigningKey().pub));
});

Deno.test("any single-bit change breaks parsing or verification", () => {
  for (const f of ["planet.bin", "0000008fc24dde94.moon"]) {
    const bytes = fixtureBytes(f);
    assert.ok(verifyWorld(parseWorld(bytes)!));
    for (let i = 0; i < bytes.length; i++) {
      const m = bytes.slice();
      m[i] ^= 0x01;
      const w = parseWorld(m);
      assert.ok(w === undefined || !verifyWorld(w), `${f} byte ${i}`);
    }
  }
});

Deno.test("§12.7 moon vector built with signWorld", () => {
  const id = Identity.fromString(KNOWN_GOOD)!;
  const w = signWorld(
    {
      type: WorldType.MOON,
      id: 0x8e4df28b72n,
      timestamp: 1700000000000n,
      updatesMustBeSignedBy: id.publicKey,
      roots: [{
        identity: Identity.fromString(id.toString(false))!,
        stableEndpoints: [InetAddress.parse("1.2.3.4/9993")!],
      }],
    },
    id.privateKey!,
    id.publicKey,
  );
  const serialized = "7f0000008e4df28b720000018bcfe56800ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd" +
    "55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d7" +
    "c017b42d7d60c2896bd4a89d02c9a388532f9c4ce3af33deb5caa17f28d94092b4cabd80df10f2f959080481" +
    "33bf9734eb218418436d4d2b9820fe89b3f54a0d828776c5312fa8e83cbd2f0dea13db42ddd0e7daf97c671a" +
    "bb8ddaac15f40073018e4df28b7200ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68" +
    "200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d70001040102030427090000";
  const signed =
    "7f7f7f7f7f7f7f7f7f0000008e4df28b720000018bcfe56800ac3d46abe0c21f3cfe7a6c8d6a85cf" +
    "cffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6" +
    "114d78a2d7018e4df28b7200ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843" +
    "fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d70001040102030427090000f7" +
    "f7f7f7f7f7f7f7";
  assert.equal(toHex(worldSignedBytes(w)), signed);
  assert.equal(toHex(serializeWorld(w)), serialized);
  const back = parseWorld(fromHex(serialized))!;
  assert.ok(verifyWorld(back));
  assert.equal(back.roots[0].identity.toString(), id.toString(false));
});

Deno.test("update rule (§6.2)", () => {
  const { pub, priv } = planetSigningKey();
  const stored = parseWorld(fixtureBytes("planet.bin"))!;
  const other = Identity.fromString(KNOWN_GOOD)!;
  const ts = stored.timestamp;

  assert.ok(shouldReplaceWorld(undefined, stored));
  const newer = resign(stored, { timestamp: ts + 1n }, priv, pub);
  assert.ok(shouldReplaceWorld(stored, newer));
  assert.ok(!shouldReplaceWorld(stored, resign(stored, { timestamp: ts }, priv, pub)));
  assert.ok(!shouldReplaceWorld(stored, resign(stored, { timestamp: ts - 1n }, priv, pub)));
  assert.ok(!shouldReplaceWorld(newer, stored));
  assert.ok(!shouldReplaceWorld(stored, stored));
  // Wrong ID or type, even when properly signed and newer.
  assert.ok(!shouldReplaceWorld(stored, resign(stored, { timestamp: ts + 1n, id: 1n }, priv, pub)));
  assert.ok(
    !shouldReplaceWorld(
      stored,
      resign(stored, { timestamp: ts + 1n, type: WorldType.MOON }, priv, pub),
    ),
  );
  // Self-signed by another key (claims the other key for future updates): rejected.
  const hijack = resign(
    stored,
    { timestamp: ts + 1n, updatesMustBeSignedBy: other.publicKey },
    other.privateKey!,
    other.publicKey,
  );
  assert.ok(verifyWorld(hijack));
  assert.ok(!shouldReplaceWorld(stored, hijack));
  // A newer world with a tampered signature.
  const bad = { ...newer, signature: newer.signature.slice() };
  bad.signature[5] ^= 0x80;
  assert.ok(!shouldReplaceWorld(stored, bad));
  // Key rotation: the old key signs a world naming the new key; only the new key works after.
  const rotated = resign(
    stored,
    { timestamp: ts + 10n, updatesMustBeSignedBy: other.publicKey },
    priv,
    pub,
  );
  assert.ok(shouldReplaceWorld(stored, rotated));
  assert.ok(!verifyWorld(rotated)); // not self-signed
  const next = { timestamp: ts + 20n, updatesMustBeSignedBy: other.publicKey };
  assert.ok(shouldReplaceWorld(rotated, resign(stored, next, other.privateKey!, other.publicKey)));
  assert.ok(!shouldReplaceWorld(rotated, resign(stored, next, priv, pub)));
});

Deno.test("default planet (§6.3)", () => {
  assert.equal(DEFAULT_PLANET.length, 570);
  const w = parseWorld(DEFAULT_PLANET)!;
  assert.ok(w);
  assert.equal(w.type, WorldType.PLANET);
  assert.equal(w.id, WORLD_ID_EARTH);
  assert.equal(w.id, 0x0000000008eac90an);
  assert.equal(w.timestamp, 1644592324813n);
  assert.ok(verifyWorld(w));
  assert.deepEqual(serializeWorld(w), DEFAULT_PLANET);
  assert.deepEqual(w.roots.map((r) => r.identity.address.toString()), [
    "cafe9efeb9",
    "778cde7190",
    "62f865ae71",
    "cafe04eba9",
  ]);
  assert.deepEqual(w.roots.map((r) => r.stableEndpoints.map(String)), [
    ["104.194.8.134/9993", "2605:9880:200:1200:30:571:e34:51/9993"],
    ["103.195.103.66/9993", "2605:9880:400:c3:254:f2bc:a1f7:19/9993"],
    ["50.7.252.138/9993", "2001:49f0:d0db:2::2/9993"],
    ["84.17.53.155/9993", "2a02:6ea0:d405::9993/9993"],
  ]);
  assert.ok(w.roots[0].identity.validate());
  // The custom planet is the same world ID and newer, but signed by another key.
  assert.ok(!shouldReplaceWorld(w, parseWorld(fixtureBytes("planet.bin"))!));
});

/** A synthetic planet body (after the signature) with `roots` roots of `eps` IPv4 endpoints. */
function synthetic(roots: number, eps: number): Uint8Array {
  const head = fixtureBytes("planet.bin").slice(0, 177); // type .. signature
  const rootBytes = fixtureBytes("planet.bin").slice(178, 178 + 71);
  const parts: Uint8Array[] = [head, new Uint8Array([roots])];
  for (let r = 0; r < roots; r++) {
    parts.push(rootBytes, new Uint8Array([eps]));
    for (let e = 0; e < eps; e++) {
      parts.push(fromHex("04c612000127" + (e & 0xff).toString(16).padStart(2, "0")));
    }
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

Deno.test("bounds: roots, endpoints, truncation, type byte", () => {
  assert.equal(parseWorld(synthetic(4, 32))!.roots.length, 4);
  assert.equal(parseWorld(synthetic(4, 32))!.roots[3].stableEndpoints.length, 32);
  assert.deepEqual(serializeWorld(parseWorld(synthetic(4, 32))!), synthetic(4, 32));
  assert.equal(parseWorld(synthetic(5, 0)), undefined);
  assert.equal(parseWorld(synthetic(1, 33)), undefined);
  assert.equal(parseWorld(synthetic(0, 0))!.roots.length, 0);
  for (const f of ["planet.bin", "0000008fc24dde94.moon"]) {
    const bytes = fixtureBytes(f);
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(parseWorld(bytes.subarray(0, n)), undefined, `${f} prefix ${n}`);
    }
    for (const t of [0, 2, 126, 128, 255]) {
      const m = bytes.slice();
      m[0] = t;
      assert.equal(parseWorld(m), undefined);
    }
  }
  // Bad endpoint type byte.
  const m = fixtureBytes("planet.bin").slice();
  m[250] = 0x05;
  assert.equal(parseWorld(m), undefined);
  // Encoding refuses what decoding would refuse.
  const four = parseWorld(synthetic(4, 1))!;
  assert.throws(() => serializeWorld({ ...four, roots: [...four.roots, four.roots[0]] }));
  const ep = four.roots[0].stableEndpoints[0];
  const tooMany = [{ identity: four.roots[0].identity, stableEndpoints: Array(33).fill(ep) }];
  assert.throws(() => serializeWorld({ ...four, roots: tooMany }));
});

Deno.test("concatenated worlds, moon extension and skipped endpoint kinds", () => {
  const moon = fixtureBytes("0000008fc24dde94.moon");
  const planet = fixtureBytes("planet.bin");
  const both = new Uint8Array([...moon, ...planet, 0xee]);
  const a = deserializeWorld(both, 0)!;
  assert.equal(a.length, moon.length);
  assert.equal(a.world.type, WorldType.MOON);
  const b = deserializeWorld(both, a.length)!;
  assert.equal(b.length, planet.length);
  assert.equal(b.world.type, WorldType.PLANET);
  assert.equal(deserializeWorld(both, a.length + b.length), undefined);
  assert.equal(deserializeWorld(both, -1), undefined);
  // A moon with a 3-byte extension: skipped on read, still verifies (the signed form has none).
  const ext = new Uint8Array([...moon.subarray(0, moon.length - 2), 0, 3, 1, 2, 3]);
  const e = deserializeWorld(ext)!;
  assert.equal(e.length, ext.length);
  assert.ok(verifyWorld(e.world));
  assert.deepEqual(serializeWorld(e.world), moon);
  assert.equal(parseWorld(ext.subarray(0, ext.length - 1)), undefined);
  // A nil endpoint before the real one is skipped.
  const withNil = new Uint8Array([...planet.subarray(0, 249), 2, 0, ...planet.subarray(250)]);
  const n = parseWorld(withNil)!;
  assert.deepEqual(n.roots[0].stableEndpoints.map(String), ["198.18.0.1/9993"]);
});
