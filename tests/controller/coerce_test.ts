// Controller POST scalar coercion: the reference's rules per field, 64-bit exactness, UI replays.
import assert from "node:assert/strict";
import { controllerApi } from "../../src/service/controller_api.ts";
import { coerceBool, coerceString, coerceU64, strtoull10 } from "../../src/controller/coerce.ts";
import { FileStore } from "../../src/service/controller_file_store.ts";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import type { ControllerStore } from "../../src/controller/store.ts";
import { parseJson64 } from "../../src/util/json64.ts";
import { labController, labIdentity, META_114, tempDir } from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type AnyJson = any;

const U64_MAX = 18446744073709551615n;

Deno.test("coerce: bool/int/string follow the reference's jsonBool/jsonInt/jsonString", () => {
  // [input, bool, u64, string]
  const table: Array<[boolean | number | bigint | string, boolean, bigint, string]> = [
    [true, true, 1n, "1"],
    [false, false, 0n, "0"],
    [0, false, 0n, "0"],
    [1, true, 1n, "1"],
    [2, true, 2n, "2"],
    [-1, true, U64_MAX, "18446744073709551615"],
    [-2, true, U64_MAX - 1n, "18446744073709551614"],
    [0.5, false, 0n, "0"],
    [5.9, true, 5n, "5"],
    [959721338713334732n, true, 959721338713334732n, "959721338713334732"],
    ["true", true, 0n, "true"],
    ["True", true, 0n, "True"],
    ["t", true, 0n, "t"],
    ["1", true, 1n, "1"],
    ["1abc", true, 1n, "1abc"],
    ["false", false, 0n, "false"],
    ["0", false, 0n, "0"],
    ["", false, 0n, ""],
    ["yes", false, 0n, "yes"],
    ["on", false, 0n, "on"],
    [" true", false, 0n, " true"],
    ["64", false, 64n, "64"],
    ["64abc", false, 64n, "64abc"],
    [" 64", false, 64n, " 64"],
    ["+7", false, 7n, "+7"],
    ["-1", false, U64_MAX, "-1"],
    ["abc", false, 0n, "abc"],
    ["0x10", false, 0n, "0x10"],
    ["99999999999999999999999", false, U64_MAX, "99999999999999999999999"],
  ];
  for (const [v, b, n, s] of table) {
    assert.equal(coerceBool(v), b, `bool ${JSON.stringify(String(v))}`);
    assert.equal(coerceU64(v), n, `int ${String(v)}`);
    assert.equal(coerceString(v), s, `string ${String(v)}`);
  }
  assert.equal(strtoull10("\t\n12 34"), 12n);
  assert.equal(strtoull10("-"), 0n);
});

function setup(store: ControllerStore = new MemoryStore()) {
  const { ctl, clock } = labController(store);
  return { app: controllerApi(ctl), ctl, clock };
}

type App = ReturnType<typeof controllerApi>;

async function post(app: App, path: string, body: string): Promise<AnyJson> {
  const r = await app.request(path, { method: "POST", body });
  const text = await r.text();
  assert.equal(r.status, 200, `${path} ${body}: ${text}`);
  return parseJson64(text);
}

const NW = "5b1c20a311000001"; // under the lab controller's address (foreign ids are refused)
const NET = `/controller/network/${NW}`;
const MEMBER = `${NET}/member/beccf08a89`;

Deno.test("network POST: every scalar field accepts what the reference accepts", async () => {
  const { app } = setup();
  // [field, posted JSON value, stored value]
  const table: Array<[string, string, unknown]> = [
    ["name", '"lab"', "lab"],
    ["name", "42", "42"],
    ["name", "-1", "18446744073709551615"],
    ["name", "true", "1"],
    ["name", "false", "0"],
    ["private", "false", false],
    ["private", '"true"', true],
    ["private", '"false"', false],
    ["private", "0", false],
    ["private", "1", true],
    ["private", "-3", true],
    ["private", '"T"', true],
    ["private", '"1"', true],
    ["private", '"0"', false],
    ["private", '"yes"', false],
    ["enableBroadcast", '"false"', false],
    ["enableBroadcast", "7", true],
    ["multicastLimit", '"64"', 64],
    ["multicastLimit", '"64abc"', 64],
    ["multicastLimit", "true", 1],
    ["multicastLimit", "12.9", 12],
    ["multicastLimit", "-1", U64_MAX],
    ["multicastLimit", '"junk"', 0],
    ["mtu", '"1500"', 1500],
    ["mtu", "99999", 10000],
    ["mtu", "0", 1280],
    ["mtu", "false", 1280],
    ["mtu", '"9000x"', 9000],
    ["mtu", "4294968596", 1300], // (unsigned int) keeps the low 32 bits: 2^32 + 1300
    ["remoteTraceLevel", '"3"', 3],
    ["remoteTraceTarget", '"ABCDEF0123"', "ABCDEF0123"],
    ["remoteTraceTarget", "1234567890", "1234567890"],
    ["remoteTraceTarget", '"short"', null],
    ["remoteTraceTarget", "null", null],
    ["v4AssignMode", '"zt"', { zt: true }],
    ["v4AssignMode", '"none"', { zt: false }],
    ["v4AssignMode", '{"zt":"true"}', { zt: true }],
    ["v4AssignMode", '{"zt":1}', { zt: true }],
    ["v4AssignMode", '{"zt":"false"}', { zt: false }],
    ["v4AssignMode", "{}", { zt: false }],
    ["v6AssignMode", '"rfc4193,6plane"', { "6plane": true, rfc4193: true, zt: false }],
    ["v6AssignMode", '"zt,,zt"', { "6plane": false, rfc4193: false, zt: true }],
    ["v6AssignMode", '"rfc4193, 6plane"', { "6plane": false, rfc4193: true, zt: false }],
    ["v6AssignMode", '""', { "6plane": false, rfc4193: false, zt: false }],
    // the object form keeps only the keys it carries (as the reference stores it)
    ["v6AssignMode", '{"6plane":"true","zt":0}', { "6plane": true, zt: false }],
    ["v6AssignMode", '{"rfc4193":1}', { rfc4193: true }],
    ["capabilities", '[{"id":"7","default":"true"}]', [{ default: true, id: 7, rules: [] }]],
    ["capabilities", '[{"id":true}]', [{ default: false, id: 1, rules: [] }]],
    ["tags", '[{"id":"5","default":"2"}]', [{ default: 2, id: 5 }]],
    ["tags", '[{"id":5,"default":null}]', [{ default: null, id: 5 }]],
    ["tags", '[{"id":-1}]', [{ default: null, id: U64_MAX }]],
    ["tags", '[{"default":3}]', [{ default: 3, id: 0 }]], // a missing id is 0
    ["capabilities", "[{}]", [{ default: false, id: 0, rules: [] }]],
  ];
  for (const [field, value, want] of table) {
    const n = await post(app, NET, `{"${field}":${value}}`);
    assert.deepEqual(n[field], want, `${field}: ${value}`);
    // stored exactly as answered
    const again = parseJson64(await (await app.request(NET)).text()) as AnyJson;
    assert.deepEqual(again[field], want, `${field}: ${value} (GET)`);
  }
});

Deno.test("member POST: every scalar field accepts what the reference accepts", async () => {
  const { app } = setup();
  await post(app, NET, "{}");
  const table: Array<[string, string, unknown]> = [
    ["authorized", '"true"', true],
    ["authorized", '"false"', false],
    ["authorized", "1", true],
    ["authorized", "0", false],
    ["authorized", "-1", true],
    ["authorized", '"1"', true],
    ["authorized", '"no"', false],
    ["activeBridge", '"true"', true],
    ["activeBridge", "0", false],
    ["noAutoAssignIps", '"True"', true],
    ["noAutoAssignIps", '"false"', false],
    ["name", "12", "12"],
    ["name", "true", "1"],
    ["authenticationExpiryTime", '"1700000000000"', 1700000000000],
    ["authenticationExpiryTime", "-1", U64_MAX],
    ["remoteTraceLevel", "true", 1],
    ["remoteTraceTarget", '"0123456789"', "0123456789"],
    ["remoteTraceTarget", '"x"', null],
    ["tags", '[["5","7"],[true,"x"]]', [[1, 0], [5, 7]]],
    ["tags", "[[4294967297,-1]]", [[1, 4294967295]]], // ids and values modulo 2^32
    ["capabilities", '["3",1,"1",true]', [1, 3]],
    ["capabilities", "[-1]", [U64_MAX]],
  ];
  for (const [field, value, want] of table) {
    const m = await post(app, MEMBER, `{"${field}":${value}}`);
    assert.deepEqual(m[field], want, `${field}: ${value}`);
  }
});

Deno.test("coercion: object, array or null where a scalar belongs → 400, nothing saved", async () => {
  const { app } = setup();
  await post(app, NET, "{}");
  await post(app, MEMBER, "{}");
  const before = [await (await app.request(NET)).text(), await (await app.request(MEMBER)).text()];
  const cases: Array<[string, string]> = [];
  for (const f of ["name", "private", "enableBroadcast", "multicastLimit", "mtu"]) {
    for (const v of ["null", "{}", "[]", "[1]", '{"a":1}']) cases.push([NET, `{"${f}":${v}}`]);
  }
  cases.push([NET, '{"remoteTraceLevel":null}'], [NET, '{"remoteTraceTarget":[]}']);
  cases.push([NET, '{"v4AssignMode":{"zt":null}}'], [NET, '{"v6AssignMode":{"zt":{}}}']);
  cases.push([NET, '{"v4AssignMode":null}'], [NET, '{"v6AssignMode":[]}']);
  cases.push([NET, '{"capabilities":[{"id":[]}]}'], [NET, '{"tags":[{"id":5,"default":{}}]}']);
  for (const f of ["authorized", "activeBridge", "noAutoAssignIps", "name"]) {
    for (const v of ["null", "{}", "[]"]) cases.push([MEMBER, `{"${f}":${v}}`]);
  }
  cases.push([MEMBER, '{"authenticationExpiryTime":{}}'], [MEMBER, '{"tags":[[1,null]]}']);
  cases.push([MEMBER, '{"capabilities":[null]}']);
  for (const [path, body] of cases) {
    const r = await app.request(path, { method: "POST", body });
    assert.equal(r.status, 400, `${path} ${body}`);
    const j = await r.json();
    assert.equal(j.error, 400);
    const field = /"([A-Za-z0-9]+)"/.exec(body)![1];
    assert.ok(j.description.startsWith(field), `${body}: ${j.description}`);
    assert.match(j.description, /not (null|an object|an array)|expected/);
  }
  const after = [await (await app.request(NET)).text(), await (await app.request(MEMBER)).text()];
  assert.deepEqual(after, before);
  // malformed JSON stays 400
  const bad = await app.request(NET, { method: "POST", body: '{"private":' });
  assert.equal(bad.status, 400);
});

Deno.test("64-bit values stay exact through the API and the file database", async () => {
  const dir = tempDir();
  const { app } = setup(new FileStore(`${dir}/controller.d`));
  const n = await post(app, NET, '{"multicastLimit":18446744073709551614,"remoteTraceLevel":-5}');
  assert.equal(n.multicastLimit, 18446744073709551614n);
  assert.equal(n.remoteTraceLevel, U64_MAX - 4n);
  const m = await post(app, MEMBER, '{"authenticationExpiryTime":9007199254740993}');
  assert.equal(m.authenticationExpiryTime, 9007199254740993n);
  const file = Deno.readTextFileSync(`${dir}/controller.d/network/${NW}.json`);
  assert.match(file, /"multicastLimit":18446744073709551614[,}]/);
  const mfile = Deno.readTextFileSync(`${dir}/controller.d/network/${NW}/member/beccf08a89.json`);
  assert.match(mfile, /"authenticationExpiryTime":9007199254740993[,}]/);
  // a fresh store reads them back exactly
  const { app: app2 } = setup(new FileStore(`${dir}/controller.d`));
  const raw = await (await app2.request(MEMBER)).text();
  assert.match(raw, /"authenticationExpiryTime":9007199254740993[,}]/);
  const nraw = await (await app2.request(NET)).text();
  assert.match(nraw, /"multicastLimit":18446744073709551614[,}]/);
});

// ---- replays of what third-party controller UIs send ---------------------------------------

Deno.test("ztncui replay: create, easy setup, private, assign modes, authorize/deauthorize", async () => {
  const { app, ctl } = setup();
  const addr = ctl.address;
  // network_create posts the name object to <addr>______
  const created = await post(app, `/controller/network/${addr}______`, '{"name":"office"}');
  const net = `/controller/network/${created.id}`;
  assert.equal(created.name, "office");
  // network_easy_setup
  const easy = await post(
    app,
    net,
    '{"ipAssignmentPools":[{"ipRangeStart":"198.19.1.1","ipRangeEnd":"198.19.1.254"}],' +
      '"routes":[{"target":"198.19.1.0/24","via":null}],"v4AssignMode":{"zt":true}}',
  );
  assert.deepEqual(easy.v4AssignMode, { zt: true });
  // the private page posts the checkbox state as a form string
  assert.equal((await post(app, net, '{"private":"false"}')).private, false);
  assert.equal((await post(app, net, '{"private":"true"}')).private, true);
  // v4AssignMode page: {zt: "false"} / {zt: "true"}
  assert.deepEqual((await post(app, net, '{"v4AssignMode":{"zt":"false"}}')).v4AssignMode, {
    zt: false,
  });
  assert.deepEqual((await post(app, net, '{"v4AssignMode":{"zt":"true"}}')).v4AssignMode, {
    zt: true,
  });
  // v6AssignMode page sends all three checkboxes as strings
  const v6 = await post(
    app,
    net,
    '{"v6AssignMode":{"6plane":"true","rfc4193":"false","zt":"false"}}',
  );
  assert.deepEqual(v6.v6AssignMode, { "6plane": true, rfc4193: false, zt: false });
  // dns page
  const dns = await post(app, net, '{"dns":{"domain":"office.lan","servers":["198.19.1.1"]}}');
  assert.deepEqual(dns.dns, { domain: "office.lan", servers: ["198.19.1.1"] });
  // members page: auth / activeBridge / name as form strings
  const mpath = `${net}/member/beccf08a89`;
  const auth = await post(app, mpath, '{"authorized":"true"}');
  assert.equal(auth.authorized, true);
  assert.equal(auth.lastAuthorizedCredentialType, "api");
  assert.equal((await post(app, mpath, '{"activeBridge":"true"}')).activeBridge, true);
  assert.equal((await post(app, mpath, '{"name":"printer"}')).name, "printer");
  assert.equal((await post(app, mpath, '{"activeBridge":"false"}')).activeBridge, false);
  const deauth = await post(app, mpath, '{"authorized":"false"}');
  assert.equal(deauth.authorized, false);
  assert.ok(deauth.lastDeauthorizedTime > 0);
  // ipAssignmentAdd / ipAssignmentDelete post the whole list back
  const ips = await post(app, mpath, '{"ipAssignments":["198.19.1.7"]}');
  assert.deepEqual(ips.ipAssignments, ["198.19.1.7"]);
  assert.deepEqual((await post(app, mpath, '{"ipAssignments":[]}')).ipAssignments, []);
  // a peer ztncui looks up that is not there: 404 (its handler checks the status)
  assert.equal((await app.request(`${net}/member/0000000001`)).status, 404);
});

Deno.test("zero-ui replay: create with config, public/private as 0/1, members and tags", async () => {
  const { app, ctl } = setup();
  const created = await post(
    app,
    `/controller/network/${ctl.address}______`,
    JSON.stringify({
      name: "zero",
      private: true,
      v6AssignMode: { rfc4193: false, "6plane": false, zt: false },
      v4AssignMode: { zt: true },
      routes: [{ target: "198.19.2.0/24", via: null, flags: 0, metric: 0 }],
      ipAssignmentPools: [{ ipRangeStart: "198.19.2.10", ipRangeEnd: "198.19.2.200" }],
      enableBroadcast: true,
      // the backend adds its default rules (drop all but IPv4, ARP and IPv6)
      rules: [
        { type: "MATCH_ETHERTYPE", not: true, or: false, etherType: 2048 },
        { type: "MATCH_ETHERTYPE", not: true, or: false, etherType: 2054 },
        { type: "MATCH_ETHERTYPE", not: true, or: false, etherType: 34525 },
        { type: "ACTION_DROP" },
        { type: "ACTION_ACCEPT" },
      ],
    }),
  );
  assert.deepEqual(created.routes, [{ target: "198.19.2.0/24", via: null }]);
  assert.equal(created.rules.length, 5);
  const net = `/controller/network/${created.id}`;
  // the access-control select posts JSON.parse("0") / JSON.parse("1")
  assert.equal((await post(app, net, '{"private":0}')).private, false);
  assert.equal((await post(app, net, '{"private":1}')).private, true);
  // multicastLimit text field, enableBroadcast checkbox
  assert.equal((await post(app, net, '{"multicastLimit":64}')).multicastLimit, 64);
  assert.equal((await post(app, net, '{"enableBroadcast":false}')).enableBroadcast, false);
  // members: authorize checkbox, settings checkboxes, tag values from a select (strings)
  const mpath = `${net}/member/beccf08a89`;
  assert.equal((await post(app, mpath, '{"authorized":true}')).authorized, true);
  assert.equal((await post(app, mpath, '{"noAutoAssignIps":true}')).noAutoAssignIps, true);
  assert.deepEqual((await post(app, mpath, '{"tags":[[1,"2"]]}')).tags, [[1, 2]]);
  assert.deepEqual((await post(app, mpath, '{"capabilities":[2,1]}')).capabilities, [1, 2]);
  // delete, then the "default config" post zero-ui sends right after
  assert.equal((await app.request(mpath, { method: "DELETE" })).status, 200);
  const reset = await post(
    app,
    mpath,
    '{"authorized":false,"ipAssignments":[],"capabilities":[],"tags":[]}',
  );
  assert.equal(reset.authorized, false);
});

Deno.test('coerced values reach the config: public via "false", multicastLimit -1 as (unsigned int)', async () => {
  const { app, ctl, clock } = setup();
  const n = await post(
    app,
    `/controller/network/${ctl.address}______`,
    '{"private":"false","multicastLimit":-1,"mtu":"1500","enableBroadcast":"0",' +
      '"v4AssignMode":"zt","ipAssignmentPools":[{"ipRangeStart":"198.19.5.10",' +
      '"ipRangeEnd":"198.19.5.20"}],"routes":[{"target":"198.19.5.0/24"}]}',
  );
  const a = labIdentity("a");
  const d = ctl.handleConfigRequest(
    clock.t,
    { identity: a, address: a.address, metadata: META_114 },
    BigInt("0x" + n.id),
  );
  assert.equal(d.kind, "config", d.kind === "error" ? d.code : d.kind);
  if (d.kind !== "config") return;
  assert.equal(d.plan.type, "public");
  assert.equal(d.plan.multicastLimit, 0xffffffff);
  assert.equal(d.plan.mtu, 1500);
  assert.equal(d.plan.flags & 2, 0, "broadcast off");
  const ips = d.plan.staticIps.map(String);
  assert.equal(ips.length, 1);
  assert.match(ips[0], /^198\.19\.5\.(1[0-9]|20)\/24$/, 'from the pool (v4AssignMode "zt")');
});
