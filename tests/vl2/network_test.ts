// One joined network: requests, chunked configs and acceptance rules, member credentials, gate, pushes — with lab identities and recorded bytes.
import assert from "node:assert/strict";
import { fixtureBytes } from "../fixtures.ts";
import { toHex } from "../../src/util/hex.ts";
import { Address } from "../../src/vl1/address.ts";
import { Verb } from "../../src/vl1/packet.ts";
import { decodeNetworkCredentials } from "../../src/vl1/verbs/credentials.ts";
import {
  decodeNetworkConfigRequest,
  decodeOkNetworkConfig,
} from "../../src/vl1/verbs/network_config.ts";
import { signConfigChunks } from "../../src/vl2/config_chunks.ts";
import {
  defaultConfigRequestMetadata,
  encodeConfigRequestMetadata,
} from "../../src/vl2/config_request_metadata.ts";
import { comSerialize } from "../../src/vl2/credentials/com.ts";
import {
  revocationSerialize as revSer,
  revocationSign,
} from "../../src/vl2/credentials/revocation.ts";
import { CredentialType } from "../../src/vl2/credentials/signature.ts";
import { Dictionary } from "../../src/vl2/dictionary.ts";
import {
  encodeNetworkConfig,
  networkConfigFromDictionary,
  parseNetworkConfig,
} from "../../src/vl2/network_config.ts";
import { NETWORK_AUTOCONF_DELAY, NETWORK_CONFIG_RETRY_DELAY } from "../../src/vl2/network.ts";
import { Networks } from "../../src/vl2/networks.ts";
import {
  capturePackets,
  FakeNode,
  lab,
  LAB_NET,
  lookupOf,
  MemHost,
  RULES_NET,
} from "./network_helpers.ts";

const A = lab("a");
const B = lab("b");
const C = lab("c");
const LAB_A = fixtureBytes("homes/a/networks.d/5b1c20a311fca1ca.conf");
const LAB_B = fixtureBytes("homes/b/networks.d/5b1c20a311fca1ca.conf");
const RULES_A = fixtureBytes("homes/a/networks.d/5b1c20a311309832.conf");

function setup(me = A, known = [A, B, C]) {
  const node = new FakeNode(me);
  const host = new MemHost();
  const nets = new Networks({ node, host, lookupIdentity: lookupOf(...known) });
  return { node, host, nets };
}

/** The config dictionary with some keys replaced (re-encoded). */
function edited(bytes: Uint8Array, f: (d: Dictionary) => void): Uint8Array {
  const d = Dictionary.parse(bytes);
  f(d);
  return d.encode();
}

function setKey(d: Dictionary, key: string, value: string): void {
  const e = d.entries.find((x) => x.key === key)!;
  e.value = new TextEncoder().encode(value);
}

Deno.test("network: join sends a compressed NETWORK_CONFIG_REQUEST byte-identical to a's recorded one", () => {
  const { node, host, nets } = setup();
  const nw = nets.join(1000, LAB_NET);
  assert.equal(nw.status, "REQUESTING_CONFIGURATION");
  assert.equal(nw.controller, C.address.value);
  const reqs = node.of(Verb.NETWORK_CONFIG_REQUEST);
  assert.equal(reqs.length, 1);
  assert.equal(reqs[0].dest, C.address.value);
  assert.ok(reqs[0].compress && reqs[0].encrypt);
  const rec = capturePackets().find((p) =>
    p.verb === Verb.NETWORK_CONFIG_REQUEST && p.source === A.address.value && p.hops === 0 &&
    decodeNetworkConfigRequest(p.payload)!.networkId === LAB_NET
  )!;
  assert.equal(toHex(reqs[0].payload), toHex(rec.payload));
  const q = decodeNetworkConfigRequest(reqs[0].payload)!;
  assert.equal(
    toHex(q.metadata),
    toHex(encodeConfigRequestMetadata(defaultConfigRequestMetadata())),
  );
  assert.equal(q.revision, 0n);
  // joined without config: the .conf file is a single LF, .local.conf the defaults
  assert.equal(toHex(host.configs.get(LAB_NET)!), "0a");
  assert.equal(
    new TextDecoder().decode(host.localConfs.get(LAB_NET)!),
    "allowManaged=1\nallowGlobal=0\nallowDefault=0\nallowDNS=0\n",
  );
});

Deno.test("network: request timing — every 5 s without config, every 60 s with one", () => {
  const { node, nets } = setup();
  const nw = nets.join(0, LAB_NET);
  const count = () => node.of(Verb.NETWORK_CONFIG_REQUEST).length;
  for (let t = 0; t <= 20_000; t += 100) nets.tick(t);
  // join at 0, then at 5, 10, 15, 20 s
  assert.equal(count(), 1 + 20_000 / NETWORK_CONFIG_RETRY_DELAY);
  assert.equal(nw.applyConfiguration(20_000, LAB_A, true), "applied");
  const before = count();
  for (let t = 20_100; t <= 20_000 + 2 * NETWORK_AUTOCONF_DELAY; t += 100) nets.tick(t);
  assert.equal(count() - before, 2);
  // the refresh carries our revision and timestamp
  const q = decodeNetworkConfigRequest(node.of(Verb.NETWORK_CONFIG_REQUEST).at(-1)!.payload)!;
  const cfg = parseNetworkConfig(LAB_A)!;
  assert.equal(q.revision, cfg.revision);
  assert.equal(q.timestamp, cfg.timestamp);
});

Deno.test("network: multi-chunk NETWORK_CONFIG is verified, applied, saved and answered with OK(in-re ECHO)", () => {
  const { node, host, nets } = setup();
  const nw = nets.join(0, LAB_NET);
  const chunks = signConfigChunks(LAB_A, LAB_NET, 0x1122334455667788n, C, 0, 400);
  assert.ok(chunks.length >= 3);
  const src = new Address(C.address.value);
  const info = (id: bigint) => ({
    hops: 0,
    packetId: id,
    remote: undefined as never,
    localSocket: 0,
  });
  // a tampered chunk is refused
  const bad = chunks[0].slice();
  bad[20] ^= 1;
  assert.equal(nets.handle(10, src, Verb.NETWORK_CONFIG, bad, info(99n)), false);
  for (let i = 0; i < chunks.length; i++) {
    nets.handle(10 + i, src, Verb.NETWORK_CONFIG, chunks[i], info(BigInt(500 + i)));
    assert.equal(nw.status, i < chunks.length - 1 ? "REQUESTING_CONFIGURATION" : "OK");
  }
  assert.equal(toHex(host.configs.get(LAB_NET)!), toHex(LAB_A));
  const oks = node.of(Verb.OK);
  assert.equal(oks.length, 1);
  assert.equal(oks[0].dest, C.address.value);
  const ok = decodeOkNetworkConfig(oks[0].payload)!;
  assert.equal(oks[0].payload[0], Verb.ECHO);
  assert.equal(ok.inRePacketId, BigInt(500 + chunks.length - 1));
  assert.equal(ok.networkId, LAB_NET);
  assert.equal(ok.configUpdateId, 0x1122334455667788n);
  const info2 = nw.info();
  assert.equal(info2.name, "lab-net");
  assert.deepEqual(info2.assignedAddresses.map(String), [
    "fd5b:1c20:a311:fca1:ca99:9398:bec7:1608/88",
    "fc4a:e081:6998:bec7:1608::1/40",
    "198.19.0.114/24",
  ]);
  assert.equal(info2.netconfRevision, 1);
  assert.equal(info2.broadcastEnabled, true);
});

Deno.test("network: acceptance — issuedTo and nwid must match us, stale configs and duplicates", () => {
  const { nets } = setup();
  const nw = nets.join(0, LAB_NET);
  // b's config is issued to b
  assert.equal(nw.applyConfiguration(1, LAB_B, true), "rejected");
  // a's config for the other network
  assert.equal(nw.applyConfiguration(1, RULES_A, true), "rejected");
  assert.equal(nw.applyConfiguration(1, new Uint8Array([0x0a]), true), "rejected");
  assert.equal(nw.status, "REQUESTING_CONFIGURATION");
  assert.equal(nw.applyConfiguration(2, LAB_A, true), "applied");
  const gen = nw.generation;
  assert.equal(nw.applyConfiguration(3, LAB_A, true), "unchanged");
  assert.equal(nw.generation, gen);
  const cfg = parseNetworkConfig(LAB_A)!;
  const ts = (cfg.timestamp - 1000n).toString(16).padStart(16, "0");
  const newer = edited(LAB_A, (d) => {
    setKey(d, "r", "0000000000000002");
    setKey(d, "n", "renamed");
  });
  assert.equal(nw.applyConfiguration(4, newer, true), "applied");
  assert.equal(nw.info().name, "renamed");
  // older in both revision and timestamp: a reordered stale config
  const stale = edited(LAB_A, (d) => setKey(d, "ts", ts));
  assert.equal(nw.applyConfiguration(5, stale, true), "rejected");
  // an older revision whose timestamp is not older is taken (e.g. a controller that was reset)
  const reissue = edited(LAB_A, (d) => setKey(d, "n", "again"));
  assert.equal(nw.applyConfiguration(6, reissue, true), "applied");
  assert.equal(nw.info().name, "again");
});

/** The recorded NETWORK_CREDENTIALS payload `from` pushed to `to` (direct copy). */
function recordedPush(from: number, to: number): Uint8Array {
  return capturePackets().find((p) =>
    p.verb === Verb.NETWORK_CREDENTIALS && p.source === from && p.dest === to && p.hops === 0
  )!.payload;
}

const pinfo = { hops: 0, packetId: 1n, remote: undefined as never, localSocket: 0 };

Deno.test("network: our credential push equals what a and b pushed in the lab, and follows the §7.9 timing", () => {
  for (const [me, conf, other] of [[A, LAB_A, B], [B, LAB_B, A]] as const) {
    const { node, nets } = setup(me);
    const nw = nets.join(0, LAB_NET, { storedConfig: conf });
    assert.equal(nw.status, "OK");
    const payloads = nw.credentialPayloads();
    assert.equal(payloads.length, 1);
    assert.equal(toHex(payloads[0]), toHex(recordedPush(me.address.value, other.address.value)));
    const to = other.address.value;
    const n = () => node.of(Verb.NETWORK_CREDENTIALS).length;
    assert.equal(nw.pushCredentials(1000, to), true);
    assert.equal(n(), 1);
    assert.ok(node.of(Verb.NETWORK_CREDENTIALS)[0].compress);
    assert.equal(nw.pushCredentials(2000, to), false); // < 500 s
    assert.equal(nw.pushCredentials(1999, to, true), false); // NEED_MEMBERSHIP_CERTIFICATE: ≤ 1 s
    assert.equal(nw.pushCredentials(2002, to, true), true);
    assert.equal(nw.pushCredentials(2003 + 499_000, to), false);
    assert.equal(nw.pushCredentials(2003 + 500_001, to), true);
    // a config change forces a push
    nw.applyConfiguration(600_000, edited(conf, (d) => setKey(d, "n", "x")), true);
    assert.equal(nw.pushCredentials(600_001, to), true);
    assert.equal(n(), 4);
  }
});

Deno.test("network: peer COM via NETWORK_CREDENTIALS opens the gate; a COM revocation closes it and fast-propagates", () => {
  const { node, nets } = setup();
  const nw = nets.join(0, LAB_NET, { storedConfig: LAB_A });
  const b = B.address.value;
  assert.equal(nw.gate(1, b), false);
  const push = recordedPush(b, A.address.value);
  assert.equal(nets.handle(10, new Address(b), Verb.NETWORK_CREDENTIALS, push, pinfo), true);
  assert.deepEqual(node.trust, [b]);
  assert.equal(nw.gate(11, b), true);
  assert.equal(nw.memberships.get(b)!.coos.size, 1);
  // without our own config the gate is shut
  const { nets: n2 } = setup();
  const nw2 = n2.join(0, LAB_NET);
  n2.handle(10, new Address(b), Verb.NETWORK_CREDENTIALS, push, pinfo);
  assert.equal(nw2.gate(11, b), false);

  const bCom = parseNetworkConfig(LAB_B)!.com!;
  const bTs = bCom.qualifiers[0].value;
  const rev = revocationSign({
    id: 7,
    networkId: LAB_NET,
    credentialId: 0,
    threshold: bTs,
    flags: 1n,
    target: b,
    signedBy: 0,
    credentialType: CredentialType.COM,
  }, C);
  const c = new Address(C.address.value);
  const revPayload = new Uint8Array([0, 0, 0, 0, 0, 0, 1, ...revSer(rev), 0, 0]);
  const sentBefore = node.of(Verb.NETWORK_CREDENTIALS).length;
  assert.equal(nets.handle(20, c, Verb.NETWORK_CREDENTIALS, revPayload, pinfo), true);
  assert.equal(nw.gate(21, b), false);
  // fast propagate: re-sent to the other member we know (b), not back to the controller
  const fwd = node.of(Verb.NETWORK_CREDENTIALS).slice(sentBefore);
  assert.deepEqual(fwd.map((p) => p.dest), [b]);
  assert.equal(toHex(fwd[0].payload), toHex(revPayload));
  // the revoked COM is not accepted again; the same revocation is redundant (no re-send)
  nets.handle(30, new Address(b), Verb.NETWORK_CREDENTIALS, push, pinfo);
  assert.equal(nw.gate(31, b), false);
  nets.handle(40, c, Verb.NETWORK_CREDENTIALS, revPayload, pinfo);
  assert.equal(node.of(Verb.NETWORK_CREDENTIALS).length, sentBefore + 1);
  // a forged revocation (signed by b) is ignored
  const { nets: n3 } = setup();
  const nw3 = n3.join(0, LAB_NET, { storedConfig: LAB_A });
  n3.handle(10, new Address(b), Verb.NETWORK_CREDENTIALS, push, pinfo);
  const forged = revocationSign({ ...rev, signedBy: 0 }, B);
  n3.handle(
    20,
    c,
    Verb.NETWORK_CREDENTIALS,
    new Uint8Array([0, 0, 0, 0, 0, 0, 1, ...revSer(forged), 0, 0]),
    pinfo,
  );
  assert.equal(nw3.gate(21, b), true);
});

Deno.test("network: tags and capabilities of the rules network are stored, usable within ctmd, and a tag revocation also cuts the COM (quirk)", () => {
  const { nets: na } = setup(A);
  const rulesA = na.join(0, RULES_NET, { storedConfig: RULES_A });
  const cfg = rulesA.config!;
  assert.equal(cfg.tags.length, 1);
  assert.equal(cfg.capabilities.length, 1);
  const [push] = rulesA.credentialPayloads();
  const d = decodeNetworkCredentials(push)!;
  assert.equal(d.coms.length, 1);
  assert.equal(d.capabilities.length, 1);
  assert.equal(d.tags.length, 1);
  assert.equal(toHex(d.coms[0]), toHex(comSerialize(cfg.com!)));

  // b (no config of its own: it was never authorized) still stores a's credentials
  const { node: nb, nets: nbs } = setup(B);
  const rulesB = nbs.join(0, RULES_NET);
  const a = A.address.value;
  nbs.handle(5, new Address(a), Verb.NETWORK_CREDENTIALS, push, pinfo);
  const m = rulesB.memberships.get(a)!;
  assert.ok(m.com);
  assert.equal(m.tags.get(2000)?.value, 10);
  assert.ok(m.capabilities.has(1000));
  assert.equal(m.usableTag(2000, cfg)?.value, 10);
  const far = { ...cfg, timestamp: cfg.timestamp + cfg.credentialTimeMaxDelta + 1n };
  assert.equal(m.usableTag(2000, far), undefined);
  assert.equal(m.usableCapabilities(cfg).length, 1);
  assert.equal(m.isAllowed(cfg, A), true);
  // isAllowed remembers its last answer: a replaced credential is looked at again
  const com = m.com;
  m.com = undefined;
  assert.equal(m.isAllowed(cfg, A), false);
  m.com = com;
  assert.equal(m.isAllowed(cfg, A), true);
  assert.equal(m.isAllowed({ ...cfg, com: undefined }, A), false);
  assert.equal(m.isAllowed(cfg, A), true);
  const tagRev = revocationSign({
    id: 9,
    networkId: RULES_NET,
    credentialId: 2000,
    threshold: cfg.timestamp,
    flags: 0n,
    target: a,
    signedBy: 0,
    credentialType: CredentialType.TAG,
  }, C);
  nbs.handle(
    6,
    new Address(C.address.value),
    Verb.NETWORK_CREDENTIALS,
    new Uint8Array([0, 0, 0, 0, 0, 0, 1, ...revSer(tagRev), 0, 0]),
    pinfo,
  );
  assert.equal(m.usableTag(2000, cfg), undefined);
  assert.equal(m.isAllowed(cfg, A), false);
  // no fast-propagate flag: nothing re-sent
  assert.equal(nb.of(Verb.NETWORK_CREDENTIALS).length, 0);
});

Deno.test("network: info without config has the reference's empty values", () => {
  const { nets } = setup(B);
  const nw = nets.join(0, RULES_NET);
  const i = nw.info();
  assert.equal(i.status, "REQUESTING_CONFIGURATION");
  assert.equal(i.name, "");
  assert.equal(i.mtu, 2800);
  assert.equal(i.type, "PRIVATE");
  assert.equal(i.netconfRevision, 0);
  assert.equal(i.broadcastEnabled, false);
  assert.deepEqual(i.dns, { domain: "", servers: [] });
  assert.deepEqual(i.assignedAddresses, []);
  // b's MAC on rules_net as the reference reported it
  assert.equal(i.mac.toString(16), "3226fce129a9");
  nw.setPort({ error: -1 });
  assert.equal(nw.status, "PORT_ERROR");
});

Deno.test("network: a config built from scratch round-trips through the member and a config for 0 nodes is refused", () => {
  const cfg = networkConfigFromDictionary(Dictionary.parse(LAB_A))!;
  const again = encodeNetworkConfig(cfg)!;
  const { nets } = setup();
  const nw = nets.join(0, LAB_NET);
  assert.equal(nw.applyConfiguration(1, again, true), "applied");
  const zero = encodeNetworkConfig({ ...cfg, issuedTo: B.address.value })!;
  assert.equal(nw.applyConfiguration(2, zero, true), "rejected");
});
