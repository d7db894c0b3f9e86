// Netconf object <-> dictionary: the §12.6 1467-byte dictionary and the real configs from controller c.
import assert from "node:assert/strict";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { toHex } from "../../src/util/hex.ts";
import { Dictionary } from "../../src/vl2/dictionary.ts";
import {
  encodeNetworkConfig,
  makeSpecialist,
  NetworkConfig,
  networkConfigFromDictionary,
  NetworkType,
  parseNetworkConfig,
  SPECIALIST_ANCHOR,
  specialistAddress,
  ssoProvider,
} from "../../src/vl2/network_config.ts";
import { comDeserialize, comIssuedTo, comVerify } from "../../src/vl2/credentials/com.ts";
import { capabilityDeserialize, capabilityVerify } from "../../src/vl2/credentials/capability.ts";
import { tagDeserialize, tagVerify } from "../../src/vl2/credentials/tag.ts";
import { cooDeserialize, cooOwnsIp, cooVerify } from "../../src/vl2/credentials/coo.ts";
import { CAP, COM, CONTROLLER, COO, CTMD, MEMBER, NETCONF, NWID, REV, TAG, TS } from "./vectors.ts";
import { revocationDeserialize } from "../../src/vl2/credentials/revocation.ts";
import { fixtureBytes, fixtureText } from "../fixtures.ts";

const ip = (s: string) => InetAddress.parse(s)!;

function vectorConfig(): NetworkConfig {
  return {
    version: 7,
    networkId: NWID,
    timestamp: TS,
    credentialTimeMaxDelta: CTMD,
    revision: 5n,
    issuedTo: MEMBER.address.value,
    remoteTraceTarget: 0,
    remoteTraceLevel: 0,
    flags: 0x02,
    multicastLimit: 32,
    type: NetworkType.PRIVATE,
    name: "test=net",
    mtu: 2800,
    com: comDeserialize(COM)!.com,
    capabilities: [capabilityDeserialize(CAP)!.capability],
    tags: [tagDeserialize(TAG)!.tag],
    coos: [cooDeserialize(COO)!.coo],
    specialists: [],
    routes: [{ target: ip("10.147.17.0/24"), flags: 0, metric: 0 }],
    staticIps: [ip("10.147.17.5/24")],
    rules: [
      { type: 0x80 | 37, value: new Uint8Array([0x08, 0x00]) }, // NOT ethertype 0x0800
      { type: 0, value: new Uint8Array(0) }, // DROP
      { type: 1, value: new Uint8Array(0) }, // ACCEPT
    ],
    dns: { domain: "", servers: [] },
    sso: { version: 0, enabled: false },
    extra: [],
  };
}

Deno.test("netconf: the §12.6 config encodes to the 1467-byte reference dictionary", () => {
  const b = encodeNetworkConfig(vectorConfig())!;
  assert.equal(b.length, 1467);
  assert.equal(toHex(b), toHex(NETCONF));
});

Deno.test("netconf: the §12.6 dictionary parses into every field and re-encodes exactly", () => {
  const c = parseNetworkConfig(NETCONF)!;
  assert.ok(c);
  assert.equal(c.networkId, NWID);
  assert.equal(c.timestamp, TS);
  assert.equal(c.credentialTimeMaxDelta, CTMD);
  assert.equal(c.revision, 5n);
  assert.equal(c.issuedTo, 0xcafe9efeb9);
  assert.equal(c.name, "test=net");
  assert.equal(c.flags, 2);
  assert.equal(c.mtu, 2800);
  assert.equal(c.multicastLimit, 32);
  assert.equal(c.type, NetworkType.PRIVATE);
  assert.equal(c.staticIps.map(String).join(), "10.147.17.5/24");
  assert.equal(c.routes.length, 1);
  assert.equal(c.routes[0].target.toString(), "10.147.17.0/24");
  assert.equal(c.routes[0].via, undefined);
  assert.deepEqual(c.rules.map((r) => r.type), [0xa5, 0, 1]);
  assert.deepEqual(c.dns, { domain: "", servers: [] });
  assert.deepEqual(c.sso, { version: 0, enabled: false });
  assert.equal(ssoProvider(c), "default");
  assert.ok(comVerify(c.com!, CONTROLLER));
  assert.equal(
    capabilityVerify(
      c.capabilities[0],
      (a) => a === CONTROLLER.address.value ? CONTROLLER : undefined,
    ),
    "ok",
  );
  assert.ok(tagVerify(c.tags[0], CONTROLLER));
  assert.ok(cooVerify(c.coos[0], CONTROLLER));
  assert.equal(toHex(encodeNetworkConfig(c)!), toHex(NETCONF));
  assert.deepEqual(c, vectorConfig());
});

Deno.test("netconf: reader rules (v, nwid, id, MTU clamp, defaults, unknown keys, SSO, specialists)", () => {
  const base = vectorConfig();
  const enc = (c: NetworkConfig) => encodeNetworkConfig(c)!;
  const drop = (key: string) => {
    const d = Dictionary.parse(NETCONF);
    d.entries.splice(d.entries.findIndex((e) => e.key === key), 1);
    return networkConfigFromDictionary(d);
  };
  assert.equal(parseNetworkConfig(enc({ ...base, version: 5 })), undefined);
  assert.equal(parseNetworkConfig(enc({ ...base, networkId: 0n })), undefined);
  assert.equal(parseNetworkConfig(enc({ ...base, issuedTo: 0 })), undefined);
  assert.equal(drop("v"), undefined);
  assert.equal(drop("mtu")!.mtu, 2800);
  assert.equal(drop("t")!.type, NetworkType.PRIVATE);
  assert.equal(drop("DNS")!.dns, undefined);
  assert.equal(parseNetworkConfig(enc({ ...base, mtu: 100 }))!.mtu, 1280);
  assert.equal(parseNetworkConfig(enc({ ...base, mtu: 20000 }))!.mtu, 10000);
  assert.equal(parseNetworkConfig(enc({ ...base, name: "x".repeat(200) }))!.name.length, 127);
  const full: NetworkConfig = {
    ...base,
    type: NetworkType.PUBLIC,
    specialists: [makeSpecialist(0x1122334455, SPECIALIST_ANCHOR)],
    routes: [{ target: ip("0.0.0.0/0"), via: ip("10.147.17.1/0"), flags: 1, metric: 7 }, {
      target: ip("fd00::/8"),
      flags: 0,
      metric: 0,
    }],
    staticIps: [ip("10.147.17.5/24"), ip("fd00::5/88")],
    dns: { domain: "lab.example", servers: [ip("1.1.1.1/53"), ip("2606:4700::1111/53")] },
    sso: {
      version: 1,
      enabled: true,
      issuerUrl: "https://issuer",
      centralEndpointUrl: "https://c",
      nonce: "n",
      state: "s",
      clientId: "cid",
      provider: "keycloak",
    },
    extra: [{ key: "zz", value: new Uint8Array([0, 61, 10]) }],
  };
  const b = enc(full);
  const back = parseNetworkConfig(b)!;
  assert.deepEqual(back, full);
  assert.equal(specialistAddress(back.specialists[0]), 0x1122334455);
  assert.equal(toHex(enc(back)), toHex(b));
  // malformed binary values reject the whole config; no throw on any truncation
  for (const key of ["C", "CAP", "TAG", "COO", "RT", "I", "R", "DNS"]) {
    const d = Dictionary.parse(NETCONF);
    const e = d.entries.find((x) => x.key === key)!;
    e.value = e.value.subarray(0, e.value.length - 1);
    assert.equal(networkConfigFromDictionary(d), undefined, key);
  }
  for (let n = 0; n < NETCONF.length; n += 3) parseNetworkConfig(NETCONF.subarray(0, n));
});

const C = Identity.fromString(fixtureText("identities/c.public"))!;
const lookupC = (a: number) => (a === C.address.value ? C : undefined);

Deno.test("netconf: every real config from controller c parses, verifies and re-encodes exactly", () => {
  const nets = JSON.parse(fixtureText("networks.json")) as Record<string, string>;
  const files = [
    ["a", nets.rules_net],
    ["a", nets.lab_net],
    ["b", nets.lab_net],
  ];
  for (const [h, nwid] of files) {
    const what = `${h}/${nwid}`;
    const b = fixtureBytes(`homes/${h}/networks.d/${nwid}.conf`);
    const c = parseNetworkConfig(b)!;
    assert.ok(c, what);
    const me = Identity.fromString(fixtureText(`identities/${h}.public`))!;
    assert.equal(c.networkId.toString(16), nwid);
    assert.equal(c.issuedTo, me.address.value);
    assert.equal(c.version, 7);
    assert.equal(c.extra.length, 0);
    assert.ok(comVerify(c.com!, C), what);
    assert.equal(comIssuedTo(c.com!), me.address.value);
    for (const cap of c.capabilities) assert.equal(capabilityVerify(cap, lookupC), "ok", what);
    for (const t of c.tags) assert.ok(tagVerify(t, C), what);
    for (const o of c.coos) {
      assert.ok(cooVerify(o, C), what);
      for (const s of c.staticIps) assert.ok(cooOwnsIp(o, s), `${what} owns ${s}`);
    }
    assert.equal(toHex(encodeNetworkConfig(c)!), toHex(b), what);
    if (nwid === nets.lab_net) {
      assert.equal(c.name, "lab-net");
      assert.deepEqual(c.dns?.domain, "lab.example");
      assert.equal(c.dns?.servers.map(String).join(), "198.19.0.53/0");
      assert.equal(c.routes.map((r) => r.target.toString()).join(), "198.19.0.0/24");
      assert.equal(c.staticIps.length, 3); // rfc4193, 6plane, pool IPv4
    } else {
      assert.equal(c.name, "rules-net");
      assert.equal(c.capabilities.length, 1);
      assert.equal(c.capabilities[0].id, 1000);
      assert.deepEqual([c.tags[0].id, c.tags[0].value], [2000, 10]);
      assert.ok(c.rules.length > 5);
    }
  }
  // b was never authorized on rules_net: its stored "config" is a lone LF
  const empty = fixtureBytes(`homes/b/networks.d/${nets.rules_net}.conf`);
  assert.equal(Dictionary.parse(empty).entries.length, 0);
  assert.equal(parseNetworkConfig(empty), undefined);
});

Deno.test("netconf and credential parsers never throw on mutated input", () => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const parsers: [Uint8Array, (b: Uint8Array) => unknown][] = [
    [NETCONF, parseNetworkConfig],
    [COM, (b) => comDeserialize(b)],
    [CAP, (b) => capabilityDeserialize(b)],
    [TAG, (b) => tagDeserialize(b)],
    [COO, (b) => cooDeserialize(b)],
    [REV, (b) => revocationDeserialize(b)],
  ];
  for (const [base, parse] of parsers) {
    for (let i = 0; i < 400; i++) {
      const m = base.slice(0, base.length - rnd(8));
      for (let k = rnd(6) + 1; k > 0; k--) m[rnd(m.length)] = rnd(256);
      parse(m); // must not throw
    }
  }
});
