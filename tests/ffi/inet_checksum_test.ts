// Tests for the Internet checksum: RFC 1071 and real IPv4 headers (recorded capture), odd lengths, chaining, long ranges, pseudo-headers.
import { naiveChecksum } from "./tcp_frames.ts";
import assert from "node:assert/strict";
import { fixtureBytes } from "../fixtures.ts";
import { seededBytes } from "../helpers/seeded_random.ts";
import {
  foldSum,
  inetChecksum,
  onesSum,
  pseudoSumV4,
  pseudoSumV6,
} from "../../ffi/inet_checksum.ts";
import { fromHex } from "../../src/util/hex.ts";

Deno.test("inet checksum: RFC 1071 section 3 example", () => {
  // bytes 00 01 f2 03 f4 f5 f6 f7: the sum is 0x2ddf0, folded 0xddf2, checksum 0x220d
  const b = fromHex("0001f203f4f5f6f7");
  assert.equal(onesSum(b, 0, 8), 0x2ddf0);
  assert.equal(foldSum(onesSum(b, 0, 8)), 0xddf2);
  assert.equal(inetChecksum(b, 0, 8), 0x220d);
});

Deno.test("inet checksum: a textbook IPv4 header (checksum b861)", () => {
  const h = fromHex("450000730000400040110000c0a80001c0a800c7");
  assert.equal(inetChecksum(h, 0, 20), 0xb861);
  h[10] = 0xb8;
  h[11] = 0x61;
  assert.equal(inetChecksum(h, 0, 20), 0);
  h[15] ^= 1;
  assert.notEqual(inetChecksum(h, 0, 20), 0);
});

Deno.test("inet checksum: every IPv4 header of the recorded capture verifies and recomputes", () => {
  const pcap = fixtureBytes("captures/session.pcap");
  const dv = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  assert.equal(dv.getUint32(0, true), 0xa1b2c3d4);
  assert.equal(dv.getUint32(20, true), 1); // Ethernet
  let off = 24;
  let headers = 0;
  while (off + 16 <= pcap.length) {
    const caplen = dv.getUint32(off + 8, true);
    const f = pcap.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    if (f.length < 34 || f[12] !== 0x08 || f[13] !== 0x00) continue;
    const ihl = (f[14] & 15) * 4;
    assert.equal(inetChecksum(f, 14, 14 + ihl), 0, `header ${headers}`);
    const stored = (f[24] << 8) | f[25];
    const copy = f.slice(14, 14 + ihl);
    copy[10] = copy[11] = 0;
    assert.equal(inetChecksum(copy, 0, ihl), stored);
    assert.equal(naiveChecksum(copy, 0, ihl), stored);
    headers++;
  }
  assert.equal(headers, 275);
});

Deno.test("inet checksum: matches the naive reference on random data, odd lengths and offsets", () => {
  const data = seededBytes(70_000, 7);
  for (let t = 0; t < 400; t++) {
    const start = (t * 7919) % 3000;
    const len = t < 40 ? t : (t * 104729) % 66_000;
    const end = Math.min(data.length, start + len);
    assert.equal(
      inetChecksum(data, start, end),
      naiveChecksum(data, start, end),
      `${start}+${len}`,
    );
  }
  // all-ones data: sums that fold to 0xffff give checksum 0
  const ones = new Uint8Array(1000).fill(0xff);
  assert.equal(inetChecksum(ones, 0, 1000), 0);
  assert.equal(inetChecksum(new Uint8Array(10), 0, 10), 0xffff);
  // never reads outside the range
  const fenced = new Uint8Array([0xaa, 0x12, 0x34, 0x56, 0xbb]);
  assert.equal(inetChecksum(fenced, 1, 4), ~(0x1234 + 0x5600) & 0xffff);
});

Deno.test("inet checksum: views at every byte offset, buffers of odd size, ranges to the end", () => {
  const backing = seededBytes(20_003, 5); // byteLength not a multiple of 4
  let checked = 0;
  for (let off = 0; off < 8; off++) {
    const v = backing.subarray(off);
    for (let t = 0; t < 60; t++) {
      const start = (t * 613 + off) % 700;
      const end = t % 3 === 0 ? v.length : Math.min(v.length, start + 64 + ((t * 7717) % 9000));
      assert.equal(
        inetChecksum(v, start, end),
        naiveChecksum(v, start, end),
        `${off}:${start}-${end}`,
      );
      checked++;
    }
  }
  assert.equal(checked, 480);
  // a long range between fence bytes: nothing outside it counts
  const fenced = seededBytes(403, 9);
  fenced[0] =
    fenced[1] =
    fenced[401] =
    fenced[402] =
      0xff;
  const inner = fenced.slice(2, 401);
  assert.equal(inetChecksum(fenced, 2, 401), inetChecksum(inner, 0, inner.length));
  assert.equal(inetChecksum(fenced, 2, 401), naiveChecksum(inner, 0, inner.length));
});

Deno.test("inet checksum: chained even-length ranges equal one pass; long ranges (> 4 MiB rounds)", () => {
  const data = seededBytes(9 * 1024 * 1024 + 3, 11);
  const whole = inetChecksum(data, 0, data.length);
  assert.equal(whole, naiveChecksum(data, 0, data.length));
  let s = 0;
  for (let i = 0; i < data.length; i += 65536) {
    s = onesSum(data, i, Math.min(i + 65536, data.length), s);
  }
  assert.equal(~foldSum(s) & 0xffff, whole);
});

Deno.test("inet checksum: pseudo-headers of IPv4 and IPv6 (hand-built TCP segments)", () => {
  // IPv4 10.0.0.1 -> 10.0.0.2, a 20-byte TCP header + "hi", against the naive implementation
  const v4 = fromHex("4500002c00004000400600000a0000010a000002");
  const tcp = fromHex("d431005000000001000000005018ffff000000006869");
  const c4 = inetChecksum(tcp, 0, tcp.length, pseudoSumV4(v4, 0, 6, tcp.length));
  assert.equal(
    c4,
    naiveChecksum(tcp, 0, tcp.length, [0x0a00, 0x0001, 0x0a00, 0x0002, 6, tcp.length]),
  );
  tcp[16] = c4 >> 8;
  tcp[17] = c4 & 0xff;
  assert.equal(inetChecksum(tcp, 0, tcp.length, pseudoSumV4(v4, 0, 6, tcp.length)), 0);
  // IPv6 fd00::1 -> fd00::2
  const v6 = new Uint8Array(40);
  v6.set([0x60, 0, 0, 0, 0, tcp.length, 6, 64]);
  v6[8] = v6[24] = 0xfd;
  v6[23] = 1;
  v6[39] = 2;
  tcp[16] = tcp[17] = 0;
  const words = [0xfd00, 0, 0, 0, 0, 0, 0, 1, 0xfd00, 0, 0, 0, 0, 0, 0, 2, 0, tcp.length, 0, 6];
  const c6 = inetChecksum(tcp, 0, tcp.length, pseudoSumV6(v6, 0, 6, tcp.length));
  assert.equal(c6, naiveChecksum(tcp, 0, tcp.length, words));
  // a 32-bit upper-layer length counts as two words
  assert.equal(pseudoSumV6(v6, 0, 6, 0x12345), pseudoSumV6(v6, 0, 6, 0) + 0x1 + 0x2345);
});
