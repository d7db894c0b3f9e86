// Tests for frame parsing for the rules engine: IPv4/IPv6/ARP fields, header chains, bounds.
import assert from "node:assert/strict";
import { parseEthernetFrame, parseFrame } from "../../../src/vl2/rules/frame_info.ts";

const bytes = (h: string) =>
  new Uint8Array((h.replace(/\s+/g, "").match(/../g) ?? []).map((x) => parseInt(x, 16)));

// IPv4 TCP SYN+ACK 10.1.2.3:443 → 192.168.1.7:51000, TOS 0xb8, DF, with ECE set.
const V4_TCP = bytes(
  "45b8 0028 1c46 4000 4006 0000 0a01 0203 c0a8 0107" + // IPv4
    "01bb c738 0000 0001 0000 0002 5152 ffff 0000 0000", // TCP: off 5, NS=1, flags 0x52
);

Deno.test("IPv4 TCP: addresses, TOS, protocol, ports, TCP flag bits", () => {
  const f = parseFrame(0x020000000001, 0x020000000002, 0x0800, V4_TCP, 0, V4_TCP.length);
  assert.equal(f.ipVersion, 4);
  assert.equal(f.length, 40);
  assert.deepEqual([...V4_TCP.subarray(f.ipSourceOffset, f.ipSourceOffset + 4)], [10, 1, 2, 3]);
  assert.deepEqual([...V4_TCP.subarray(f.ipDestOffset, f.ipDestOffset + 4)], [192, 168, 1, 7]);
  assert.equal(f.tos, 0xb8);
  assert.equal(f.protocol, 6);
  assert.equal(f.l4Offset, 20);
  assert.equal(f.sourcePort, 443);
  assert.equal(f.destPort, 51000);
  assert.equal(f.tcpFlags, 0x152); // SYN|ACK|ECE + NS
  assert.equal(f.icmpType, -1);
  assert.equal(f.fragment, false);
  assert.equal(f.multicast, false);
  assert.equal(f.authIpOffset, 12);
});

Deno.test("IPv4 header options move the transport header; ports need > hl+4 bytes", () => {
  const withOpts = bytes(
    "4600 0020 0000 0000 4011 0000 0a000001 0a000002 01020304 0035 0035 0008 0000",
  );
  const f = parseFrame(1, 2, 0x0800, withOpts, 0, withOpts.length);
  assert.equal(f.l4Offset, 24);
  assert.equal(f.sourcePort, 53);
  assert.equal(f.destPort, 53);
  // Exactly hl + 4 bytes: the reference requires strictly more, so no ports.
  const exact = parseFrame(1, 2, 0x0800, withOpts, 0, 28);
  assert.equal(exact.sourcePort, -1);
  assert.equal(exact.destPort, -1);
  assert.equal(parseFrame(1, 2, 0x0800, withOpts, 0, 29).destPort, 53);
});

Deno.test("IPv4 ICMP type/code, fragments, short packets", () => {
  const icmp = bytes("4500 001c 0000 2001 4001 0000 0a000001 0a000002 0300 fcfc 0000 0000");
  const f = parseFrame(1, 2, 0x0800, icmp, 0, icmp.length);
  assert.equal(f.icmpType, 3);
  assert.equal(f.icmpCode, 0);
  assert.equal(f.moreFragments, true);
  assert.equal(f.fragmentOffset, 1);
  assert.equal(f.fragment, true);
  assert.equal(f.tcpFlags, 0);
  const short = parseFrame(1, 2, 0x0800, icmp, 0, 19);
  assert.equal(short.ipVersion, 0);
  assert.equal(short.protocol, -1);
  assert.equal(short.tos, -1);
  // A wrong ethertype is not looked into.
  assert.equal(parseFrame(1, 2, 0x86dd, icmp, 0, icmp.length).ipVersion, 0);
});

const V6_SRC = "fd00000000000000000000000000000a";
const V6_DST = "fd00000000000000000000000000000b";

Deno.test("IPv6: traffic class, extension header chain, ports, truncated chains", () => {
  // hop-by-hop (8 bytes) → destination options (16 bytes) → TCP.
  const p = bytes(
    "6a50 0000 0024 00 40" + V6_SRC + V6_DST +
      "3c00 0000 0000 0000" + // hop-by-hop: next 60, len 0
      "0601 0000 0000 0000 0000 0000 0000 0000" + // dest opts: next 6, len 1 (16 bytes)
      "1f90 0050 0000 0000 0000 0000 5011 0000", // TCP 8080 → 80, FIN|ACK
  );
  const f = parseFrame(1, 2, 0x86dd, p, 0, p.length);
  assert.equal(f.ipVersion, 6);
  assert.equal(f.tos, 0xa5);
  assert.equal(f.protocol, 6);
  assert.equal(f.l4Offset, 64);
  assert.equal(f.sourcePort, 8080);
  assert.equal(f.destPort, 80);
  assert.equal(f.tcpFlags, 0x11);
  assert.equal(f.ipSourceOffset, 8);
  assert.equal(f.ipDestOffset, 24);
  // Cut inside the destination-options header: chain invalid.
  const cut = parseFrame(1, 2, 0x86dd, p, 0, 55);
  assert.equal(cut.ipVersion, 6);
  assert.equal(cut.protocol, -1);
  assert.equal(cut.l4Offset, -1);
  assert.equal(cut.destPort, -1);
  // TCP flags need more than pos + 14 bytes.
  assert.equal(parseFrame(1, 2, 0x86dd, p, 0, 78).tcpFlags, 0);
  assert.equal(parseFrame(1, 2, 0x86dd, p, 0, 79).tcpFlags, 0x11);
  // A fragment header stops the chain (protocol 44).
  const frag = bytes("6000 0000 0008 2c 40" + V6_SRC + V6_DST + "1100 0001 0000 0001");
  const g = parseFrame(1, 2, 0x86dd, frag, 0, frag.length);
  assert.equal(g.protocol, 44);
  assert.equal(g.fragment, true);
  assert.equal(g.destPort, -1);
});

Deno.test("ICMPv6 neighbor solicitation / advertisement and ARP sender for ipauth", () => {
  const target = "fd000000000000000000000000000042";
  const ns = bytes("6000 0000 0018 3a ff" + V6_SRC + V6_DST + "8700 0000 0000 0000" + target);
  const f = parseFrame(1, 0x333300000001, 0x86dd, ns, 0, ns.length);
  assert.equal(f.icmpType, 135);
  assert.equal(f.neighborSolicitation, true);
  assert.equal(f.authIpOffset, -1);
  assert.equal(f.multicast, true);
  assert.equal(f.broadcast, false);
  const na = ns.slice();
  na[40] = 136;
  const g = parseFrame(1, 2, 0x86dd, na, 0, na.length);
  assert.equal(g.neighborSolicitation, false);
  assert.equal(g.authIpOffset, 48);
  assert.equal(g.authIpLength, 16);
  const arp = bytes("0001 0800 0604 0001 020000000001 c0a80001 000000000000 c0a80002");
  const a = parseFrame(0x020000000001, 0xffffffffffff, 0x0806, arp, 0, arp.length);
  assert.equal(a.authIpOffset, 14);
  assert.equal(a.authIpLength, 4);
  assert.equal(a.broadcast, true);
  assert.equal(a.ipVersion, 0);
});

Deno.test("Ethernet frames: header fields, no 802.1Q unwrapping, windows inside larger buffers", () => {
  const eth = bytes("ffffffffffff 5a1122334455 0800");
  const buf = new Uint8Array(8 + 14 + V4_TCP.length + 8).fill(0xee);
  buf.set(eth, 8);
  buf.set(V4_TCP, 22);
  const f = parseEthernetFrame(buf, 8, 22 + V4_TCP.length);
  assert.ok(f);
  assert.equal(f.macDest, 0xffffffffffff);
  assert.equal(f.macSource, 0x5a1122334455);
  assert.equal(f.etherType, 0x0800);
  assert.equal(f.start, 22);
  assert.equal(f.length, 40);
  assert.equal(f.broadcast, true);
  assert.equal(f.destPort, 51000);
  assert.equal(parseEthernetFrame(buf, 8, 21), undefined);
  const tagged = bytes("020000000002 020000000001 8100 0005 0800");
  assert.equal(parseEthernetFrame(tagged, 0, tagged.length)?.etherType, 0x8100);
  // Bytes past the window are never read: TCP flags lie beyond `end` → 0, ports still there.
  const g = parseFrame(1, 2, 0x0800, buf, 22, 22 + 30);
  assert.equal(g.tcpFlags, 0);
  assert.equal(g.destPort, 51000);
  // A window beyond the buffer is clamped.
  const h = parseFrame(1, 2, 0x0800, V4_TCP, 10, 1000);
  assert.equal(h.end, V4_TCP.length);
  assert.equal(h.length, 30);
});
