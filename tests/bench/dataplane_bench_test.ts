// Tests for the data-plane bench's pure helpers (cipher mix of a capture, argument parsing).
import assert from "node:assert/strict";
import { parseFloorArgs } from "../../bench/rtt_floor_node.ts";
import {
  cipherMixOfPcap,
  floorLine,
  formatCipherMix,
  formatTable,
  hopLatencies,
  parseBenchArgs,
} from "../../bench/dataplane_bench.ts";

/** A little-endian pcap (Ethernet) of IPv4/UDP datagrams with the given ZeroTier payloads. */
function pcapOf(payloads: Uint8Array[], snap = 128): Uint8Array {
  const parts: Uint8Array[] = [];
  const g = new DataView(new ArrayBuffer(24));
  g.setUint32(0, 0xa1b2c3d4, true);
  g.setUint16(4, 2, true);
  g.setUint16(6, 4, true);
  g.setUint32(16, snap, true);
  g.setUint32(20, 1, true);
  parts.push(new Uint8Array(g.buffer));
  for (const p of payloads) {
    const frame = new Uint8Array(14 + 20 + 8 + p.length);
    frame[12] = 0x08;
    frame[14] = 0x45;
    frame[14 + 9] = 17;
    frame.set(p, 42);
    const cap = frame.subarray(0, Math.min(snap, frame.length));
    const h = new DataView(new ArrayBuffer(16));
    h.setUint32(8, cap.length, true);
    h.setUint32(12, frame.length, true);
    parts.push(new Uint8Array(h.buffer), cap);
  }
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

function zt(cipher: number, fragment = false): Uint8Array {
  const p = new Uint8Array(1400);
  if (fragment) p[13] = 0xff;
  else p[18] = cipher << 3;
  return p;
}

Deno.test("dataplane bench: cipher mix counts packet heads by cipher and skips fragments", () => {
  const mix = cipherMixOfPcap(pcapOf([zt(3), zt(3), zt(3), zt(1), zt(0, true), zt(0, true)]));
  assert.deepEqual([...mix].sort(), [[1, 1], [3, 3]]);
  assert.equal(formatCipherMix(mix), "c3 75.0% c1 25.0%");
  assert.equal(formatCipherMix(cipherMixOfPcap(pcapOf([zt(3)]))), "c3 100%");
  assert.equal(formatCipherMix(cipherMixOfPcap(new Uint8Array(10))), "-");
  // a truncated capture ends the count without throwing
  const whole = pcapOf([zt(1), zt(1)]);
  assert.equal(formatCipherMix(cipherMixOfPcap(whole.subarray(0, whole.length - 30))), "c1 100%");
});

Deno.test("dataplane bench: arguments", () => {
  assert.deepEqual(parseBenchArgs(["--quick"]).idleSeconds, 10);
  assert.equal(parseBenchArgs([]).idleSeconds, 60);
  assert.equal(parseBenchArgs(["--idle", "5", "--seconds=4"]).seconds, 4);
  assert.throws(() => parseBenchArgs(["--idle", "-1"]), /bad --idle/);
  assert.equal(parseBenchArgs([]).rttOnly, false);
  assert.equal(parseBenchArgs(["--rtt"]).rttOnly, true);
  assert.equal(parseBenchArgs([]).pairs, undefined);
  assert.deepEqual(parseBenchArgs(["--pairs", "ztzt,refzt"]).pairs, ["ztzt", "refzt"]);
  assert.deepEqual(parseBenchArgs(["--pairs=veth"]).pairs, ["veth"]);
  assert.throws(() => parseBenchArgs(["--pairs", "zt-zt"]), /bad --pairs/);
  assert.throws(() => parseBenchArgs(["--pairs="]), /bad --pairs/);
  assert.equal(parseBenchArgs([]).pings, 60);
  assert.equal(parseBenchArgs(["--pings", "100"]).pings, 100);
  assert.equal(parseBenchArgs(["--pings=5"]).pings, 5);
  assert.throws(() => parseBenchArgs(["--pings", "2"]), /bad --pings/);
  assert.throws(() => parseBenchArgs(["--pings=x"]), /bad --pings/);
  assert.equal(parseBenchArgs([]).hops, false);
  assert.equal(parseBenchArgs(["--hops"]).hops, true);
  assert.equal(parseBenchArgs([]).entry, "js");
  assert.equal(parseBenchArgs(["--entry", "ts"]).entry, "ts");
  assert.equal(parseBenchArgs(["--entry=js"]).entry, "js");
  assert.throws(() => parseBenchArgs(["--entry", "mjs"]), /bad --entry mjs/);
  assert.equal(parseBenchArgs([]).rttRounds, 6);
  assert.equal(parseBenchArgs(["--rtt-rounds", "0"]).rttRounds, 0);
  assert.equal(parseBenchArgs(["--rtt-rounds=3"]).rttRounds, 3);
  assert.throws(() => parseBenchArgs(["--rtt-rounds", "-1"]), /bad --rtt-rounds -1/);
  assert.throws(() => parseBenchArgs(["--rtt-rounds=x"]), /bad --rtt-rounds x/);
  assert.equal(parseBenchArgs([]).floor, false);
  assert.equal(parseBenchArgs(["--floor"]).floor, true);
});

/** Results of a zt↔zt pair with an interleaved RTT and a ref↔ref pair without. */
function ztAndRef(rttInterleaved: { medianMs: number; count: number }) {
  return [
    { label: "zt↔zt", gbps1: 1, gbps4: 1, rttMs: 0.5, rttInterleaved },
    { label: "ref↔ref", gbps1: 1, gbps4: 1, rttMs: 0.4 },
  ];
}

Deno.test("dataplane bench: the RTT floor line and the floor forwarder's arguments", () => {
  const line = floorLine(
    [{ label: "floor", medianMs: 0.3714 }, { label: "floor+c3" }],
    ztAndRef({ medianMs: 0.55, count: 6 }),
  );
  assert.equal(
    line,
    "RTT floor, pairs interleaved (ms): runtime + I/O adapters 0.371, + WASM AES-GMAC-SIV -, " +
      "+ WASM Salsa20/12-Poly1305 -; zt↔zt 0.550, ref↔ref -",
  );
  const ok = parseFloorArgs(["ztfloor0", "198.19.31.1/24", "9993", "198.18.0.32", "9993", "3"]);
  assert.ok(typeof ok !== "string");
  assert.equal(ok.cipher, 3);
  assert.equal(ok.peer.port, 9993);
  assert.equal(ok.port, 9993);
  const dflt = parseFloorArgs(["t", "10.0.0.1/24", "1", "10.0.0.2", "2"]);
  assert.ok(typeof dflt !== "string" && dflt.cipher === 0);
  for (
    const bad of [
      [],
      ["t", "10.0.0.1/24", "1", "10.0.0.2"],
      ["bad name!", "10.0.0.1/24", "1", "10.0.0.2", "2"],
      ["t", "10.0.0.1", "1", "10.0.0.2", "2"],
      ["t", "10.0.0.1/24", "0", "10.0.0.2", "2"],
      ["t", "10.0.0.1/24", "1", "10.0.0.2", "70000"],
      ["t", "10.0.0.1/24", "1", "::1", "2"],
      ["t", "10.0.0.1/24", "1", "10.0.0.2", "2", "2"],
    ]
  ) assert.equal(typeof parseFloorArgs(bad), "string", bad.join(" "));
});

/** tcpdump -nn -tt lines: an ICMP echo on a TAP, a UDP datagram on the underlay. */
const icmp = (t: number, kind: "request" | "reply", seq: number) =>
  `${t.toFixed(9)} IP 198.19.0.11 > 198.19.0.12: ICMP echo ${kind}, id 7, seq ${seq}, length 64`;
const udp = (t: number, src: string, dst: string) =>
  `${t.toFixed(9)} IP ${src}.9993 > ${dst}.9993: UDP, length 150`;

Deno.test("dataplane bench: per-hop latency follows each ping through both ends' captures", () => {
  const P = "198.18.0.11", T = "198.18.0.12";
  const pTap: string[] = [], pUl: string[] = [], tTap: string[] = [], tUl: string[] = [];
  // ping n: pinger out 100+n µs, wire 10, target in 200, kernel 15, target out 50, wire 10,
  // pinger in 80 (all µs)
  for (let n = 1; n <= 5; n++) {
    const t0 = 1000 + n * 0.2;
    const t1 = t0 + (100 + n) / 1e6, t2 = t1 + 10e-6, t3 = t2 + 200e-6, t4 = t3 + 15e-6;
    const t5 = t4 + 50e-6, t6 = t5 + 10e-6, t7 = t6 + 80e-6;
    pTap.push(icmp(t0, "request", n), icmp(t7, "reply", n));
    tTap.push(icmp(t3, "request", n), icmp(t4, "reply", n));
    pUl.push(udp(t1, P, T), udp(t6, T, P));
    tUl.push(udp(t2, P, T), udp(t5, T, P));
  }
  // a keepalive 30 ms after ping 5 is nobody's hop; a ping missing on the target is skipped
  pUl.push(udp(1001.03, P, T));
  pTap.push(icmp(1002, "request", 9), icmp(1002.001, "reply", 9));
  const h = hopLatencies(
    { tap: pTap.join("\n"), underlay: pUl.join("\n"), ip: P },
    { tap: tTap.join("\n"), underlay: tUl.join("\n"), ip: T },
  )!;
  assert.equal(h.count, 5);
  assert.ok(Math.abs(h.pingerOut - 103) < 0.01, String(h.pingerOut));
  assert.ok(Math.abs(h.targetIn - 200) < 0.01, String(h.targetIn));
  assert.ok(Math.abs(h.targetOut - 50) < 0.01, String(h.targetOut));
  assert.ok(Math.abs(h.pingerIn - 80) < 0.01, String(h.pingerIn));
  assert.ok(Math.abs(h.rtt - 468) < 0.01, String(h.rtt));
  // nothing to follow: undefined, and garbage lines are ignored
  assert.equal(
    hopLatencies({ tap: "x\n", underlay: "", ip: P }, { tap: "", underlay: "", ip: T }),
    undefined,
  );
  const table = formatTable([{ label: "zt↔zt", gbps1: 1, gbps4: 1, rttMs: 0.5, hops: h }]);
  assert.match(
    table,
    /per hop, µs: pinger out \/ target in \/ target out \/ pinger in \| 103 \/ 200 \/ 50 \/ 80 \|/,
  );
  assert.doesNotMatch(formatTable([{ label: "x", gbps1: 1, gbps4: 1, rttMs: 0.5 }]), /per hop/);
});

Deno.test("dataplane bench: the interleaved RTT row shows when measured, above the per-hop row", () => {
  const rows = formatTable(ztAndRef({ medianMs: 0.4125, count: 60 })).split("\n");
  const i = rows.findIndex((l) =>
    l.startsWith("| ping RTT median, pairs interleaved (60 pings) (ms)")
  );
  assert.ok(i > 0, rows.join("\n"));
  assert.match(rows[i], /\|\s+0\.412 \|\s+- \|$/);
  assert.match(rows[i - 1], /before bulk traffic/);
  const withHops = formatTable([{
    label: "zt↔zt",
    gbps1: 1,
    gbps4: 1,
    rttMs: 0.5,
    rttInterleaved: { medianMs: 0.4, count: 6 },
    hops: { count: 1, pingerOut: 1, targetIn: 2, targetOut: 3, pingerIn: 4, rtt: 10 },
  }]).split("\n");
  const j = withHops.findIndex((l) => l.includes("pairs interleaved (6 pings)"));
  assert.match(withHops[j + 1], /^\| per hop, µs/);
  assert.doesNotMatch(formatTable([{ label: "x", gbps1: 1, gbps4: 1, rttMs: 0.5 }]), /interleaved/);
});

Deno.test("dataplane bench: the table shows RTT medians, idle CPU and CPU during pings", () => {
  const t = formatTable([{
    label: "zt↔zt",
    gbps1: NaN,
    gbps4: NaN,
    rttMs: 0.7,
    rttMedianMs: 0.65,
    rttCount: 20,
    idleCpuPct: [0.2, 0.33],
    rttCpuPct: [0.5, 0.8],
  }]);
  assert.match(t, /ping RTT median of 20 \(ms\)\s+\|\s+0\.650 \|/);
  assert.match(t, /idle CPU receiver node \(% of a core\)\s+\|\s+0\.33 \|/);
  assert.match(t, /CPU during pings, pinger \/ pinged \(%\)\s+\|\s+0\.5 \/ 0\.8 \|/);
  assert.match(t, /iperf3 TCP 1 stream \(Gb\/s\)\s+\|\s+- \|/);
  assert.match(formatTable([{ label: "x", gbps1: 1, gbps4: 1, rttMs: 1 }]), /ping RTT avg of 60 /);
  assert.match(
    formatTable([{ label: "x", gbps1: 1, gbps4: 1, rttMs: 1, rttColdMedianMs: 1.25 }]),
    /ping RTT median of 60 before bulk traffic \(ms\)\s+\|\s+1\.250 \|/,
  );
});

Deno.test("dataplane bench: the table shows RSS under load, lifetime peak and the idle split", () => {
  const t = formatTable([{
    label: "zt↔zt",
    gbps1: 1,
    gbps4: 1,
    rttMs: 0.7,
    loadRssMiB: [55.25, 57.5],
    rssMiB: [90, 91],
    idleRssMiB: [48, 49],
    idleSplitMiB: [[36.1, 11.9], [37, 12]],
  }]);
  assert.match(t, /peak RSS under iperf3 load, sender node \(MiB\)\s+\|\s+55\.3 \|/);
  assert.match(t, /peak RSS under iperf3 load, receiver node \(MiB\)\s+\|\s+57\.5 \|/);
  assert.match(t, /lifetime peak RSS \(VmHWM, start-up too\), receiver \(MiB\)\s+\|\s+91\.0 \|/);
  assert.match(t, /idle RssAnon \/ RssFile sender \(MiB\)\s+\|\s+36\.1 \/ 11\.9 \|/);
});
