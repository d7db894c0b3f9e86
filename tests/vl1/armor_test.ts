// Tests for packet armor/dearmor (ciphers 0, 1, 3) and the HELLO cryptField against spec §12.3/§12.4.
import assert from "node:assert/strict";
import { armor, type ArmorCipher, dearmor, helloCryptField } from "../../src/vl1/armor.ts";
import { PeerKeys } from "../../src/vl1/peer_keys.ts";
import { getHops, incrementHops, setFragmented } from "../../src/vl1/packet.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";

// ---- §12.3: peer key 40 41 ... 6f, FRAME with payload 00..27 ----
const KEY_123 = new Uint8Array(48).map((_, i) => 0x40 + i);
const PLAIN_123 = fromHex(
  "deadbeef01020304112233445566778899aa00000000000000000006000102030405060708090a0b0c0d0e0f10111213" +
    "1415161718191a1b1c1d1e1f2021222324252627",
);
const WIRE_123: Record<ArmorCipher, string> = {
  0: "deadbeef01020304112233445566778899aa003642c229f69cba7f06000102030405060708090a0b0c0d0e0f10111213" +
    "1415161718191a1b1c1d1e1f2021222324252627",
  1: "deadbeef01020304112233445566778899aa882b1d5c8fad650fbb4d6d1687d498e3b61ef620c2fc9f1e432594875bd6" +
    "9583acb261eeea4a4649d6d025ac6779b2caa8a5",
  3: "4674f1700842923b112233445566778899aa18ed4600ee8ccf0597c2220371954c3cb76c5e87178d3e58a17cf9486453" +
    "e1b69855d7935689fd0f8741a4864b1ff3329000",
};
const CIPHERS: ArmorCipher[] = [0, 1, 3];

// ---- §12.4: KNOWN_GOOD_IDENTITY -> cafe9efeb9 ----
const KEY_124 = fromHex(
  "c0f4e1be63427a3c96e17d99d7d3eb8af1728fc20fdf28d9548ba4dd4e39c3f7bfd9058589ab3dc7b4656b4f52aa91bb",
);
const HELLO_PLAIN = fromHex(`
0123456789abcdefcafe9efeb98e4df28b72000000000000000000010c010e00010000018bcfe568008e4df28b7200ac
3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c4
20908b803a681d4daef6114d78a2d70004cb00710727090000000008eac90a0000017ee95760cd00017f0000008e4df2
8b720000000000000000`);
const HELLO_CRYPTED = `
0123456789abcdefcafe9efeb98e4df28b72000000000000000000010c010e00010000018bcfe568008e4df28b7200ac
3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c4
20908b803a681d4daef6114d78a2d70004cb00710727090000000008eac90a0000017ee95760cde688bc1cd27e7f6a6c
206dd7d3349ee32938fb`.replace(/\s+/g, "");
const HELLO_WIRE = `
0123456789abcdefcafe9efeb98e4df28b72009ae98379e7285555010c010e00010000018bcfe568008e4df28b7200ac
3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c4
20908b803a681d4daef6114d78a2d70004cb00710727090000000008eac90a0000017ee95760cde688bc1cd27e7f6a6c
206dd7d3349ee32938fb`.replace(/\s+/g, "");
// Moon section = count(2) + one (type, id, ts) entry of 17 bytes: the cryptField region.
const MOON_SECTION = 2 + 17;

const OK_BODY = fromHex("03010123456789abcdef0000018bcfe568000c010e000104c6336409a1120000");
const OK_WIRE: Record<1 | 3, string> = {
  1: "fedcba98765432108e4df28b72cafe9efeb98896ae2ec40d061f96e768f914ad04810177d9785466dc969e768acc534d" +
    "9799dec552c52b3d5398c8",
  3: "265b64053a3286cb8e4df28b72cafe9efeb9180037cfa6571539828fcf51d0a56d53153e11fd2b2f60540bccf1b74cb7" +
    "fa43e090b9c6f0025ca835",
};

function okPlain(): Uint8Array {
  const p = new Uint8Array(27 + OK_BODY.length);
  p.set(fromHex("fedcba9876543210"), 0);
  p.set(fromHex("8e4df28b72"), 8);
  p.set(fromHex("cafe9efeb9"), 13);
  p.set(OK_BODY, 27);
  return p;
}

Deno.test("§12.3 armor is byte-exact for ciphers 0, 1, 3 and dearmors back", () => {
  const keys = new PeerKeys(KEY_123);
  for (const c of CIPHERS) {
    const b = PLAIN_123.slice();
    armor(b, b.length, keys, c);
    assert.equal(toHex(b), WIRE_123[c], `cipher ${c}`);
  }
  for (const c of CIPHERS) {
    const b = fromHex(WIRE_123[c]);
    assert.equal(dearmor(b, b.length, keys), true, `cipher ${c}`);
    // Bytes 27.. are the plaintext again; header keeps the wire packet ID and MAC.
    assert.equal(toHex(b, 27), toHex(PLAIN_123, 27), `cipher ${c}`);
    assert.equal(toHex(b, 8, 18), toHex(PLAIN_123, 8, 18));
    assert.equal(toHex(b, 0, 8), WIRE_123[c].slice(0, 16), "wire packet id stays");
  }
});

Deno.test("armor works inside a larger buffer (only len bytes are the packet)", () => {
  const keys = new PeerKeys(KEY_123);
  for (const c of CIPHERS) {
    const b = new Uint8Array(200).fill(0x5a);
    b.set(PLAIN_123);
    armor(b, PLAIN_123.length, keys, c);
    assert.equal(toHex(b, 0, PLAIN_123.length), WIRE_123[c]);
    assert.ok(b.subarray(PLAIN_123.length).every((x) => x === 0x5a), "no write past len");
    assert.equal(dearmor(b, PLAIN_123.length, keys), true);
    assert.equal(toHex(b, 27, PLAIN_123.length), toHex(PLAIN_123, 27));
  }
});

Deno.test("tampering any bit except the hop bits makes dearmor fail", () => {
  const keys = new PeerKeys(KEY_123);
  for (const c of CIPHERS) {
    const wire = fromHex(WIRE_123[c]);
    for (let i = 0; i < wire.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const b = wire.slice();
        b[i] ^= 1 << bit;
        const ok = dearmor(b, b.length, keys);
        const hopBit = i === 18 && bit < 3;
        assert.equal(ok, hopBit, `cipher ${c} byte ${i} bit ${bit}`);
      }
    }
  }
});

Deno.test("relay hop increments still authenticate; length, key and truncation matter", () => {
  const keys = new PeerKeys(KEY_123);
  const other = new PeerKeys(KEY_123.map((x) => x ^ 1));
  for (const c of CIPHERS) {
    const wire = fromHex(WIRE_123[c]);
    for (let h = 1; h <= 7; h++) {
      const b = wire.slice();
      for (let k = 0; k < h; k++) incrementHops(b);
      assert.equal(getHops(b), h);
      assert.equal(dearmor(b, b.length, keys), true, `cipher ${c} hops ${h}`);
      assert.equal(toHex(b, 27), toHex(PLAIN_123, 27));
    }
    assert.equal(dearmor(wire.slice(), wire.length, other), false, "wrong key");
    assert.equal(dearmor(wire.slice(), wire.length - 1, keys), false, "truncated");
    const longer = new Uint8Array(wire.length + 1);
    longer.set(wire);
    assert.equal(dearmor(longer, longer.length, keys), false, "extended");
  }
});

Deno.test("malformed lengths and unsupported ciphers return false", () => {
  const keys = new PeerKeys(KEY_123);
  const wire = fromHex(WIRE_123[1]);
  assert.equal(dearmor(wire, 27, keys), false);
  assert.equal(dearmor(wire, 0, keys), false);
  assert.equal(dearmor(wire, wire.length + 1, keys), false, "len beyond buffer");
  assert.equal(dearmor(wire, -5, keys), false);
  assert.equal(dearmor(wire, 30.5, keys), false);
  assert.equal(dearmor(new Uint8Array(10), 10, keys), false);
  assert.equal(dearmor(new Uint8Array(20000), 20000, keys), false, "over max packet length");
  for (const bad of [2, 4, 5, 6, 7]) {
    const b = wire.slice();
    b[18] = (b[18] & 0x47) | (bad << 3);
    assert.equal(dearmor(b, b.length, keys), false, `cipher ${bad}`);
  }
  assert.throws(() => armor(new Uint8Array(27), 27, keys, 1), RangeError);
  assert.throws(() => armor(new Uint8Array(28), 29, keys, 1), RangeError);
});

Deno.test("minimal 28-byte packets (verb only) round trip for every cipher", () => {
  const keys = new PeerKeys(KEY_123);
  for (const c of CIPHERS) {
    const b = PLAIN_123.slice(0, 28);
    armor(b, 28, keys, c);
    const t = b.slice();
    assert.equal(dearmor(b, 28, keys), true);
    assert.equal(b[27], 0x06);
    t[27] ^= 0x40;
    assert.equal(dearmor(t, 28, keys), false);
  }
});

Deno.test("FRAGMENTED flag is authenticated (set before armor)", () => {
  const keys = new PeerKeys(KEY_123);
  for (const c of CIPHERS) {
    const b = PLAIN_123.slice();
    setFragmented(b, true);
    armor(b, b.length, keys, c);
    assert.notEqual(toHex(b), WIRE_123[c]);
    const t = b.slice();
    setFragmented(t, false);
    assert.equal(dearmor(t, t.length, keys), false, `cipher ${c}`);
    assert.equal(dearmor(b, b.length, keys), true, `cipher ${c}`);
  }
});

Deno.test("PeerKeys derives AES keys once and rejects bad key lengths", () => {
  const keys = new PeerKeys(KEY_123);
  assert.equal(keys.aes, keys.aes);
  assert.throws(() => new PeerKeys(new Uint8Array(32)), RangeError);
  const src = KEY_123.slice();
  const k = new PeerKeys(src);
  src[0] ^= 1;
  assert.equal(k.key[0], 0x40, "key is copied");
});

Deno.test("§12.4 HELLO: cryptField then cipher 0 armor are byte-exact; receiver undoes both", () => {
  const keys = new PeerKeys(KEY_124);
  const b = HELLO_PLAIN.slice();
  const start = b.length - MOON_SECTION;
  assert.equal(helloCryptField(b, start, b.length, keys), true);
  assert.equal(toHex(b), HELLO_CRYPTED);
  armor(b, b.length, keys, 0);
  assert.equal(toHex(b), HELLO_WIRE);

  const r = fromHex(HELLO_WIRE);
  assert.equal(dearmor(r, r.length, keys), true);
  assert.equal(toHex(r, 27), HELLO_CRYPTED.slice(54), "cipher 0 leaves the body as sent");
  helloCryptField(r, start, r.length, keys);
  assert.equal(toHex(r, 27), toHex(HELLO_PLAIN, 27));
  // The MAC covers the encrypted moon section.
  const t = fromHex(HELLO_WIRE);
  t[t.length - 1] ^= 1;
  assert.equal(dearmor(t, t.length, keys), false);
});

Deno.test("helloCryptField nonce clears the low 3 bits of the packet id's last byte", () => {
  const keys = new PeerKeys(KEY_124);
  const a = HELLO_PLAIN.slice();
  const b = HELLO_PLAIN.slice();
  b[7] = (b[7] & 0xf8) | 0x05; // 0xef -> 0xed: same nonce
  const c = HELLO_PLAIN.slice();
  c[7] ^= 0x08; // different nonce
  for (const x of [a, b, c]) helloCryptField(x, x.length - MOON_SECTION, x.length, keys);
  assert.equal(toHex(a, 27), toHex(b, 27));
  assert.notEqual(toHex(a, 27), toHex(c, 27));
  assert.equal(helloCryptField(a, 10, a.length, keys), false, "never touches the header");
  assert.equal(helloCryptField(a, 30, a.length + 1, keys), false);
});

Deno.test("§12.4 OK(HELLO) byte-exact for cipher 1 and 3", () => {
  const keys = new PeerKeys(KEY_124);
  for (const c of [1, 3] as const) {
    const b = okPlain();
    armor(b, b.length, keys, c);
    assert.equal(toHex(b), OK_WIRE[c], `cipher ${c}`);
    const r = fromHex(OK_WIRE[c]);
    assert.equal(dearmor(r, r.length, keys), true);
    assert.equal(toHex(r, 27), toHex(OK_BODY));
  }
});

Deno.test("random round trips over many lengths (block boundaries) for every cipher", () => {
  const keys = new PeerKeys(KEY_124);
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  for (const len of [28, 29, 63, 64, 91, 92, 93, 155, 156, 157, 1432, 10024]) {
    for (const c of CIPHERS) {
      const p = new Uint8Array(len).map(rnd);
      p[18] = 0;
      const b = p.slice();
      armor(b, len, keys, c);
      if (c !== 0 && len > 31) assert.notEqual(toHex(b, 27), toHex(p, 27));
      assert.equal(dearmor(b, len, keys), true, `len ${len} cipher ${c}`);
      assert.equal(toHex(b, 27), toHex(p, 27));
    }
  }
});

Deno.test("cipher 3 dearmor stays exact over repeated packets and interleaved peers", () => {
  // One key many times (vector and single-bit tampering), then six keys round robin.
  const keys123 = new PeerKeys(KEY_123);
  for (let i = 0; i < 40; i++) {
    const b = fromHex(WIRE_123[3]);
    assert.equal(dearmor(b, b.length, keys123), true, `round ${i}`);
    assert.equal(toHex(b, 27), toHex(PLAIN_123, 27));
    const t = fromHex(WIRE_123[3]);
    t[27 + (i % (t.length - 27))] ^= 1 << (i % 8);
    assert.equal(dearmor(t, t.length, keys123), false, `tampered round ${i}`);
  }
  const peers = Array.from({ length: 6 }, (_, k) => new PeerKeys(KEY_124.map((x) => x ^ k)));
  let seed = 777;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  for (let round = 0; round < 40; round++) {
    for (const [k, keys] of peers.entries()) {
      const len = 28 + ((round * 37 + k * 101) % 1500);
      const p = new Uint8Array(len).map(rnd);
      p[18] = 0;
      const b = p.slice();
      armor(b, len, keys, 3);
      assert.equal(dearmor(b, len, keys), true, `round ${round} peer ${k} len ${len}`);
      assert.equal(toHex(b, 27), toHex(p, 27));
      const w = b.slice();
      armor(w, len, keys, 3);
      assert.equal(dearmor(w, len, peers[(k + 1) % peers.length]), false, "wrong key fails");
    }
  }
});
