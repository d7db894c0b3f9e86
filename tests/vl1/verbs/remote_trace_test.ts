// Tests the REMOTE_TRACE payload codec.
import assert from "node:assert/strict";
import { decodeRemoteTrace, encodeRemoteTrace } from "../../../src/vl1/verbs/mod.ts";
import { toHex } from "../../../src/util/hex.ts";

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
