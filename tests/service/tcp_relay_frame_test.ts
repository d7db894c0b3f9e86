// Tests of the TCP relay framing: hello/datagram records, stream reassembly at any split, malformed and oversized input (fuzzed).
import assert from "node:assert/strict";
import {
  decodeBody,
  encodeDatagram,
  encodeHello,
  MAX_CLIENT_BODY_BYTES,
  MAX_RELAY_BODY_BYTES,
  RecordReader,
} from "../../src/service/tcp_relay_frame.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { seededRandom } from "../helpers/seeded_random.ts";

/** Feeds `stream` to a reader in the given chunk sizes; returns the bodies (copied) and error. */
function feed(
  r: RecordReader,
  stream: Uint8Array,
  sizes: number[],
): { bodies: Uint8Array[]; error?: string } {
  const bodies: Uint8Array[] = [];
  let off = 0;
  let k = 0;
  while (off < stream.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]);
    const err = r.push(stream.subarray(off, off + n), (b) => bodies.push(b.slice()));
    if (err) return { bodies, error: err };
    off += n;
  }
  return { bodies };
}

Deno.test("hello record is the reference's 9 bytes and decodes to the version", () => {
  const h = encodeHello(1, 14, 1);
  assert.deepEqual([...h], [0x17, 3, 3, 0, 4, 1, 14, 0, 1]);
  const r = decodeBody(h.subarray(5));
  assert.deepEqual(r, { kind: "hello", major: 1, minor: 14, revision: 1 });
});

Deno.test("datagram record carries the IPv4 address and port big-endian", () => {
  const a = InetAddress.fromIp("192.0.0.9", 9993)!;
  const data = new Uint8Array(20).map((_, i) => i);
  const rec = encodeDatagram(a, data)!;
  assert.deepEqual([...rec.subarray(0, 12)], [0x17, 3, 3, 0, 27, 4, 192, 0, 0, 9, 0x27, 0x09]);
  const r = decodeBody(rec.subarray(5));
  assert.ok(!("error" in r) && r.kind === "datagram");
  assert.ok(r.address!.equals(a));
  assert.deepEqual([...r.data], [...data]);
  assert.equal(encodeDatagram(InetAddress.fromIp("fd00::1", 9993)!, data), undefined);
});

Deno.test("IPv6 and address-less bodies decode; short and unknown ones are errors", () => {
  const v6 = new Uint8Array(19 + 16);
  v6[0] = 6;
  v6[1] = 0xfd;
  v6[17] = 0x27;
  v6[18] = 0x09;
  const r6 = decodeBody(v6);
  assert.ok(!("error" in r6) && r6.kind === "datagram");
  assert.equal(r6.address!.toString(), "fd00::/9993");
  assert.equal(r6.data.length, 16);
  const r0 = decodeBody(new Uint8Array([0, 1, 2, 3, 4, 5]));
  assert.ok(!("error" in r0) && r0.kind === "datagram" && r0.address === undefined);
  assert.equal(r0.data.length, 5);
  assert.ok("error" in decodeBody(new Uint8Array([4, 1, 2, 3, 4, 5])));
  assert.ok("error" in decodeBody(new Uint8Array([6, 1, 2, 3, 4, 5, 6, 7])));
  assert.ok("error" in decodeBody(new Uint8Array([9, 1, 2, 3, 4, 5, 6, 7])));
  assert.deepEqual(decodeBody(new Uint8Array(0)), { kind: "empty" });
});

Deno.test("reader reassembles records across every split of the stream (fuzzed)", () => {
  const rnd = seededRandom(7);
  for (let round = 0; round < 200; round++) {
    const records: Uint8Array[] = [];
    const expect: Uint8Array[] = [];
    const count = 1 + (rnd(1)[0] % 6);
    for (let i = 0; i < count; i++) {
      const len = 16 + ((rnd(2)[0] << 8 | rnd(1)[0]) % 2032);
      const data = rnd(len);
      const rec = encodeDatagram(InetAddress.fromIp("198.18.0.1", 20000 + i)!, data)!;
      records.push(rec);
      expect.push(rec.slice(5));
    }
    const stream = new Uint8Array(records.reduce((n, r) => n + r.length, 0));
    let off = 0;
    for (const r of records) {
      stream.set(r, off);
      off += r.length;
    }
    const sizes = Array.from(rnd(8), (b) => 1 + (b % 3 === 0 ? b * 13 : b % 7));
    const got = feed(new RecordReader(MAX_CLIENT_BODY_BYTES), stream, sizes);
    assert.equal(got.error, undefined);
    assert.equal(got.bodies.length, expect.length);
    for (let i = 0; i < expect.length; i++) assert.deepEqual(got.bodies[i], expect[i]);
  }
});

Deno.test("reader holds at most one record and reports it as buffered", () => {
  const r = new RecordReader(MAX_CLIENT_BODY_BYTES);
  const rec = encodeDatagram(InetAddress.fromIp("198.18.0.1", 9993)!, new Uint8Array(100))!;
  const seen: number[] = [];
  assert.equal(r.push(rec.subarray(0, 50), (b) => seen.push(b.length)), undefined);
  assert.equal(r.buffered, 50);
  assert.equal(r.push(rec.subarray(50), (b) => seen.push(b.length)), undefined);
  assert.equal(r.buffered, 0);
  assert.deepEqual(seen, [107]);
});

Deno.test("oversized records are refused before their body is read, in any split", () => {
  for (const split of [1, 2, 3, 5, 100]) {
    const r = new RecordReader(MAX_CLIENT_BODY_BYTES);
    const header = new Uint8Array([0x17, 3, 3, 0xff, 0xff]);
    const got = feed(r, header, [split]);
    assert.match(got.error ?? "", /exceeds the limit/);
    // after an error nothing more is accepted
    assert.match(r.push(encodeHello(1, 14, 1), () => assert.fail("no body")) ?? "", /exceeds/);
  }
  // the node's reader takes IPv6-addressed records the relay's does not
  const big = new Uint8Array([0x17, 3, 3, MAX_RELAY_BODY_BYTES >> 8, MAX_RELAY_BODY_BYTES & 255]);
  assert.match(new RecordReader(MAX_CLIENT_BODY_BYTES).push(big, () => {}) ?? "", /exceeds/);
  assert.equal(new RecordReader(MAX_RELAY_BODY_BYTES).push(big, () => {}), undefined);
});

Deno.test("a stream not starting with 0x17 is refused at its first byte", () => {
  for (const n of [1, 3, 9]) {
    const r = new RecordReader(MAX_CLIENT_BODY_BYTES);
    const junk = new TextEncoder().encode("GET / HTTP/1.1\r\n").subarray(0, n);
    assert.match(r.push(junk, () => assert.fail("no body")) ?? "", /does not start with 0x17/);
  }
});

Deno.test("random bytes never throw and never yield a body over the limit (fuzzed)", () => {
  const rnd = seededRandom(99);
  for (let round = 0; round < 500; round++) {
    const r = new RecordReader(64);
    const stream = rnd(1 + (rnd(1)[0] * 4));
    if (round % 2 === 0 && stream.length > 5) {
      stream[0] = 0x17;
      stream[3] = 0;
      stream[4] %= 80;
    }
    feed(r, stream, [1 + (round % 17)]).bodies.forEach((b) => {
      assert.ok(b.length <= 64);
      const d = decodeBody(b);
      assert.ok("error" in d || d.kind === "hello" || d.kind === "datagram" || d.kind === "empty");
    });
    assert.ok(r.buffered <= 69);
  }
});
