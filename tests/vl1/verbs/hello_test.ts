// Tests HELLO / OK(HELLO) payload codecs against the §12.4 end-to-end vectors.
import assert from "node:assert/strict";
import { dearmor, helloCryptField } from "../../../src/vl1/armor.ts";
import { Identity } from "../../../src/vl1/identity.ts";
import { InetAddress } from "../../../src/vl1/inet_address.ts";
import { IDX_PAYLOAD, Verb } from "../../../src/vl1/packet.ts";
import { PeerKeys } from "../../../src/vl1/peer_keys.ts";
import {
  decodeHello,
  decodeOk,
  decodeOkHello,
  encodeHello,
  encodeOkHello,
  helloCryptFieldStart,
} from "../../../src/vl1/verbs/mod.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

const KEY = fromHex(
  "c0f4e1be63427a3c96e17d99d7d3eb8af1728fc20fdf28d9548ba4dd4e39c3f7bfd9058589ab3dc7b4656b4f52aa91bb",
);
const IDENTITY =
  "8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d7";

const HELLO_PLAIN = fromHex(`
0123456789abcdefcafe9efeb98e4df28b72000000000000000000010c010e00010000018bcfe568008e4df28b7200ac
3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c4
20908b803a681d4daef6114d78a2d70004cb00710727090000000008eac90a0000017ee95760cd00017f0000008e4df2
8b720000000000000000`);
const HELLO_CRYPTED = fromHex(`
0123456789abcdefcafe9efeb98e4df28b72000000000000000000010c010e00010000018bcfe568008e4df28b7200ac
3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c4
20908b803a681d4daef6114d78a2d70004cb00710727090000000008eac90a0000017ee95760cde688bc1cd27e7f6a6c
206dd7d3349ee32938fb`);
const HELLO_WIRE = fromHex(`
0123456789abcdefcafe9efeb98e4df28b72009ae98379e7285555010c010e00010000018bcfe568008e4df28b7200ac
3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c4
20908b803a681d4daef6114d78a2d70004cb00710727090000000008eac90a0000017ee95760cde688bc1cd27e7f6a6c
206dd7d3349ee32938fb`);
const OK_PLAIN_FROM_VERB = fromHex(
  "03010123456789abcdef0000018bcfe568000c010e000104c6336409a1120000",
);
const OK_WIRE_C1 = fromHex(`
fedcba98765432108e4df28b72cafe9efeb98896ae2ec40d061f96e768f914ad04810177d9785466dc969e768acc534d
9799dec552c52b3d5398c8`);
const OK_WIRE_C3 = fromHex(`
265b64053a3286cb8e4df28b72cafe9efeb9180037cfa6571539828fcf51d0a56d53153e11fd2b2f60540bccf1b74cb7
fa43e090b9c6f0025ca835`);

function checkHelloFields(h: NonNullable<ReturnType<typeof decodeHello>>): void {
  assert.equal(h.protocolVersion, 12);
  assert.equal(h.versionMajor, 1);
  assert.equal(h.versionMinor, 14);
  assert.equal(h.versionRevision, 1);
  assert.equal(h.timestamp, 1700000000000n);
  assert.equal(h.identity.toString(), IDENTITY);
  assert.equal(h.destination?.toString(), "203.0.113.7/9993");
  assert.equal(h.planetWorldId, 149604618n);
  assert.equal(h.planetWorldTimestamp, 1644592324813n);
  assert.deepEqual(h.moons, [{ type: 127, worldId: 0x8e4df28b72n, timestamp: 0n }]);
}

Deno.test("HELLO §12.4 plaintext decodes to the vector's fields", () => {
  const h = decodeHello(HELLO_PLAIN, IDX_PAYLOAD);
  assert.ok(h);
  checkHelloFields(h);
  // the last 19 bytes (moon count + one moon) are the cryptField section
  assert.equal(h.cryptFieldStart, HELLO_PLAIN.length - 19);
});

Deno.test("HELLO §12.4 re-encodes byte-identically and reports cryptFieldStart", () => {
  const h = decodeHello(HELLO_PLAIN, IDX_PAYLOAD)!;
  const enc = encodeHello(h);
  assert.equal(toHex(enc.payload), toHex(HELLO_PLAIN.subarray(IDX_PAYLOAD)));
  assert.equal(enc.cryptFieldStart, enc.payload.length - 19);
  // build from scratch rather than from the decoded object
  const fresh = encodeHello({
    protocolVersion: 12,
    versionMajor: 1,
    versionMinor: 14,
    versionRevision: 1,
    timestamp: 1700000000000n,
    identity: Identity.fromString(IDENTITY)!,
    destination: InetAddress.parse("203.0.113.7/9993"),
    planetWorldId: 149604618n,
    planetWorldTimestamp: 1644592324813n,
    moons: [{ type: 127, worldId: 0x8e4df28b72n, timestamp: 0n }],
  });
  assert.deepEqual(fresh, enc);
});

Deno.test("HELLO §12.4: cryptField offset found on the encrypted payload, then decrypt + decode", () => {
  const pkt = HELLO_CRYPTED.slice();
  const off = helloCryptFieldStart(pkt, IDX_PAYLOAD);
  assert.equal(off, pkt.length - 19);
  assert.ok(helloCryptField(pkt, off!, pkt.length, new PeerKeys(KEY)));
  assert.equal(toHex(pkt), toHex(HELLO_PLAIN));
  checkHelloFields(decodeHello(pkt, IDX_PAYLOAD)!);
});

Deno.test("HELLO §12.4 wire packet: dearmor (cipher 0), un-cryptField, decode", () => {
  const pkt = HELLO_WIRE.slice();
  const keys = new PeerKeys(KEY);
  assert.ok(dearmor(pkt, pkt.length, keys));
  assert.equal(pkt[27], Verb.HELLO);
  const off = helloCryptFieldStart(pkt, IDX_PAYLOAD)!;
  helloCryptField(pkt, off, pkt.length, keys);
  checkHelloFields(decodeHello(pkt, IDX_PAYLOAD)!);
});

Deno.test("HELLO: optional trailing fields of old peers", () => {
  const full = HELLO_PLAIN.subarray(IDX_PAYLOAD);
  const fixed = 13 + 71; // versions + timestamp + identity
  // identity only
  const a = decodeHello(full, 0, fixed)!;
  assert.equal(a.destination, undefined);
  assert.equal(a.planetWorldId, undefined);
  assert.equal(a.cryptFieldStart, undefined);
  assert.deepEqual(a.moons, []);
  assert.equal(helloCryptFieldStart(full, 0, fixed), fixed);
  // + destination (7 bytes)
  const b = decodeHello(full, 0, fixed + 7)!;
  assert.equal(b.destination?.toString(), "203.0.113.7/9993");
  assert.equal(b.planetWorldId, undefined);
  // + partial planet (< 16 bytes): planet skipped, the rest is the protected section, no moons
  const c = decodeHello(full, 0, fixed + 7 + 10)!;
  assert.equal(c.planetWorldId, undefined);
  assert.equal(c.cryptFieldStart, fixed + 7);
  assert.deepEqual(c.moons, []);
  // + planet, no moon section
  const d = decodeHello(full, 0, fixed + 23)!;
  assert.equal(d.planetWorldTimestamp, 1644592324813n);
  assert.equal(d.cryptFieldStart, undefined);
  // legacy encode (no planet/moons) round-trips
  const enc = encodeHello({ ...b, moons: [] });
  assert.equal(toHex(enc.payload), toHex(full.subarray(0, fixed + 7)));
  assert.equal(enc.cryptFieldStart, enc.payload.length);
  // nil destination
  const nil = encodeHello({ ...a, moons: [] });
  assert.equal(nil.payload.length, fixed + 1);
  assert.equal(nil.payload[fixed], 0);
  assert.equal(decodeHello(nil.payload)!.destination, undefined);
});

Deno.test("HELLO: truncated or malformed input gives undefined, never throws", () => {
  const full = HELLO_PLAIN.subarray(IDX_PAYLOAD);
  // every truncation inside the fixed part, the destination and the declared moons fails
  for (let n = 0; n < full.length; n++) {
    const h = decodeHello(full, 0, n);
    const fixed = 13 + 71;
    const inFixed = n < fixed;
    const inAddress = n > fixed && n < fixed + 7;
    const inMoons = n >= full.length - 17 && n < full.length; // count read, moon truncated
    if (inFixed || inAddress || inMoons) assert.equal(h, undefined, `length ${n}`);
    else assert.ok(h, `length ${n}`);
  }
  const bad = full.slice();
  bad[13 + 5] = 1; // identity type byte != 0
  assert.equal(decodeHello(bad), undefined);
  const badAddr = full.slice();
  badAddr[13 + 71] = 0x09; // unknown InetAddress type
  assert.equal(decodeHello(badAddr), undefined);
  assert.equal(helloCryptFieldStart(badAddr), undefined);
  assert.equal(decodeHello(full, 5, 2), undefined);
  assert.equal(decodeHello(full, 0, full.length + 1), undefined);
});

Deno.test("OK(HELLO) §12.4 plaintext decodes and re-encodes byte-identically", () => {
  assert.equal(OK_PLAIN_FROM_VERB[0], Verb.OK);
  const payload = OK_PLAIN_FROM_VERB.subarray(1);
  const ok = decodeOk(payload)!;
  assert.equal(ok.inReVerb, Verb.HELLO);
  const o = decodeOkHello(payload)!;
  assert.equal(o.inRePacketId, 0x0123456789abcdefn);
  assert.equal(o.timestamp, 1700000000000n);
  assert.equal(o.protocolVersion, 12);
  assert.equal(o.versionMajor, 1);
  assert.equal(o.versionMinor, 14);
  assert.equal(o.versionRevision, 1);
  assert.equal(o.physicalAddress?.toString(), "198.51.100.9/41234");
  assert.equal(o.worlds.length, 0);
  assert.equal(toHex(encodeOkHello(o)), toHex(payload));
});

Deno.test("OK(HELLO) §12.4 wire packets (cipher 1 and 3) dearmor and decode", () => {
  for (const wire of [OK_WIRE_C1, OK_WIRE_C3]) {
    const pkt = wire.slice();
    assert.ok(dearmor(pkt, pkt.length, new PeerKeys(KEY)));
    assert.equal(toHex(pkt.subarray(27)), toHex(OK_PLAIN_FROM_VERB));
    const o = decodeOkHello(pkt, IDX_PAYLOAD)!;
    assert.equal(o.physicalAddress?.toString(), "198.51.100.9/41234");
  }
});

Deno.test("OK(HELLO): optional address/worlds, world bytes, malformed input", () => {
  const payload = OK_PLAIN_FROM_VERB.subarray(1);
  const base = 9 + 13;
  const short = decodeOkHello(payload, 0, base)!;
  assert.equal(short.physicalAddress, undefined);
  assert.equal(short.worlds.length, 0);
  assert.equal(decodeOkHello(payload, 0, base - 1), undefined);
  assert.equal(decodeOkHello(payload, 0, base + 3), undefined); // truncated address
  const worlds = new Uint8Array([1, 2, 3, 4, 5]);
  const enc = encodeOkHello({ ...short, worlds });
  const back = decodeOkHello(enc)!;
  assert.deepEqual(back.worlds, worlds);
  assert.equal(decodeOkHello(enc, 0, enc.length - 1), undefined); // world length overruns
  const notHello = payload.slice();
  notHello[0] = Verb.WHOIS;
  assert.equal(decodeOkHello(notHello), undefined);
});
