// Tests NETWORK_CONFIG_REQUEST, config chunk (signed range, legacy form) and OK codecs.
import assert from "node:assert/strict";
import { Identity } from "../../../src/vl1/identity.ts";
import { Verb } from "../../../src/vl1/packet.ts";
import {
  CONFIG_CHUNK_MAX_DATA,
  configChunkSignedBytes,
  decodeConfigChunk,
  decodeNetworkConfigRequest,
  decodeOkNetworkConfig,
  decodeOkNetworkConfigRequest,
  encodeConfigChunk,
  encodeNetworkConfigRequest,
  encodeOkNetworkConfig,
  encodeOkNetworkConfigRequest,
} from "../../../src/vl1/verbs/mod.ts";
import { fromHex, toHex } from "../../../src/util/hex.ts";

const NWID = 0x8e4df28b72000001n;
const CONTROLLER = Identity.fromString(
  "8e4df28b72:0:ac3d46abe0c21f3cfe7a6c8d6a85cfcffcb82fbd55af6a4d6350657c68200843fa2e16f9418bbd9702cae365f2af5fb4c420908b803a681d4daef6114d78a2d7:bd8dd6e4ce7022d2f812797a80c6ee8ad180dc4ebf301dec8b06d1be08832bddd63a2f1cfa7b2c504474c75bdc8898ba476ef92e8e2d0509f8441985171ff16e",
)!;

Deno.test("NETWORK_CONFIG_REQUEST: nwid | len | metadata | revision | timestamp", () => {
  const meta = new TextEncoder().encode("v=0000000000000007");
  const q = { networkId: NWID, metadata: meta, revision: 5n, timestamp: 0x18bcfe56800n };
  const enc = encodeNetworkConfigRequest(q);
  assert.equal(
    toHex(enc),
    "8e4df28b72000001" + "0012" + toHex(meta) + "0000000000000005" + "0000018bcfe56800",
  );
  assert.deepEqual(decodeNetworkConfigRequest(enc), q);
  // old requesters: no revision/timestamp, or not even metadata
  assert.deepEqual(decodeNetworkConfigRequest(enc, 0, 10 + meta.length), {
    networkId: NWID,
    metadata: meta,
  });
  assert.deepEqual(decodeNetworkConfigRequest(enc, 0, 8), {
    networkId: NWID,
    metadata: new Uint8Array(0),
  });
  assert.equal(decodeNetworkConfigRequest(enc, 0, 7), undefined);
  assert.equal(decodeNetworkConfigRequest(enc, 0, 10 + meta.length - 1), undefined);
  assert.equal(CONFIG_CHUNK_MAX_DATA, 9740);
});

Deno.test("config chunk: signed range, signature, OK(NETWORK_CONFIG_REQUEST) wrapper", () => {
  const dict = new TextEncoder().encode("v=0000000000000007\nnwid=8e4df28b72000001");
  const fields = {
    networkId: NWID,
    data: dict.subarray(0, 20),
    flags: 0,
    configUpdateId: 0x0123456789abcdefn,
    totalLength: dict.length,
    chunkIndex: 0,
  };
  const signed = configChunkSignedBytes(fields);
  assert.equal(
    toHex(signed),
    "8e4df28b72000001" + "0014" + toHex(dict.subarray(0, 20)) + "00" + "0123456789abcdef" +
      dict.length.toString(16).padStart(8, "0") + "00000000",
  );
  const sig = CONTROLLER.sign(signed);
  const chunk = encodeConfigChunk(fields, sig);
  assert.equal(toHex(chunk), toHex(signed) + "01" + "0060" + toHex(sig));
  const ok = encodeOkNetworkConfigRequest(0x1111n, chunk);
  assert.equal(ok[0], Verb.NETWORK_CONFIG_REQUEST);
  const d = decodeOkNetworkConfigRequest(ok)!;
  assert.equal(d.inRePacketId, 0x1111n);
  const c = d.chunk;
  assert.equal(c.legacy, false);
  assert.equal(c.networkId, NWID);
  assert.equal(c.configUpdateId, 0x0123456789abcdefn);
  assert.equal(c.totalLength, dict.length);
  assert.equal(c.chunkIndex, 0);
  assert.equal(c.flags, 0);
  assert.equal(c.signatureType, 1);
  assert.equal(c.signedStart, 9);
  assert.equal(toHex(ok.subarray(c.dataStart, c.dataEnd)), toHex(dict.subarray(0, 20)));
  assert.equal(toHex(ok.subarray(c.signedStart, c.signedEnd)), toHex(signed));
  assert.ok(CONTROLLER.verify(ok.subarray(c.signedStart, c.signedEnd), c.signature!));
  // truncated anywhere in the trailer -> undefined; cut right after the data -> legacy
  for (let n = 9 + 10 + 20 + 1; n < ok.length; n++) {
    assert.equal(decodeOkNetworkConfigRequest(ok, 0, n), undefined, `cut ${n}`);
  }
  const legacy = decodeConfigChunk(chunk, 0, 10 + 20)!;
  assert.equal(legacy.legacy, true);
  assert.equal(legacy.configUpdateId, undefined);
  assert.equal(legacy.dataEnd, 30);
  assert.equal(decodeConfigChunk(chunk, 0, 29), undefined);
});

Deno.test("OK(NETWORK_CONFIG) uses in-re verb ECHO with nwid + config update ID", () => {
  const o = { inRePacketId: 0xfeedn, networkId: NWID, configUpdateId: 77n };
  const enc = encodeOkNetworkConfig(o);
  assert.equal(toHex(enc), "08" + "000000000000feed" + "8e4df28b72000001" + "000000000000004d");
  assert.deepEqual(decodeOkNetworkConfig(enc), o);
  assert.equal(decodeOkNetworkConfig(enc, 0, enc.length - 1), undefined);
  assert.equal(decodeOkNetworkConfig(fromHex("0b" + toHex(enc.subarray(1)))), undefined);
});
