// Floods at the VL1 tables keyed by what peers send: WHOIS queue and gate, fragments, paths, self-awareness, rendezvous.
import assert from "node:assert/strict";
import { Random } from "../../src/sim/random.ts";
import { Address } from "../../src/vl1/address.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { MAX_PEER_NETWORK_PATHS, QUEUE_SIZE } from "../../src/vl1/node_settings.ts";
import { Verb } from "../../src/vl1/packet.ts";
import { PENDING_RENDEZVOUS_MAX } from "../../src/vl1/pending_rendezvous.ts";
import { MAX_PATHS } from "../../src/vl1/topology.ts";
import { encodeRendezvous } from "../../src/vl1/verbs/rendezvous.ts";
import { WHOIS_GATE_MAX } from "../../src/vl1/whois_queue.ts";
import { RX_QUEUE_SIZE } from "../../src/vl1/fragment.ts";
import { badKeyPairs, heapMb, labPlanet, Talker, VALID, Victim } from "./hostile.ts";

const [rootId, legitId, , victimId] = VALID;
const PLANET = labPlanet(rootId);
const LEGIT_SRC = InetAddress.parse("198.18.250.10/9993")!;

/** A victim (not a root) with a legitimate peer whose path is confirmed. */
function setup(seed: number): { v: Victim; legit: Talker } {
  const v = new Victim(victimId, PLANET, 40_000_000 + seed);
  const legit = new Talker(legitId, victimId, 1);
  v.deliver(LEGIT_SRC, legit.hello(v.now, undefined, PLANET));
  for (const ok of legit.okHellos(v.sent)) v.deliver(LEGIT_SRC, ok, 1);
  assert.ok(v.node.peer(legitId.address)?.paths.length, "legit path confirmed");
  return { v, legit };
}

/** The legitimate peer's ECHO is answered. */
function answersLegit(v: Victim, legit: Talker, what: string): void {
  v.clearSent();
  v.deliver(LEGIT_SRC, legit.packet(Verb.ECHO, new Uint8Array([7])), 1);
  assert.ok(
    legit.answers(v.sent).some((a) => a.verb === Verb.OK && a.inReVerb === Verb.ECHO),
    `legit ECHO answered ${what}`,
  );
  assert.deepEqual(
    [...v.node.counters.snapshot().internalErrors],
    [],
    `hostile input is never counted as an internal error (${what})`,
  );
}

Deno.test("reliability: 50,000 packets from 50,000 unknown sources and 50,000 stray fragments", () => {
  const { v, legit } = setup(1);
  const rnd = new Random("unknown-sources");
  const heap0 = heapMb();
  const me = victimId.address.value;
  for (let i = 0; i < 50_000; i++) {
    // a packet from an unknown address (queued for WHOIS; cannot be authenticated yet)
    const p = rnd.bytes(28 + rnd.int(64));
    const src = 0x30_0000_0000 + i;
    for (let k = 0; k < 5; k++) {
      p[8 + k] = Math.floor(me / 2 ** (8 * (4 - k))) & 0xff;
      p[13 + k] = Math.floor(src / 2 ** (8 * (4 - k))) & 0xff;
    }
    p[18] = 1 << 3;
    p[27] = Verb.ECHO;
    v.deliver(InetAddress.fromIp(`198.18.${i & 0xff}.${1 + (i >> 8) % 250}`, 9993)!, p, 0.2);
    // a fragment of a packet that never completes
    const f = rnd.bytes(16 + rnd.int(200));
    for (let k = 0; k < 5; k++) f[8 + k] = Math.floor(me / 2 ** (8 * (4 - k))) & 0xff;
    f[13] = 0xff;
    f[14] = (4 << 4) | (1 + rnd.int(3));
    f[15] = 0;
    v.deliver(InetAddress.fromIp(`198.18.${i & 0xff}.9`, 9993)!, f, 0.2);
    if (i % 5000 === 4999) {
      v.tick();
      v.clearSent();
      const s = v.node.tableStats();
      assert.ok(s.whoisQueue <= 2 * QUEUE_SIZE, `whois queue ${s.whoisQueue}`);
      assert.ok(s.whoisRequests <= WHOIS_GATE_MAX, `whois gate ${s.whoisRequests}`);
      assert.ok(s.fragments <= RX_QUEUE_SIZE, `fragments ${s.fragments}`);
      assert.ok(s.peerCacheMisses <= 4096);
    }
  }
  const s = v.node.tableStats();
  console.log(
    `unknown sources: whois queue ${s.whoisQueue} (dropped ${s.whoisQueueDropped}), whois gate ` +
      `${s.whoisRequests} (evicted ${s.whoisRequestsEvicted}), fragments ${s.fragments}, ` +
      `peers ${s.peers}, heap ${heap0} → ${heapMb()} MB`,
  );
  assert.ok(s.whoisQueueDropped > 0 && s.whoisRequests > 0);
  assert.equal(s.peers, 2, "root and the legitimate peer only");
  answersLegit(v, legit, "after unknown sources");
});

Deno.test("reliability: a known peer from 70,000 addresses and 50,000 HELLO reports", () => {
  const { v, legit } = setup(2);
  const [bad] = badKeyPairs("paths-flood", 1);
  v.node.topology.addPeer(bad);
  const hostile = new Talker(bad, victimId, 9);
  const rnd = new Random("paths-flood");
  const heap0 = heapMb();
  const me = InetAddress.parse("198.18.0.50/9993")!;
  for (let i = 0; i < 70_000; i++) {
    // ports stay valid (1024 + i alone passes 65535 after 64,511 and gives no address at all)
    const port = 1024 + (i % 64_000);
    const src = InetAddress.fromIp(`198.18.${rnd.int(256)}.${1 + rnd.int(254)}`, port)!;
    v.deliver(src, hostile.packet(Verb.ECHO, new Uint8Array(0)), 0.1);
    if (i < 50_000) v.deliver(src, hostile.hello(v.now, me), 0.1);
    if (i % 5000 === 4999) {
      v.tick();
      v.clearSent();
      const s = v.node.tableStats();
      assert.ok(s.paths <= MAX_PATHS, `paths ${s.paths}`);
      assert.ok(s.selfAwareness <= 1024, `self-awareness ${s.selfAwareness}`);
      assert.ok(v.node.peer(bad.address)!.paths.length <= MAX_PEER_NETWORK_PATHS);
    }
  }
  const s = v.node.tableStats();
  console.log(
    `one peer, many addresses: paths ${s.paths} (not kept ${s.pathsRefused}), self-awareness ` +
      `${s.selfAwareness} (evicted ${s.selfAwarenessEvicted}), heap ${heap0} → ${heapMb()} MB`,
  );
  // 70,000 addresses went through a table of 65,536: unused paths were dropped or not kept
  assert.ok(s.paths <= MAX_PATHS);
  assert.ok(s.selfAwarenessEvicted > 0);
  answersLegit(v, legit, "after the address flood");
});

Deno.test("reliability: 50,000 RENDEZVOUS from the root naming unknown peers", () => {
  const { v, legit } = setup(3);
  const root = new Talker(rootId, victimId, 5);
  const rootSrc = InetAddress.parse("198.18.0.1/9993")!;
  const rnd = new Random("rendezvous-flood");
  for (let i = 0; i < 50_000; i++) {
    const r = encodeRendezvous({
      flags: 0,
      peer: new Address(0x40_0000_0000 + i),
      endpoint: InetAddress.fromIp(`198.18.${rnd.int(256)}.${1 + rnd.int(254)}`, 9993)!,
    });
    v.deliver(rootSrc, root.packet(Verb.RENDEZVOUS, r), 0.2);
    if (i % 5000 === 4999) {
      v.tick();
      v.clearSent();
      const s = v.node.tableStats();
      assert.ok(s.rendezvous <= PENDING_RENDEZVOUS_MAX, `rendezvous ${s.rendezvous}`);
      assert.ok(s.whoisRequests <= WHOIS_GATE_MAX);
    }
  }
  assert.ok(v.node.tableStats().rendezvous > 0);
  answersLegit(v, legit, "after the rendezvous flood");
});
