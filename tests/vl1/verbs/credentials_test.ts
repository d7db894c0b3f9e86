// Tests the credential length walkers and the NETWORK_CREDENTIALS container on the §12.6 vectors.
import assert from "node:assert/strict";
import {
  capabilityLength,
  comLength,
  cooLength,
  decodeNetworkCredentials,
  encodeNetworkCredentials,
  revocationLength,
  tagLength,
} from "../../../src/vl1/verbs/mod.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

const COM = fromHex(`
01000700000000000000000000018bcfe5680000000000001b774000000000000000018e4df28b720000010000000000
0000000000000000000002000000cafe9efeb9ffffffffffffffff000000000000000351250703906e991affffffffff
ffffff00000000000000041014e9ef0d21eb09ffffffffffffffff0000000000000005eeb7bd700a36d91fffffffffff
ffffff00000000000000064a1f5697b6bd3610ffffffffffffffff8e4df28b729b72177c983e2902607fd52855fff347
2f239a555134ca5f007e21158f59cac70a05d8a33a9760dc673af042a883e3fda3f4ba495b6689aebc9c061e6096670a
63e1e9a856f935bd6255904ee9b685973b78f707a41375b38e9a5a932e090a06`);
const TAG = fromHex(`
8e4df28b720000010000018bcfe568000000006400000005cafe9efeb98e4df28b72010060e6e66408d858af97d7f03b
79577227bbf43316e7e45d1ee18b892799be1b33811b57e65f9c432fbd50bef0fb063cce425d48724671c56ca911d6d5
82fa4edd032468a5875866872b85273b9d09ea922af075a3a999f1a0b3f082ecfa09b483cd0000`);
const CAP = fromHex(`
8e4df28b720000010000018bcfe56800000000070002280400160016010001cafe9efeb98e4df28b720100602763abe8
9b6f364b407199e1bfc659697967d312675bde18a3e5c73f0798fbd0f806e0d2b2eb1faccb8dcc27bceef66dc5c71933
a84d57d2967bc4f1207f2a0b8fcdf6d3698aa0f537345383db0dd67564ba3e6fc75218ed91fbc7a2a6bfaa4e00000000
000000`);
const COO = fromHex(`
8e4df28b720000010000018bcfe568000000000000000000000000010001020a931105000000000000000000000000ca
fe9efeb98e4df28b72010060c56b376aed4b0267a690e74a19d80919622c92fb212c23cc903282308f95175588d5f2f8
2712c598ab33665c224a1b142d0d680e83820209c2e606be799a3509061ec4bf6d1058070787b12851c6c52bf0daf4c1
90ec9a2abdeb09bf6a01639f0000`);
const REV = fromHex(`
00000000123456788e4df28b7200000100000000000000000000018bcfe568000000000000000001cafe9efeb98e4df2
8b72010100603da5418cbbff8207bf7c29857f923385ca3972e7595ebdea906fc9f1219fd00967d7bbe3e7e91eaf1133
09e0c657335212366ae11ce05117ac54b1feeb9e0508622ca4ef82223dd7212651edd019b2cf7f6377e9c5610fbe6513
71c27542c4450000`);

const WALKERS = [
  ["COM", comLength, COM],
  ["Tag", tagLength, TAG],
  ["Capability", capabilityLength, CAP],
  ["COO", cooLength, COO],
  ["Revocation", revocationLength, REV],
] as const;

Deno.test("walkers measure the §12.6 credentials exactly, also embedded with trailing bytes", () => {
  assert.equal(COM.length, 3 + 7 * 24 + 5 + 96); // the "272 bytes" of §12.6
  for (const [name, len, bytes] of WALKERS) {
    assert.equal(len(bytes, 0), bytes.length, name);
    const padded = new Uint8Array(bytes.length + 13);
    padded.set(bytes, 7);
    assert.equal(len(padded, 7), bytes.length, `${name} at offset 7`);
    assert.equal(len(padded, 7, 7 + bytes.length), bytes.length, `${name} with exact end`);
  }
});

Deno.test("walkers: every truncation is undefined", () => {
  for (const [name, len, bytes] of WALKERS) {
    for (let n = 0; n < bytes.length; n++) {
      assert.equal(len(bytes, 0, n), undefined, `${name} cut to ${n}`);
      assert.equal(len(bytes.subarray(0, n), 0), undefined, `${name} sliced to ${n}`);
    }
  }
});

Deno.test("walkers enforce the structural limits of the reference readers", () => {
  const com = COM.slice();
  com[0] = 2; // format must be 1
  assert.equal(comLength(com, 0), undefined);
  const com9 = COM.slice();
  com9[2] = 9; // > 8 qualifiers
  assert.equal(comLength(com9, 0), undefined);
  const comOrder = COM.slice();
  comOrder[3 + 24 + 7] = 0; // qualifier ids 0,0,2,... still non-decreasing -> fine
  assert.equal(comLength(comOrder, 0), COM.length);
  comOrder[3 + 7] = 5; // ids 5,0 -> decreasing
  assert.equal(comLength(comOrder, 0), undefined);
  // unsigned COM: signedBy 0, no signature
  const unsigned = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(comLength(unsigned, 0), 8);

  const tag = TAG.slice();
  tag[34 + 2] = 95; // signature length must be 96 for type 1
  assert.equal(tagLength(tag, 0), undefined);
  // other signature types: u16 length + skipped bytes
  const tag2 = new Uint8Array([...TAG.subarray(0, 34), 2, 0, 3, 9, 9, 9, 0, 1, 7]);
  assert.equal(tagLength(tag2, 0), tag2.length);

  const cap = CAP.slice();
  // nwid+ts+id (20), rule count (2), rules `28 04 0016 0016` (dport 22-22) and `01 00` (accept)
  const chainAt = 20 + 2 + 6 + 2;
  assert.equal(cap[chainAt], 1); // max custody chain length
  cap[chainAt] = 0;
  assert.equal(capabilityLength(cap, 0), undefined);
  cap[chainAt] = 8;
  assert.equal(capabilityLength(cap, 0), undefined);
  const rules65 = CAP.slice();
  rules65[20] = 0;
  rules65[21] = 65;
  assert.equal(capabilityLength(rules65, 0), undefined);

  // COO with 17 declared things: only 16 are consumed (reference quirk)
  const things = 17;
  const coo = new Uint8Array(28 + 2 + 16 * 17 + 10 + 3 + 96 + 2);
  coo[28] = 0;
  coo[29] = things;
  coo[28 + 2 + 16 * 17 + 10] = 1;
  coo[28 + 2 + 16 * 17 + 11] = 0;
  coo[28 + 2 + 16 * 17 + 12] = 96;
  assert.equal(cooLength(coo, 0), coo.length);
});

Deno.test("NETWORK_CREDENTIALS: push form round-trips and splits into the exact credentials", () => {
  const creds = { coms: [COM], capabilities: [CAP], tags: [TAG], revocations: [], coos: [COO] };
  const enc = encodeNetworkCredentials(creds);
  assert.equal(enc.length, COM.length + 1 + 2 + CAP.length + 2 + TAG.length + 2 + 2 + COO.length);
  const dec = decodeNetworkCredentials(enc)!;
  assert.deepEqual(dec.coms.map((x) => toHex(x)), [toHex(COM)]);
  assert.deepEqual(dec.capabilities.map((x) => toHex(x)), [toHex(CAP)]);
  assert.deepEqual(dec.tags.map((x) => toHex(x)), [toHex(TAG)]);
  assert.deepEqual(dec.revocations, []);
  assert.deepEqual(dec.coos.map((x) => toHex(x)), [toHex(COO)]);
  assert.equal(toHex(encodeNetworkCredentials(dec)), toHex(enc));
  // decoded entries are views into the input (no copy)
  assert.equal(dec.coms[0].buffer, enc.buffer);
});

Deno.test("NETWORK_CREDENTIALS: controller revocation form 00|0000|0000|0001|rev|0000", () => {
  const enc = encodeNetworkCredentials({
    coms: [],
    capabilities: [],
    tags: [],
    revocations: [REV],
    coos: [],
  });
  assert.equal(toHex(enc), "00" + "0000" + "0000" + "0001" + toHex(REV) + "0000");
  const dec = decodeNetworkCredentials(enc)!;
  assert.equal(dec.revocations.length, 1);
  assert.equal(toHex(dec.revocations[0]), toHex(REV));
});

Deno.test("NETWORK_CREDENTIALS: old senders omit trailing sections; malformed input is undefined", () => {
  // COM only, with and without the terminator; empty payload
  for (const p of [COM, new Uint8Array([...COM, 0]), new Uint8Array(0)]) {
    const d = decodeNetworkCredentials(p)!;
    assert.ok(d);
    assert.equal(d.coms.length, p.length ? 1 : 0);
    assert.equal(d.capabilities.length + d.tags.length + d.revocations.length + d.coos.length, 0);
  }
  // sections stop after tags
  const partial = new Uint8Array([0, 0, 0, 0, 1, ...TAG]);
  assert.equal(decodeNetworkCredentials(partial)!.tags.length, 1);
  // a count byte cut in half, a declared credential missing, a bad COM format
  assert.equal(decodeNetworkCredentials(new Uint8Array([0, 0])), undefined);
  assert.equal(decodeNetworkCredentials(new Uint8Array([0, 0, 1])), undefined);
  assert.equal(decodeNetworkCredentials(new Uint8Array([2, 0, 0])), undefined);
  const full = encodeNetworkCredentials({
    coms: [COM],
    capabilities: [CAP],
    tags: [TAG],
    revocations: [REV],
    coos: [COO],
  });
  const boundaries = new Set<number>();
  let b = COM.length + 1;
  boundaries.add(b);
  for (const x of [CAP, TAG, REV, COO]) {
    b += 2 + x.length;
    boundaries.add(b);
  }
  for (let n = 0; n < full.length; n++) {
    const d = decodeNetworkCredentials(full, 0, n);
    if (boundaries.has(n) || n === 0 || n === COM.length) {
      assert.ok(d, `cut at section boundary ${n}`);
    } else assert.equal(d, undefined, `cut at ${n}`);
  }
  assert.equal(decodeNetworkCredentials(full, 3, 1), undefined);
});
