// Tests for the VL1 packet header layout, accessors and enums (spec §3.2, §4, §4.2).
import assert from "node:assert/strict";
import {
  Cipher,
  ErrorCode,
  errorCodeName,
  getCipher,
  getDest,
  getHops,
  getPacketId,
  getSource,
  getVerb,
  IDX_PAYLOAD,
  incrementHops,
  isCompressed,
  isFragmented,
  MAX_PACKET_LENGTH,
  MIN_PACKET_LENGTH,
  setCipher,
  setFragmented,
  setHops,
  setPacketId,
  Verb,
  verbName,
  writeHeader,
} from "../../src/vl1/packet.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";

// §12.3 cipher 1 wire packet: flags byte 0x88 = legacy encrypted bit + cipher 1, hops 0.
const C1_WIRE = fromHex(
  "deadbeef01020304112233445566778899aa882b1d5c8fad650fbb4d6d1687d498e3b61ef620c2fc9f1e432594875bd6" +
    "9583acb261eeea4a4649d6d025ac6779b2caa8a5",
);

Deno.test("header fields of a real (§12.3) packet", () => {
  assert.equal(getPacketId(C1_WIRE), 0xdeadbeef01020304n);
  assert.equal(getDest(C1_WIRE).toString(16), "1122334455");
  assert.equal(getSource(C1_WIRE).toString(16), "66778899aa");
  assert.equal(getCipher(C1_WIRE), Cipher.C25519_POLY1305_SALSA2012);
  assert.equal(getHops(C1_WIRE), 0);
  assert.equal(isFragmented(C1_WIRE), false);
});

Deno.test("sizes", () => {
  assert.equal(MIN_PACKET_LENGTH, 28);
  assert.equal(IDX_PAYLOAD, 28);
  assert.equal(MAX_PACKET_LENGTH, 7 * 1432);
});

Deno.test("writeHeader lays out id, dest, source, zero flags/MAC, verb", () => {
  const b = new Uint8Array(40).fill(0xee);
  const n = writeHeader(b, fromHex("0123456789abcdef"), 0xcafe9efeb9, 0x8e4df28b72, Verb.HELLO);
  assert.equal(n, 28);
  assert.equal(toHex(b, 0, 28), "0123456789abcdefcafe9efeb98e4df28b72000000000000000000" + "01");
  assert.equal(b[28], 0xee);
  assert.equal(getDest(b), 0xcafe9efeb9);
  assert.equal(getSource(b), 0x8e4df28b72);
});

Deno.test("setCipher manages the legacy 0x80 bit and keeps hops/fragment bits", () => {
  const b = new Uint8Array(28);
  b[18] = 0x45; // fragmented + hops 5
  setCipher(b, 1);
  assert.equal(b[18], 0x80 | 0x40 | 0x08 | 0x05);
  setCipher(b, 3);
  assert.equal(b[18], 0x40 | 0x18 | 0x05);
  assert.equal(getCipher(b), 3);
  setCipher(b, 0);
  assert.equal(b[18], 0x45);
});

Deno.test("hops: set, increment wraps within 3 bits, other bits untouched", () => {
  const b = new Uint8Array(28);
  b[18] = 0xd8;
  setHops(b, 6);
  assert.equal(b[18], 0xde);
  assert.equal(incrementHops(b), 7);
  assert.equal(incrementHops(b), 0);
  assert.equal(b[18], 0xd8);
  assert.equal(getHops(b), 0);
});

Deno.test("fragmented flag", () => {
  const b = new Uint8Array(28);
  b[18] = 0x1b;
  setFragmented(b, true);
  assert.equal(b[18], 0x5b);
  assert.equal(isFragmented(b), true);
  setFragmented(b, false);
  assert.equal(b[18], 0x1b);
});

Deno.test("verb byte: low 5 bits verb, 0x80 compressed", () => {
  const b = new Uint8Array(28);
  b[27] = 0x80 | Verb.NETWORK_CONFIG;
  assert.equal(getVerb(b), 0x0c);
  assert.equal(isCompressed(b), true);
  b[27] = Verb.FRAME;
  assert.equal(isCompressed(b), false);
});

Deno.test("verb numbers and names (§4 table)", () => {
  const table: [number, string][] = [
    [0x00, "NOP"],
    [0x01, "HELLO"],
    [0x02, "ERROR"],
    [0x03, "OK"],
    [0x04, "WHOIS"],
    [0x05, "RENDEZVOUS"],
    [0x06, "FRAME"],
    [0x07, "EXT_FRAME"],
    [0x08, "ECHO"],
    [0x09, "MULTICAST_LIKE"],
    [0x0a, "NETWORK_CREDENTIALS"],
    [0x0b, "NETWORK_CONFIG_REQUEST"],
    [0x0c, "NETWORK_CONFIG"],
    [0x0d, "MULTICAST_GATHER"],
    [0x0e, "MULTICAST_FRAME"],
    [0x10, "PUSH_DIRECT_PATHS"],
    [0x12, "ACK"],
    [0x13, "QOS_MEASUREMENT"],
    [0x14, "USER_MESSAGE"],
    [0x15, "REMOTE_TRACE"],
    [0x16, "PATH_NEGOTIATION_REQUEST"],
  ];
  for (const [n, name] of table) {
    assert.equal(verbName(n), name);
    assert.equal(Verb[name as keyof typeof Verb], n);
  }
  assert.equal(verbName(0x8c), "NETWORK_CONFIG"); // compressed bit ignored
  assert.equal(verbName(0x0f), "UNKNOWN_0x0f");
  assert.equal(verbName(0x11), "UNKNOWN_0x11");
});

Deno.test("error codes (§4.2)", () => {
  assert.equal(ErrorCode.OBJ_NOT_FOUND, 3);
  assert.equal(ErrorCode.IDENTITY_COLLISION, 4);
  assert.equal(ErrorCode.NEED_MEMBERSHIP_CERTIFICATE, 6);
  assert.equal(ErrorCode.NETWORK_ACCESS_DENIED, 7);
  assert.equal(ErrorCode.NETWORK_AUTHENTICATION_REQUIRED, 9);
  assert.equal(errorCodeName(5), "UNSUPPORTED_OPERATION");
  assert.equal(errorCodeName(0x42), "UNKNOWN_0x42");
});

Deno.test("packet id bigint round trip", () => {
  const b = new Uint8Array(30);
  setPacketId(b, 0xfedcba9876543210n);
  assert.equal(toHex(b, 0, 8), "fedcba9876543210");
  assert.equal(getPacketId(b), 0xfedcba9876543210n);
  setPacketId(b.subarray(2), -1n);
  assert.equal(toHex(b, 0, 10), "fedcffffffffffffffff"); // subarray view offset respected
});
