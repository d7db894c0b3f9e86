// Tests for packet payload LZ4 compression (spec §3.6) and its interplay with armor.
import assert from "node:assert/strict";
import {
  COMPRESSION_MIN_PAYLOAD,
  compressPacket,
  uncompressPacket,
} from "../../src/vl1/compression.ts";
import { armor, dearmor } from "../../src/vl1/armor.ts";
import { PeerKeys } from "../../src/vl1/peer_keys.ts";
import { isCompressed, MAX_PACKET_LENGTH, Verb } from "../../src/vl1/packet.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";

const HEADER = fromHex("deadbeef01020304112233445566778899aa000000000000000000"); // 27 bytes

function packet(verb: number, payload: Uint8Array, room = 0): Uint8Array {
  const p = new Uint8Array(28 + payload.length + room);
  p.set(HEADER);
  p[27] = verb;
  p.set(payload, 28);
  return p;
}

/** Text-like payload: repetitive, so LZ4 shrinks it. */
function textPayload(n: number): Uint8Array {
  const s = "n=lab_net\nmtu=0000000000000af0\nml=0000000000000020\n";
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = s.charCodeAt(i % s.length);
  return out;
}

function noisePayload(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

Deno.test("compressible payload > 64 bytes is compressed, 0x80 set, and round trips", () => {
  const payload = textPayload(600);
  const p = packet(Verb.NETWORK_CONFIG, payload);
  const n = compressPacket(p, p.length);
  assert.ok(n < p.length, `shrunk to ${n}`);
  assert.equal(p[27], 0x80 | Verb.NETWORK_CONFIG);
  assert.equal(toHex(p, 0, 27), toHex(HEADER, 0, 27), "header untouched");
  const u = uncompressPacket(p, n);
  assert.ok(u);
  assert.equal(u.length, 28 + payload.length);
  assert.equal(u[27], Verb.NETWORK_CONFIG, "bit cleared");
  assert.equal(toHex(u.subarray(28)), toHex(payload));
  assert.equal(u.buffer, p.buffer, "decompressed in place when the buffer has room");
});

Deno.test("64-byte payloads are never compressed, 65-byte compressible ones are", () => {
  assert.equal(COMPRESSION_MIN_PAYLOAD, 64);
  const p64 = packet(Verb.MULTICAST_LIKE, new Uint8Array(64));
  assert.equal(compressPacket(p64, p64.length), p64.length);
  assert.equal(p64[27], Verb.MULTICAST_LIKE);
  const p65 = packet(Verb.MULTICAST_LIKE, new Uint8Array(65));
  const n = compressPacket(p65, p65.length);
  assert.ok(n < p65.length);
  assert.equal(isCompressed(p65), true);
  const u = uncompressPacket(p65, n)!;
  assert.equal(toHex(u), toHex(packet(Verb.MULTICAST_LIKE, new Uint8Array(65))));
});

Deno.test("incompressible payload is left alone (result must be strictly smaller)", () => {
  const payload = noisePayload(1000);
  const p = packet(Verb.USER_MESSAGE, payload);
  const before = toHex(p);
  assert.equal(compressPacket(p, p.length), p.length);
  assert.equal(toHex(p), before);
  assert.equal(isCompressed(p), false);
  const u = uncompressPacket(p, p.length)!;
  assert.equal(u.length, p.length);
  assert.equal(u.buffer, p.buffer);
});

Deno.test("already compressed or malformed packets are not compressed again", () => {
  const p = packet(Verb.NETWORK_CONFIG, textPayload(300));
  const n = compressPacket(p, p.length);
  assert.equal(compressPacket(p, n), n);
  assert.equal(compressPacket(p, 20), 20);
  assert.equal(compressPacket(p, p.length + 5), p.length + 5);
});

Deno.test("uncompress into a too-small buffer returns a new array", () => {
  const payload = textPayload(2000);
  const p = packet(Verb.NETWORK_CONFIG, payload);
  const n = compressPacket(p, p.length);
  const tight = p.slice(0, n);
  const u = uncompressPacket(tight, n)!;
  assert.notEqual(u.buffer, tight.buffer);
  assert.equal(toHex(u.subarray(0, 27)), toHex(HEADER, 0, 27));
  assert.equal(u[27], Verb.NETWORK_CONFIG);
  assert.equal(toHex(u.subarray(28)), toHex(payload));
});

Deno.test("malformed compressed payloads and lengths give undefined", () => {
  assert.equal(uncompressPacket(new Uint8Array(27), 27), undefined);
  assert.equal(uncompressPacket(new Uint8Array(40), 41), undefined);
  assert.equal(uncompressPacket(new Uint8Array(40), -1), undefined);
  // Compressed flag on garbage: a match offset pointing before the output start.
  const bad = packet(0x80 | Verb.NETWORK_CONFIG, fromHex("1f41ffff"));
  assert.equal(uncompressPacket(bad, bad.length), undefined);
  // Truncated valid stream.
  const p = packet(Verb.NETWORK_CONFIG, textPayload(500));
  const n = compressPacket(p, p.length);
  assert.equal(uncompressPacket(p.slice(0, n - 3), n - 3), undefined);
  // Empty compressed payload: nothing to inflate, flag cleared.
  const e = packet(0x80 | Verb.ECHO, new Uint8Array(0));
  assert.equal(uncompressPacket(e, 28)?.[27], Verb.ECHO);
});

Deno.test("decompression is bounded by the max packet length", () => {
  const big = packet(Verb.NETWORK_CONFIG, new Uint8Array(MAX_PACKET_LENGTH - 28));
  const n = compressPacket(big, big.length);
  assert.ok(n < 200);
  assert.equal(uncompressPacket(big.slice(0, n), n)?.length, MAX_PACKET_LENGTH);
  const over = packet(Verb.NETWORK_CONFIG, new Uint8Array(MAX_PACKET_LENGTH - 27), 0);
  const m = compressPacket(over, over.length);
  assert.equal(uncompressPacket(over.slice(0, m), m), undefined, "one byte too many");
});

Deno.test("compress then armor (cipher 1, 3) then dearmor then uncompress", () => {
  const keys = new PeerKeys(new Uint8Array(48).map((_, i) => 0x40 + i));
  for (const c of [0, 1, 3] as const) {
    const payload = textPayload(900);
    const p = packet(Verb.NETWORK_CONFIG_REQUEST, payload);
    const n = compressPacket(p, p.length);
    armor(p, n, keys, c);
    assert.equal(dearmor(p, n, keys), true);
    const u = uncompressPacket(p, n)!;
    assert.equal(toHex(u.subarray(28)), toHex(payload), `cipher ${c}`);
  }
});
