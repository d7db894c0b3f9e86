// Tests for the 40-bit Address value type (hex/binary forms, reserved ranges).
import assert from "node:assert/strict";
import { Address } from "../../src/vl1/address.ts";

Deno.test("address: binary form is 5 bytes big-endian, round trips at any offset", () => {
  const a = new Address(0x8e4df28b72);
  assert.deepEqual([...a.toBytes()], [0x8e, 0x4d, 0xf2, 0x8b, 0x72]);
  const buf = new Uint8Array(9);
  a.writeTo(buf, 3);
  assert.deepEqual([...buf], [0, 0, 0, 0x8e, 0x4d, 0xf2, 0x8b, 0x72, 0]);
  assert.equal(Address.fromBytes(buf, 3).value, 0x8e4df28b72);
  const max = new Address(0xffffffffff);
  assert.deepEqual([...max.toBytes()], [0xff, 0xff, 0xff, 0xff, 0xff]);
  assert.equal(Address.fromBytes(max.toBytes(), 0).value, 2 ** 40 - 1);
  // High bit of the low 32-bit part must not go negative.
  assert.equal(Address.fromBytes(new Uint8Array([0x01, 0x80, 0, 0, 1]), 0).value, 0x0180000001);
});

Deno.test("address: text form is 10 lowercase zero-padded hex digits", () => {
  assert.equal(new Address(0x8e4df28b72).toString(), "8e4df28b72");
  assert.equal(new Address(0xabc).toString(), "0000000abc");
  assert.equal(new Address(0).toString(), "0000000000");
  assert.equal(Address.parse("8E4DF28B72")?.toString(), "8e4df28b72");
  assert.equal(Address.parse("abc")?.value, 0xabc);
  assert.equal(Address.parse("0000000abc")?.value, 0xabc);
});

Deno.test("address: parse rejects non-hex, empty and over-long text", () => {
  for (
    const s of ["", "8e4df28b72a", "8e4df28b7g", "0x8e4df28b", " 8e4df28b7", "-1", "1.5", "８"]
  ) {
    assert.equal(Address.parse(s), undefined, JSON.stringify(s));
  }
});

Deno.test("address: reserved = zero or first byte 0xff", () => {
  assert.ok(new Address(0).isReserved());
  assert.ok(new Address(0xff00000000).isReserved());
  assert.ok(new Address(0xff12345678).isReserved());
  assert.ok(new Address(0xffffffffff).isReserved());
  assert.ok(!new Address(0xfeffffffff).isReserved());
  assert.ok(!new Address(1).isReserved());
  assert.ok(!new Address(0x8e4df28b72).isReserved());
});

Deno.test("address: equality and range checks", () => {
  assert.ok(new Address(5).equals(Address.parse("5")!));
  assert.ok(!new Address(5).equals(new Address(6)));
  assert.throws(() => new Address(-1), RangeError);
  assert.throws(() => new Address(2 ** 40), RangeError);
  assert.throws(() => new Address(1.5), RangeError);
  assert.throws(() => new Address(NaN), RangeError);
});
