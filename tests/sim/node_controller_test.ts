// A root, a controller node and a member node in the simulator: deny, authorize, edit, deauthorize.
import assert from "node:assert/strict";
import { Sim } from "../../src/sim/sim.ts";
import type { Address } from "../../src/vl1/address.ts";
import type { Identity } from "../../src/vl1/identity.ts";
import type { UpperLayer } from "../../src/vl1/node.ts";
import { Verb } from "../../src/vl1/packet.ts";
import { decodeNetworkCredentials } from "../../src/vl1/verbs/credentials.ts";
import { decodeError } from "../../src/vl1/verbs/error.ts";
import {
  decodeOkNetworkConfigRequest,
  encodeNetworkConfigRequest,
} from "../../src/vl1/verbs/network_config.ts";
import { ConfigChunkAssembler } from "../../src/vl2/config_chunks.ts";
import {
  defaultConfigRequestMetadata,
  encodeConfigRequestMetadata,
} from "../../src/vl2/config_request_metadata.ts";
import {
  type Revocation,
  revocationDeserialize,
  revocationVerify,
} from "../../src/vl2/credentials/revocation.ts";
import { type NetworkConfig, parseNetworkConfig } from "../../src/vl2/network_config.ts";
import {
  attachController,
  makeIdentities,
  makePlanet,
  managedNetworkBody,
  SimNode,
} from "./node_harness.ts";

const IDS = makeIdentities("node-controller", 3);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

/**
 * A minimal member side (src/vl2/networks.ts had not landed): asks for the config, reassembles
 * signed chunks from OK(NETWORK_CONFIG_REQUEST) and NETWORK_CONFIG, records ERRORs and
 * revocations. Verifies everything against the controller identity it was given.
 */
class TestMember implements UpperLayer {
  readonly configs: NetworkConfig[] = [];
  readonly errors: { code: number; nwid: bigint | undefined }[] = [];
  readonly revocations: Revocation[] = [];
  readonly #asm: ConfigChunkAssembler;

  constructor(
    readonly sim: SimNode,
    readonly nwid: bigint,
    readonly controller: Identity,
  ) {
    this.#asm = new ConfigChunkAssembler(nwid);
  }

  request(): void {
    this.sim.node.sendPacket(
      this.sim.sim.now,
      this.controller.address,
      Verb.NETWORK_CONFIG_REQUEST,
      encodeNetworkConfigRequest({
        networkId: this.nwid,
        metadata: encodeConfigRequestMetadata(defaultConfigRequestMetadata()),
      }),
      { compress: true },
    );
  }

  handle(_now: number, source: Address, verb: Verb, payload: Uint8Array): boolean {
    if (source.value !== this.controller.address.value) return false;
    if (verb === Verb.OK) {
      const ok = decodeOkNetworkConfigRequest(payload);
      if (ok) {
        this.#chunk(this.#asm.acceptDecoded(payload, ok.chunk, this.controller, source.value));
      }
    } else if (verb === Verb.NETWORK_CONFIG) {
      this.#chunk(this.#asm.accept(payload, this.controller, source.value));
    } else if (verb === Verb.ERROR) {
      const e = decodeError(payload);
      if (e) this.errors.push({ code: e.code, nwid: e.networkId });
    } else if (verb === Verb.NETWORK_CREDENTIALS) {
      const c = decodeNetworkCredentials(payload);
      for (const r of c?.revocations ?? []) {
        const rev = revocationDeserialize(r)?.revocation;
        if (rev && revocationVerify(rev, this.controller)) this.revocations.push(rev);
      }
    }
    return true;
  }

  #chunk(r: ReturnType<ConfigChunkAssembler["accept"]>): void {
    if (r.status !== "complete") return;
    const nc = parseNetworkConfig(r.dictionary);
    if (nc) this.configs.push(nc);
  }
}

Deno.test("sim: controller denies, then pushes configs on authorize/edit and revokes on deauthorize", () => {
  const sim = new Sim(11);
  const root = new SimNode(sim, sim.host(ROOT_IP), IDS[0], PLANET);
  const ctlNode = new SimNode(sim, sim.host("81.0.0.1"), IDS[1], PLANET);
  const memNode = new SimNode(sim, sim.host("82.0.0.1"), IDS[2], PLANET);
  assert.ok(sim.clock.runUntilTrue(() => ctlNode.node.online() && memNode.node.online(), 20_000));
  assert.ok(root.node.isRoot());

  // the controller node: Controller + responder plugged into the node through the mux
  const logs: string[] = [];
  const { ctl, resp } = attachController(ctlNode, IDS[1], (m) => logs.push(m));

  const created = ctl.postNetwork(`${ctlNode.addr}______`, managedNetworkBody("sim-net"));
  assert.ok(created.ok);
  const nwidHex = String(created.value.id);
  assert.equal(nwidHex.slice(0, 10), ctlNode.addr);
  const nwid = BigInt("0x" + nwidHex);

  const member = new TestMember(memNode, nwid, IDS[1]);
  memNode.core.upper.setMember(member); // the test's member side instead of the core's Networks

  // 1. not authorized: ERROR(NETWORK_ACCESS_DENIED, nwid)
  member.request();
  assert.ok(sim.clock.runUntilTrue(() => member.errors.length > 0, 5_000), "error reply");
  assert.deepEqual(member.errors[0], { code: 0x07, nwid });
  assert.equal(member.configs.length, 0);
  const stored = ctl.getMember(nwidHex, memNode.addr)!;
  assert.equal(stored.authorized, false);
  assert.equal(stored.identity, IDS[2].toString(false));

  // 2. authorize through the API → config pushed with the pool address (§10.5 IPv4 pool rule)
  const t0 = sim.now;
  assert.ok(ctl.postMember(nwidHex, memNode.addr, { authorized: true }).ok);
  assert.ok(sim.clock.runUntilTrue(() => member.configs.length >= 1, 5_000), "config pushed");
  const pushDelay = sim.now - t0;
  const c1 = member.configs[0];
  assert.equal(c1.name, "sim-net");
  assert.equal(c1.issuedTo, memNode.node.address.value);
  const start = (10 << 24 | 147 << 16 | 17 << 8 | 10) >>> 0;
  const want = start + (memNode.node.address.value % 0x1_0000_0000) % 240;
  const wantIp = [want >>> 24, (want >>> 16) & 255, (want >>> 8) & 255, want & 255].join(".");
  assert.deepEqual(c1.staticIps.map((a) => a.toString()), [`${wantIp}/24`]);
  assert.deepEqual(ctl.getMember(nwidHex, memNode.addr)!.ipAssignments, [wantIp]);

  // 3. edit the network: a new config (new name, MTU, revision) is pushed
  assert.ok(ctl.postNetwork(nwidHex, { name: "sim-net-2", mtu: 1500 }).ok);
  assert.ok(sim.clock.runUntilTrue(() => member.configs.length >= 2, 5_000), "re-pushed");
  const c2 = member.configs[1];
  assert.equal(c2.name, "sim-net-2");
  assert.equal(c2.mtu, 1500);
  assert.ok(c2.revision > c1.revision);
  assert.deepEqual(c2.staticIps.map((a) => a.toString()), [`${wantIp}/24`], "address kept");

  // 4. the member asks again (its periodic request): answered with OK chunks
  sim.clock.runFor(2000);
  member.request();
  assert.ok(sim.clock.runUntilTrue(() => member.configs.length >= 3, 5_000), "OK reply");
  assert.equal(member.configs[2].name, "sim-net-2");

  // 5. deauthorize → signed revocation of the member's COM within seconds
  const t1 = sim.now;
  assert.ok(ctl.postMember(nwidHex, memNode.addr, { authorized: false }).ok);
  assert.ok(sim.clock.runUntilTrue(() => member.revocations.length > 0, 5_000), "revoked");
  const revDelay = sim.now - t1;
  const rev = member.revocations[0];
  assert.equal(rev.target, memNode.node.address.value);
  assert.equal(rev.networkId, nwid);
  assert.equal(rev.threshold, BigInt(t1));
  assert.ok(revDelay < 2000 && pushDelay < 2000, `push ${pushDelay} ms, revocation ${revDelay} ms`);

  // and a later request is denied
  sim.clock.runFor(2000);
  const nErr = member.errors.length;
  member.request();
  assert.ok(sim.clock.runUntilTrue(() => member.errors.length > nErr, 5_000));
  assert.equal(member.errors.at(-1)!.code, 0x07);
  assert.deepEqual(logs, []);
  const s = resp.stats;
  assert.equal(s.configsSent, 1);
  // the first denial, the ACCESS_DENIED pushed on deauthorization, the later denial
  assert.equal(s.errorsSent, 3);
  assert.equal(s.pushes, 2);
  assert.equal(s.revocationsSent, 1);
  for (const n of [root, ctlNode, memNode]) n.stop();
});
