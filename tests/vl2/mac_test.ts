// Tests for ZeroTier MAC derivation and MAC text/bytes helpers (spec §5.2, §12.8, fixtures).
import assert from "node:assert/strict";
import {
  BROADCAST_MAC,
  firstOctetForNetwork,
  isMulticastMac,
  isNetworkMac,
  macFromAddress,
  macFromBytes,
  macToAddress,
  macToBytes,
  macToString,
  ndMulticastMac,
  parseMac,
} from "../../src/vl2/mac.ts";
import { InetAddress, IpScope } from "../../src/vl1/inet_address.ts";
import { toHex } from "../../src/util/hex.ts";
import { fixtureText } from "../fixtures.ts";

Deno.test("§12.8 MAC vector", () => {
  const nwid = 0x8e4df28b72000001n;
  const mac = macFromAddress(0xcafe9efeb9, nwid);
  assert.equal(macToString(mac), "02:ca:fe:ec:75:4b");
  assert.equal(macToAddress(mac, nwid), 0xcafe9efeb9);
  assert.ok(isNetworkMac(mac, nwid));
  assert.ok(!isMulticastMac(mac));
});

Deno.test("MACs in the reference's network API answers", () => {
  const addr = parseInt(fixtureText("identities/a.public").trim().slice(0, 10), 16);
  const nets = JSON.parse(fixtureText("api/a-network.json")) as { nwid: string; mac: string }[];
  assert.equal(nets.length, 2);
  for (const n of nets) {
    const nwid = BigInt("0x" + n.nwid);
    assert.equal(macToString(macFromAddress(addr, nwid)), n.mac, n.nwid);
    assert.equal(macToAddress(parseMac(n.mac)!, nwid), addr);
  }
});

Deno.test("first octet rules", () => {
  assert.equal(firstOctetForNetwork(0x5b1c20a311fca1can), 0xca);
  assert.equal(firstOctetForNetwork(0x5b1c20a311309832n), 0x32);
  assert.equal(firstOctetForNetwork(0x01n), 0x02); // multicast bit cleared, local bit set
  assert.equal(firstOctetForNetwork(0xffn), 0xfe);
  assert.equal(firstOctetForNetwork(0x50n), 0x32); // 0x52 is remapped
  assert.equal(firstOctetForNetwork(0x53n), 0x32);
  // Round trip over varied ids/addresses, including high bytes.
  for (const nwid of [0n, 0xffffffffffffffffn, 0x123456789abcdef0n, 0x8000000000000052n]) {
    for (const a of [0, 1, 0xffffffffff, 0x8000000001, 0x1234567890]) {
      const m = macFromAddress(a, nwid);
      assert.ok(m >= 0 && m <= BROADCAST_MAC);
      assert.equal(macToAddress(m, nwid), a);
      assert.equal(Math.floor(m / 2 ** 40), firstOctetForNetwork(nwid));
    }
  }
});

Deno.test("text and bytes forms", () => {
  assert.equal(macToString(BROADCAST_MAC), "ff:ff:ff:ff:ff:ff");
  assert.equal(parseMac("FF:ff:ff:ff:ff:ff"), BROADCAST_MAC);
  assert.equal(parseMac("32-00-8e-d6-b5-28"), 0x32008ed6b528);
  assert.equal(parseMac("32008ed6b528"), 0x32008ed6b528);
  assert.equal(macToString(0x0000_0000_0001), "00:00:00:00:00:01");
  for (
    const bad of ["", "ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff:ff", "gg:00:00:00:00:00", "f:f:f:f:f:f"]
  ) {
    assert.equal(parseMac(bad), undefined, bad);
  }
  const b = macToBytes(0x33_33_ff_d6_b5_28);
  assert.equal(toHex(b), "3333ffd6b528");
  assert.equal(macFromBytes(new Uint8Array([9, ...b]), 1), 0x33_33_ff_d6_b5_28);
  assert.ok(isMulticastMac(BROADCAST_MAC));
  assert.ok(isMulticastMac(parseMac("01:00:5e:00:00:01")!));
  assert.ok(!isMulticastMac(parseMac("ca:39:42:d6:b5:28")!));
});

Deno.test("ND multicast MAC of the tap's link-local address is among the reference's subscriptions", () => {
  const nets = JSON.parse(fixtureText("api/a-network.json")) as {
    mac: string;
    multicastSubscriptions: { mac: string }[];
  }[];
  for (const n of nets) {
    // fe80::/64 + modified EUI-64 of the tap MAC (the kernel's link-local address).
    const m = macToBytes(parseMac(n.mac)!);
    const ip = new Uint8Array(16);
    ip.set([0xfe, 0x80], 0);
    ip.set([m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]], 8);
    const want = macToString(ndMulticastMac(ip));
    assert.ok(n.multicastSubscriptions.some((s) => s.mac === want), want);
    assert.equal(
      InetAddress.deserialize(new Uint8Array([6, ...ip, 0, 0]))!.addr!.scope(),
      IpScope.LINK_LOCAL,
    );
  }
});
