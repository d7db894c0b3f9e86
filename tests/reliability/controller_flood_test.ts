// Flood: 50,000 config requests for made-up networks at a controller node; the controller's member state stays bounded and a member keeps its config.
import assert from "node:assert/strict";
import { Controller, MEMBER_ONLINE_WINDOW } from "../../src/controller/controller.ts";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import { ControllerResponder, responderNode } from "../../src/controller/responder.ts";
import { Random } from "../../src/sim/random.ts";
import { Address } from "../../src/vl1/address.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { Verb } from "../../src/vl1/packet.ts";
import { encodeNetworkConfigRequest } from "../../src/vl1/verbs/network_config.ts";
import {
  defaultConfigRequestMetadata,
  encodeConfigRequestMetadata,
} from "../../src/vl2/config_request_metadata.ts";
import { UpperLayerMux } from "../../src/vl2/upper_layer_mux.ts";
import { badKeyPairs, heapMb, labPlanet, Talker, VALID, Victim } from "./hostile.ts";

const MESSAGES = 50_000;
const ATTACKERS = 200;
const METADATA = encodeConfigRequestMetadata(defaultConfigRequestMetadata());

function request(nwid: bigint): Uint8Array {
  return encodeNetworkConfigRequest({ networkId: nwid, metadata: METADATA });
}

Deno.test("reliability: 50,000 config requests for made-up networks leave no state; the member keeps its config", () => {
  const [rootId, memberId, ctlId] = VALID;
  const planet = labPlanet(rootId);
  const v = new Victim(ctlId, planet, 30_000_000);
  const rnd = new Random("controller-flood");
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

  const created = ctl.postNetwork(undefined, { name: "lab", private: true });
  assert.ok(created.ok);
  const nwidHex = String(created.value.id);
  const nwid = BigInt("0x" + nwidHex);
  assert.ok(ctl.postMember(nwidHex, memberId.address.toString(), { authorized: true }).ok);

  const member = new Talker(memberId, ctlId, 1);
  const memberSrc = InetAddress.parse("198.18.250.10/9993")!;
  v.deliver(memberSrc, member.hello(v.now, undefined, planet));
  for (const ok of member.okHellos(v.sent)) v.deliver(memberSrc, ok, 1);
  assert.ok(v.node.peer(memberId.address)?.paths.length, "member's path confirmed");
  const gotConfig = () =>
    member.answers(v.sent).some((a) =>
      a.verb === Verb.OK && a.inReVerb === Verb.NETWORK_CONFIG_REQUEST
    );
  v.clearSent();
  v.deliver(memberSrc, member.packet(Verb.NETWORK_CONFIG_REQUEST, request(nwid)), 1);
  assert.ok(gotConfig(), "member configured");
  const heap0 = heapMb();

  // 200 hostile peers (known, as after their HELLO) ask for made-up networks under our address.
  const pairs = badKeyPairs("controller-flood", ATTACKERS);
  for (const p of pairs) v.node.topology.addPeer(p);
  const attackers = pairs.map((p, i) => new Talker(p, ctlId, 100 + i));
  const srcs = pairs.map((_, i) => InetAddress.fromIp(`198.18.${i}.9`, 9993)!);
  const base = BigInt(ctlId.address.value) << 24n;
  const errors0 = resp.stats.errorsSent;
  for (let i = 0; i < MESSAGES; i++) {
    const a = i % ATTACKERS;
    const made = base | BigInt(1 + rnd.int(0xfffffe));
    if (made === nwid) continue;
    v.deliver(srcs[a], attackers[a].packet(Verb.NETWORK_CONFIG_REQUEST, request(made)), 1);
    if (i % 1000 === 999) {
      v.tick();
      v.clearSent();
      assert.equal(ctl.memberStatusTable.size, 1, "only the member's status is kept");
      assert.equal(ctl.memberStatusTable.networks, 1);
    }
    if (i % 20_000 === 19_999) { // the member's periodic request
      v.clearSent();
      v.deliver(memberSrc, member.packet(Verb.NETWORK_CONFIG_REQUEST, request(nwid)), 1);
      assert.ok(gotConfig(), `member configured at ${i + 1}`);
    }
  }
  console.log(
    `controller flood: ${MESSAGES} requests for made-up networks from ${ATTACKERS} peers: ` +
      `member status ${ctl.memberStatusTable.size}, errors sent ${
        resp.stats.errorsSent - errors0
      }, ` +
      `requests ${resp.stats.requests}, heap ${heap0} → ${heapMb()} MB`,
  );
  // each made-up network is answered (ERROR OBJ_NOT_FOUND), none remembered
  assert.ok(resp.stats.errorsSent - errors0 >= MESSAGES - 10, "made-up networks answered");
  assert.equal(ctl.memberStatusTable.size, 1);
  assert.ok(ctl.memberStatus(nwidHex, memberId.address.toString()));
  assert.deepEqual(ctl.onlineMembers(nwidHex, v.now), [memberId.address.toString()]);
  v.clearSent();
  v.deliver(memberSrc, member.packet(Verb.NETWORK_CONFIG_REQUEST, request(nwid)), 1);
  assert.ok(gotConfig(), "member configured after the flood");
  assert.deepEqual(
    [...v.node.counters.snapshot().internalErrors],
    [],
    "hostile input is never counted as an internal error",
  );
});

Deno.test("reliability: member status bounds: a flood into one network never evicts another's members", () => {
  let now = 1_000_000;
  const ctlId = VALID[2];
  const rnd = new Random("member-status-bounds");
  const ctl = new Controller({
    identity: ctlId,
    store: new MemoryStore(),
    random: (n) => rnd.bytes(n),
    now: () => now,
    memberStatusLimits: { perNetwork: 2_000, total: 3_000 },
  });
  const a = ctl.postNetwork(undefined, { name: "flooded", private: true });
  const b = ctl.postNetwork(undefined, { name: "quiet", private: true });
  assert.ok(a.ok && b.ok);
  const [na, nb] = [String(a.value.id), String(b.value.id)];
  const ask = (id: Identity, nwid: string) =>
    ctl.handleConfigRequest(now, {
      identity: id,
      address: id.address,
      metadata: {},
      physicalAddress: undefined,
      packetId: BigInt(now),
    }, BigInt("0x" + nwid));
  // 1,500 quiet members on b, then 50,000 distinct requesters on a.
  const key = new Uint8Array(64).fill(7);
  for (let i = 0; i < 1500; i++) ask(new Identity(new Address(0x1000000000 + i), key), nb);
  for (let i = 0; i < 50_000; i++) {
    now += 1;
    ask(new Identity(new Address(0x2000000000 + i), key), na);
    if (i % 10_000 === 0) {
      assert.ok(ctl.memberStatusTable.size <= 3_000);
      assert.equal(ctl.onlineMembers(nb, now).length, 1500, "quiet network untouched");
    }
  }
  const t = ctl.memberStatusTable;
  assert.equal(t.size, 3_000);
  assert.equal(ctl.onlineMembers(nb, now).length, 1500);
  assert.equal(ctl.onlineMembers(na, now).length, 1500, "flooded network holds what is left");
  assert.ok(t.evicted >= 48_500);
  // the most recent requesters of the flooded network are the ones kept
  assert.ok(ctl.memberStatus(na, (0x2000000000 + 49_999).toString(16)));
  assert.equal(ctl.memberStatus(na, (0x2000000000).toString(16)), undefined);
  assert.ok(MEMBER_ONLINE_WINDOW > 50_000);
});
