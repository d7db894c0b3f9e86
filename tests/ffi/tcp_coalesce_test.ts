// Tests for GRO-style coalescing of TAP writes: segments merge back into the original super-frame; every refusal rule leaves frames unmerged and in order; limits; malformed input.
import assert from "node:assert/strict";
import { TcpCoalescer } from "../../ffi/tcp_coalesce.ts";
import { TcpSegmenter } from "../../ffi/tcp_segment.ts";
import {
  VNET_F_NEEDS_CSUM,
  VNET_GSO_TCPV4,
  VNET_GSO_TCPV6,
  VNET_HDR_LEN,
} from "../../ffi/virtio_net_hdr.ts";
import { seededBytes } from "../helpers/seeded_random.ts";
import {
  naiveChecksum,
  pattern,
  pseudoWords,
  type SegSpec,
  tcpFields,
  tcpFrame,
  tsOption,
  udpPartialFrame,
} from "./tcp_frames.ts";

/** One write the coalescer made. */
interface Written {
  hdr: number[];
  frame: Uint8Array;
  frames: number;
}

/** A coalescer whose sink records copies of what it writes. */
function recorder(opts = {}) {
  const writes: Written[] = [];
  const co = new TcpCoalescer((buf, length, frames) => {
    writes.push({
      hdr: [...buf.subarray(0, VNET_HDR_LEN)],
      frame: buf.slice(VNET_HDR_LEN, length),
      frames,
    });
  }, opts);
  return { co, writes };
}

/** Adds each frame at an offset inside a reused buffer (as the node does), then flushes. */
function feed(co: TcpCoalescer, frames: Uint8Array[], flush = true) {
  const scratch = new Uint8Array(70_000);
  for (const f of frames) {
    scratch.fill(0xee);
    scratch.set(f, 5);
    co.add(scratch, 5, 5 + f.length);
  }
  if (flush) co.flush();
}

/** `n` consecutive MSS segments of one flow starting at `seq`. */
function segments(n: number, mss: number, base: Partial<SegSpec> = {}, seq = 1000): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    out.push(tcpFrame({
      seq: seq + i * mss,
      id: 100 + i,
      options: tsOption(5),
      ...base,
      payload: pattern(mss, i + 1),
    }));
  }
  return out;
}

const u16le = (h: number[], o: number) => h[o] | (h[o + 1] << 8);

/** Asserts `w` is a correct merged super-frame of `segs` (headers, lengths, checksums). */
function assertMerged(w: Written, segs: Uint8Array[]) {
  const first = tcpFields(segs[0]);
  const v6 = first.v6;
  const mss = first.end - first.payload;
  const f = tcpFields(w.frame);
  const ipHl = first.tcp - first.ip;
  const thl = first.payload - first.tcp;
  assert.equal(w.frames, segs.length);
  assert.equal(w.hdr[0], VNET_F_NEEDS_CSUM);
  assert.equal(w.hdr[1], v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4);
  assert.equal(u16le(w.hdr, 2), 14 + ipHl + thl, "hdr_len");
  assert.equal(u16le(w.hdr, 4), mss, "gso_size");
  assert.equal(u16le(w.hdr, 6), 14 + ipHl, "csum_start");
  assert.equal(u16le(w.hdr, 8), 16, "csum_offset");
  const payload = new Uint8Array(segs.reduce((a, s) => a + tcpFields(s).payloadBytes.length, 0));
  let at = 0;
  for (const s of segs) {
    payload.set(tcpFields(s).payloadBytes, at);
    at += tcpFields(s).payloadBytes.length;
  }
  assert.deepEqual(f.payloadBytes, payload);
  assert.equal(w.frame.length, f.end);
  assert.equal(f.seq, first.seq);
  assert.equal(f.ack, first.ack);
  assert.equal(f.ipLen, v6 ? thl + payload.length : ipHl + thl + payload.length);
  if (!v6) {
    assert.equal(f.id, first.id);
    assert.equal(naiveChecksum(w.frame, f.ip, f.tcp), 0, "IPv4 header checksum");
  }
  // the TCP field holds the folded pseudo-header sum of the new length, not complemented
  const partial = ~naiveChecksum(w.frame, 0, 0, pseudoWords(w.frame, f.ip, v6, 6, f.end - f.tcp)) &
    0xffff;
  assert.equal(f.csumField, partial);
  // completing it (as the kernel would) gives a valid checksum over the merged segment
  const done = w.frame.slice();
  const c = naiveChecksum(done, f.tcp, f.end);
  done[f.tcp + 16] = c >> 8;
  done[f.tcp + 17] = c & 0xff;
  assert.equal(naiveChecksum(done, f.tcp, f.end, pseudoWords(done, f.ip, v6, 6, f.end - f.tcp)), 0);
  // the TCP header is the first segment's, with PSH if the last segment had it
  const lastPsh = tcpFields(segs[segs.length - 1]).flags & 0x08;
  assert.equal(f.flags, first.flags | lastPsh);
  assert.deepEqual(
    w.frame.slice(f.tcp + 18, f.payload),
    segs[0].slice(first.tcp + 18, first.payload),
  );
  assert.deepEqual(w.frame.slice(0, 14), segs[0].slice(0, 14));
}

/** Asserts `w` is `frame` written unchanged with a zeroed header. */
function assertUnmerged(w: Written, frame: Uint8Array, what = "") {
  assert.deepEqual(w.hdr, new Array(VNET_HDR_LEN).fill(0), `zero header ${what}`);
  assert.deepEqual(w.frame, frame, `unchanged frame ${what}`);
  assert.equal(w.frames, 1);
}

Deno.test("tcp coalesce: segments of a 64 KiB IPv4 super-frame merge back into it", () => {
  const spec: SegSpec = {
    seq: 0xffff0000,
    id: 0xfff0,
    flags: 0x18,
    options: tsOption(77),
    payload: pattern(65535 - 20 - 32, 5),
    csum: "partial",
  };
  const sup = tcpFrame(spec);
  const segs: Uint8Array[] = [];
  new TcpSegmenter().split(
    sup,
    0,
    sup.length,
    VNET_GSO_TCPV4,
    1448,
    (b, s, e) => segs.push(b.slice(s, e)),
  );
  assert.equal(segs.length, 46);
  const { co, writes } = recorder();
  feed(co, segs);
  assert.equal(writes.length, 1);
  assertMerged(writes[0], segs);
  // the merged frame is the original super-frame but for the checksum field (partial either way)
  assert.deepEqual(writes[0].frame, tcpFrame(spec));
  assert.equal(co.counters.coalescedWrites, 1);
  assert.equal(co.counters.coalescedFrames, 46);
  assert.equal(co.counters.framesIn, 46);
  assert.equal(co.pendingBytes, 0);
});

Deno.test("tcp coalesce: a merged write cut again (the refused-write fallback) gives the segments", () => {
  for (const v6 of [false, true]) {
    const segs = segments(9, 1357, { v6 });
    segs.push(
      tcpFrame({
        v6,
        seq: 1000 + 9 * 1357,
        id: 109,
        flags: 0x18,
        options: tsOption(5),
        payload: pattern(77),
      }),
    );
    const { co, writes } = recorder();
    feed(co, segs);
    assert.equal(writes.length, 1);
    const w = writes[0];
    const buf = new Uint8Array(VNET_HDR_LEN + w.frame.length);
    buf.set(w.hdr);
    buf.set(w.frame, VNET_HDR_LEN);
    const again: Uint8Array[] = [];
    const n = new TcpSegmenter().split(
      buf,
      VNET_HDR_LEN,
      buf.length,
      w.hdr[1],
      u16le(w.hdr, 4),
      (b, s, e) => {
        assert.ok(s >= VNET_HDR_LEN, "room for a header before every segment");
        again.push(b.slice(s, e));
      },
    );
    assert.equal(n, segs.length);
    assert.deepEqual(again, segs);
  }
});

Deno.test("tcp coalesce: IPv6 segments merge; a smaller last piece ends the group", () => {
  const segs = segments(5, 1300, { v6: true });
  const tail = tcpFrame({
    v6: true,
    seq: 1000 + 5 * 1300,
    options: tsOption(5),
    payload: pattern(200),
  });
  const after = tcpFrame({
    v6: true,
    seq: 1000 + 5 * 1300 + 200,
    options: tsOption(5),
    payload: pattern(1300),
  });
  const { co, writes } = recorder();
  feed(co, [...segs, tail, after]);
  assert.equal(writes.length, 2);
  assertMerged(writes[0], [...segs, tail]);
  assertUnmerged(writes[1], after, "after the short piece");
});

Deno.test("tcp coalesce: a bad checksum stays unmerged, in order, and splits the run", () => {
  for (const v6 of [false, true]) {
    const segs = segments(6, 1000, { v6 });
    const bad = segs[3].slice();
    bad[bad.length - 1] ^= 0x40; // payload corrupted, checksum no longer matches
    const { co, writes } = recorder();
    feed(co, [segs[0], segs[1], segs[2], bad, segs[4], segs[5]]);
    assert.equal(writes.length, 3, `v6 ${v6}`);
    assertMerged(writes[0], segs.slice(0, 3));
    assertUnmerged(writes[1], bad, "bad checksum");
    // segs[4] no longer follows the group's sequence (segs[3] missing): a new group
    assertMerged(writes[2], segs.slice(4));
    assert.equal(co.counters.badChecksums, 1);
  }
  // a bad IPv4 header checksum too
  const segs = segments(3, 1000);
  const badIp = segs[1].slice();
  badIp[14 + 8] = 63; // TTL changed without fixing the header checksum
  const { co, writes } = recorder();
  feed(co, [segs[0], badIp, segs[2]]);
  assert.equal(writes.length, 3);
  assertUnmerged(writes[0], segs[0]);
  assertUnmerged(writes[1], badIp);
  assertUnmerged(writes[2], segs[2]);
  assert.equal(co.counters.badChecksums, 1);
});

Deno.test("tcp coalesce: refusals leave frames unmerged and in order", () => {
  const mss = 1000;
  const s = (i: number, over: Partial<SegSpec> = {}) =>
    tcpFrame({
      seq: 1000 + i * mss,
      id: 100 + i,
      options: tsOption(5),
      payload: pattern(mss, i + 1),
      ...over,
    });
  const cases: [string, Uint8Array][] = [
    ["gap in seq", s(3)],
    ["seq overlap", s(1)],
    ["SYN", s(2, { flags: 0x12 })],
    ["FIN", s(2, { flags: 0x11 })],
    ["RST", s(2, { flags: 0x14 })],
    ["URG", s(2, { flags: 0x30 })],
    ["ECE", s(2, { flags: 0x50 })],
    ["CWR", s(2, { flags: 0x90 })],
    ["options differ", s(2, { options: tsOption(6) })],
    ["no options", s(2, { options: new Uint8Array(0) })],
    ["ack differs", s(2, { ack: 1 })],
    ["window differs", s(2, { window: 501 })],
    ["TTL differs", s(2, { ttl: 63 })],
    ["TOS differs", s(2, { tos: 4 })],
    ["DF differs", s(2, { df: false })],
    ["other MAC", s(2, { dstMac0: 0x36 })],
    [
      "bigger piece",
      tcpFrame({ seq: 3000, id: 102, options: tsOption(5), payload: pattern(mss + 1) }),
    ],
    ["no payload", s(2, { payload: new Uint8Array(0) })],
  ];
  for (const [what, third] of cases) {
    const first = [s(0), s(1)];
    const next = s(7, { srcPort: 999 }); // another flow after it
    const { co, writes } = recorder();
    feed(co, [...first, third, next]);
    assert.equal(writes.length, 3, what);
    assertMerged(writes[0], first);
    assertUnmerged(writes[1], third, what);
    assertUnmerged(writes[2], next, what);
  }
  // frames nothing may merge: IPv4 options, fragments, PSH first, VLAN tag, padding
  const padded = new Uint8Array(80);
  padded.set(tcpFrame({ seq: 1, payload: pattern(4) }));
  const alone: [string, Uint8Array][] = [
    ["IPv4 options", s(0, { ipOptions: 4 })],
    ["IPv4 options", s(1, { ipOptions: 4 })],
    ["MF fragment", s(0, { mf: true })],
    ["PSH on a first segment", s(0, { flags: 0x18 })],
    ["VLAN", s(0, { vlan: 5 })],
    ["VLAN", s(1, { vlan: 5 })],
    ["Ethernet padding", padded],
  ];
  const { co, writes } = recorder();
  feed(co, alone.map((a) => a[1]));
  assert.equal(writes.length, alone.length);
  alone.forEach(([what, f], i) => assertUnmerged(writes[i], f, what));
  assert.equal(co.counters.coalescedWrites, 0);
});

Deno.test("tcp coalesce: IPv4 ID rules: DF clear needs consecutive IDs, DF set ignores them", () => {
  const noDf = segments(4, 800, { df: false });
  const { co, writes } = recorder();
  feed(co, noDf);
  assert.equal(writes.length, 1);
  assertMerged(writes[0], noDf);
  const badId = [...segments(2, 800, { df: false })];
  badId.push(
    tcpFrame({ seq: 1000 + 1600, id: 150, df: false, options: tsOption(5), payload: pattern(800) }),
  );
  const r2 = recorder();
  feed(r2.co, badId);
  assert.equal(r2.writes.length, 2);
  const fixedId = [0, 1, 2].map((i) =>
    tcpFrame({ seq: 1000 + i * 800, id: 0, options: tsOption(5), payload: pattern(800, i) })
  );
  const r3 = recorder();
  feed(r3.co, fixedId);
  assert.equal(r3.writes.length, 1);
  assertMerged(r3.writes[0], fixedId);
});

Deno.test("tcp coalesce: interleaved flows merge separately; other frames keep their order", () => {
  const a = segments(4, 1200, { srcPort: 1111 });
  const b = segments(4, 1200, { srcPort: 2222 }, 50_000);
  const c6 = segments(3, 1200, { v6: true, srcPort: 1111 }); // same ports, IPv6: another flow
  const udp1 = udpPartialFrame(pattern(100));
  const udp2 = udpPartialFrame(pattern(101));
  const arp = new Uint8Array(42).fill(0xff);
  arp[12] = 0x08;
  arp[13] = 0x06;
  const { co, writes } = recorder();
  feed(co, [a[0], b[0], udp1, a[1], c6[0], b[1], arp, a[2], c6[1], b[2], udp2, a[3], b[3], c6[2]]);
  assert.equal(writes.length, 6);
  assertMerged(writes[0], a);
  assertMerged(writes[1], b);
  assertUnmerged(writes[2], udp1);
  assertMerged(writes[3], c6);
  assertUnmerged(writes[4], arp);
  assertUnmerged(writes[5], udp2);
});

Deno.test("tcp coalesce: a flow's fragment or pure ACK is not overtaken by later segments", () => {
  const seg = segments(4, 1000);
  const frag = tcpFrame({ seq: 0, payload: pattern(100) });
  frag[14 + 6] = 0x00;
  frag[14 + 7] = 0x10; // fragment offset 16 (no TCP header inside, same addresses)
  const ack = tcpFrame({ seq: 1000 + 2 * 1000, options: tsOption(5), payload: new Uint8Array(0) });
  const { co, writes } = recorder();
  feed(co, [seg[0], seg[1], frag, seg[2], ack, seg[3]]);
  assert.equal(writes.length, 5);
  assertMerged(writes[0], seg.slice(0, 2));
  assertUnmerged(writes[1], frag);
  assertUnmerged(writes[2], seg[2]);
  assertUnmerged(writes[3], ack);
  assertUnmerged(writes[4], seg[3]);
});

Deno.test("tcp coalesce: 65535-byte IP limit, flow and byte limits flush early, order kept", () => {
  // 70 segments of 1000 bytes: the first group stops below 65535 IP bytes
  const segs = segments(70, 1000);
  const { co, writes } = recorder();
  feed(co, segs);
  assert.equal(writes.length, 2);
  const n0 = writes[0].frames;
  assert.equal(n0, Math.floor((65535 - 20 - 32) / 1000));
  assertMerged(writes[0], segs.slice(0, n0));
  assertMerged(writes[1], segs.slice(n0));

  // three flows with room for two groups: the third forces a flush of the first two
  const flows = [1, 2, 3].map((p) => segments(3, 500, { srcPort: p }));
  const r = recorder({ maxFlows: 2 });
  feed(r.co, [
    flows[0][0],
    flows[1][0],
    flows[0][1],
    flows[2][0],
    flows[0][2],
    flows[1][1],
    flows[2][1],
  ]);
  assert.ok(r.co.counters.limitFlushes >= 1);
  // per flow: payload order preserved across all writes
  for (const port of [1, 2, 3]) {
    const seqs = r.writes.filter((w) => ((w.frame[34] << 8) | w.frame[35]) === port).map((w) =>
      tcpFields(w.frame).seq
    );
    const sorted = [...seqs].sort((x, y) => x - y);
    assert.deepEqual(seqs, sorted, `flow ${port} in order`);
  }
  assertMerged(r.writes[0], flows[0].slice(0, 2));

  // byte limit: 10 KiB of buffering writes long before 64 KiB
  const r2 = recorder({ maxBytes: 10 * 1024 });
  feed(r2.co, segments(30, 1000), false);
  assert.ok(r2.writes.length >= 2, `${r2.writes.length} writes before flush`);
  assert.ok(r2.co.pendingBytes <= 10 * 1024);
  r2.co.flush();
  assert.equal(r2.writes.reduce((a, w) => a + w.frames, 0), 30);

  // frame-count limit with many small non-TCP frames
  const r3 = recorder({ maxFrames: 8 });
  feed(r3.co, Array.from({ length: 20 }, (_, i) => udpPartialFrame(pattern(10 + i))), false);
  assert.equal(r3.writes.length, 16);
  assert.equal(r3.co.pendingFrames, 4);
  r3.co.flush();
  r3.writes.forEach((w, i) => assertUnmerged(w, udpPartialFrame(pattern(10 + i))));
});

Deno.test("tcp coalesce: malformed and lying frames never throw and are written unchanged", () => {
  const good = tcpFrame({ seq: 1, payload: pattern(500) });
  const lies: Uint8Array[] = [
    new Uint8Array(1),
    good.slice(0, 13),
    good.slice(0, 40),
    tcpFrame({ seq: 1, payload: pattern(500), ipLenOverride: 5000 }),
    tcpFrame({ seq: 1, payload: pattern(500), ipLenOverride: 10 }),
    tcpFrame({ v6: true, seq: 1, payload: pattern(500), ipLenOverride: 6000 }),
    tcpFrame({ v6: true, seq: 1, payload: pattern(5) }).slice(0, 60),
  ];
  const doff = good.slice();
  doff[14 + 20 + 12] = 0xf0;
  lies.push(doff);
  const doff2 = good.slice();
  doff2[14 + 20 + 12] = 0x10;
  lies.push(doff2);
  const rnd = seededBytes(100_000, 9);
  let r = 0;
  for (let t = 0; t < 500; t++) {
    const f = (t % 2 ? good : tcpFrame({ v6: true, seq: 9, payload: pattern(300) })).slice();
    for (let k = 0; k < 3; k++) f[rnd[r++] % 80] = rnd[r++];
    lies.push(f.slice(0, t % 5 === 0 ? rnd[r++] % f.length + 1 : f.length));
  }
  const { co, writes } = recorder();
  feed(co, lies);
  const total = writes.reduce((a, w) => a + w.frames, 0);
  assert.equal(total, lies.length);
  // everything unmerged comes out byte for byte; merged writes only from valid segments
  let i = 0;
  for (const w of writes) {
    if (w.frames === 1 && w.hdr[1] === 0) assert.deepEqual(w.frame, lies[i]);
    i += w.frames;
  }
  // bad arguments
  co.add(good, 10, 5);
  co.add(good, -1, 5);
  co.add(good, 0, good.length + 1);
  assert.equal(co.pendingFrames, 0);
});

Deno.test("coalescer: add() says whether a later frame may join (TCP) or not (flush at once)", () => {
  const { co, writes } = recorder();
  const seg = segments(2, 1000);
  assert.equal(co.add(seg[0]), true, "a mergeable TCP segment");
  assert.equal(co.add(seg[1]), true, "merged into its flow");
  const udp = udpPartialFrame(pattern(40));
  assert.equal(co.add(udp), false, "UDP: nothing merges with it");
  co.flush();
  assert.equal(writes.length, 2);
  assert.equal(writes[0].frames, 2, "the TCP segments merged, written first");
  assert.deepEqual(writes[1].frame, udp);
  const arp = new Uint8Array(42);
  arp.set([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x06]);
  assert.equal(co.add(arp), false, "ARP");
  assert.equal(co.add(arp, 5, 2), false, "bad range");
});
