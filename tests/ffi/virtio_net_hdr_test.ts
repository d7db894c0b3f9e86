// Tests for the virtio-net header: field layout (little-endian) and NEEDS_CSUM checksum completion for UDP and TCP (0 → 0xffff for UDP only).
import assert from "node:assert/strict";
import {
  completeChecksum,
  readVnetHdr,
  VNET_HDR_LEN,
  type VnetHdr,
  writeVnetHdr,
} from "../../ffi/virtio_net_hdr.ts";
import { naiveChecksum, pattern, pseudoWords, tcpFrame, udpPartialFrame } from "./tcp_frames.ts";

const fresh = (): VnetHdr => ({
  flags: 9,
  gsoType: 9,
  hdrLen: 9,
  gsoSize: 9,
  csumStart: 9,
  csumOffset: 9,
});

Deno.test("virtio-net header: little-endian layout, write/read round trip", () => {
  const b = new Uint8Array(14);
  writeVnetHdr(b, 2, 1, 4, 0x0142, 0x05a8, 0x0036, 0x0010);
  assert.deepEqual([...b.subarray(2, 12)], [1, 4, 0x42, 0x01, 0xa8, 0x05, 0x36, 0x00, 0x10, 0x00]);
  assert.equal(VNET_HDR_LEN, 10);
  assert.deepEqual(readVnetHdr(b, 2, fresh()), {
    flags: 1,
    gsoType: 4,
    hdrLen: 0x142,
    gsoSize: 0x5a8,
    csumStart: 0x36,
    csumOffset: 16,
  });
});

/** UDP frame whose checksum over payload comes out as exactly 0 (the last payload word chosen). */
function udpZeroSumFrame(): Uint8Array {
  const f = udpPartialFrame(pattern(64));
  const ul = f.length - 34;
  // sum without the last word, complemented: choose the word making the total 0xffff
  f[f.length - 2] = f[f.length - 1] = 0;
  const field = [f[40], f[41]];
  f[40] = f[41] = 0;
  const rest = ~naiveChecksum(f, 34, f.length, pseudoWords(f, 14, false, 17, ul)) & 0xffff;
  const w = 0xffff - rest;
  f[f.length - 2] = w >> 8;
  f[f.length - 1] = w & 0xff;
  [f[40], f[41]] = field;
  return f;
}

Deno.test("virtio-net header: completing partial checksums (UDP, TCP, IPv6, zero result)", () => {
  for (const payload of [pattern(1), pattern(100), pattern(1471, 3)]) {
    const f = udpPartialFrame(payload);
    assert.notEqual(
      naiveChecksum(f, 34, f.length, pseudoWords(f, 14, false, 17, f.length - 34)),
      0,
    );
    assert.ok(completeChecksum(f, 0, f.length, 34, 6));
    assert.equal(naiveChecksum(f, 34, f.length, pseudoWords(f, 14, false, 17, f.length - 34)), 0);
  }
  // a frame at an offset inside a bigger buffer
  for (const v6 of [false, true]) {
    const t = tcpFrame({ v6, seq: 5, payload: pattern(999), csum: "partial" });
    const buf = new Uint8Array(t.length + 20);
    buf.set(t, 10);
    const start = v6 ? 54 : 34;
    assert.ok(completeChecksum(buf, 10, 10 + t.length, start, 16));
    const f = buf.slice(10, 10 + t.length);
    assert.equal(naiveChecksum(f, start, f.length, pseudoWords(f, 14, v6, 6, f.length - start)), 0);
    assert.equal(buf[9], 0);
    assert.equal(buf[10 + t.length], 0);
  }
  // UDP: a computed 0 is sent as 0xffff ("no checksum" otherwise); other protocols keep 0
  const z = udpZeroSumFrame();
  const z2 = z.slice();
  assert.ok(completeChecksum(z, 0, z.length, 34, 6));
  assert.deepEqual([z[40], z[41]], [0xff, 0xff]);
  assert.equal(naiveChecksum(z, 34, z.length, pseudoWords(z, 14, false, 17, z.length - 34)), 0);
  assert.ok(completeChecksum(z2, 0, z2.length, 34, 6));
  assert.deepEqual(z2, z);
  // a range whose sum (field included) folds to 0xffff: 0 for offset 2 (ICMPv6), 0xffff for 6
  for (const [off, want] of [[2, 0], [6, 0xffff], [16, 0]]) {
    const r = pattern(20, 7);
    r[off] = 0x12; // the "pseudo-header sum" in the field
    r[off + 1] = 0x34;
    r[18] = r[19] = 0;
    const w = 0xffff - (~naiveChecksum(r, 0, 20) & 0xffff);
    r[18] = w >> 8;
    r[19] = w & 0xff;
    assert.ok(completeChecksum(r, 0, 20, 0, off));
    assert.equal((r[off] << 8) | r[off + 1], want, `offset ${off}`);
  }
  // a field outside the frame: refused, nothing touched
  const u = udpPartialFrame(pattern(10));
  const before = u.slice();
  assert.equal(completeChecksum(u, 0, u.length, u.length - 1, 0), false);
  assert.equal(completeChecksum(u, 0, u.length, 34, u.length), false);
  assert.equal(completeChecksum(u, 0, u.length, 70_000, 6), false);
  assert.deepEqual(u, before);
});
