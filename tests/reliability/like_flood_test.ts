// Flood: 50,000 MULTICAST_LIKEs (400,000 made-up subscriptions) from 100 peers at a root; a member's subscriptions survive.
import assert from "node:assert/strict";
import { Random } from "../../src/sim/random.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { Verb } from "../../src/vl1/packet.ts";
import { encodeMulticastLike } from "../../src/vl1/verbs/multicast.ts";
import { Frames } from "../../src/vl2/frames.ts";
import {
  MULTICAST_MAX_SUBSCRIPTIONS,
  MULTICAST_MAX_SUBSCRIPTIONS_PER_PEER,
} from "../../src/vl2/multicast_ledger.ts";
import { Networks } from "../../src/vl2/networks.ts";
import { UpperLayerMux } from "../../src/vl2/upper_layer_mux.ts";
import { badKeyPairs, heapMb, labPlanet, Talker, VALID, Victim } from "./hostile.ts";

const MESSAGES = 50_000;
const ENTRIES_PER_LIKE = 8;
const ATTACKERS = 100;
const NWID = 0x4df3fe1590000001n;
const GROUPS = [
  { mac: 0xffffffffffff, adi: 0 },
  { mac: 0xffffffffffff, adi: 0x0a930001 },
  { mac: 0x333300000001, adi: 0 },
];

function like(entries: { networkId: bigint; mac: number; adi: number }[]): Uint8Array {
  return encodeMulticastLike({ groups: entries });
}

Deno.test("reliability: 50,000 LIKEs at a root stay within the caps; a member keeps its groups", () => {
  const [rootId, memberId, lateId] = VALID;
  const planet = labPlanet(rootId);
  const v = new Victim(rootId, planet, 20_000_000);
  const rnd = new Random("like-flood");
  const networks = new Networks({
    node: v.node,
    host: { saveConfig() {}, saveLocalConf() {} },
  });
  const frames = new Frames({ node: v.node, networks, random: (n) => rnd.bytes(n) });
  networks.frameHandler = frames;
  v.node.setUpperLayer(new UpperLayerMux({ sender: v.node, member: networks }));
  assert.ok(v.node.isRoot());
  const mc = frames.multicast;

  // The member says hello and announces its groups.
  const member = new Talker(memberId, rootId, 1);
  const memberSrc = InetAddress.parse("198.18.250.10/9993")!;
  v.deliver(memberSrc, member.hello(v.now, undefined, planet));
  assert.ok(v.node.peer(memberId.address));
  const memberLike = () =>
    member.packet(
      Verb.MULTICAST_LIKE,
      like(GROUPS.map((g) => ({ networkId: NWID, ...g }))),
    );
  v.deliver(memberSrc, memberLike(), 1);
  const hasGroups = (who: number) =>
    GROUPS.every((g) => mc.members(NWID, g.mac, g.adi).includes(who));
  assert.ok(hasGroups(memberId.address.value));
  const heap0 = heapMb();

  // 100 hostile peers (known to the root, as after their HELLO) announce made-up groups.
  const pairs = badKeyPairs("like-flood", ATTACKERS);
  for (const p of pairs) v.node.topology.addPeer(p);
  const attackers = pairs.map((p, i) => new Talker(p, rootId, 100 + i));
  const srcs = pairs.map((_, i) => InetAddress.fromIp(`198.18.${i}.7`, 9993)!);
  for (let i = 0; i < MESSAGES; i++) {
    const a = i % ATTACKERS;
    const entries = [];
    for (let k = 0; k < ENTRIES_PER_LIKE; k++) {
      entries.push({
        networkId: (BigInt(rnd.nextU32()) << 32n) | BigInt(rnd.nextU32()),
        mac: rnd.nextU32() * 0x10000 + rnd.int(0x10000),
        adi: rnd.nextU32(),
      });
    }
    v.deliver(srcs[a], attackers[a].packet(Verb.MULTICAST_LIKE, like(entries)), 1);
    if (i % 5000 === 4999) {
      v.tick();
      v.clearSent();
      const t = mc.tableStats();
      assert.ok(t.subscriptions <= MULTICAST_MAX_SUBSCRIPTIONS, `subs ${t.subscriptions}`);
      assert.ok(t.largest <= MULTICAST_MAX_SUBSCRIPTIONS_PER_PEER);
      assert.ok(t.networks <= MULTICAST_MAX_SUBSCRIPTIONS + 1, `networks ${t.networks}`);
      assert.ok(hasGroups(memberId.address.value), `member's groups kept at ${i + 1}`);
    }
    if (i % 20_000 === 19_999) v.deliver(memberSrc, memberLike()); // its periodic re-announce
  }
  const t = mc.tableStats();
  console.log(
    `like flood: ${MESSAGES} LIKEs, ${MESSAGES * ENTRIES_PER_LIKE} entries from ${ATTACKERS} ` +
      `peers: ${t.subscriptions} subscriptions, ${t.networks} networks, ${t.evicted} evicted, ` +
      `heap ${heap0} → ${heapMb()} MB`,
  );
  assert.equal(t.subscriptions, MULTICAST_MAX_SUBSCRIPTIONS, "full, not beyond");
  assert.ok(t.evicted > 0);
  assert.ok(hasGroups(memberId.address.value));

  // A member arriving when the table is full still gets its groups in (evicting the flooders').
  const late = new Talker(lateId, rootId, 2);
  const lateSrc = InetAddress.parse("198.18.251.10/9993")!;
  v.deliver(lateSrc, late.hello(v.now, undefined, planet), 1);
  v.deliver(
    lateSrc,
    late.packet(Verb.MULTICAST_LIKE, like(GROUPS.map((g) => ({ networkId: NWID, ...g })))),
    1,
  );
  assert.ok(hasGroups(lateId.address.value), "late member's groups accepted");
  assert.ok(hasGroups(memberId.address.value));
  assert.equal(mc.tableStats().subscriptions, MULTICAST_MAX_SUBSCRIPTIONS);

  // The root still answers the member.
  v.clearSent();
  v.deliver(memberSrc, member.packet(Verb.ECHO, new Uint8Array([9])), 1);
  assert.ok(member.answers(v.sent).some((a) => a.verb === Verb.OK && a.inReVerb === Verb.ECHO));
  assert.deepEqual(
    [...v.node.counters.snapshot().internalErrors],
    [],
    "hostile input is never counted as an internal error",
  );
});
