// Tests the USER_MESSAGE payload codec.
import assert from "node:assert/strict";
import { decodeUserMessage, encodeUserMessage } from "../../../src/vl1/verbs/mod.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

Deno.test("USER_MESSAGE: typeId(8) | data", () => {
  const enc = encodeUserMessage({ typeId: 0x10000n, data: fromHex("0102") });
  assert.equal(toHex(enc), "0000000000010000" + "0102");
  assert.deepEqual(decodeUserMessage(enc), { typeId: 0x10000n, data: fromHex("0102") });
  assert.equal(decodeUserMessage(enc, 0, 7), undefined);
  assert.equal(decodeUserMessage(enc, 0, 8)!.data.length, 0);
});
