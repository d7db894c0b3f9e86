// Tests the PUSH_DIRECT_PATHS payload codec.
import assert from "node:assert/strict";
import { InetAddress } from "../../../src/vl1/inet_address.ts";
import {
  decodePushDirectPaths,
  encodePushDirectPaths,
  PUSH_PATH_FLAG_CLUSTER_REDIRECT,
} from "../../../src/vl1/verbs/mod.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

Deno.test("PUSH_DIRECT_PATHS: count, then flags | extLen | type | len | ip | port", () => {
  const v4 = InetAddress.parse("198.18.0.3/9993")!;
  const v6 = InetAddress.parse("fd00::3/9993")!;
  const enc = encodePushDirectPaths({
    paths: [{ flags: 0, address: v4 }, { flags: PUSH_PATH_FLAG_CLUSTER_REDIRECT, address: v6 }],
  });
  assert.equal(
    toHex(enc),
    "0002" + "00" + "0000" + "04" + "06" + "c6120003" + "2709" +
      "02" + "0000" + "06" + "12" + "fd000000000000000000000000000003" + "2709",
  );
  const d = decodePushDirectPaths(enc)!;
  assert.equal(d.paths.length, 2);
  assert.ok(d.paths[0].address.equals(v4));
  assert.ok(d.paths[1].address.equals(v6));
  assert.equal(d.paths[1].flags, 2);
  for (let n = 0; n < enc.length; n++) assert.equal(decodePushDirectPaths(enc, 0, n), undefined);
});

Deno.test("PUSH_DIRECT_PATHS: extensions skipped, unknown types dropped, extra bytes ignored", () => {
  const bytes = fromHex(
    "0003" +
      "00" + "0002" + "abcd" + "04" + "06" + "0a000001" + "1111" + // with 2 extension bytes
      "00" + "0000" + "07" + "03" + "010203" + // unknown type 7: skipped by length
      "00" + "0000" + "04" + "02" + "0a00" + // IPv4 too short for its type: skipped
      "ffff", // beyond the count: ignored
  );
  const d = decodePushDirectPaths(bytes)!;
  assert.equal(d.paths.length, 1);
  assert.equal(d.paths[0].address.toString(), "10.0.0.1/4369");
  assert.deepEqual(decodePushDirectPaths(fromHex("0000"))!.paths, []);
  assert.equal(decodePushDirectPaths(fromHex("00")), undefined);
});
