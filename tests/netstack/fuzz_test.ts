// Fuzz: every netstack parser and NetStack.input against random and mutated frames: nothing throws, state stays bounded.
import assert from "node:assert/strict";
import { parseArp } from "../../src/netstack/arp.ts";
import { parseEth } from "../../src/netstack/ethernet.ts";
import { parseIcmp4, parseIcmp6, parseNdp } from "../../src/netstack/icmp.ts";
import { parseIp } from "../../src/netstack/ip_addr.ts";
import { parseIpv4, Reassembler } from "../../src/netstack/ipv4.ts";
import { parseIpv6 } from "../../src/netstack/ipv6.ts";
import { parseTcp, parseTcpOptions } from "../../src/netstack/tcp_segment.ts";
import { parseUdp } from "../../src/netstack/udp.ts";
import { payload, prng, SimLink } from "./sim_link.ts";

/** Frames of a real exchange (ARP, ping, TCP with data, UDP, v6) to mutate. */
function corpus(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const link = new SimLink({ drop: (_f, f) => (frames.push(f.slice()), false) });
  const l = link.b.listen(80);
  const c = link.a.connect(link.now, parseIp("10.0.0.2")!, 80);
  c.events = { onConnected: () => c.write(link.now, payload(5000)) };
  link.a.ping(link.now, parseIp("fd00::2")!, 1, 1, new Uint8Array(10));
  link.a.bindUdp(53).send(link.now, parseIp("10.0.0.2")!, 53, new Uint8Array(20));
  link.a.connect(link.now, parseIp("fd00::2")!, 80);
  link.run(() => false, 2_000);
  assert.ok(l.queue.length >= 1);
  return frames;
}

Deno.test("fuzz: parsers never throw on mutated and random frames", () => {
  const rand = prng(99);
  const base = corpus();
  assert.ok(base.length > 10);
  const src4 = parseIp("10.0.0.1")!, dst4 = parseIp("10.0.0.2")!;
  const src6 = parseIp("fd00::1")!, dst6 = parseIp("fd00::2")!;
  const reasm = new Reassembler({ maxDatagrams: 4, maxBytes: 65535, timeoutMs: 1000 });
  for (let i = 0; i < 30_000; i++) {
    let f: Uint8Array;
    if (i % 3 === 0) {
      f = Uint8Array.from({ length: (rand() * 200) | 0 }, () => (rand() * 256) | 0);
    } else {
      f = base[(rand() * base.length) | 0].slice(0, 14 + ((rand() * 1600) | 0));
      for (let m = (rand() * 6) | 0; m >= 0; m--) {
        if (f.length) f[(rand() * f.length) | 0] = (rand() * 256) | 0;
      }
    }
    const off = 14;
    parseEth(f);
    parseArp(f, off);
    const v4 = parseIpv4(f, off);
    if (v4) reasm.add(i, v4);
    parseIpv6(f, off);
    for (const start of [off, off + 20, off + 40]) {
      const end = f.length;
      if (start > end) continue;
      parseTcp(f, start, end, src4, dst4);
      parseTcp(f, start, end, src6, dst6);
      parseUdp(f, start, end, src4, dst4);
      parseUdp(f, start, end, src6, dst6);
      parseIcmp4(f, start, end);
      const m = parseIcmp6(f, start, end, src6, dst6);
      if (m) parseNdp(m);
      // options parsed on their own too (random lengths), as the checksum hides most of them
      parseTcpOptions(f, start, Math.min(end, start + ((rand() * 60) | 0)), {});
      if (end - start >= 4) parseNdp({ type: 135, code: 0, bytes: f, bodyStart: start, end });
    }
  }
  assert.ok(reasm.pending <= 4);
});

Deno.test("fuzz: NetStack.input survives mutated frames with state bounded", () => {
  const rand = prng(5);
  const base = corpus();
  const link = new SimLink({ limits: { maxConnections: 64, maxNeighbors: 32 } });
  const l = link.b.listen(80, 8);
  let before = link.b.counters.malformed;
  for (let i = 0; i < 20_000; i++) {
    const f = base[(rand() * base.length) | 0].slice();
    for (let m = (rand() * 4) | 0; m >= 0; m--) {
      f[14 + ((rand() * (f.length - 14)) | 0)] = (rand() * 256) | 0;
    }
    // keep the destination MAC ours often, so frames reach the upper layers
    if (rand() < 0.8) f.set([2, 0, 0, 0, 0, 2], 0);
    link.b.input(link.now + i, f);
    link.b.tick(link.now + i);
  }
  assert.ok(link.b.counters.malformed > before, "malformed frames counted");
  before = 0;
  assert.ok(link.b.connectionCount <= 64);
  assert.ok(link.b.neighborCount <= 32);
  assert.ok(link.b.pendingBytes <= 1 << 20);
  assert.ok(link.b.reassemblyPending <= 16);
  assert.ok(l.queue.length <= 8);
  for (const c of link.b.connections()) assert.ok(c.bufferedBytes <= 2 * 256 * 1024);
});
