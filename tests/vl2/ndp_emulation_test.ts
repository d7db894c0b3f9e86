// Tests NDP emulation (spec §9.11) with the lab network's real config: RFC4193 and 6PLANE answers, DAD and foreign targets ignored.
import assert from "node:assert/strict";
import { fixtureBytes } from "../fixtures.ts";
import { fromHex, toHex } from "../../src/util/hex.ts";
import { ETHERTYPE_IPV6, writeEthernetHeader } from "../../src/vl2/ethernet.ts";
import { macFromAddress } from "../../src/vl2/mac.ts";
import {
  NDP_ADVERTISEMENT_FRAME_LENGTH,
  ndpEmulate,
  ndpEmulatedAddress,
} from "../../src/vl2/ndp_emulation.ts";
import { parseNetworkConfig } from "../../src/vl2/network_config.ts";

const NWID = 0x5b1c20a311fca1can;
const A = 0x98bec71608;
const B = 0xbeccf08a89;
const CONF_A = parseNetworkConfig(fixtureBytes(`homes/a/networks.d/5b1c20a311fca1ca.conf`))!;
const A_RFC4193 = fromHex("fd5b1c20a311fca1ca999398bec71608");
const B_RFC4193 = fromHex("fd5b1c20a311fca1ca9993beccf08a89");
const B_6PLANE = fromHex("fc4ae08169beccf08a89000000000001");
/** MAC(b) as it appears in b's recorded ARP reply (capture #162). */
const B_MAC_RECORDED = "ca1f30e129a9";
/** b's recorded duplicate-address-detection NS (MULTICAST_FRAME, capture #192), IPv6 part. */
const DAD_NS = fromHex(
  "6000000000203aff00000000000000000000000000000000ff0200000000000000000001ff000001" +
    "87004d7700000000fc4ae08169beccf08a89000000000001",
);

function nsFrame(src: Uint8Array, target: Uint8Array, srcMac = macFromAddress(A, NWID)) {
  const ip = new Uint8Array(64);
  ip[0] = 0x60;
  ip[5] = 24;
  ip[6] = 58;
  ip[7] = 255;
  ip.set(src, 8);
  ip.set(fromHex("ff0200000000000000000001ff000000"), 24);
  ip.set(target.subarray(13), 37);
  ip[40] = 135;
  ip.set(target, 48);
  const f = new Uint8Array(14 + ip.length);
  writeEthernetHeader(
    f,
    0,
    0x3333ff000000 + target[13] * 65536 + target[14] * 256 + target[15],
    srcMac,
    ETHERTYPE_IPV6,
  );
  f.set(ip, 14);
  return f;
}

/** RFC 1071 verification over pseudo-header + ICMPv6 message: the folded sum must be 0xffff. */
function checksumOk(ip: Uint8Array): boolean {
  const len = (ip[4] << 8) | ip[5];
  let sum = 0;
  for (let i = 8; i < 40; i += 2) sum += (ip[i] << 8) | ip[i + 1];
  sum += len + ip[6];
  for (let i = 40; i < 40 + len; i += 2) sum += (ip[i] << 8) | (ip[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

Deno.test("ndp: a's solicitation for b's RFC4193 address is answered locally with MAC(b)", () => {
  assert.ok(CONF_A, "lab config parses");
  const out = new Uint8Array(128);
  const f = nsFrame(A_RFC4193, B_RFC4193);
  const n = ndpEmulate(NWID, A, CONF_A.staticIps, f, 0, f.length, out);
  assert.equal(n, NDP_ADVERTISEMENT_FRAME_LENGTH);
  assert.equal(n, 86);
  assert.equal(toHex(out.subarray(0, 6)), toHex(f.subarray(6, 12)), "to the solicitor's MAC");
  assert.equal(toHex(out.subarray(6, 12)), B_MAC_RECORDED, "from b's real MAC");
  assert.equal(toHex(out.subarray(12, 14)), "86dd");
  const ip = out.subarray(14, n);
  assert.equal(ip.length, 72);
  assert.equal(ip[0] >> 4, 6);
  assert.equal((ip[4] << 8) | ip[5], 32);
  assert.equal(ip[6], 58);
  assert.equal(ip[7], 255);
  assert.equal(toHex(ip.subarray(8, 24)), toHex(B_RFC4193));
  assert.equal(toHex(ip.subarray(24, 40)), toHex(A_RFC4193));
  assert.equal(ip[40], 136);
  assert.equal(ip[44], 0x40, "solicited flag");
  assert.equal(toHex(ip.subarray(48, 64)), toHex(B_RFC4193));
  assert.equal(toHex(ip.subarray(64, 72)), "0201" + B_MAC_RECORDED);
  assert.ok(checksumOk(ip), "ICMPv6 checksum verifies");
  ip[50] ^= 1;
  assert.ok(!checksumOk(ip), "and the check can fail");
});

Deno.test("ndp: 6PLANE targets map bytes 5..9 to the node (its whole /80)", () => {
  assert.equal(ndpEmulatedAddress(B_6PLANE, 0, CONF_A.staticIps), B);
  const other = B_6PLANE.slice();
  other[15] = 0x34;
  other[14] = 0x12;
  assert.equal(ndpEmulatedAddress(other, 0, CONF_A.staticIps), B);
  const out = new Uint8Array(86);
  const src = fromHex("fc4ae0816998bec71608000000000001");
  const f = nsFrame(src, other);
  assert.equal(ndpEmulate(NWID, A, CONF_A.staticIps, f, 0, f.length, out), 86);
  assert.equal(toHex(out.subarray(6, 12)), B_MAC_RECORDED);
  assert.ok(checksumOk(out.subarray(14)));
});

Deno.test("ndp: DAD, our own address, foreign prefixes and non-NS frames are not emulated", () => {
  const out = new Uint8Array(86);
  const dad = new Uint8Array(14 + DAD_NS.length);
  writeEthernetHeader(dad, 0, 0x3333ff000001, macFromAddress(B, NWID), ETHERTYPE_IPV6);
  dad.set(DAD_NS, 14);
  // from b's point of view (its own address) and from a's (source :: = DAD)
  const confB = parseNetworkConfig(fixtureBytes(`homes/b/networks.d/5b1c20a311fca1ca.conf`))!;
  assert.equal(ndpEmulate(NWID, B, confB.staticIps, dad, 0, dad.length, out), 0);
  assert.equal(ndpEmulate(NWID, A, CONF_A.staticIps, dad, 0, dad.length, out), 0);
  const self = nsFrame(B_RFC4193, A_RFC4193);
  assert.equal(ndpEmulate(NWID, A, CONF_A.staticIps, self, 0, self.length, out), 0);
  const foreign = nsFrame(A_RFC4193, fromHex("fd00000000000000000000beccf08a89"));
  assert.equal(ndpEmulate(NWID, A, CONF_A.staticIps, foreign, 0, foreign.length, out), 0);
  const otherNet = nsFrame(A_RFC4193, fromHex("fd5b1c20a3113098329993beccf08a89"));
  assert.equal(ndpEmulate(NWID, A, CONF_A.staticIps, otherNet, 0, otherNet.length, out), 0);
  const notNs = nsFrame(A_RFC4193, B_RFC4193);
  notNs[14 + 40] = 128; // echo request
  assert.equal(ndpEmulate(NWID, A, CONF_A.staticIps, notNs, 0, notNs.length, out), 0);
  const ok = nsFrame(A_RFC4193, B_RFC4193);
  assert.equal(ndpEmulate(NWID, A, CONF_A.staticIps, ok, 0, ok.length - 1, out), 0, "truncated");
  assert.equal(ndpEmulate(NWID, A, [], ok, 0, ok.length, out), 0, "no managed IPv6");
});
