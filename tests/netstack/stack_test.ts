// NetStack ICMP echo (v4 and v6 with NDP), UDP, ARP, IPv4 fragment reassembly and multicast groups.
import assert from "node:assert/strict";
import { ipText, parseIp } from "../../src/netstack/ip_addr.ts";
import { writeIpv4Header } from "../../src/netstack/ipv4.ts";
import { ETH_HLEN, ETH_IPV4, newFrame } from "../../src/netstack/ethernet.ts";
import { writeUdp } from "../../src/netstack/udp.ts";
import { SimLink } from "./sim_link.ts";

Deno.test("stack: ping over IPv4 (ARP) and IPv6 (NDP) gets echo replies with the payload", () => {
  const link = new SimLink();
  const replies: string[] = [];
  link.a.onEchoReply = (r) => replies.push(`${ipText(r.from)} ${r.id} ${r.seq} ${r.data.length}`);
  assert.ok(link.a.ping(link.now, parseIp("10.0.0.2")!, 7, 1, new Uint8Array(56)));
  assert.ok(link.a.ping(link.now, parseIp("fd00::2")!, 7, 2, new Uint8Array(8)));
  link.run(() => replies.length === 2, 5_000);
  assert.deepEqual(replies.sort(), ["10.0.0.2 7 1 56", "fd00::2 7 2 8"]);
  assert.equal(link.b.counters.echoRepliesSent, 2);
  assert.equal(link.a.neighborCount, 2);
});

Deno.test("stack: UDP datagrams both ways; unknown port ignored; queue bounded", () => {
  const link = new SimLink({ limits: { udpQueue: 4 } });
  const sa = link.a.bindUdp(5000);
  const sb = link.b.bindUdp(6000);
  assert.ok(sa.send(link.now, parseIp("10.0.0.2")!, 6000, new TextEncoder().encode("hello")));
  link.run(() => sb.queue.length === 1, 5_000);
  const m = sb.queue.shift()!;
  assert.equal(new TextDecoder().decode(m.data), "hello");
  assert.equal(m.port, 5000);
  sb.send(link.now, m.from, m.port, new TextEncoder().encode("back"));
  link.run(() => sa.queue.length === 1, 5_000);
  assert.equal(new TextDecoder().decode(sa.queue[0].data), "back");
  for (let i = 0; i < 10; i++) sa.send(link.now, parseIp("fd00::2")!, 6000, new Uint8Array([i]));
  link.run(() => false, 100);
  assert.equal(sb.queue.length, 4);
  assert.equal(sb.dropped, 6);
});

Deno.test("stack: IPv4 fragments of a UDP datagram are reassembled, in any order; bounded", () => {
  const link = new SimLink();
  const s = link.b.bindUdp(7000);
  const src = parseIp("10.0.0.1")!, dst = parseIp("10.0.0.2")!;
  const data = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
  const udp = new Uint8Array(8 + data.length);
  writeUdp(udp, 0, 1234, 7000, src, dst, data);
  const frags: Uint8Array[] = [];
  for (let off = 0; off < udp.length; off += 1480) {
    const part = udp.subarray(off, Math.min(udp.length, off + 1480));
    const f = newFrame(link.b.mac, link.a.mac, ETH_IPV4, 20 + part.length);
    writeIpv4Header(f, ETH_HLEN, src, dst, 17, part.length, 0x4242);
    f.set(part, ETH_HLEN + 20);
    const more = off + 1480 < udp.length;
    f[ETH_HLEN + 6] = (more ? 0x20 : 0) | ((off / 8) >> 8);
    f[ETH_HLEN + 7] = (off / 8) & 0xff;
    f[ETH_HLEN + 10] = f[ETH_HLEN + 11] = 0;
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (f[ETH_HLEN + i] << 8) | f[ETH_HLEN + i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    f[ETH_HLEN + 10] = (~sum >> 8) & 0xff;
    f[ETH_HLEN + 11] = ~sum & 0xff;
    frags.push(f);
  }
  assert.equal(frags.length, 3);
  for (const f of [frags[2], frags[0], frags[1]]) {
    link.b.input(link.now, f);
  }
  assert.equal(s.queue.length, 1);
  assert.deepEqual(s.queue[0].data, data);
  // a lone first fragment times out
  link.b.input(link.now, frags[0]);
  assert.equal(link.b.reassemblyPending, 1);
  link.b.tick(link.now + 60_000);
  assert.equal(link.b.reassemblyPending, 0);
});

Deno.test("stack: multicast groups announce ARP (broadcast, ip) and solicited-node MACs", () => {
  const link = new SimLink();
  const g = link.a.multicastGroups();
  assert.ok(g.some((x) => x.mac === 0xffff_ffff_ffff && x.adi === 0x0a000001));
  assert.ok(g.some((x) => x.mac === 0x3333_ff00_0001 && x.adi === 0));
});

Deno.test("stack: packets waiting for unresolved neighbors are bounded in bytes and dropped after 3 queries", () => {
  const link = new SimLink({ limits: { maxPendingBytes: 10_000, maxPendingPerNeighbor: 4 } });
  const s = link.a.bindUdp(9);
  for (let i = 0; i < 100; i++) {
    for (let j = 0; j < 6; j++) {
      s.send(link.now, parseIp(`10.0.0.${100 + i}`)!, 9, new Uint8Array(500));
    }
  }
  assert.ok(link.a.pendingBytes <= 10_000, `pending ${link.a.pendingBytes}`);
  assert.ok(link.a.pendingBytes > 0);
  assert.ok(link.a.counters.unreachable > 0);
  link.run(() => false, 5_000);
  assert.equal(link.a.pendingBytes, 0);
  assert.equal(link.a.neighborCount, 0);
});
