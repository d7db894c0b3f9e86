// Tests the data plane's rules hook: verdicts, EXT_FRAME copies (bytes, flags, credential pushes), multicast per-recipient checks, counters, MATCH_RANDOM source, metrics.
import assert from "node:assert/strict";
import type { JsonObject } from "../../src/util/json.ts";
import { ServiceMetrics } from "../../src/service/metrics.ts";
import { Verb } from "../../src/vl1/packet.ts";
import { decodeExtFrame } from "../../src/vl1/verbs/frame.ts";
import { ETHERTYPE_IPV4 } from "../../src/vl2/ethernet.ts";
import { ACCEPT_ALL_FILTER, Frames } from "../../src/vl2/frames.ts";
import { BROADCAST_MAC, macFromAddress, macFromBytes } from "../../src/vl2/mac.ts";
import type { NetworkConfig } from "../../src/vl2/network_config.ts";
import { encodeRules, rulesFromJson } from "../../src/vl2/rules/rule_codec.ts";
import { compileRules } from "../../src/vl2/rules_compiler/mod.ts";
import { ruleCountersOf, RulesFilter } from "../../src/vl2/rules_filter.ts";
import { ethFrame, FakeNet, FakeNets, FakeNode, labConfig } from "./data_plane_helpers.ts";

const A = 0x98bec71608; // us (the lab config is issued to a)
const B = 0xbeccf08a89;
const C = 0x3333333333;

function config(src: string): NetworkConfig {
  const r = compileRules(src);
  assert.ok(r.ok, r.ok ? "" : r.error.message);
  return { ...labConfig("a"), rules: encodeRules(rulesFromJson(r.rules as JsonObject[])) };
}

/** An Ethernet frame with an IPv4/UDP packet to `dport` and a 200-byte payload. */
function udpFrame(nwid: bigint, from: number, toMac: number, dport: number): Uint8Array {
  const ip = new Uint8Array(20 + 8 + 200);
  ip[0] = 0x45;
  ip[2] = ip.length >> 8;
  ip[3] = ip.length & 255;
  ip[9] = 17;
  ip.set([198, 19, 0, 11, 198, 19, 0, 12], 12);
  ip[22] = dport >> 8;
  ip[23] = dport & 255;
  for (let i = 28; i < ip.length; i++) ip[i] = i & 255;
  return ethFrame(toMac, macFromAddress(from, nwid), ETHERTYPE_IPV4, ip);
}

function setup(src: string, random?: (n: number) => Uint8Array) {
  const node = new FakeNode(A);
  const nc = config(src);
  const net = new FakeNet(nc.networkId, A, nc);
  const f = new RulesFilter({ node, random });
  const out = (dest: number, frame: Uint8Array) =>
    f.filterOutbound({
      net,
      peer: dest,
      srcMac: macFromAddress(A, nc.networkId),
      dstMac: macFromBytes(frame, 0),
      etherType: ETHERTYPE_IPV4,
      payload: frame,
      start: 14,
      end: frame.length,
      now: 1000,
    });
  return { node, nc, net, f, out };
}

Deno.test("rules filter: TEE copy is an EXT_FRAME (flags 0x02, truncated) after a credential push", () => {
  const { node, nc, net, f, out } = setup("tee 100 3333333333 ipprotocol 17 dport 7000;\naccept;");
  const nwid = nc.networkId;
  const frame = udpFrame(nwid, A, macFromAddress(B, nwid), 7000);
  assert.equal(out(B, frame), true, "the original still goes");
  const sent = node.of(Verb.EXT_FRAME);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].dest, C);
  assert.equal(sent[0].compress, true);
  assert.deepEqual(net.pushes, [C], "credentials pushed to the copy's target first");
  const x = decodeExtFrame(sent[0].payload);
  assert.ok(x);
  assert.equal(x.networkId, nwid);
  assert.equal(x.flags, 0x02);
  assert.equal(x.to, macFromAddress(B, nwid));
  assert.equal(x.from, macFromAddress(A, nwid));
  assert.equal(x.etherType, ETHERTYPE_IPV4);
  assert.deepEqual(
    sent[0].payload.subarray(x.payloadStart, x.payloadEnd),
    frame.subarray(14, 114),
    "first 100 bytes",
  );
  assert.deepEqual(f.counters.get(nwid), {
    rxAccepted: 0,
    rxDropped: 0,
    txAccepted: 1,
    txDropped: 0,
  });
  // another port: no copy
  assert.equal(out(B, udpFrame(nwid, A, macFromAddress(B, nwid), 7001)), true);
  assert.equal(node.of(Verb.EXT_FRAME).length, 1);
});

Deno.test("rules filter: REDIRECT replaces the frame (0x04 out, 0x0a in, whole frame)", () => {
  const { node, nc, net, f, out } = setup("redirect 3333333333 ipprotocol 17;\naccept;");
  const nwid = nc.networkId;
  const frame = udpFrame(nwid, A, macFromAddress(B, nwid), 53);
  assert.equal(out(B, frame), false, "not sent to B");
  assert.equal(f.last?.result?.action, "redirect");
  const [p] = node.of(Verb.EXT_FRAME, C);
  const x = decodeExtFrame(p.payload)!;
  assert.equal(x.flags, 0x04);
  assert.equal(x.payloadEnd - x.payloadStart, frame.length - 14);
  assert.equal(f.counters.get(nwid).txAccepted, 1, "a redirect counts as accepted");

  // inbound: a frame from B to us is redirected to C and not delivered
  const inFrame = udpFrame(nwid, B, macFromAddress(A, nwid), 53);
  const r = f.filterInbound({
    net,
    peer: B,
    srcMac: macFromAddress(B, nwid),
    dstMac: macFromAddress(A, nwid),
    etherType: ETHERTYPE_IPV4,
    payload: inFrame,
    start: 14,
    end: inFrame.length,
    now: 2000,
  });
  assert.equal(r, 0);
  const copies = node.of(Verb.EXT_FRAME, C);
  assert.equal(copies.length, 2);
  assert.equal(decodeExtFrame(copies[1].payload)!.flags, 0x0a);
});

Deno.test("rules filter: multicast pre-check counts and copies once; per-recipient checks neither", () => {
  const { node, nc, f, out } = setup("tee 0 3333333333 ipprotocol 17;\naccept;");
  const nwid = nc.networkId;
  const bc = udpFrame(nwid, A, BROADCAST_MAC, 9);
  assert.equal(out(0, bc), true);
  assert.equal(out(B, bc), true);
  assert.equal(out(0x4444444444, bc), true);
  assert.equal(node.of(Verb.EXT_FRAME).length, 1, "one TEE copy for the multicast");
  assert.equal(f.counters.get(nwid).txAccepted, 1, "counted once");
});

Deno.test("rules filter: drops, the accept-all fast path, no config, MATCH_RANDOM from the random source", () => {
  const drop = setup("drop ipprotocol 17 dport 23;\naccept;");
  const nwid = drop.nc.networkId;
  assert.equal(drop.out(B, udpFrame(nwid, A, macFromAddress(B, nwid), 23)), false);
  assert.equal(drop.out(B, udpFrame(nwid, A, macFromAddress(B, nwid), 24)), true);
  assert.deepEqual(drop.f.counters.get(nwid), {
    rxAccepted: 0,
    rxDropped: 0,
    txAccepted: 1,
    txDropped: 1,
  });
  // the controller's default `accept;`: no parsing, still counted
  const all = setup("accept;");
  assert.equal(all.out(B, udpFrame(nwid, A, macFromAddress(B, nwid), 23)), true);
  assert.equal(all.f.last?.result, undefined, "fast path");
  assert.equal(all.f.counters.get(nwid).txAccepted, 1);
  // no config: nothing passes
  all.net.config = undefined;
  assert.equal(all.out(B, udpFrame(nwid, A, macFromAddress(B, nwid), 23)), false);
  // random 0.5: a draw of 0 matches, 0xffffffff does not
  let fill = 0;
  const rnd = setup("accept random 0.5;", (n) => new Uint8Array(n).fill(fill));
  assert.equal(rnd.out(B, udpFrame(nwid, A, macFromAddress(B, nwid), 1)), true);
  fill = 0xff;
  assert.equal(rnd.out(B, udpFrame(nwid, A, macFromAddress(B, nwid), 1)), false);
});

Deno.test("rules filter: Frames uses it by default; its counters feed zt_network_packets", async () => {
  const node = new FakeNode(A);
  const nets = new FakeNets();
  const nc = config("drop ipprotocol 17 dport 23;\naccept;");
  const net = nets.add(new FakeNet(nc.networkId, A, nc));
  const frames = new Frames({ node, networks: nets, random: (n) => new Uint8Array(n) });
  assert.ok(frames.filter instanceof RulesFilter);
  assert.equal(ruleCountersOf(ACCEPT_ALL_FILTER), undefined);
  const nwid = net.id;
  assert.equal(frames.tapFrame(1, nwid, udpFrame(nwid, A, macFromAddress(B, nwid), 23)), false);
  assert.equal(frames.counters.drops.filter, 1);
  assert.equal(frames.tapFrame(2, nwid, udpFrame(nwid, A, macFromAddress(B, nwid), 80)), true);
  assert.equal(node.of(Verb.FRAME, B).length, 1);
  const rc = ruleCountersOf(frames.filter)!;
  const m = new ServiceMetrics();
  const id = nwid.toString(16).padStart(16, "0");
  m.update({ peers: [], networks: [{ id, multicastGroups: 0, packets: rc.get(nwid) }] });
  const text = await m.text();
  const val = (dir: string, acc: string) =>
    text.match(
      new RegExp(
        `^zt_network_packets\\{accepted="${acc}",direction="${dir}",network_id="${id}"\\} (\\d+)$`,
        "m",
      ),
    )?.[1];
  assert.deepEqual(
    [val("tx", "yes"), val("tx", "no"), val("rx", "yes"), val("rx", "no")],
    ["1", "1", "0", "0"],
  );
});
