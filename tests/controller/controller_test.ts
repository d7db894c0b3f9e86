// Config-request decisions: replayed against the lab recordings, plus authorization/IP rules.
import assert from "node:assert/strict";
import { Address } from "../../src/vl1/address.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { toHex } from "../../src/util/hex.ts";
import type {
  ConfigDecision,
  NetconfPlan,
  RequestMetadata,
} from "../../src/controller/config_decision.ts";
import type { ControllerEvent } from "../../src/controller/controller.ts";
import type { JsonObject } from "../../src/util/json.ts";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import { initNetwork } from "../../src/controller/model.ts";
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import {
  ADDR_A,
  ADDR_B,
  LAB_NET,
  labController,
  labIdentity,
  META_114,
  RULES_NET,
} from "./helpers.ts";

/** Minimal netconf dictionary reader for the recorded `networks.d/*.conf` files. */
function readDict(bytes: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let i = 0;
  while (i < bytes.length && bytes[i] !== 0) {
    let key = "";
    while (i < bytes.length && bytes[i] !== 0x3d && bytes[i] !== 0x0a) {
      key += String.fromCharCode(bytes[i++]);
    }
    i++;
    const v: number[] = [];
    while (i < bytes.length && bytes[i] !== 0x0a && bytes[i] !== 0) {
      let c = bytes[i++];
      if (c === 0x5c) {
        const e = bytes[i++];
        c = e === 0x72 ? 13 : e === 0x6e ? 10 : e === 0x30 ? 0 : e === 0x65 ? 0x3d : e;
      }
      v.push(c);
    }
    if (bytes[i] === 0x0a) i++;
    if (!out.has(key)) out.set(key, new Uint8Array(v));
  }
  return out;
}

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
const hexNum = (b: Uint8Array | undefined) => Number(BigInt("0x" + text(b)));
const dbFile = (p: string) => JSON.parse(fixtureText(`controller/controller.d/network/${p}`));

function config(d: ConfigDecision): NetconfPlan {
  assert.equal(
    d.kind,
    "config",
    d.kind === "config" ? "" : `${d.kind} ${"code" in d ? d.code : d.reason}`,
  );
  return (d as { plan: NetconfPlan }).plan;
}

function request(
  ctl: ReturnType<typeof labController>["ctl"],
  now: number,
  who: Identity,
  nwid: string,
  metadata: RequestMetadata = META_114,
  packetId?: bigint,
): ConfigDecision {
  return ctl.handleConfigRequest(
    now,
    { identity: who, address: who.address, metadata, packetId },
    BigInt("0x" + nwid),
  );
}

/** Checks a plan against the config the lab member recorded in `homes/a/networks.d`. */
function assertMatchesRecordedConf(plan: NetconfPlan, nwid: string) {
  const d = readDict(fixtureBytes(`homes/a/networks.d/${nwid}.conf`));
  assert.equal(plan.timestamp, hexNum(d.get("ts")));
  assert.equal(plan.credentialTimeMaxDelta, hexNum(d.get("ctmd")));
  assert.equal(plan.revision, hexNum(d.get("r")));
  assert.equal(plan.issuedTo.toString(), text(d.get("id")));
  assert.equal(plan.flags, hexNum(d.get("f")));
  assert.equal(plan.multicastLimit, hexNum(d.get("ml")));
  assert.equal(plan.type === "public" ? 1 : 0, hexNum(d.get("t")));
  assert.equal(plan.name, text(d.get("n")));
  assert.equal(plan.mtu, hexNum(d.get("mtu")));
  assert.equal(plan.remoteTraceTarget, 0);
  // managed IPs, byte for byte
  assert.equal(toHex(concat(plan.staticIps.map((a) => a.serialize()))), toHex(d.get("I")!));
  // routes: target, via (nil), flags, metric
  const rt = concat(
    plan.routes.map((r) =>
      concat([
        r.target.serialize(),
        r.via ? r.via.serialize() : new Uint8Array(1),
        new Uint8Array(4),
      ])
    ),
  );
  assert.equal(toHex(rt), toHex(d.get("RT")!));
  // COM qualifiers (the signed part of C)
  const com = d.get("C")!;
  const q = new Uint8Array(plan.comQualifiers.length * 24);
  const dv = new DataView(q.buffer);
  plan.comQualifiers.forEach(([id, v, m], i) => {
    dv.setBigUint64(i * 24, id);
    dv.setBigUint64(i * 24 + 8, v);
    dv.setBigUint64(i * 24 + 16, m);
  });
  assert.equal(com[0], 1);
  assert.equal((com[1] << 8) | com[2], 7);
  assert.equal(toHex(com.subarray(3, 3 + 7 * 24)), toHex(q));
  // COO things (type, 16-byte value) list the managed IPs in order
  const coo = d.get("COO")!;
  const count = (coo[28] << 8) | coo[29];
  assert.equal(count, plan.certificateOfOwnership!.ips.length);
  plan.certificateOfOwnership!.ips.forEach((ip, i) => {
    const off = 30 + i * 17;
    assert.equal(coo[off], ip.family === 4 ? 2 : 3);
    assert.equal(toHex(coo.subarray(off + 1, off + 1 + ip.ip.length)), toHex(ip.ip));
  });
  // DNS
  const dns = d.get("DNS")!;
  const domain = text(dns.subarray(0, 128)).replace(/\0+$/, "");
  assert.equal(plan.dns?.domain ?? "", domain);
  const servers = plan.dns?.servers ?? [];
  let off = 128;
  for (let i = 0; i < 4; i++) {
    const r = InetAddress.deserialize(dns, off)!;
    off += r.length;
    assert.equal(r.addr?.toIpString(), servers[i]?.toIpString());
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The lab database as it was right after a and b were authorized and before they asked. */
function labBeforeRequests(): MemoryStore {
  return new MemoryStore(
    [dbFile(`${LAB_NET}.json`)],
    [
      JSON.parse(fixtureText("controller/member-a-authorized.json")),
      JSON.parse(fixtureText("controller/member-b-authorized.json")),
    ],
  );
}

Deno.test("lab replay: a's first request assigns 198.19.0.114 + rfc4193 + 6plane as recorded", () => {
  const store = labBeforeRequests();
  const { ctl } = labController(store);
  const conf = readDict(fixtureBytes(`homes/a/networks.d/${LAB_NET}.conf`));
  const now = hexNum(conf.get("ts"));
  const plan = config(request(ctl, now, labIdentity("a"), LAB_NET));
  assertMatchesRecordedConf(plan, LAB_NET);
  assert.deepEqual(plan.rules, [{ type: "ACTION_ACCEPT" }]);
  assert.deepEqual(plan.tags, []);
  assert.deepEqual(plan.capabilities, []);
  assert.deepEqual(plan.specialists, []);
  // The member record now equals the database file the controller left behind.
  assert.deepEqual(store.getMember(LAB_NET, ADDR_A), dbFile(`${LAB_NET}/member/${ADDR_A}.json`));
  // b gets its recorded address too, and repeating a's request changes nothing.
  config(request(ctl, now + 5, labIdentity("b"), LAB_NET));
  assert.deepEqual(store.getMember(LAB_NET, ADDR_B), dbFile(`${LAB_NET}/member/${ADDR_B}.json`));
  const again = config(request(ctl, now + 60_000, labIdentity("a"), LAB_NET));
  assert.deepEqual(again.staticIps.map(String), plan.staticIps.map(String));
  assert.equal(store.getMember(LAB_NET, ADDR_A)!.revision, 2);
});

Deno.test("rules replay: tags, capability, rules and pool address as recorded; b denied", () => {
  const unauthB = dbFile(`${RULES_NET}/member/${ADDR_B}.json`);
  const store = new MemoryStore(
    [dbFile(`${RULES_NET}.json`)],
    [JSON.parse(fixtureText("controller/rules-member-a.json")), unauthB],
  );
  const { ctl } = labController(store);
  const conf = readDict(fixtureBytes(`homes/a/networks.d/${RULES_NET}.conf`));
  const now = hexNum(conf.get("ts"));
  const plan = config(request(ctl, now, labIdentity("a"), RULES_NET));
  assertMatchesRecordedConf(plan, RULES_NET);
  assert.deepEqual(plan.tags, [{ id: 2000, value: 10 }]);
  assert.equal(plan.capabilities.length, 1);
  assert.equal(plan.capabilities[0].id, 1000);
  assert.deepEqual(plan.capabilities[0].rules, dbFile(`${RULES_NET}.json`).capabilities[0].rules);
  const netRules = dbFile(`${RULES_NET}.json`).rules as JsonObject[];
  assert.equal(plan.rules.length, netRules.length);
  assert.deepEqual(plan.rules, netRules);
  assert.deepEqual(
    store.getMember(RULES_NET, ADDR_A),
    dbFile(`${RULES_NET}/member/${ADDR_A}.json`),
  );

  const d = request(ctl, now, labIdentity("b"), RULES_NET);
  assert.deepEqual(d, {
    kind: "error",
    code: "ACCESS_DENIED",
    networkId: BigInt("0x" + RULES_NET),
  });
  assert.deepEqual(store.getMember(RULES_NET, ADDR_B), unauthB);
});

/** A small network for rule tests. */
function smallNet(fields: JsonObject, nwid = "5b1c20a311000042"): JsonObject {
  return initNetwork({ ...fields, revision: 3 }, nwid, 1000);
}

Deno.test("private network: unknown member is denied and recorded with its identity", () => {
  const store = new MemoryStore([smallNet({})]);
  const { ctl } = labController(store);
  const a = labIdentity("a");
  const d = request(ctl, 5000, a, "5b1c20a311000042");
  assert.equal(d.kind, "error");
  assert.equal((d as { code: string }).code, "ACCESS_DENIED");
  const m = store.getMember("5b1c20a311000042", ADDR_A)!;
  assert.equal(m.authorized, false);
  assert.equal(m.identity, a.toString());
  assert.equal(m.revision, 1);
  assert.equal(m.creationTime, 5000);
  assert.equal(m.vMajor, -1);
  // Another identity claiming the same address is refused (even once authorized).
  store.saveMember({ ...m, authorized: true });
  const forged = new Identity(a.address, labIdentity("b").publicKey);
  const f = request(ctl, 6000, forged, "5b1c20a311000042");
  assert.equal((f as { code: string }).code, "ACCESS_DENIED");
  assert.equal(request(ctl, 6000, a, "5b1c20a311000042").kind, "config");
});

Deno.test("public network auto-authorizes and records the member", () => {
  const nwid = "5b1c20a311000042";
  const store = new MemoryStore([smallNet({ private: false })]);
  const { ctl } = labController(store);
  const plan = config(request(ctl, 7000, labIdentity("b"), nwid));
  assert.equal(plan.type, "public");
  assert.equal(plan.revision, 3);
  const m = store.getMember(nwid, ADDR_B)!;
  assert.equal(m.authorized, true);
  assert.equal(m.lastAuthorizedTime, 7000);
  assert.equal(m.lastAuthorizedCredentialType, "public");
  assert.equal(m.lastAuthorizedCredential, null);
  assert.equal(m.vMajor, 1);
  assert.equal(m.vMinor, 14);
  assert.equal(m.vProto, 12);
});

Deno.test("token authorization: valid, expired and unknown tokens", () => {
  const nwid = "5b1c20a311000042";
  const store = new MemoryStore([smallNet({ authTokens: { good: 0, old: 100, later: 99999 } })]);
  const { ctl } = labController(store);
  const withToken = (t: string) => ({ ...META_114, auth: `token:${t}` });
  assert.equal(request(ctl, 5000, labIdentity("a"), nwid, withToken("old")).kind, "error");
  assert.equal(request(ctl, 5000, labIdentity("a"), nwid, withToken("nope")).kind, "error");
  assert.equal(request(ctl, 5000, labIdentity("a"), nwid, withToken("later")).kind, "config");
  const m = store.getMember(nwid, ADDR_A)!;
  assert.equal(m.lastAuthorizedCredentialType, "token");
  assert.equal(m.lastAuthorizedCredential, "later");
});

Deno.test("IPv4 pool: deterministic first free address, skips taken and .255, needs a route", () => {
  const nwid = "5b1c20a311000042";
  const pool = [{ ipRangeStart: "10.1.0.250", ipRangeEnd: "10.1.1.10" }];
  const routes = [{ target: "10.1.0.0/16", via: null }];
  // two members whose counters (address mod 2^32) are equal modulo the range length (16)
  const x = labIdentity("a"); // 0x98bec71608 → counter 0xbec71608, 0xbec71608 % 16 = 8
  const store = new MemoryStore([
    smallNet({ v4AssignMode: { zt: true }, ipAssignmentPools: pool, routes }),
  ]);
  store.saveMember({
    id: "1111111118",
    nwid,
    address: "1111111118",
    authorized: true,
    ipAssignments: ["10.1.1.2"], // 250 + 8 = 258 → 10.1.1.2 is taken
  });
  const { ctl } = labController(store);
  store.saveMember({ id: ADDR_A, nwid, address: ADDR_A, authorized: true });
  const plan = config(request(ctl, 5000, x, nwid));
  // 10.1.1.2 taken → next counter → 10.1.1.3
  assert.deepEqual(plan.staticIps.map(String), ["10.1.1.3/16"]);
  assert.deepEqual(store.getMember(nwid, ADDR_A)!.ipAssignments, ["10.1.1.3"]);

  // .255 is skipped and the range end is never offered (start + counter mod (end - start))
  const s2 = new MemoryStore([smallNet({
    v4AssignMode: { zt: true },
    ipAssignmentPools: [{ ipRangeStart: "10.2.0.254", ipRangeEnd: "10.2.1.0" }],
    routes: [{ target: "10.2.0.0/16", via: null }],
  })]);
  s2.saveMember({ id: ADDR_A, nwid, address: ADDR_A, authorized: true, ipAssignments: [] });
  s2.saveMember({ id: "0000000001", nwid, address: "0000000001", ipAssignments: ["10.2.0.254"] });
  const p2 = config(request(labController(s2).ctl, 5000, x, nwid));
  // counter % 2 alternates .254 (taken) and .255 (skipped); .0 is the end: none free
  assert.deepEqual(p2.staticIps.map(String), []);

  // no route containing the pool → nothing assigned
  const s3 = new MemoryStore([smallNet({ v4AssignMode: { zt: true }, ipAssignmentPools: pool })]);
  s3.saveMember({ id: ADDR_A, nwid, address: ADDR_A, authorized: true });
  assert.deepEqual(config(request(labController(s3).ctl, 5000, x, nwid)).staticIps, []);
});

Deno.test("static ipAssignments win over the pool; outside any route they are left out", () => {
  const nwid = "5b1c20a311000042";
  const store = new MemoryStore([smallNet({
    v4AssignMode: { zt: true },
    ipAssignmentPools: [{ ipRangeStart: "10.1.0.1", ipRangeEnd: "10.1.0.200" }],
    routes: [{ target: "10.1.0.0/16", via: null }, { target: "10.1.7.0/24", via: null }],
  })]);
  store.saveMember({
    id: ADDR_A,
    nwid,
    address: ADDR_A,
    authorized: true,
    ipAssignments: ["10.1.7.7", "192.168.9.9"],
  });
  const { ctl } = labController(store);
  const plan = config(request(ctl, 5000, labIdentity("a"), nwid));
  assert.deepEqual(plan.staticIps.map(String), ["10.1.7.7/24"]); // longest matching route
  assert.deepEqual(store.getMember(nwid, ADDR_A)!.ipAssignments, ["10.1.7.7", "192.168.9.9"]);
  assert.deepEqual(plan.certificateOfOwnership?.ips.map(String), ["10.1.7.7/24"]);
});

Deno.test("noAutoAssignIps: no rfc4193/6plane/pool, static still sent", () => {
  const nwid = "5b1c20a311000042";
  const store = new MemoryStore([smallNet({
    v4AssignMode: { zt: true },
    v6AssignMode: { rfc4193: true, "6plane": true, zt: false },
    ipAssignmentPools: [{ ipRangeStart: "10.1.0.1", ipRangeEnd: "10.1.0.200" }],
    routes: [{ target: "10.1.0.0/16", via: null }],
  })]);
  store.saveMember({ id: ADDR_A, nwid, address: ADDR_A, authorized: true, noAutoAssignIps: true });
  const { ctl } = labController(store);
  const plan = config(request(ctl, 5000, labIdentity("a"), nwid));
  assert.deepEqual(plan.staticIps, []);
  assert.equal(plan.flags & 0x04, 0);
  assert.equal(plan.certificateOfOwnership, undefined);
  store.saveMember({ ...store.getMember(nwid, ADDR_A)!, ipAssignments: ["10.1.0.5"] });
  assert.deepEqual(config(request(ctl, 6000, labIdentity("a"), nwid)).staticIps.map(String), [
    "10.1.0.5/16",
  ]);
});

Deno.test("IPv6 pool: address in the low 64 bits of the range start, inside an on-link route", () => {
  const nwid = "5b1c20a311000042";
  const store = new MemoryStore([smallNet({
    v6AssignMode: { zt: true, rfc4193: false, "6plane": false },
    ipAssignmentPools: [{ ipRangeStart: "fd00:1::", ipRangeEnd: "fd00:1::ffff:ffff:ffff:ffff" }],
    routes: [{ target: "fd00:1::/64", via: null }],
  })]);
  store.saveMember({ id: ADDR_A, nwid, address: ADDR_A, authorized: true });
  const plan = config(request(labController(store).ctl, 5000, labIdentity("a"), nwid));
  assert.deepEqual(plan.staticIps.map(String), ["fd00:1::98:bec7:1608/64"]);
  assert.deepEqual(store.getMember(nwid, ADDR_A)!.ipAssignments, ["fd00:1::98:bec7:1608"]);
});

Deno.test("rules engine revision 0 → accept-all; active bridges become specialists; mtu/limits", () => {
  const nwid = "5b1c20a311000042";
  const store = new MemoryStore([smallNet({
    rules: [{ type: "ACTION_DROP" }],
    mtu: 1500,
    multicastLimit: 7,
    enableBroadcast: false,
    name: "n",
  })]);
  store.saveMember({ id: ADDR_A, nwid, address: ADDR_A, authorized: true });
  store.saveMember({ id: ADDR_B, nwid, address: ADDR_B, authorized: true, activeBridge: true });
  const { ctl } = labController(store);
  const old = config(
    request(ctl, 5000, labIdentity("a"), nwid, { ...META_114, rulesEngineRevision: undefined }),
  );
  assert.deepEqual(old.rules, [{ type: "ACTION_ACCEPT" }]);
  const cur = config(request(ctl, 5000, labIdentity("a"), nwid));
  assert.deepEqual(cur.rules, [{ type: "ACTION_DROP" }]);
  assert.deepEqual(cur.specialists, [0x0000020000000000n | 0xbeccf08a89n]);
  assert.equal(cur.mtu, 1500);
  assert.equal(cur.multicastLimit, 7);
  assert.equal(cur.flags, 0);
  assert.equal(cur.dns, undefined);
});

Deno.test("new member gets default capabilities and tag defaults", () => {
  const nwid = "5b1c20a311000042";
  const store = new MemoryStore([smallNet({
    private: false,
    capabilities: [{ id: 5, default: true, rules: [{ type: "ACTION_ACCEPT" }] }, {
      id: 6,
      default: false,
      rules: [],
    }],
    tags: [{ id: 9, default: 3 }, { id: 10, default: null }],
  })]);
  const plan = config(request(labController(store).ctl, 5000, labIdentity("a"), nwid));
  assert.deepEqual(plan.capabilities, [{ id: 5, rules: [{ type: "ACTION_ACCEPT" }] }]);
  assert.deepEqual(plan.tags, [{ id: 9, value: 3 }]);
  const m = store.getMember(nwid, ADDR_A)!;
  assert.deepEqual(m.capabilities, [5]);
  assert.deepEqual(m.tags, [[9, 3]]);
});

Deno.test("unknown network, other controllers' networks, rate limit", () => {
  const { ctl } = labController(new MemoryStore([smallNet({ private: false })]));
  const a = labIdentity("a");
  assert.deepEqual(request(ctl, 1, a, "5b1c20a311999999"), {
    kind: "error",
    code: "OBJ_NOT_FOUND",
    networkId: 0x5b1c20a311999999n,
  });
  assert.deepEqual(request(ctl, 1, a, "8e4df28b72000001"), {
    kind: "ignore",
    reason: "not-our-network",
  });
  assert.equal(request(ctl, 10_000, a, "5b1c20a311000042", META_114, 1n).kind, "config");
  assert.deepEqual(request(ctl, 10_500, a, "5b1c20a311000042", META_114, 2n), {
    kind: "ignore",
    reason: "rate-limited",
  });
  assert.equal(request(ctl, 11_000, a, "5b1c20a311000042", META_114, 3n).kind, "config");
  // without a packet ID (pushes) there is no limit
  assert.equal(request(ctl, 11_001, a, "5b1c20a311000042").kind, "config");
  // a controller without the private key answers nothing
  const { ctl: pub } = labController(new MemoryStore([smallNet({ private: false })]));
  Object.defineProperty(pub, "identity", { value: labIdentity("c") });
  assert.equal(request(pub, 1, a, "5b1c20a311000042").kind, "ignore");
});

Deno.test("deauthorization revokes the COM; change events push to online members", () => {
  const nwid = "5b1c20a311000042";
  const store = new MemoryStore([smallNet({})]);
  store.saveMember({ id: ADDR_A, nwid, address: ADDR_A, authorized: true });
  store.saveMember({ id: ADDR_B, nwid, address: ADDR_B, authorized: true });
  const { ctl, clock } = labController(store);
  const events: ControllerEvent[] = [];
  ctl.onChange((e) => events.push(e));
  clock.t = 100_000;
  config(request(ctl, 100_000, labIdentity("a"), nwid));
  config(request(ctl, 100_000, labIdentity("b"), nwid));
  assert.deepEqual(ctl.onlineMembers(nwid, 100_000), [ADDR_A, ADDR_B]);
  assert.equal(ctl.memberStatus(nwid, ADDR_A)?.metadata.majorVersion, 1);
  // isOnline agrees with onlineMembers (same window, case-insensitive ids)
  assert.ok(ctl.isOnline(nwid.toUpperCase(), ADDR_B.toUpperCase(), 100_000 + 120_000));
  assert.ok(!ctl.isOnline(nwid, ADDR_B, 100_000 + 120_001));
  assert.deepEqual(ctl.onlineMembers(nwid, 100_000 + 120_001), []);
  assert.ok(!ctl.isOnline(nwid, "0000000001", 100_000));

  clock.t = 150_000;
  const r = ctl.postMember(nwid, ADDR_B, { authorized: false });
  assert.ok(r.ok);
  assert.equal(r.value.lastDeauthorizedTime, 150_000);
  const rev = events.find((e) => e.type === "revocation");
  assert.ok(rev && rev.type === "revocation");
  assert.equal(rev.address, ADDR_B);
  assert.deepEqual(rev.notify, [ADDR_A, ADDR_B]);
  assert.equal(rev.revocation.threshold, 150_000);
  assert.equal(rev.revocation.flags, 1);
  assert.equal(rev.revocation.credentialType, 1);
  assert.equal(rev.revocation.credentialId, 0);
  assert.ok(rev.revocation.target.equals(Address.parse(ADDR_B)!));
  assert.equal(rev.revocation.networkId, BigInt("0x" + nwid));
  assert.ok(events.some((e) => e.type === "member" && e.address === ADDR_B && e.online));
  assert.equal(
    (request(ctl, 151_000, labIdentity("b"), nwid) as { code: string }).code,
    "ACCESS_DENIED",
  );
  // pushDecision re-runs a's request with what it reported
  assert.equal(ctl.pushDecision(151_000, nwid, ADDR_A)?.kind, "config");
  assert.equal(ctl.pushDecision(151_000, nwid, "0000000001"), undefined);

  events.length = 0;
  clock.t = 200_000; // b last seen 100 s ago, a too: still online (120 s window)
  assert.ok(ctl.postNetwork(nwid, { name: "renamed" }).ok);
  assert.deepEqual(events, [{ type: "network", nwid, pushTo: [ADDR_A, ADDR_B] }]);
  events.length = 0;
  assert.ok(ctl.postNetwork(nwid, { name: "renamed" }).ok); // no change → no event
  assert.deepEqual(events, []);
  clock.t = 300_000;
  ctl.deleteNetwork(nwid);
  assert.deepEqual(
    (events as ControllerEvent[]).filter((e) => e.type === "revocation").map((e) =>
      e.type === "revocation" && e.address
    ),
    [ADDR_A],
  );
  assert.equal((events as ControllerEvent[]).at(-1)?.type, "networkDeleted");
});
