// Tests the bounded big-endian Reader / growable Writer used by the verb codecs.
import assert from "node:assert/strict";
import { Reader, Writer } from "../../../src/vl1/verbs/wire.ts";

Deno.test("wire Reader/Writer: bounds, sticky failure, big-endian round trip", () => {
  const w = new Writer(1);
  w.u8(0xab).u16(0x1234).u32(0xdeadbeef).u40(0xcafe9efeb9).u48(0xffffffffffff);
  w.u64(0xfedcba9876543210n);
  const b = w.finish();
  assert.equal(b.length, 1 + 2 + 4 + 5 + 6 + 8);
  const r = new Reader(b);
  assert.equal(r.u8(), 0xab);
  assert.equal(r.u16(), 0x1234);
  assert.equal(r.u32(), 0xdeadbeef);
  assert.equal(r.address().toString(), "cafe9efeb9");
  assert.equal(r.u48(), 0xffffffffffff);
  assert.equal(r.u64(), 0xfedcba9876543210n);
  assert.ok(r.ok);
  assert.equal(r.remaining, 0);
  assert.equal(r.u8(), 0);
  assert.equal(r.ok, false);
  const r2 = new Reader(b, 2, 4);
  assert.equal(r2.u32(), 0); // would cross `end`
  assert.equal(r2.pos, 2);
  assert.equal(r2.u8(), 0); // sticky
  assert.equal(new Reader(b, 5, 2).ok, false);
  assert.equal(new Reader(b, 0, b.length + 1).ok, false);
});
