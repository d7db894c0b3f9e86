// Tests WHOIS and OK(WHOIS) payload codecs.
import assert from "node:assert/strict";
import { Address } from "../../../src/vl1/address.ts";
import { Identity } from "../../../src/vl1/identity.ts";
import { Verb } from "../../../src/vl1/packet.ts";
import {
  decodeOkWhois,
  decodeWhois,
  encodeOkWhois,
  encodeWhois,
} from "../../../src/vl1/verbs/mod.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

const ID_HEX =
  "8e4df28b7200ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d700";

Deno.test("WHOIS: concatenated 5-byte addresses", () => {
  const bytes = fromHex("8e4df28b72" + "cafe9efeb9");
  const w = decodeWhois(bytes)!;
  assert.deepEqual(w.addresses.map((a) => a.toString()), ["8e4df28b72", "cafe9efeb9"]);
  assert.equal(
    toHex(encodeWhois({ addresses: [Address.parse("8e4df28b72")!, w.addresses[1]] })),
    toHex(bytes),
  );
  assert.equal(decodeWhois(bytes, 0, 9), undefined);
  assert.deepEqual(decodeWhois(bytes, 5)!.addresses.map(String), ["cafe9efeb9"]);
});

Deno.test("OK(WHOIS): §12.5 binary identity after the in-re header", () => {
  const bytes = fromHex("04" + "0102030405060708" + ID_HEX);
  const o = decodeOkWhois(bytes)!;
  assert.equal(o.inRePacketId, 0x0102030405060708n);
  assert.equal(o.identities.length, 1);
  assert.equal(o.identities[0].address.toString(), "8e4df28b72");
  assert.equal(toHex(encodeOkWhois(o)), toHex(bytes));
  const two = encodeOkWhois({ inRePacketId: 1n, identities: [o.identities[0], o.identities[0]] });
  assert.equal(decodeOkWhois(two)!.identities.length, 2);
  assert.equal(decodeOkWhois(two, 0, two.length - 1), undefined);
  assert.equal(decodeOkWhois(bytes, 0, 9), undefined); // no identity
  const wrong = bytes.slice();
  wrong[0] = Verb.HELLO;
  assert.equal(decodeOkWhois(wrong), undefined);
  // identities are encoded public-only even if the private key is known
  const secret = Identity.fromString(
    "8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d7:bd8dd6e4ce7022d2f812797a80c6ee8ad180dc4ebf301dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171ff16e",
  )!;
  assert.equal(
    toHex(encodeOkWhois({ inRePacketId: 0x0102030405060708n, identities: [secret] })),
    toHex(bytes),
  );
});
