// Tests for TCP segmentation of GSO super-frames: IPv4/IPv6 64 KiB frames into MSS pieces (checksums by a naive verifier, seq/id/flags), VLAN, extension headers, malformed input.
import assert from "node:assert/strict";
import { MAX_SEGMENT_HEADERS, TcpSegmenter } from "../../ffi/tcp_segment.ts";
import { VNET_GSO_ECN, VNET_GSO_TCPV4, VNET_GSO_TCPV6 } from "../../ffi/virtio_net_hdr.ts";
import { seededBytes } from "../helpers/seeded_random.ts";
import { checksumsOk, pattern, type SegSpec, tcpFields, tcpFrame, tsOption } from "./tcp_frames.ts";

/** Runs the segmenter on a copy of `frame` placed at `at` in a bigger buffer; returns copies. */
function split(frame: Uint8Array, gsoType: number, gsoSize: number, at = 10) {
  const buf = new Uint8Array(at + frame.length + 64);
  buf.set(frame, at);
  const out: Uint8Array[] = [];
  const ranges: [number, number][] = [];
  const n = new TcpSegmenter().split(buf, at, at + frame.length, gsoType, gsoSize, (b, s, e) => {
    assert.ok(s >= at && e <= at + frame.length && s < e, `range ${s}..${e}`);
    ranges.push([s, e]);
    out.push(b.slice(s, e));
  });
  return { n, out, ranges };
}

/** Checks that `segs` are the segmentation of super-frame `spec` with `mss`. */
function checkSegments(spec: SegSpec, segs: Uint8Array[], mss: number) {
  const total = spec.payload.length;
  assert.equal(segs.length, Math.ceil(total / mss));
  const orig = tcpFields(tcpFrame(spec));
  const flags0 = spec.flags ?? 0x10;
  for (let i = 0; i < segs.length; i++) {
    const f = tcpFields(segs[i]);
    const chunk = Math.min(mss, total - i * mss);
    assert.ok(checksumsOk(segs[i]), `checksums of segment ${i}`);
    assert.deepEqual(f.payloadBytes, spec.payload.slice(i * mss, i * mss + chunk), `payload ${i}`);
    assert.equal(f.seq, (spec.seq + i * mss) >>> 0, `seq ${i}`);
    assert.equal(f.ack, orig.ack);
    assert.equal(f.end - f.payload, chunk);
    assert.equal(segs[i].length, f.end, "frame ends with the IP packet");
    if (f.v6) {
      assert.equal(f.ipLen, f.end - f.ip - 40);
    } else {
      assert.equal(f.ipLen, f.end - f.ip);
      assert.equal(f.id, ((spec.id ?? 0x1234) + i) & 0xffff, `id ${i}`);
    }
    let want = flags0;
    if (i > 0) want &= ~0x80;
    if (i < segs.length - 1) want &= ~0x09;
    assert.equal(f.flags, want, `flags ${i}`);
    // headers other than the rewritten fields are the original ones
    assert.deepEqual(segs[i].slice(0, 12), tcpFrame(spec).slice(0, 12));
    assert.deepEqual(
      segs[i].slice(f.tcp + 20, f.payload),
      tcpFrame(spec).slice(orig.tcp + 20, orig.payload),
    );
  }
}

Deno.test("tcp segment: a 64 KiB IPv4 super-frame becomes MSS frames (checksums, seq, id, flags)", () => {
  const spec: SegSpec = {
    seq: 0xfffff000, // wraps during the frame
    id: 0xfffe, // wraps too
    flags: 0x18 | 0x01, // ACK PSH FIN: PSH/FIN only on the last
    options: tsOption(123456),
    payload: pattern(65535 - 20 - 32, 7),
    csum: "partial",
  };
  const frame = tcpFrame(spec);
  assert.equal(frame.length, 14 + 65535);
  const { n, out } = split(frame, VNET_GSO_TCPV4, 1448);
  assert.equal(n, Math.ceil(spec.payload.length / 1448));
  checkSegments(spec, out, 1448);
  assert.equal(out[0].length, 14 + 20 + 32 + 1448);
});

Deno.test("tcp segment: IPv6 super-frame, CWR only on the first (ECN), odd MSS", () => {
  const spec: SegSpec = {
    v6: true,
    seq: 1000,
    flags: 0x80 | 0x10 | 0x08, // CWR ACK PSH
    options: tsOption(99),
    payload: pattern(60001, 3),
    csum: "partial",
  };
  const { n, out } = split(tcpFrame(spec), VNET_GSO_TCPV6 | VNET_GSO_ECN, 2707);
  assert.equal(n, 23);
  checkSegments(spec, out, 2707);
  assert.equal(tcpFields(out[0]).flags, 0x90);
  assert.equal(tcpFields(out[1]).flags, 0x10);
  assert.equal(tcpFields(out[22]).flags, 0x18);
});

Deno.test("tcp segment: VLAN tag, IPv4 options, IPv6 hop-by-hop, payload ≤ MSS, wrong partial sum", () => {
  for (
    const spec of [
      { seq: 5, vlan: 42, payload: pattern(10000), csum: "partial" },
      { seq: 5, ipOptions: 8, payload: pattern(9000), id: 7 },
      { v6: true, hopByHop: true, seq: 77, payload: pattern(7777), csum: "partial" },
      { seq: 9, payload: pattern(1000), csum: "partial" }, // one segment
      { seq: 9, payload: pattern(3000) }, // field holds a full checksum: recomputed anyway
    ] as SegSpec[]
  ) {
    const { n, out } = split(tcpFrame(spec), spec.v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4, 1400);
    assert.equal(n, Math.ceil(spec.payload.length / 1400), JSON.stringify(spec));
    checkSegments(spec, out, 1400);
    if (spec.vlan !== undefined) {
      for (const s of out) assert.deepEqual([...s.slice(12, 16)], [0x81, 0, 0, 42]);
    }
  }
});

Deno.test("tcp segment: the split is in place and at any buffer offset; trailing bytes ignored", () => {
  const spec: SegSpec = { seq: 1, payload: pattern(5000), csum: "partial" };
  const frame = tcpFrame(spec);
  const padded = new Uint8Array(frame.length + 7);
  padded.set(frame);
  const { n, out, ranges } = split(padded, VNET_GSO_TCPV4, 1000, 3);
  assert.equal(n, 5);
  checkSegments(spec, out, 1000);
  // segment i starts where its headers fit right before its payload chunk
  for (let i = 1; i < n; i++) assert.equal(ranges[i][0], ranges[i - 1][1] - 54);
});

Deno.test("tcp segment: malformed super-frames return -1 and never throw", () => {
  const good = tcpFrame({ seq: 1, payload: pattern(4000), csum: "partial" });
  const good6 = tcpFrame({ v6: true, seq: 1, payload: pattern(4000), csum: "partial" });
  const cases: [string, Uint8Array, number, number][] = [
    ["gso size 0", good, VNET_GSO_TCPV4, 0],
    ["unknown gso type (UDP)", good, 3, 1000],
    ["v4 type on an IPv6 frame", good6, VNET_GSO_TCPV4, 1000],
    ["v6 type on an IPv4 frame", good, VNET_GSO_TCPV6, 1000],
    ["runt", good.slice(0, 13), VNET_GSO_TCPV4, 1000],
    ["truncated", good.slice(0, 2000), VNET_GSO_TCPV4, 1000],
    ["headers only", tcpFrame({ seq: 1, payload: new Uint8Array(0) }), VNET_GSO_TCPV4, 1000],
    ["fragment", tcpFrame({ seq: 1, payload: pattern(4000), mf: true }), VNET_GSO_TCPV4, 1000],
    [
      "IP length too long",
      tcpFrame({ seq: 1, payload: pattern(4000), ipLenOverride: 4100 }),
      1,
      1000,
    ],
    [
      "IP length too short",
      tcpFrame({ seq: 1, payload: pattern(4000), ipLenOverride: 30 }),
      1,
      1000,
    ],
    [
      "IPv6 jumbogram",
      tcpFrame({ v6: true, seq: 1, payload: pattern(100), ipLenOverride: 0 }),
      4,
      50,
    ],
  ];
  const badDoff = good.slice();
  badDoff[14 + 20 + 12] = 0x40; // data offset 4
  cases.push(["data offset < 5", badDoff, VNET_GSO_TCPV4, 1000]);
  const hugeDoff = tcpFrame({ seq: 1, payload: pattern(20) });
  hugeDoff[14 + 20 + 12] = 0xf0; // 60-byte header in a 40-byte packet
  cases.push(["data offset past the end", hugeDoff, VNET_GSO_TCPV4, 10]);
  const routing = good6.slice();
  routing[14 + 6] = 43;
  cases.push(["IPv6 routing header", routing, VNET_GSO_TCPV6, 1000]);
  const udp = good.slice();
  udp[14 + 9] = 17;
  cases.push(["not TCP", udp, VNET_GSO_TCPV4, 1000]);
  for (const [what, f, type, size] of cases) {
    const { n, out } = split(f, type, size);
    assert.equal(n, -1, what);
    assert.equal(out.length, 0, what);
  }
  assert.ok(MAX_SEGMENT_HEADERS >= 14 + 8 + 60 + 60);
});

Deno.test("tcp segment: random corruption of headers never throws nor strays out of the frame", () => {
  const rnd = seededBytes(200_000, 5);
  let r = 0;
  const base = [
    tcpFrame({ seq: 1, payload: pattern(3000), csum: "partial", options: tsOption(1) }),
    tcpFrame({ v6: true, hopByHop: true, seq: 1, payload: pattern(3000), csum: "partial" }),
    tcpFrame({ vlan: 3, seq: 1, payload: pattern(3000), csum: "partial" }),
  ];
  let ok = 0;
  for (let t = 0; t < 3000; t++) {
    const f = base[t % 3].slice(0, t % 7 === 0 ? 1 + (rnd[r++] * 13) % 3000 : undefined);
    for (let k = 0; k < 1 + (t % 4); k++) {
      const pos = ((rnd[r++] << 8) | rnd[r++]) % Math.min(f.length, 120);
      f[pos] = rnd[r++];
    }
    const { n } = split(f, t % 2 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6, 1 + (rnd[r++] << 2));
    if (n > 0) ok++;
  }
  assert.ok(ok > 100, `${ok} corrupted frames still segmented`);
});
