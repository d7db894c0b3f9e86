// Config chunks: split + sign, reassembly rules (order, dedup, tamper, bounds, 3 concurrent updates, legacy).
import assert from "node:assert/strict";
import { toHex } from "../../src/util/hex.ts";
import { Identity } from "../../src/vl1/identity.ts";
import {
  CONFIG_CHUNK_MAX_DATA,
  configChunkSignedBytes,
  decodeConfigChunk,
  encodeConfigChunk,
} from "../../src/vl1/verbs/network_config.ts";
import {
  ConfigChunkAssembler,
  MAX_INCOMING_CONFIG_UPDATES,
  newConfigUpdateId,
  signConfigChunks,
} from "../../src/vl2/config_chunks.ts";
import { parseNetworkConfig } from "../../src/vl2/network_config.ts";
import { CONTROLLER, MEMBER, NETCONF, NWID } from "./vectors.ts";

const PUB = Identity.fromString(CONTROLLER.toString())!;
const CTRL = CONTROLLER.address.value;

Deno.test("chunks: the §12.6 dictionary in one chunk, verified and parsed", () => {
  const chunks = signConfigChunks(NETCONF, NWID, 0x1122n, CONTROLLER);
  assert.equal(chunks.length, 1);
  const c = decodeConfigChunk(chunks[0])!;
  assert.deepEqual([c.totalLength, c.chunkIndex, c.flags, c.signatureType], [1467, 0, 0, 1]);
  const a = new ConfigChunkAssembler(NWID);
  const r = a.accept(chunks[0], PUB, CTRL);
  assert.equal(r.status, "complete");
  if (r.status !== "complete") return;
  assert.equal(r.configUpdateId, 0x1122n);
  assert.equal(toHex(r.dictionary), toHex(NETCONF));
  assert.equal(parseNetworkConfig(r.dictionary)?.name, "test=net");
  assert.equal(a.accept(chunks[0], PUB, CTRL).status, "duplicate");
});

Deno.test("chunks: a big dictionary splits at 9740 bytes and reassembles in any order", () => {
  const dict = new Uint8Array(25_000).map((_, i) => (i * 7) & 0xff);
  const chunks = signConfigChunks(dict, NWID, 5n, CONTROLLER);
  assert.deepEqual(
    chunks.map((c) => decodeConfigChunk(c)!.chunkIndex),
    [0, CONFIG_CHUNK_MAX_DATA, 2 * CONFIG_CHUNK_MAX_DATA],
  );
  const a = new ConfigChunkAssembler(NWID);
  assert.equal(a.accept(chunks[2], PUB, CTRL).status, "partial");
  assert.equal(a.accept(chunks[2], PUB, CTRL).status, "duplicate");
  assert.equal(a.accept(chunks[0], PUB, CTRL).status, "partial");
  const r = a.accept(chunks[1], PUB, CTRL);
  assert.equal(r.status, "complete");
  assert.equal(r.status === "complete" && toHex(r.dictionary), toHex(dict));
  assert.equal(a.accept(chunks[1], PUB, CTRL).status, "duplicate");
});

Deno.test("chunks: rejections (tamper, signer, network, bounds, signature form, unknown controller)", () => {
  const dict = new Uint8Array(300).fill(0x41);
  const [chunk] = signConfigChunks(dict, NWID, 9n, CONTROLLER, 0, 1000);
  const a = () => new ConfigChunkAssembler(NWID);
  const status = (b: Uint8Array, id: Identity | undefined = PUB) => a().accept(b, id, CTRL).status;
  const t = chunk.slice();
  t[20] ^= 1; // a data byte
  assert.deepEqual(a().accept(t, PUB, CTRL), { status: "rejected", reason: "bad signature" });
  assert.equal(status(chunk, MEMBER), "rejected");
  assert.equal(new ConfigChunkAssembler(NWID + 1n).accept(chunk, PUB, CTRL).status, "rejected");
  assert.deepEqual(a().accept(chunk, undefined, CTRL), {
    status: "need-identity",
    controller: CTRL,
  });
  assert.equal(status(chunk.subarray(0, chunk.length - 1)), "malformed");
  // signature type / length
  const c = decodeConfigChunk(chunk)!;
  const fields = {
    networkId: NWID,
    data: dict,
    flags: 0,
    configUpdateId: 9n,
    totalLength: 300,
    chunkIndex: 0,
  };
  const badType = chunk.slice();
  badType[c.signedEnd] = 2;
  assert.equal(status(badType), "rejected");
  assert.equal(status(encodeConfigChunk(fields, c.signature!.subarray(0, 64))), "rejected");
  // offset + length > total, and too large for the capacity, even when properly signed
  const over = signConfigChunks(dict, NWID, 9n, CONTROLLER)[0];
  const oc = decodeConfigChunk(over)!;
  const shrunk = { ...fields, totalLength: 299 };
  assert.ok(oc.totalLength === 300);
  const shrunkChunk = encodeConfigChunk(shrunk, CONTROLLER.sign(configChunkSignedBytes(shrunk)));
  assert.deepEqual(a().accept(shrunkChunk, PUB, CTRL), {
    status: "rejected",
    reason: "chunk outside the dictionary",
  });
  assert.equal(new ConfigChunkAssembler(NWID, 299).accept(over, PUB, CTRL).status, "rejected");
  // legacy (no trailer): only from the controller itself
  const legacy = new Uint8Array(10 + 5);
  legacy.set(chunk.subarray(0, 8));
  legacy[9] = 5;
  legacy.set([1, 2, 3, 4, 5], 10);
  assert.equal(a().accept(legacy, PUB, MEMBER.address.value).status, "rejected");
  const lr = a().accept(legacy, undefined, CTRL);
  assert.equal(lr.status, "complete");
  assert.equal(lr.status === "complete" && lr.configUpdateId, 0n);
});

Deno.test("chunks: at most 3 updates in progress; a 4th evicts the oldest; fast propagate flag", () => {
  const dict = new Uint8Array(100).fill(7);
  const a = new ConfigChunkAssembler(NWID);
  const firstHalves = [1n, 2n, 3n, 4n].map((id) =>
    signConfigChunks(dict, NWID, id, CONTROLLER, 1, 50)
  );
  for (const [i, cs] of firstHalves.entries()) {
    const r = a.accept(cs[0], PUB, CTRL);
    assert.deepEqual(r, { status: "partial", configUpdateId: BigInt(i + 1), fastPropagate: true });
  }
  assert.equal(MAX_INCOMING_CONFIG_UPDATES, 3);
  assert.deepEqual(a.updates(), [2n, 3n, 4n]);
  // update 1 was evicted: its second half starts over instead of completing
  assert.equal(a.accept(firstHalves[0][1], PUB, CTRL).status, "partial");
  assert.deepEqual(a.updates(), [3n, 4n, 1n]);
  assert.equal(a.accept(firstHalves[3][1], PUB, CTRL).status, "complete");
});

Deno.test("chunks: update IDs are random and never 0", () => {
  assert.equal(newConfigUpdateId(() => new Uint8Array(8)), 1n);
  let n = 0;
  const seq = (k: number) => new Uint8Array(k).fill(n++ === 0 ? 0 : 0xab);
  assert.equal(newConfigUpdateId(seq), 0xababababababababn);
});
