// AES-256-GMAC-SIV (cipher 3) against spec §12.2-§12.4, plus AES/GCM/CTR cross-checks with WebCrypto.
import assert from "node:assert/strict";
import { Aes256 } from "../../src/crypto/aes.ts";
import { AesGmacSiv } from "../../src/crypto/aes_gmac_siv.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";
import { seededBytes as bytes } from "../helpers/seeded_random.ts";

const K0 = new Uint8Array(32).map((_, i) => i);
const K1 = new Uint8Array(32).map((_, i) => 0x80 + i);
const IV = fromHex("0102030405060708");
const AAD = new Uint8Array(11).map((_, i) => 0xa0 + i);
const PLAIN = new Uint8Array(100).map((_, i) => (3 * i) & 255);
const TAG = "b927d784b0d8e75bc4c2ce8bd3ecfc8e";
const CIPHER =
  "d3e0ce94146cea19244c42ec13496ddd3d1b179eb9c8e4a4f76a60b3e8b7f85572b89a464b17a203074e8fcf4d267c63" +
  "b9c67b83e050b6998799034cc08f5783997982571090e36bd7cf08cbb7295602b751ef4d2020bd175b48e3d4591732c9" +
  "2c284d51";

Deno.test("AES-256 FIPS-197 C.3 block encrypt/decrypt", () => {
  const aes = new Aes256(
    fromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
  );
  const b = fromHex("00112233445566778899aabbccddeeff");
  aes.encryptBlock(b, 0, b, 0);
  assert.equal(toHex(b), "8ea2b7ca516745bfeafc49904b496089");
  aes.decryptBlock(b, 0, b, 0);
  assert.equal(toHex(b), "00112233445566778899aabbccddeeff");
  assert.throws(() => new Aes256(new Uint8Array(16)), /32 bytes/);
});

Deno.test("AES-256 CTR matches WebCrypto AES-CTR length 32, including counter wrap", async () => {
  for (const n of [0, 1, 15, 16, 17, 100, 1400]) {
    const key = bytes(32, n + 7), ctr = bytes(16, n + 9), msg = bytes(n, n + 11);
    ctr[12] = ctr[13] = ctr[14] = 0xff; // wrap the 32-bit counter within a few blocks
    const ck = await crypto.subtle.importKey("raw", key, "AES-CTR", false, ["encrypt"]);
    const want = new Uint8Array(
      await crypto.subtle.encrypt({ name: "AES-CTR", counter: ctr, length: 32 }, ck, msg),
    );
    const got = msg.slice();
    new Aes256(key).ctr(ctr, got, 0, n);
    assert.equal(toHex(got), toHex(want), `length ${n}`);
  }
});

Deno.test("GMAC part matches WebCrypto AES-GCM tag with empty plaintext", async () => {
  // Encrypt with T8 known => recover IV8‖T8 by ECB-decrypting the SIV tag, compare with WebCrypto.
  for (const n of [0, 1, 5, 16, 21, 100, 1373]) {
    const k0 = bytes(32, n + 1), k1 = bytes(32, n + 2), iv = bytes(8, n + 3);
    const aad = bytes(11, n + 4), msg = bytes(n, n + 5);
    const tag = new Uint8Array(16);
    new AesGmacSiv(k0, k1).encrypt(iv, aad, msg.slice(), 0, n, tag);
    const x = new Uint8Array(16);
    new Aes256(k1).decryptBlock(tag, 0, x, 0);
    assert.equal(toHex(x.subarray(0, 8)), toHex(iv));
    const ad = new Uint8Array(16 + n);
    ad.set(aad);
    ad.set(msg, 16);
    const gk = await crypto.subtle.importKey("raw", k0, "AES-GCM", false, ["encrypt"]);
    const iv12 = new Uint8Array(12);
    iv12.set(iv);
    const g = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: iv12, additionalData: ad },
        gk,
        new Uint8Array(0),
      ),
    );
    const t8 = g.slice(0, 8).map((v, i) => v ^ g[8 + i]);
    assert.equal(toHex(x.subarray(8)), toHex(t8), `length ${n}`);
  }
});

Deno.test("GMAC-SIV §12.2 vector: tag and ciphertext", () => {
  const siv = new AesGmacSiv(K0, K1);
  const buf = PLAIN.slice();
  const tag = new Uint8Array(20);
  siv.encrypt(IV, AAD, buf, 0, buf.length, tag, 3);
  assert.equal(toHex(tag.subarray(3, 19)), TAG);
  assert.equal(toHex(buf), CIPHER);
  assert.equal(siv.decrypt(tag, 3, AAD, buf, 0, buf.length), true);
  assert.equal(toHex(buf), toHex(PLAIN));
});

Deno.test("GMAC-SIV works on a sub-range of a larger buffer", () => {
  const siv = new AesGmacSiv(K0, K1);
  const buf = new Uint8Array(130).fill(0xee);
  buf.set(PLAIN, 27);
  const tag = new Uint8Array(16);
  siv.encrypt(IV, AAD, buf, 27, 127, tag);
  assert.equal(toHex(tag), TAG);
  assert.equal(toHex(buf, 27, 127), CIPHER);
  assert.equal(toHex(buf, 0, 27), "ee".repeat(27));
  assert.equal(toHex(buf, 127), "eeeeee");
});

/** Armor a packet with cipher 3 exactly as spec §3.4.3 describes. */
function armor3(siv: AesGmacSiv, pkt: Uint8Array): void {
  pkt[18] = (pkt[18] & 0x47) | (3 << 3);
  const tag = new Uint8Array(16);
  siv.encrypt(pkt.slice(0, 8), pkt.slice(8, 19), pkt, 27, pkt.length, tag);
  pkt.set(tag.subarray(0, 8), 0);
  pkt.set(tag.subarray(8), 19);
}

/** Dearmor a cipher 3 packet in place; false when it does not authenticate. */
function dearmor3(siv: AesGmacSiv, pkt: Uint8Array): boolean {
  const tag = new Uint8Array(16);
  tag.set(pkt.subarray(0, 8));
  tag.set(pkt.subarray(19, 27), 8);
  const aad = pkt.slice(8, 19);
  aad[10] &= 0xf8;
  return siv.decrypt(tag, 0, aad, pkt, 27, pkt.length);
}

Deno.test("§12.3 packet armored with cipher 3 matches the wire bytes", () => {
  const peerKey = new Uint8Array(48).map((_, i) => 0x40 + i);
  const pkt = fromHex(
    "deadbeef01020304112233445566778899aa00000000000000000006000102030405060708090a0b0c0d0e0f10111213" +
      "1415161718191a1b1c1d1e1f2021222324252627",
  );
  const plain = pkt.slice(27);
  const siv = AesGmacSiv.fromPeerKey(peerKey);
  armor3(siv, pkt);
  assert.equal(
    toHex(pkt),
    "4674f1700842923b112233445566778899aa18ed4600ee8ccf0597c2220371954c3cb76c5e87178d3e58a17cf9486453" +
      "e1b69855d7935689fd0f8741a4864b1ff3329000",
  );
  pkt[18] |= 5; // relays may bump the hop count; it is masked out of the AAD
  assert.equal(dearmor3(siv, pkt), true);
  assert.equal(toHex(pkt, 27), toHex(plain));
});

Deno.test("§12.4 OK(HELLO) cipher 3 from the wire dearmors to the known plaintext", () => {
  const shared = fromHex(
    "c0f4e1be63427a3c96e17d99d7d3eb8af1728fc20fdf28d9548ba4dd4e39c3f7bfd9058589ab3dc7b4656b4f52aa91bb",
  );
  const wire = fromHex(
    "265b64053a3286cb8e4df28b72cafe9efeb9180037cfa6571539828fcf51d0a56d53153e11fd2b2f60540bccf1b74cb7" +
      "fa43e090b9c6f0025ca835",
  );
  assert.equal(dearmor3(AesGmacSiv.fromPeerKey(shared), wire), true);
  assert.equal(
    toHex(wire, 27),
    "03010123456789abcdef0000018bcfe568000c010e000104c6336409a1120000",
  );
});

Deno.test("GMAC-SIV rejects a flipped bit in tag, ciphertext or AAD", () => {
  const siv = new AesGmacSiv(K0, K1);
  const ct = fromHex(CIPHER), tag = fromHex(TAG);
  for (let bit = 0; bit < 128; bit += 5) {
    const t = tag.slice();
    t[bit >> 3] ^= 1 << (bit & 7);
    assert.equal(siv.decrypt(t, 0, AAD, ct.slice(), 0, ct.length), false, `tag bit ${bit}`);
  }
  for (let bit = 0; bit < 800; bit += 37) {
    const c = ct.slice();
    c[bit >> 3] ^= 1 << (bit & 7);
    assert.equal(siv.decrypt(tag, 0, AAD, c, 0, c.length), false, `ciphertext bit ${bit}`);
  }
  for (let bit = 0; bit < 88; bit += 3) {
    const a = AAD.slice();
    a[bit >> 3] ^= 1 << (bit & 7);
    assert.equal(siv.decrypt(tag, 0, a, ct.slice(), 0, ct.length), false, `aad bit ${bit}`);
  }
  // Truncated or extended ciphertext also fails.
  assert.equal(siv.decrypt(tag, 0, AAD, ct.slice(), 0, ct.length - 1), false);
  const longer = new Uint8Array(101);
  longer.set(ct);
  assert.equal(siv.decrypt(tag, 0, AAD, longer, 0, 101), false);
  // A wrong key fails.
  assert.equal(new AesGmacSiv(K1, K0).decrypt(tag, 0, AAD, ct.slice(), 0, ct.length), false);
  // The untouched inputs still decrypt.
  assert.equal(siv.decrypt(tag, 0, AAD, ct.slice(), 0, ct.length), true);
});

Deno.test("GMAC-SIV round-trips every length 0..200 and a 10024-byte packet", () => {
  const siv = AesGmacSiv.fromPeerKey(bytes(48, 99));
  for (const n of [...Array(201).keys(), 1373, 10024 - 27]) {
    const p = bytes(n, n + 50), iv = bytes(8, n), aad = bytes(11, n + 1);
    const buf = p.slice(), tag = new Uint8Array(16);
    siv.encrypt(iv, aad, buf, 0, n, tag);
    if (n >= 8) assert.notEqual(toHex(buf), toHex(p));
    assert.equal(siv.decrypt(tag, 0, aad, buf, 0, n), true, `length ${n}`);
    assert.equal(toHex(buf), toHex(p));
  }
});

Deno.test("GMAC-SIV length and range errors", () => {
  assert.throws(() => new AesGmacSiv(new Uint8Array(31), K1), /32 bytes/);
  assert.throws(() => new AesGmacSiv(K0, new Uint8Array(48)), /32 bytes/);
  assert.throws(() => AesGmacSiv.fromPeerKey(new Uint8Array(32)), /48 bytes/);
  const siv = new AesGmacSiv(K0, K1);
  const buf = new Uint8Array(50), tag = new Uint8Array(16);
  assert.throws(() => siv.encrypt(IV, new Uint8Array(10), buf, 0, 50, tag), /11 bytes/);
  assert.throws(() => siv.encrypt(IV.subarray(0, 7), AAD, buf, 0, 50, tag), /8 bytes/);
  assert.throws(() => siv.encrypt(IV, AAD, buf, 10, 51, tag), RangeError);
  assert.throws(() => siv.encrypt(IV, AAD, buf, 0, 50, tag, 1), RangeError);
  assert.throws(() => siv.decrypt(tag, 0, AAD, buf, 20, 10), RangeError);
  // A tag that runs off its buffer is an authentication failure, not an over-read.
  assert.equal(siv.decrypt(new Uint8Array(15), 0, AAD, buf, 0, 50), false);
  assert.equal(siv.decrypt(tag, 1, AAD, buf, 0, 50), false);
});
