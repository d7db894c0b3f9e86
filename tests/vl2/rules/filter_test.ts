// Tests for outbound/inbound filtering on the real rules_net config, capabilities, tags, copies, counters.
import assert from "node:assert/strict";
import { fixtureBytes, fixtureText } from "../../fixtures.ts";
import type { JsonObject } from "../../../src/util/json.ts";
import { buildTestFrame, parseFrameDescription } from "../../../src/cli/rules_test_cmd.ts";
import { InetAddress } from "../../../src/vl1/inet_address.ts";
import type { CertificateOfOwnership } from "../../../src/vl2/credentials/coo.ts";
import { macFromAddress } from "../../../src/vl2/mac.ts";
import { type NetworkConfig, parseNetworkConfig } from "../../../src/vl2/network_config.ts";
import { RuleCounters } from "../../../src/vl2/rules/counters.ts";
import {
  type FilterContext,
  filterInbound,
  filterOutbound,
  inboundCode,
} from "../../../src/vl2/rules/filter.ts";
import { type FrameInfo, parseFrame } from "../../../src/vl2/rules/frame_info.ts";
import { encodeRules, rulesFromJson } from "../../../src/vl2/rules/rule_codec.ts";
import { compileRules } from "../../../src/vl2/rules_compiler/mod.ts";

const NWID = 0x5b1c20a311309832n;
const A = 0x98bec71608; // member a: tag 2000 = 10 (server), holds capability 1000
const B = 0x4f8368504c; // some other member
const C = 0x3333333333;

function realConfig(): NetworkConfig {
  const c = parseNetworkConfig(fixtureBytes("homes/a/networks.d/5b1c20a311309832.conf"));
  assert.ok(c);
  assert.equal(c.issuedTo, A);
  return c;
}

/** The real config with base rules (and optionally capabilities) replaced by compiled RDL. */
function withRules(src: string, keepCaps = true): NetworkConfig {
  const r = compileRules(src);
  assert.ok(r.ok, r.ok ? "" : r.error.message);
  const c = realConfig();
  return {
    ...c,
    rules: encodeRules(rulesFromJson(r.rules as JsonObject[])),
    capabilities: keepCaps ? c.capabilities : [],
  };
}

/** Frame from `from` to `to` described CLI-style. */
function frame(desc: string, from: number, to: number, et?: number): FrameInfo {
  const d = parseFrameDescription(desc);
  assert.ok(d.ok);
  const src = macFromAddress(from, NWID);
  const { etherType, payload } = buildTestFrame(d.spec, src);
  return parseFrame(src, macFromAddress(to, NWID), et ?? etherType, payload, 0, payload.length);
}

const out = (nc: NetworkConfig, desc: string, o: Partial<FilterContext> = {}) =>
  filterOutbound({ networkConfig: nc, ourAddress: A, peerAddress: B, ...o }, frame(desc, A, B));
const inb = (nc: NetworkConfig, desc: string, o: Partial<FilterContext> = {}) =>
  filterInbound({ networkConfig: nc, ourAddress: A, peerAddress: B, ...o }, frame(desc, B, A));

Deno.test("lab rules from the real netconf: what they allow and deny", () => {
  const nc = realConfig();
  // telnet is dropped by rule #6, both ways.
  const telnet = out(nc, "tcp 198.19.0.10:40000 > 198.19.0.20:23");
  assert.deepEqual([telnet.action, telnet.decidedBy.ruleIndex, telnet.decidedBy.list], [
    "drop",
    6,
    "rules",
  ]);
  assert.equal(inb(nc, "tcp 198.19.0.20:40000 > 198.19.0.10:23").action, "drop");
  // ICMP is accepted by rule #8.
  const ping = inb(nc, "icmp 198.19.0.20 > 198.19.0.10");
  assert.deepEqual([ping.action, ping.decidedBy.ruleIndex], ["accept", 8]);
  // Other ethertypes are dropped by rule #3 (e.g. LLDP 0x88cc); ARP and IPv6 pass.
  const lldp = filterOutbound(
    { networkConfig: nc, ourAddress: A, peerAddress: 0 },
    frame("udp 1.1.1.1:1 > 2.2.2.2:2", A, 0, 0x88cc),
  );
  assert.deepEqual([lldp.action, lldp.decidedBy.ruleIndex], ["drop", 3]);
  assert.equal(out(nc, "arp 198.19.0.10 > 198.19.0.20").action, "accept");
  assert.equal(out(nc, "udp [fd00::1]:5 > [fd00::2]:53").action, "accept");
  // Role tags: a (server, 10) → peer of unknown role: tand is a hard yes outbound (rule #11).
  const ssh = out(nc, "tcp 198.19.0.10:40000 > 198.19.0.20:22");
  assert.deepEqual([ssh.action, ssh.decidedBy.ruleIndex], ["accept", 11]);
  // Inbound from a server (10): 10 & 10 = 10 → rule #11; from a client (20): neither → rule #12.
  const fromServer = inb(nc, "tcp 198.19.0.20:1 > 198.19.0.10:80", {
    peerTags: new Map([[2000, 10]]),
  });
  assert.equal(fromServer.decidedBy.ruleIndex, 11);
  const fromClient = inb(nc, "tcp 198.19.0.20:1 > 198.19.0.10:80", {
    peerTags: new Map([[2000, 20]]),
  });
  assert.equal(fromClient.decidedBy.ruleIndex, 12);
  assert.equal(inboundCode(fromClient), 1);
});

Deno.test("compiled lab.ztrules and the controller's binary rules give the same decisions", () => {
  const compiled = compileRules(fixtureText("rules/lab.ztrules"));
  assert.ok(compiled.ok);
  const real = realConfig();
  const ours = { ...real, rules: encodeRules(rulesFromJson(compiled.rules as JsonObject[])) };
  const frames = [
    "tcp 198.19.0.10:1 > 198.19.0.20:22",
    "tcp 198.19.0.10:1 > 198.19.0.20:23",
    "udp 198.19.0.10:1 > 198.19.0.20:23",
    "icmp 198.19.0.10 > 198.19.0.20",
    "arp 198.19.0.10 > 198.19.0.20",
    "tcp [fd00::1]:1 > [fd00::2]:23",
    "igmp 198.19.0.10 > 224.0.0.1",
  ];
  const tags = [undefined, new Map([[2000, 10]]), new Map([[2000, 20]])];
  let n = 0;
  for (const d of frames) {
    for (const peerTags of tags) {
      for (const dir of [out, inb]) {
        const a = dir(real, d, { peerTags });
        const b = dir(ours, d, { peerTags });
        assert.deepEqual(b, { ...a, decidedBy: { ...a.decidedBy, rule: b.decidedBy.rule } }, d);
        assert.deepEqual(a.decidedBy.rule, b.decidedBy.rule);
        n++;
      }
    }
  }
  assert.equal(n, 42);
});

Deno.test("a capability grants ssh that the base rules do not", () => {
  const nc = withRules("accept ipprotocol icmp; accept ethertype arp; drop dport 23;");
  // Outbound: our own capability 1000 (tcp/22) accepts.
  const ssh = out(nc, "tcp 198.19.0.10:40000 > 198.19.0.20:22");
  assert.equal(ssh.action, "accept");
  assert.deepEqual(
    [ssh.decidedBy.list, ssh.decidedBy.capabilityId, ssh.decidedBy.ruleIndex],
    ["capability", 1000, 2],
  );
  assert.equal(out(nc, "tcp 198.19.0.10:40000 > 198.19.0.20:80").action, "drop");
  assert.equal(out(nc, "tcp 198.19.0.10:40000 > 198.19.0.20:23").decidedBy.list, "rules");
  // Without the capability, ssh is dropped.
  const noCap = { ...nc, capabilities: [] };
  const denied = out(noCap, "tcp 198.19.0.10:40000 > 198.19.0.20:22");
  assert.deepEqual([denied.action, denied.decidedBy.verdict], ["drop", "no-match"]);
  // Inbound: only the capabilities the sender presented count (not our own).
  const desc = "tcp 198.19.0.20:40000 > 198.19.0.10:22";
  assert.equal(inb(nc, desc).action, "drop");
  const presented = inb(nc, desc, { peerCapabilities: nc.capabilities });
  assert.deepEqual([presented.action, presented.decidedBy.capabilityId], ["accept", 1000]);
  assert.equal(inboundCode(presented), 1);
  // A DROP inside a capability only ends that capability.
  const c0 = nc.capabilities[0];
  const dropCap = {
    ...c0,
    id: 999,
    rules: encodeRules(rulesFromJson((compileRules("drop;") as { rules: JsonObject[] }).rules)),
  };
  const two = inb(nc, desc, { peerCapabilities: [dropCap, c0] });
  assert.equal(two.decidedBy.capabilityId, 1000);
});

Deno.test("tag-equal members talk, others don't", () => {
  const nc = withRules("accept teq 2000 10; accept ethertype arp;", false);
  const desc = "tcp 198.19.0.20:1 > 198.19.0.10:5000";
  assert.equal(inb(nc, desc, { peerTags: new Map([[2000, 10]]) }).action, "accept");
  assert.equal(inb(nc, desc, { peerTags: new Map([[2000, 20]]) }).action, "drop");
  assert.equal(
    inb(nc, desc, { peerTags: (id) => (id === 2000 ? 10 : undefined) }).action,
    "accept",
  );
  assert.equal(inb(nc, desc).action, "drop"); // unknown tag inbound: hard no
  assert.equal(out(nc, desc, { peerTags: new Map([[2000, 20]]) }).action, "drop");
  // Outbound to a member whose tag we don't know yet: permissive (the receiver filters).
  assert.equal(out(nc, desc).action, "accept");
  // Without our own tag nobody matches.
  assert.equal(inb({ ...nc, tags: [] }, desc, { peerTags: new Map([[2000, 10]]) }).action, "drop");
});

Deno.test("tee, watch and redirect produce copy targets with EXT_FRAME flags", () => {
  const desc = "tcp 198.19.0.10:1 > 198.19.0.20:22";
  const tee = out(withRules("tee 20 3333333333; accept;"), desc);
  assert.equal(tee.action, "accept");
  assert.deepEqual(tee.copies, [{ to: C, length: 20, flags: 0x02, kind: "tee" }]);
  assert.deepEqual(out(withRules("tee 20 3333333333; accept;"), desc, { noTee: true }).copies, []);
  const watch = out(withRules("watch 0 3333333333; accept;"), desc);
  assert.deepEqual(watch.copies, [{ to: C, length: 40, flags: 0x16, kind: "watch" }]);
  const inTee = inb(withRules("tee 0 3333333333; watch 8 3333333333; accept;"), desc);
  assert.deepEqual(inTee.copies, [{ to: C, length: 8, flags: 0x1c, kind: "watch" }]);
  // Redirect: the original is not sent; a full copy goes to the new destination.
  const red = out(withRules("redirect 3333333333 dport 22; accept;"), desc);
  assert.equal(red.action, "redirect");
  assert.deepEqual(red.copies, [{ to: C, length: 40, flags: 0x04, kind: "redirect" }]);
  const redIn = inb(withRules("redirect 3333333333; accept;"), desc);
  assert.deepEqual([redIn.action, inboundCode(redIn)], ["redirect", 0]);
  assert.equal(redIn.copies[0].flags, 0x0a);
  // Inbound tee to us: super-accept (bypasses bridging checks).
  const sa = inb(withRules("tee 0 98bec71608; drop;"), desc);
  assert.deepEqual([sa.action, inboundCode(sa)], ["super-accept", 2]);
  // A tee from the base rules plus a tee from the accepting capability: capability copy first.
  const nc = withRules("tee 0 3333333333;");
  const capTee = {
    ...nc.capabilities[0],
    rules: encodeRules(
      rulesFromJson((compileRules("tee 4 4444444444; accept;") as { rules: JsonObject[] }).rules),
    ),
  };
  const both = out({ ...nc, capabilities: [capTee] }, desc);
  assert.deepEqual(both.copies.map((c) => [c.to, c.length]), [[0x4444444444, 4], [C, 40]]);
  // Dropped frames make no copies.
  assert.deepEqual(out(withRules("tee 0 3333333333; drop;"), desc).copies, []);
});

Deno.test("ipauth / macauth from certificates of ownership", () => {
  const nc = withRules("accept chr ipauth; accept chr macauth ethertype arp;", false);
  const ip = InetAddress.fromIp("198.19.0.20")!;
  const coo = (things: { type: number; value: Uint8Array }[]): CertificateOfOwnership => ({
    networkId: NWID,
    timestamp: 0n,
    flags: 0n,
    id: 1,
    things,
    issuedTo: B,
    signedBy: 0,
  });
  const desc = "udp 198.19.0.20:1 > 198.19.0.10:2";
  assert.equal(inb(nc, desc).action, "drop");
  assert.equal(inb(nc, desc, { peerCoos: [coo([{ type: 2, value: ip.ip }])] }).action, "accept");
  const mac = macFromAddress(B, NWID);
  const macBytes = new Uint8Array(6).map((_, i) => Math.floor(mac / 2 ** (8 * (5 - i))) & 0xff);
  const arp = "arp 198.19.0.20 > 198.19.0.10";
  assert.equal(inb(nc, arp).action, "drop");
  assert.equal(inb(nc, arp, { peerCoos: [coo([{ type: 1, value: macBytes }])] }).action, "accept");
  // Outbound uses our own COOs from the config.
  assert.equal(out(nc, "udp 198.19.0.10:1 > 198.19.0.20:2").action, "drop");
  const mine = coo([{ type: 2, value: InetAddress.fromIp("198.19.0.10")!.ip }]);
  assert.equal(out({ ...nc, coos: [mine] }, "udp 198.19.0.10:1 > 198.19.0.20:2").action, "accept");
});

Deno.test("counters record accepted and dropped frames per network and direction", () => {
  const counters = new RuleCounters();
  const nc = realConfig();
  out(nc, "tcp 198.19.0.10:1 > 198.19.0.20:22", { counters });
  out(nc, "tcp 198.19.0.10:1 > 198.19.0.20:23", { counters });
  out(nc, "tcp 198.19.0.10:1 > 198.19.0.20:23", { counters });
  inb(nc, "icmp 198.19.0.20 > 198.19.0.10", { counters });
  inb(withRules("redirect 3333333333; accept;"), "icmp 198.19.0.20 > 198.19.0.10", { counters });
  assert.deepEqual(counters.get(NWID), {
    rxAccepted: 2,
    rxDropped: 0,
    txAccepted: 1,
    txDropped: 2,
  });
  assert.deepEqual(counters.networks(), [NWID]);
  assert.deepEqual(counters.get(1n), { rxAccepted: 0, rxDropped: 0, txAccepted: 0, txDropped: 0 });
  counters.forget(NWID);
  assert.deepEqual(counters.networks(), []);
});
