// Tests the pcap reader (real capture, every link type and byte order, malformed files) and the JSONL form.
import assert from "node:assert/strict";
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import {
  type CapturedDatagram,
  formatCaptureJsonl,
  parseCaptureJsonl,
} from "../../src/vl1/capture_jsonl.ts";
import {
  isPcap,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  parsePcap,
} from "../../src/vl1/pcap.ts";

// ---- an independent little pcap writer for synthetic captures ----

function u16be(v: number): number[] {
  return [(v >>> 8) & 0xff, v & 0xff];
}

function ipv4Udp(
  src: number[],
  dst: number[],
  sport: number,
  dport: number,
  payload: Uint8Array,
  opts: { proto?: number; fragOff?: number; options?: number } = {},
): Uint8Array {
  const optLen = (opts.options ?? 0) * 4;
  const ihl = 20 + optLen;
  const total = ihl + 8 + payload.length;
  const b = new Uint8Array(total);
  b.set([0x40 | (ihl / 4), 0, ...u16be(total), 0x12, 0x34, ...u16be(opts.fragOff ?? 0x4000)]);
  b[8] = 64;
  b[9] = opts.proto ?? 17;
  b.set(src, 12);
  b.set(dst, 16);
  b.set([...u16be(sport), ...u16be(dport), ...u16be(8 + payload.length), 0, 0], ihl);
  b.set(payload, ihl + 8);
  return b;
}

function ipv6Udp(
  src: Uint8Array,
  dst: Uint8Array,
  sport: number,
  dport: number,
  payload: Uint8Array,
  hopByHop = false,
): Uint8Array {
  const ext = hopByHop ? 8 : 0;
  const plen = ext + 8 + payload.length;
  const b = new Uint8Array(40 + plen);
  b[0] = 0x60;
  b.set(u16be(plen), 4);
  b[6] = hopByHop ? 0 : 17;
  b[7] = 64;
  b.set(src, 8);
  b.set(dst, 24);
  if (hopByHop) b.set([17, 0, 1, 4, 0, 0, 0, 0], 40); // next = UDP, len 8, PadN
  b.set([...u16be(sport), ...u16be(dport), ...u16be(8 + payload.length), 0, 0], 40 + ext);
  b.set(payload, 48 + ext);
  return b;
}

function frame(linkType: number, ip: Uint8Array, bigEndian: boolean, vlan = false): Uint8Array {
  const v6 = ip[0] >> 4 === 6;
  const et = v6 ? 0x86dd : 0x0800;
  let head: number[];
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      head = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
      if (vlan) head.push(0x81, 0x00, 0x00, 0x05);
      head.push(...u16be(et));
      break;
    case LINKTYPE_LINUX_SLL:
      head = [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...u16be(et)];
      break;
    case LINKTYPE_LINUX_SLL2:
      head = [...u16be(et), 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
      break;
    case LINKTYPE_NULL: {
      const fam = v6 ? 10 : 2;
      head = bigEndian ? [0, 0, 0, fam] : [fam, 0, 0, 0];
      break;
    }
    default:
      head = [];
  }
  const out = new Uint8Array(head.length + ip.length);
  out.set(head);
  out.set(ip, head.length);
  return out;
}

interface Rec {
  sec: number;
  frac: number;
  data: Uint8Array;
  orig?: number;
}

function pcapFile(linkType: number, recs: Rec[], bigEndian: boolean, nano = false): Uint8Array {
  const size = 24 + recs.reduce((n, r) => n + 16 + r.data.length, 0);
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  const le = !bigEndian;
  dv.setUint32(0, nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(16, 65535, le);
  dv.setUint32(20, linkType, le);
  let p = 24;
  for (const r of recs) {
    dv.setUint32(p, r.sec, le);
    dv.setUint32(p + 4, r.frac, le);
    dv.setUint32(p + 8, r.data.length, le);
    dv.setUint32(p + 12, r.orig ?? r.data.length, le);
    b.set(r.data, p + 16);
    p += 16 + r.data.length;
  }
  return b;
}

const V6A = new Uint8Array([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const V6B = new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99, 0x93]);

function payload(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

// ---- the real capture ----

Deno.test("pcap: the recorded session.pcap yields exactly the 275 datagrams of session.jsonl", () => {
  const pcap = fixtureBytes("captures/session.pcap");
  assert.ok(isPcap(pcap));
  const r = parsePcap(pcap);
  assert.ok(r.ok, r.ok ? "" : r.error);
  assert.equal(r.info.linkType, LINKTYPE_ETHERNET);
  assert.equal(r.info.bigEndian, false);
  assert.equal(r.info.nanosecond, false);
  assert.equal(r.info.records, 275);
  assert.equal(r.info.skipped, 0);
  const j = parseCaptureJsonl(fixtureText("captures/session.jsonl"));
  assert.ok(j.ok);
  assert.equal(r.datagrams.length, j.datagrams.length);
  for (let i = 0; i < j.datagrams.length; i++) {
    const a: CapturedDatagram = r.datagrams[i], b: CapturedDatagram = j.datagrams[i];
    assert.equal(a.time, b.time, `time of datagram ${i}`);
    assert.equal(a.src, b.src);
    assert.equal(a.dst, b.dst);
    assert.deepEqual(a.data, b.data, `payload of datagram ${i}`);
  }
});

// ---- synthetic captures ----

function sample(): { ips: Uint8Array[]; want: CapturedDatagram[] } {
  const p1 = payload(40, 1), p2 = payload(4, 2), p3 = payload(300, 3), p4 = payload(0, 4);
  const ips = [
    ipv4Udp([198, 18, 0, 1], [198, 18, 0, 2], 9993, 9993, p1),
    ipv4Udp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 9993, p2, { options: 2 }),
    ipv6Udp(V6A, V6B, 9993, 443, p3),
    ipv6Udp(V6B, V6A, 1, 65535, p4, true),
  ];
  const want: CapturedDatagram[] = [
    { time: 1000.5, src: "198.18.0.1/9993", dst: "198.18.0.2/9993", data: p1 },
    { time: 1001.25, src: "10.0.0.1/40000", dst: "10.0.0.2/9993", data: p2 },
    { time: 1002.125, src: "fd00::1/9993", dst: "2001:db8::9993/443", data: p3 },
    { time: 1003, src: "2001:db8::9993/1", dst: "fd00::1/65535", data: p4 },
  ];
  return { ips, want };
}

for (
  const [name, lt] of [
    ["Ethernet", LINKTYPE_ETHERNET],
    ["Ethernet+VLAN", -LINKTYPE_ETHERNET],
    ["Linux SLL", LINKTYPE_LINUX_SLL],
    ["Linux SLL2", LINKTYPE_LINUX_SLL2],
    ["raw IP", LINKTYPE_RAW],
    ["raw IP (DLT 12)", 12],
    ["BSD loopback", LINKTYPE_NULL],
  ] as const
) {
  for (const bigEndian of [false, true]) {
    for (const nano of [false, true]) {
      const label = `${bigEndian ? "big" : "little"}-endian ${nano ? "ns" : "µs"}`;
      Deno.test(`pcap: ${name}, ${label}: IPv4/IPv6 UDP datagrams extracted`, () => {
        const { ips, want } = sample();
        const linkType = Math.abs(lt);
        const recs = ips.map((ip, i) => {
          const whole = want[i].time;
          const sec = Math.floor(whole);
          const frac = Math.round((whole - sec) * (nano ? 1e9 : 1e6));
          return { sec, frac, data: frame(linkType, ip, bigEndian, lt < 0) };
        });
        const r = parsePcap(pcapFile(linkType, recs, bigEndian, nano));
        assert.ok(r.ok, r.ok ? "" : r.error);
        assert.equal(r.info.bigEndian, bigEndian);
        assert.equal(r.info.nanosecond, nano);
        assert.equal(r.info.skipped, 0);
        assert.deepEqual(r.datagrams, want);
      });
    }
  }
}

Deno.test("pcap: raw IPv4-only and IPv6-only link types", () => {
  const { ips, want } = sample();
  const r4 = parsePcap(pcapFile(LINKTYPE_IPV4, [{ sec: 1000, frac: 500000, data: ips[0] }], false));
  assert.ok(r4.ok);
  assert.deepEqual(r4.datagrams, [want[0]]);
  const r6 = parsePcap(pcapFile(LINKTYPE_IPV6, [{ sec: 1002, frac: 125000, data: ips[2] }], true));
  assert.ok(r6.ok);
  assert.deepEqual(r6.datagrams, [want[2]]);
});

Deno.test("pcap: frames without a complete UDP datagram are skipped and counted", () => {
  const p = payload(50, 9);
  const good = ipv4Udp([1, 1, 1, 1], [2, 2, 2, 2], 9993, 9993, p);
  const tcp = ipv4Udp([1, 1, 1, 1], [2, 2, 2, 2], 9993, 9993, p, { proto: 6 });
  const fragMf = ipv4Udp([1, 1, 1, 1], [2, 2, 2, 2], 9993, 9993, p, { fragOff: 0x2000 });
  const fragOff = ipv4Udp([1, 1, 1, 1], [2, 2, 2, 2], 9993, 9993, p, { fragOff: 0x0010 });
  const cut = good.subarray(0, good.length - 10); // snap length cut the payload
  const badUdpLen = good.slice();
  badUdpLen[24] = 0xff; // UDP length field far beyond the packet
  const arp = new Uint8Array(28);
  const eth = (ip: Uint8Array, et = 0x0800) => {
    const f = frame(LINKTYPE_ETHERNET, ip, false);
    f[12] = et >> 8;
    f[13] = et & 0xff;
    return f;
  };
  const recs: Rec[] = [
    { sec: 1, frac: 0, data: eth(good) },
    { sec: 2, frac: 0, data: eth(tcp) },
    { sec: 3, frac: 0, data: eth(fragMf) },
    { sec: 4, frac: 0, data: eth(fragOff) },
    { sec: 5, frac: 0, data: eth(cut), orig: good.length + 14 },
    { sec: 6, frac: 0, data: eth(badUdpLen) },
    { sec: 7, frac: 0, data: eth(arp, 0x0806) },
    { sec: 8, frac: 0, data: new Uint8Array(5) }, // runt frame
    { sec: 9, frac: 0, data: eth(ipv6Udp(V6A, V6B, 1, 2, p)).subarray(0, 50) },
  ];
  const r = parsePcap(pcapFile(LINKTYPE_ETHERNET, recs, false));
  assert.ok(r.ok);
  assert.equal(r.info.records, recs.length);
  assert.equal(r.datagrams.length, 1);
  assert.equal(r.info.skipped, recs.length - 1);
  assert.deepEqual(r.datagrams[0].data, p);
});

Deno.test("pcap: malformed files are error values with a reason, never exceptions", () => {
  const good = parsePcap(fixtureBytes("captures/session.pcap"));
  assert.ok(good.ok);
  const real = fixtureBytes("captures/session.pcap");
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty", new Uint8Array(0), /magic/],
    ["text", new TextEncoder().encode("hello world, not a capture"), /magic/],
    ["pcapng", new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0]), /pcapng/],
    ["short header", real.subarray(0, 20), /truncated pcap header/],
    ["truncated record header", real.subarray(0, 30), /truncated record header/],
    ["truncated record", real.subarray(0, 100), /truncated record at byte 24/],
  ];
  const badLink = real.slice(0, 24);
  badLink[20] = 147; // a user link type
  cases.push(["unsupported link type", badLink, /link type 147/]);
  const badVersion = real.slice(0, 24);
  badVersion[4] = 3;
  cases.push(["version", badVersion, /version 3/]);
  const huge = real.slice(0, 200);
  new DataView(huge.buffer).setUint32(24 + 8, 0x7fffffff, true);
  cases.push(["oversized record", huge, /claims/]);
  const badFrac = real.slice(0, 200);
  new DataView(badFrac.buffer).setUint32(24 + 4, 2_000_000, true);
  cases.push(["timestamp fraction", badFrac, /fraction/]);
  for (const [name, bytes, re] of cases) {
    const r = parsePcap(bytes);
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.match(r.error, re, name);
  }
});

Deno.test("pcap: every truncation and many corruptions of the real capture are handled", () => {
  const real = fixtureBytes("captures/session.pcap");
  let errors = 0, oks = 0;
  for (let n = 0; n < real.length; n += 97) {
    const r = parsePcap(real.subarray(0, n));
    if (r.ok) oks++;
    else errors++;
  }
  assert.ok(errors > 0 && oks > 0, `${errors} errors, ${oks} complete prefixes`);
  let seed = 12345;
  for (let i = 0; i < 300; i++) {
    const t = real.slice();
    for (let k = 0; k < 8; k++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      t[seed % t.length] ^= 1 << (seed >>> 29);
    }
    const r = parsePcap(t); // must not throw
    if (r.ok) {
      for (const d of r.datagrams) assert.ok(d.data.length <= 65535);
    }
  }
});

// ---- the JSONL form ----

Deno.test("capture JSONL: session.jsonl parses to 275 datagrams and formats back byte-exactly", () => {
  const text = fixtureText("captures/session.jsonl");
  const r = parseCaptureJsonl(text);
  assert.ok(r.ok);
  assert.equal(r.datagrams.length, 275);
  assert.equal(r.datagrams.filter((d) => d.data.length === 4).length, 3);
  assert.equal(formatCaptureJsonl(r.datagrams), text);
});

Deno.test("capture JSONL: malformed lines are reported with their line number", () => {
  const ok = '{"t": 1.5, "src": "1.2.3.4/9993", "dst": "[::1]/1", "hex": "00"}';
  const good = '{"t": 1.5, "src": "1.2.3.4/9993", "dst": "fd00::1/1", "hex": "0aff"}';
  const cases: [string, RegExp][] = [
    [`${good}\nnot json`, /line 2: not valid JSON/],
    [`${good}\n\n[1,2]`, /line 3: not a JSON object/],
    ['{"src": "1.2.3.4/1", "dst": "1.2.3.4/2", "hex": ""}', /line 1: "t"/],
    ['{"t": "1", "src": "1.2.3.4/1", "dst": "1.2.3.4/2", "hex": ""}', /"t" must be a number/],
    ['{"t": 1, "src": "1.2.3.4", "dst": "1.2.3.4/2", "hex": ""}', /"src"/],
    [ok, /"dst"/],
    ['{"t": 1, "src": "1.2.3.4/1", "dst": "1.2.3.4/2", "hex": "abc"}', /"hex"/],
    ['{"t": 1, "src": "1.2.3.4/1", "dst": "1.2.3.4/2", "hex": "zz"}', /"hex"/],
    ['{"t": 1, "src": "1.2.3.4/1", "dst": "1.2.3.4/99999", "hex": ""}', /"dst"/],
  ];
  for (const [text, re] of cases) {
    const r = parseCaptureJsonl(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) assert.match(r.error, re, text);
  }
  const r = parseCaptureJsonl(`\n${good}\r\n\n`);
  assert.ok(r.ok);
  assert.deepEqual(r.datagrams, [{
    time: 1.5,
    src: "1.2.3.4/9993",
    dst: "fd00::1/1",
    data: new Uint8Array([0x0a, 0xff]),
  }]);
  const empty = parseCaptureJsonl("");
  assert.ok(empty.ok);
  assert.equal(empty.datagrams.length, 0);
});
