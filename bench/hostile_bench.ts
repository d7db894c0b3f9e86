// Hostile-peer probes on the final code (issue 11): tries, table entries and heap/RSS before and after, and the outcome.
import { Controller } from "../src/controller/controller.ts";
import { measuredAgreementMs, measuredIdentityCheckMs } from "../src/service/node_factory.ts";
import { MemoryStore } from "../src/controller/memory_store.ts";
import { ControllerResponder, responderNode } from "../src/controller/responder.ts";
import { Random } from "../src/sim/random.ts";
import { IDENTITY_CHECK_CPU_SHARE } from "../src/vl1/identity_checks.ts";
import { InetAddress } from "../src/vl1/inet_address.ts";
import { Verb } from "../src/vl1/packet.ts";
import { encodeMulticastLike } from "../src/vl1/verbs/multicast.ts";
import { encodeNetworkConfigRequest } from "../src/vl1/verbs/network_config.ts";
import {
  defaultConfigRequestMetadata,
  encodeConfigRequestMetadata,
} from "../src/vl2/config_request_metadata.ts";
import { Frames } from "../src/vl2/frames.ts";
import { Networks } from "../src/vl2/networks.ts";
import { UpperLayerMux } from "../src/vl2/upper_layer_mux.ts";
import {
  badKeyPairs,
  labPlanet,
  sourceIn24,
  Talker,
  VALID,
  Victim,
  withAddress,
} from "../tests/reliability/hostile.ts";

interface Row {
  probe: string;
  tries: string;
  entries: string;
  heap: string;
  rss: string;
  result: string;
}

function mem(): { heap: number; rss: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = Deno.memoryUsage();
  return { heap: Math.round(m.heapUsed / 1e6), rss: Math.round(m.rss / 1e6) };
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** 90,000 config requests for made-up networks under the controller's address. */
function controllerProbe(): Row {
  const TRIES = 90_000;
  const [rootId, memberId, ctlId] = VALID;
  const planet = labPlanet(rootId);
  const v = new Victim(ctlId, planet, 1_000_000);
  const rnd = new Random("bench-controller");
  const ctl = new Controller({
    identity: ctlId,
    store: new MemoryStore(),
    random: (n) => rnd.bytes(n),
    now: () => v.now,
  });
  const resp = new ControllerResponder({
    node: responderNode(v.node),
    controller: ctl,
    random: (n) => rnd.bytes(n),
  });
  v.node.setUpperLayer(new UpperLayerMux({ sender: v.node, configRequests: resp }));
  const nw = ctl.postNetwork(undefined, { name: "lab", private: true });
  if (!nw.ok) throw new Error("network");
  const nwid = String(nw.value.id);
  const md = encodeConfigRequestMetadata(defaultConfigRequestMetadata());
  const postMs = () => {
    const t = performance.now();
    for (let i = 0; i < 20; i++) {
      ctl.postMember(nwid, memberId.address.toString(), { name: `m${i}` });
    }
    return (performance.now() - t) / 20;
  };
  const pairs = badKeyPairs("bench-controller", 200);
  for (const p of pairs) v.node.topology.addPeer(p);
  const attackers = pairs.map((p, i) => new Talker(p, ctlId, 100 + i));
  const src = InetAddress.parse("198.18.1.1/9993")!;
  const base = BigInt(ctlId.address.value) << 24n;
  const post0 = postMs();
  const m0 = mem();
  const e0 = ctl.memberStatusTable.size;
  for (let i = 0; i < TRIES; i++) {
    const made = base | BigInt(1 + rnd.int(0xfffffe));
    const p = encodeNetworkConfigRequest({ networkId: made, metadata: md });
    v.deliver(src, attackers[i % 200].packet(Verb.NETWORK_CONFIG_REQUEST, p), 1);
    if (i % 5000 === 4999) v.tick();
  }
  const m1 = mem();
  const post1 = postMs();
  return {
    probe: "controller: config requests for made-up networks (200 peers)",
    tries: fmt(TRIES),
    entries: `member status ${e0} → ${ctl.memberStatusTable.size}`,
    heap: `${m0.heap} → ${m1.heap} MB`,
    rss: `${m0.rss} → ${m1.rss} MB`,
    result: `all answered OBJ_NOT_FOUND (${fmt(resp.stats.errorsSent)}), nothing kept; member ` +
      `POST ${post0.toFixed(2)} → ${post1.toFixed(2)} ms`,
  };
}

/** 2.28 M made-up subscriptions (114,000 LIKEs × 20) from 100 peers at a root. */
function likeProbe(): Row {
  const LIKES = 114_000, PER = 20, PEERS = 100;
  const [rootId, memberId] = VALID;
  const planet = labPlanet(rootId);
  const v = new Victim(rootId, planet, 1_000_000);
  const rnd = new Random("bench-like");
  const networks = new Networks({ node: v.node, host: { saveConfig() {}, saveLocalConf() {} } });
  const frames = new Frames({ node: v.node, networks, random: (n) => rnd.bytes(n) });
  networks.frameHandler = frames;
  v.node.setUpperLayer(new UpperLayerMux({ sender: v.node, member: networks }));
  const member = new Talker(memberId, rootId, 1);
  const msrc = InetAddress.parse("198.18.250.10/9993")!;
  v.deliver(msrc, member.hello(v.now, undefined, planet));
  const NW = 0x4df3fe1590000001n;
  v.deliver(
    msrc,
    member.packet(
      Verb.MULTICAST_LIKE,
      encodeMulticastLike({ groups: [{ networkId: NW, mac: 0xffffffffffff, adi: 0 }] }),
    ),
    1,
  );
  const pairs = badKeyPairs("bench-like", PEERS);
  for (const p of pairs) v.node.topology.addPeer(p);
  const attackers = pairs.map((p, i) => new Talker(p, rootId, 100 + i));
  const src = InetAddress.parse("198.18.2.1/9993")!;
  const m0 = mem();
  const e0 = frames.multicast.tableStats().subscriptions;
  for (let i = 0; i < LIKES; i++) {
    const groups = [];
    for (let k = 0; k < PER; k++) {
      groups.push({
        networkId: (BigInt(rnd.nextU32()) << 32n) | BigInt(rnd.nextU32()),
        mac: rnd.nextU32() * 0x10000 + rnd.int(0x10000),
        adi: rnd.nextU32(),
      });
    }
    v.deliver(
      src,
      attackers[i % PEERS].packet(Verb.MULTICAST_LIKE, encodeMulticastLike({ groups })),
      0.5,
    );
    if (i % 5000 === 4999) v.tick();
  }
  const m1 = mem();
  const t = frames.multicast.tableStats();
  const kept = frames.multicast.members(NW, 0xffffffffffff, 0).includes(memberId.address.value);
  return {
    probe: "root: MULTICAST_LIKE flood (100 peers, 20 groups each)",
    tries: `${fmt(LIKES)} LIKEs = ${fmt(LIKES * PER)} subscriptions`,
    entries: `subscriptions ${e0} → ${fmt(t.subscriptions)} (cap 65,536), networks ${
      fmt(t.networks)
    }`,
    heap: `${m0.heap} → ${m1.heap} MB`,
    rss: `${m0.rss} → ${m1.rss} MB`,
    result: `${fmt(t.evicted)} evicted from the largest holders; member's subscription ${
      kept ? "kept" : "LOST"
    }`,
  };
}

/**
 * Bad-PoW HELLOs from 300 /24s at 10 per /24 per second of the node's clock for 60 s: half
 * replays of 32 recorded HELLOs, half fresh identities. Reports the CPU spent per clock second.
 */
function helloProbe(): Row {
  const NETS = 300, RATE = 10, SECONDS = 60;
  const [vId] = VALID;
  const planet = labPlanet(vId);
  // as the service does: the budget is charged what a check measures here
  const cost = measuredIdentityCheckMs();
  const agree = measuredAgreementMs(vId);
  const v = new Victim(vId, planet, 1_000_000, {
    identityValidationCostMs: cost,
    identityAgreementCostMs: agree,
  });
  const pairs = badKeyPairs("bench-hello", 8);
  const base = pairs.map((p, i) => new Talker(p, vId, 10 + i));
  const recorded = Array.from(
    { length: 32 },
    (_, i) =>
      new Talker(withAddress(pairs[i % 8], 0x20_0000_0000 + i), vId, 100 + i, base[i % 8].keys)
        .hello(v.now),
  );
  const rnd = new Random("bench-hello");
  const m0 = mem();
  const s0 = v.node.tableStats();
  const total = NETS * RATE * SECONDS;
  const step = 1000 / (NETS * RATE);
  let cpu = 0, fresh = 0;
  for (let i = 0; i < total; i++) {
    const src = sourceIn24(i % NETS, rnd.int(254));
    let pkt: Uint8Array;
    if (i % 2 === 0) pkt = recorded[(i >> 1) % 32].slice();
    else {
      const k = fresh % 8;
      pkt = new Talker(
        withAddress(pairs[k], 0x30_0000_0000 + fresh++),
        vId,
        1000 + fresh,
        base[k].keys,
      )
        .hello(v.now);
    }
    v.now += step;
    const t = performance.now();
    v.node.receive(v.now, 0, src, pkt);
    cpu += performance.now() - t;
    if (i % 3000 === 2999) {
      v.tick();
      v.clearSent();
    }
  }
  const m1 = mem();
  const s = v.node.tableStats();
  const share = cpu / (SECONDS * 1000);
  const checksShare = (s.identityValidations * cost + s.identityAgreements * agree) /
    (SECONDS * 1000);
  return {
    probe: `HELLO with bad PoW: ${NETS} /24s × ${RATE}/s for ${SECONDS} s (half replays)`,
    tries: fmt(total),
    entries:
      `negative cache ${s0.identityNegative} → ${s.identityNegative}, peers ${s0.peers} → ${s.peers}`,
    heap: `${m0.heap} → ${m1.heap} MB`,
    rss: `${m0.rss} → ${m1.rss} MB`,
    result: `${s.identityValidations} checks + ${fmt(s.identityAgreements)} agreements ` +
      `(${cost} / ${agree} ms each as measured: ${(checksShare * 100).toFixed(1)}% of a core, ` +
      `budget ${IDENTITY_CHECK_CPU_SHARE * 100}%), ${fmt(s.identityReplaysDropped)} replays ` +
      `refused, ${fmt(s.identityBudgetDropped)} over budget; all of receive() took ` +
      `${(share * 100).toFixed(1)}% of a core (wall clock)`,
  };
}

/** Runs the three probes and prints a Markdown table. */
export async function run(): Promise<void> {
  const rows = [controllerProbe(), likeProbe(), helloProbe()];
  console.log("| probe | tries | table entries before → after | heap | RSS | result |");
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.probe} | ${r.tries} | ${r.entries} | ${r.heap} | ${r.rss} | ${r.result} |`);
  }
  await Promise.resolve();
}

if (import.meta.main) await run();
