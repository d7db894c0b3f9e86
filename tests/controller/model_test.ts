// Record defaults, POST application (legacy forms, clamping, sorting) and rule JSON validation.
import assert from "node:assert/strict";
import {
  applyMemberPost,
  applyNetworkPost,
  initMember,
  initNetwork,
  memberForSave,
} from "../../src/controller/model.ts";
import { parseRuleJson, parseRulesJson } from "../../src/controller/rules_json.ts";
import { canonicalJson } from "../../src/util/json.ts";
import { fixtureText } from "../fixtures.ts";

const lab = () => JSON.parse(fixtureText("controller/network-lab.json"));

Deno.test("initNetwork/initMember keep recorded records unchanged and fill a fresh one", () => {
  const n = lab();
  assert.deepEqual(initNetwork(n, n.id, 1), n);
  const m = JSON.parse(fixtureText("controller/member-a.json"));
  assert.deepEqual(initMember(m, m.nwid, m.id, 1), m);
  const fresh = initMember({}, "5B1C20A311FCA1CA", "98BEC71608", 1795303630200);
  const auth = JSON.parse(fixtureText("controller/member-a-authorized.json"));
  assert.deepEqual(Object.keys(fresh).sort(), Object.keys(auth).sort());
  assert.equal(fresh.id, "98bec71608");
  assert.equal(fresh.nwid, "5b1c20a311fca1ca");
  assert.equal(fresh.authorized, false);
  assert.equal(fresh.revision, 0);
  // quirk: remoteTraceLevel is reset on init
  assert.equal(initNetwork({ ...n, remoteTraceLevel: 5 }, n.id, 1).remoteTraceLevel, 0);
});

Deno.test("network POST: legacy assign modes, mtu clamp, routes/pools normalized, sorting", () => {
  const base = initNetwork({}, "5b1c20a311000001", 1);
  const r = applyNetworkPost(base, {
    v4AssignMode: "zt",
    v6AssignMode: "rfc4193,6plane",
    mtu: 99999,
    routes: [
      { target: "10.0.0.0/8", via: "fd00::1" },
      { target: "FD00:0:0:0::/64", via: "fd00::2" },
    ],
    ipAssignmentPools: [{ ipRangeStart: "10.0.0.1", ipRangeEnd: "10.0.0.9" }],
    tags: [{ id: 9, default: 1 }, { id: 2 }],
    capabilities: [{ id: 5, rules: [] }, { id: 1, default: true }],
    authTokens: { t: 0 },
    remoteTraceTarget: "ABCDEF0123",
    somethingUnknown: 1,
  });
  assert.ok(r.ok);
  const n = r.value;
  assert.deepEqual(n.v4AssignMode, { zt: true });
  assert.deepEqual(n.v6AssignMode, { "6plane": true, rfc4193: true, zt: false });
  assert.equal(n.mtu, 10000);
  assert.deepEqual(n.routes, [
    { target: "10.0.0.0/8", via: null }, // via of the other family dropped
    { target: "fd00::/64", via: "fd00::2" },
  ]);
  assert.equal("somethingUnknown" in n, false);
  assert.deepEqual(n.tags, [{ default: null, id: 2 }, { default: 1, id: 9 }]);
  assert.deepEqual(n.capabilities, [
    { default: true, id: 1, rules: [] },
    { default: false, id: 5, rules: [] },
  ]);
  assert.deepEqual(n.authTokens, { t: 0 });
  assert.equal(n.remoteTraceTarget, "ABCDEF0123"); // kept as given, as the reference does
  const low = applyNetworkPost(base, { mtu: 10, authTokens: null });
  assert.ok(low.ok);
  assert.equal(low.value.mtu, 1280);
  assert.deepEqual(low.value.authTokens, [null]);
  assert.equal(base.mtu, 2800); // input untouched
});

Deno.test("member POST: authorization bookkeeping, IP/tag/cap normalization, erased fields", () => {
  const m0 = initMember({}, "5b1c20a311000001", "98bec71608", 1);
  const r = applyMemberPost(m0, {
    authorized: true,
    ipAssignments: ["10.0.0.5/24", "10.0.0.5", "fd00:0::1"],
    tags: [[5, 1], [2, 7], [5, 3]],
    capabilities: [9, 1, 9],
    authenticationURL: "https://x",
    name: "a",
  }, 1234);
  assert.ok(r.ok);
  assert.equal(r.value.change, "authorized");
  const m = r.value.member;
  assert.equal(m.lastAuthorizedTime, 1234);
  assert.equal(m.lastAuthorizedCredentialType, "api");
  assert.deepEqual(m.ipAssignments, ["10.0.0.5", "fd00::1"]);
  assert.deepEqual(m.tags, [[2, 7], [5, 3]]);
  assert.deepEqual(m.capabilities, [1, 9]);
  assert.equal("authenticationURL" in memberForSave(m), false);
  const d = applyMemberPost(m, { authorized: false }, 2000);
  assert.ok(d.ok);
  assert.equal(d.value.change, "deauthorized");
  assert.equal(d.value.member.lastDeauthorizedTime, 2000);
  assert.equal(d.value.member.lastAuthorizedTime, 1234);
  const same = applyMemberPost(m, { authorized: true }, 3000);
  assert.ok(same.ok);
  assert.equal(same.value.change, undefined);
  assert.equal(same.value.member.lastAuthorizedTime, 1234);
});

Deno.test("rule JSON: canonical rendering, drops INTEGER_RANGE, rejects bad fields", () => {
  const ok = (v: unknown) => {
    const c = parseRuleJson(v, "r");
    assert.ok(c.ok, JSON.stringify(c));
    return c.rule;
  };
  assert.deepEqual(ok({ type: "ACTION_ACCEPT", not: true, or: true }), { type: "ACTION_ACCEPT" });
  assert.deepEqual(ok({ type: "MATCH_MAC_SOURCE", mac: "AABBCCDDEEFF" }), {
    type: "MATCH_MAC_SOURCE",
    not: false,
    or: false,
    mac: "aa:bb:cc:dd:ee:ff",
  });
  assert.equal(
    canonicalJson(ok({ type: "MATCH_CHARACTERISTICS", mask: 3 })!),
    '{"mask":"0000000000000003","not":false,"or":false,"type":"MATCH_CHARACTERISTICS"}',
  );
  assert.deepEqual(ok({ type: "MATCH_IP_SOURCE_PORT_RANGE", start: 80 }), {
    type: "MATCH_IP_SOURCE_PORT_RANGE",
    not: false,
    or: false,
    start: 80,
    end: 80,
  });
  assert.equal(ok({ type: "MATCH_INTEGER_RANGE", start: "0", end: "1" }), undefined);
  const list = parseRulesJson([{ type: "MATCH_INTEGER_RANGE" }, { type: "ACTION_DROP" }], "rules");
  assert.deepEqual(list, { ok: true, rules: [{ type: "ACTION_DROP" }] });
  const bad: Array<[unknown, RegExp]> = [
    [{ type: "ACTION_PRIORITY" }, /r\.type: unknown rule type/],
    [{ type: "MATCH_VLAN_ID", vlanId: {} }, /r\.vlanId: expected an integer, not an object/],
    [{ type: "MATCH_VLAN_ID", vlanId: null }, /r\.vlanId/],
    [{ type: "MATCH_IP_PROTOCOL", ipProtocol: 6, not: [] }, /r\.not/],
    [{ type: "MATCH_IPV6_DEST", ip: "10.0.0.0/8" }, /r\.ip/],
    [{ type: "MATCH_SOURCE_ZEROTIER_ADDRESS", zt: "xyz" }, /r\.zt/],
    [{ type: "ACTION_TEE", length: 5 }, /r\.address/],
    ["ACTION_DROP", /r: expected a rule object/],
  ];
  for (const [v, re] of bad) {
    const c = parseRuleJson(v, "r");
    assert.ok(!c.ok, JSON.stringify(v));
    assert.match(c.error, re);
  }
  assert.match(
    (parseRulesJson({}, "rules") as { error: string }).error,
    /rules: expected an array/,
  );
});
