// Tests ECHO / OK(ECHO), USER_MESSAGE and REMOTE_TRACE payload codecs.
import assert from "node:assert/strict";
import {
  decodeEcho,
  decodeOk,
  decodeOkEcho,
  decodeRemoteTrace,
  decodeUserMessage,
  encodeEcho,
  encodeOkEcho,
  encodeRemoteTrace,
  encodeUserMessage,
} from "../../../src/vl1/verbs/index.ts";
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

Deno.test("USER_MESSAGE: typeId(8) | data", () => {
  const enc = encodeUserMessage({ typeId: 0x10000n, data: fromHex("0102") });
  assert.equal(toHex(enc), "0000000000010000" + "0102");
  assert.deepEqual(decodeUserMessage(enc), { typeId: 0x10000n, data: fromHex("0102") });
  assert.equal(decodeUserMessage(enc, 0, 7), undefined);
  assert.equal(decodeUserMessage(enc, 0, 8)!.data.length, 0);
});

Deno.test("REMOTE_TRACE: NUL-terminated dictionaries; empty, over-long and unterminated dropped", () => {
  const a = new TextEncoder().encode("event=1\nx=2");
  const b = new TextEncoder().encode("event=2");
  const enc = encodeRemoteTrace({ traces: [a, b] });
  assert.equal(toHex(enc), toHex(a) + "00" + toHex(b) + "00");
  assert.deepEqual(decodeRemoteTrace(enc)!.traces, [a, b]);
  const messy = new Uint8Array([0, ...a, 0, 0, ...b]); // empty, a, empty, unterminated b
  assert.deepEqual(decodeRemoteTrace(messy)!.traces, [a]);
  const big = new Uint8Array(10002);
  big.fill(0x41, 0, 10001); // 10001-byte string + NUL
  assert.deepEqual(decodeRemoteTrace(big)!.traces, []);
  assert.equal(decodeRemoteTrace(big, 1)!.traces[0].length, 10000);
  assert.equal(decodeRemoteTrace(enc, 4, 2), undefined);
});
