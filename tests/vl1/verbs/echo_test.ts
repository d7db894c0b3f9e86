// Tests ECHO / OK(ECHO) payload codecs and the generic OK header.
import assert from "node:assert/strict";
import {
  decodeEcho,
  decodeOk,
  decodeOkEcho,
  encodeEcho,
  encodeOkEcho,
} from "../../../src/vl1/verbs/mod.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

Deno.test("ECHO payload is copied; OK(ECHO) echoes it after the in-re header", () => {
  const data = fromHex("deadbeef");
  const e = decodeEcho(data)!;
  data[0] = 0;
  assert.equal(toHex(e.data), "deadbeef"); // a copy
  assert.equal(decodeEcho(new Uint8Array(0))!.data.length, 0);
  const ok = encodeOkEcho({ inRePacketId: 0x0102030405060708n, data: e.data });
  assert.equal(toHex(ok), "08" + "0102030405060708" + "deadbeef");
  assert.deepEqual(decodeOkEcho(ok), { inRePacketId: 0x0102030405060708n, data: e.data });
  assert.equal(toHex(encodeEcho(e)), "deadbeef");
  assert.equal(decodeOk(ok, 0, 8), undefined);
  assert.equal(decodeOk(ok)!.bodyStart, 9);
});
