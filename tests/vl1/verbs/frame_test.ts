// Tests FRAME / EXT_FRAME / OK(EXT_FRAME) codecs: layouts, zero-copy offsets, inline COM.
import assert from "node:assert/strict";
import {
  decodeExtFrame,
  decodeFrame,
  decodeOkExtFrame,
  encodeExtFrame,
  encodeFrame,
  encodeOkExtFrame,
  EXT_FRAME_FLAG_ACK,
  writeExtFrameHeader,
  writeFrameHeader,
} from "../../../src/vl1/verbs/mod.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

const NWID = 0x8e4df28b72000001n;
const ETH = fromHex("450000540000400040011234c0a80001c0a80002");

Deno.test("FRAME: nwid | ethertype | payload, decoded as offsets into the packet", () => {
  const enc = encodeFrame({ networkId: NWID, etherType: 0x0800, payload: ETH });
  assert.equal(toHex(enc), "8e4df28b72000001" + "0800" + toHex(ETH));
  const pkt = new Uint8Array(28 + enc.length);
  pkt.set(enc, 28);
  const f = decodeFrame(pkt, 28)!;
  assert.deepEqual(f, {
    networkId: NWID,
    etherType: 0x0800,
    payloadStart: 38,
    payloadEnd: pkt.length,
  });
  assert.equal(toHex(pkt.subarray(f.payloadStart, f.payloadEnd)), toHex(ETH));
  assert.equal(decodeFrame(pkt, 28, 37), undefined);
  assert.equal(decodeFrame(pkt, 28, 38)!.payloadEnd, 38); // empty payload
  const hdr = new Uint8Array(12);
  assert.equal(writeFrameHeader(hdr, 2, NWID, 0x86dd), 12);
  assert.equal(toHex(hdr), "0000" + "8e4df28b72000001" + "86dd");
});

Deno.test("EXT_FRAME: nwid | flags | to | from | ethertype | payload", () => {
  const to = 0x02cafeec754b, from = 0x32aabbccddee;
  const enc = encodeExtFrame({
    networkId: NWID,
    flags: EXT_FRAME_FLAG_ACK,
    to,
    from,
    etherType: 0x0806,
    payload: ETH,
  });
  assert.equal(
    toHex(enc),
    "8e4df28b72000001" + "10" + "02cafeec754b" + "32aabbccddee" + "0806" + toHex(ETH),
  );
  const f = decodeExtFrame(enc)!;
  assert.equal(f.flags, 0x10);
  assert.equal(f.to, to);
  assert.equal(f.from, from);
  assert.equal(f.etherType, 0x0806);
  assert.equal(f.com, undefined);
  assert.equal(f.payloadStart, 23);
  for (let n = 0; n < 23; n++) assert.equal(decodeExtFrame(enc, 0, n), undefined);
  const hdr = new Uint8Array(23);
  writeExtFrameHeader(hdr, 0, NWID, 0x11, to, from, 0x0806);
  assert.equal(hdr[8], 0x10); // the COM bit cannot be set without a COM
  assert.equal(toHex(hdr.subarray(9)), toHex(enc.subarray(9, 23)));
});

Deno.test("EXT_FRAME with a legacy inline COM (flag 0x01)", () => {
  const com = fromHex("010000" + "0000000000"); // unsigned COM with no qualifiers
  const enc = encodeExtFrame({
    networkId: NWID,
    flags: 0x02,
    com,
    to: 1,
    from: 2,
    etherType: 0x0800,
    payload: ETH,
  });
  assert.equal(enc[8], 0x03);
  const f = decodeExtFrame(enc)!;
  assert.equal(toHex(f.com!), toHex(com));
  assert.equal(f.to, 1);
  assert.equal(f.from, 2);
  assert.equal(f.payloadStart, 9 + com.length + 14);
  const bad = enc.slice();
  bad[9] = 0x02; // COM format byte must be 1
  assert.equal(decodeExtFrame(bad), undefined);
});

Deno.test("OK(EXT_FRAME): in-re header + nwid", () => {
  const enc = encodeOkExtFrame({ inRePacketId: 0xabcdefn, networkId: NWID });
  assert.equal(toHex(enc), "07" + "0000000000abcdef" + "8e4df28b72000001");
  assert.deepEqual(decodeOkExtFrame(enc), { inRePacketId: 0xabcdefn, networkId: NWID });
  assert.equal(decodeOkExtFrame(enc, 0, enc.length - 1), undefined);
});
