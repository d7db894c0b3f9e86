// Tests MULTICAST_LIKE / GATHER / FRAME and their OK payload codecs.
import assert from "node:assert/strict";
import { Address } from "../../../src/vl1/address.ts";
import {
  decodeMulticastFrame,
  decodeMulticastGather,
  decodeMulticastLike,
  decodeOkMulticastFrame,
  decodeOkMulticastGather,
  encodeMulticastFrame,
  encodeMulticastGather,
  encodeMulticastLike,
  encodeOkMulticastFrame,
  encodeOkMulticastGather,
} from "../../../src/vl1/verbs/mod.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

const NWID = 0x8e4df28b72000001n;
const BCAST = 0xffffffffffff;
const COM = fromHex("010000" + "0000000000");

Deno.test("MULTICAST_LIKE: 18-byte (nwid, MAC, ADI) tuples", () => {
  const bytes = fromHex(
    "8e4df28b72000001ffffffffffff0a000001" + "8e4df28b72000001333300000001" + "00000000",
  );
  const l = decodeMulticastLike(bytes)!;
  assert.deepEqual(l.groups, [
    { networkId: NWID, mac: BCAST, adi: 0x0a000001 },
    { networkId: NWID, mac: 0x333300000001, adi: 0 },
  ]);
  assert.equal(toHex(encodeMulticastLike(l)), toHex(bytes));
  assert.equal(decodeMulticastLike(bytes, 0, 35), undefined);
  assert.deepEqual(decodeMulticastLike(bytes, 0, 0)!.groups, []);
});

Deno.test("MULTICAST_GATHER: fixed part, optional COM (a bad COM is discarded, not fatal)", () => {
  const g = { networkId: NWID, flags: 0, mac: BCAST, adi: 0x0a000005, gatherLimit: 32 };
  const enc = encodeMulticastGather(g);
  assert.equal(toHex(enc), "8e4df28b72000001" + "00" + "ffffffffffff" + "0a000005" + "00000020");
  assert.deepEqual(decodeMulticastGather(enc), g);
  for (let n = 0; n < enc.length; n++) assert.equal(decodeMulticastGather(enc, 0, n), undefined);
  const withCom = encodeMulticastGather({ ...g, com: COM });
  assert.equal(withCom[8], 1);
  assert.equal(toHex(decodeMulticastGather(withCom)!.com!), toHex(COM));
  const badCom = withCom.slice(0, withCom.length - 1);
  const d = decodeMulticastGather(badCom)!;
  assert.equal(d.flags, 1);
  assert.equal(d.com, undefined);
  assert.equal(d.gatherLimit, 32);
});

Deno.test("OK(MULTICAST_GATHER): group echo + totalKnown + count + addresses", () => {
  const o = {
    inRePacketId: 5n,
    networkId: NWID,
    mac: BCAST,
    adi: 0,
    totalKnown: 3,
    members: [new Address(0x98bec71608), new Address(0xbeccf08a89)],
  };
  const enc = encodeOkMulticastGather(o);
  assert.equal(
    toHex(enc),
    "0d" + "0000000000000005" + "8e4df28b72000001" + "ffffffffffff" + "00000000" + "00000003" +
      "0002" + "98bec71608" + "beccf08a89",
  );
  const d = decodeOkMulticastGather(enc)!;
  assert.equal(d.totalKnown, 3);
  assert.deepEqual(d.members.map(String), ["98bec71608", "beccf08a89"]);
  assert.equal(decodeOkMulticastGather(enc, 0, enc.length - 1), undefined);
});

Deno.test("MULTICAST_FRAME: optional COM / gather limit / source MAC by flags", () => {
  const payload = fromHex("0001080006040001");
  const plain = encodeMulticastFrame({
    networkId: NWID,
    flags: 0,
    mac: BCAST,
    adi: 0x0a000005,
    etherType: 0x0806,
    payload,
  });
  assert.equal(
    toHex(plain),
    "8e4df28b72000001" + "00" + "ffffffffffff" + "0a000005" + "0806" + toHex(payload),
  );
  const p = decodeMulticastFrame(plain)!;
  assert.equal(p.source, undefined);
  assert.equal(p.gatherLimit, undefined);
  assert.equal(p.payloadStart, 21);

  const all = encodeMulticastFrame({
    networkId: NWID,
    flags: 0x08,
    com: COM,
    gatherLimit: 16,
    source: 0x02cafeec754b,
    mac: BCAST,
    adi: 0,
    etherType: 0x0800,
    payload,
  });
  assert.equal(all[8], 0x0f);
  assert.equal(
    toHex(all.subarray(9)),
    toHex(COM) + "00000010" + "02cafeec754b" + "ffffffffffff" + "00000000" + "0800" +
      toHex(payload),
  );
  const d = decodeMulticastFrame(all)!;
  assert.equal(toHex(d.com!), toHex(COM));
  assert.equal(d.gatherLimit, 16);
  assert.equal(d.source, 0x02cafeec754b);
  assert.equal(toHex(all.subarray(d.payloadStart, d.payloadEnd)), toHex(payload));
  const header = all.length - payload.length;
  for (let n = 0; n < header; n++) assert.equal(decodeMulticastFrame(all, 0, n), undefined);
});

Deno.test("OK(MULTICAST_FRAME): flags 0x02 gather results, 0x01 legacy COM", () => {
  const gather = { totalKnown: 1, members: [new Address(0x98bec71608)] };
  const enc = encodeOkMulticastFrame({
    inRePacketId: 9n,
    networkId: NWID,
    mac: BCAST,
    adi: 0,
    flags: 0,
    gather,
  });
  assert.equal(
    toHex(enc),
    "0e" + "0000000000000009" + "8e4df28b72000001" + "ffffffffffff" + "00000000" + "02" +
      "00000001" + "0001" + "98bec71608",
  );
  const d = decodeOkMulticastFrame(enc)!;
  assert.equal(d.flags, 2);
  assert.deepEqual(d.gather!.members.map(String), ["98bec71608"]);
  const withCom = encodeOkMulticastFrame({ ...d, com: COM });
  assert.equal(withCom[9 + 18], 3);
  const d2 = decodeOkMulticastFrame(withCom)!;
  assert.equal(toHex(d2.com!), toHex(COM));
  assert.equal(d2.gather!.totalKnown, 1);
  assert.equal(decodeOkMulticastFrame(withCom, 0, withCom.length - 2), undefined);
  const bare = encodeOkMulticastFrame({
    inRePacketId: 9n,
    networkId: NWID,
    mac: 1,
    adi: 2,
    flags: 0,
  });
  assert.equal(decodeOkMulticastFrame(bare)!.gather, undefined);
});
