// Controller HTTP API against the recorded 1.14.1 answers: GETs, POST defaults, 400s, DELETE.
import assert from "node:assert/strict";
import { Router } from "../../src/service/router.ts";
import { controllerApi } from "../../src/service/controller_api.ts";
import { fixtureText } from "../fixtures.ts";

// deno-lint-ignore no-explicit-any
type AnyJson = any;
import {
  ADDR_A,
  ADDR_B,
  fixtureFileStore,
  LAB_NET,
  labController,
  RULES_NET,
  snapshotTree,
} from "../controller/helpers.ts";

function setup() {
  const { store, dir } = fixtureFileStore();
  const { ctl, clock } = labController(store);
  return { app: controllerApi(ctl), ctl, clock, dir, store };
}

async function req(
  app: ReturnType<typeof controllerApi>,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; text: string; json: () => AnyJson }> {
  const r = await app.request(path, { method, body });
  const text = await r.text();
  return { status: r.status, text, json: () => JSON.parse(text) };
}

Deno.test("GET /controller has the reference's tab-indented shape", async () => {
  const { app, clock } = setup();
  const r = await req(app, "GET", "/controller");
  assert.equal(r.status, 200);
  const want = fixtureText("controller/controller.json").replace(
    /"clock": \d+/,
    `"clock": ${clock.t}`,
  );
  assert.equal(r.text, want);
});

Deno.test("GET networks, each network and member lists equal the recorded answers", async () => {
  const { app } = setup();
  assert.equal(
    (await req(app, "GET", "/controller/network")).text,
    fixtureText("controller/networks.json"),
  );
  assert.equal(
    (await req(app, "GET", `/controller/network/${LAB_NET}`)).text,
    fixtureText("controller/network-lab.json"),
  );
  assert.equal(
    (await req(app, "GET", `/controller/network/${RULES_NET}`)).text,
    fixtureText("controller/network-rules.json"),
  );
  // upper-case hex in the URL is accepted
  assert.equal(
    (await req(app, "GET", `/controller/network/${LAB_NET.toUpperCase()}`)).text,
    fixtureText("controller/network-lab.json"),
  );
  assert.equal(
    (await req(app, "GET", `/controller/network/${LAB_NET}/member`)).text,
    fixtureText("controller/members.json"),
  );
  assert.equal(
    (await req(app, "GET", `/controller/network/${LAB_NET}/member/${ADDR_A}`)).text,
    fixtureText("controller/member-a.json"),
  );
  assert.equal(
    (await req(app, "GET", `/controller/network/${LAB_NET}/member/${ADDR_B}`)).text,
    fixtureText("controller/member-b.json"),
  );
});

Deno.test("unknown network/member → 404; /unstable listings carry counts", async () => {
  const { app } = setup();
  // the reference answers these with the status alone: an empty body
  for (
    const [method, path] of [
      ["GET", "/controller/network/5b1c20a311000001"],
      ["GET", `/controller/network/${LAB_NET}/member/0123456789`],
      ["GET", "/controller/network/5b1c20a311000001/member"],
      ["GET", "/unstable/controller/network/5b1c20a311000001/member"],
      ["DELETE", "/controller/network/5b1c20a311000001"],
      ["DELETE", `/controller/network/${LAB_NET}/member/0123456789`],
      ["POST", `/controller/network/5b1c20a311000001/member/${ADDR_A}`],
    ] as const
  ) {
    const r = await req(app, method, path, method === "POST" ? "{}" : undefined);
    assert.deepEqual([r.status, r.text], [404, ""], `${method} ${path}`);
  }
  const u = (await req(app, "GET", "/unstable/controller/network")).json();
  assert.equal(u.meta.networkCount, 2);
  assert.deepEqual(u.data.map((n: AnyJson) => n.id), [RULES_NET, LAB_NET]);
  assert.deepEqual(u.data[0].meta, { authorizedMemberCount: 1, totalMemberCount: 2 });
  assert.deepEqual(u.data[1].meta, { authorizedMemberCount: 2, totalMemberCount: 2 });
  const m = (await req(app, "GET", `/unstable/controller/network/${RULES_NET}/member`)).json();
  assert.deepEqual(m.meta, { authorizedCount: 1, totalCount: 2 });
  assert.deepEqual(
    m.data[0],
    JSON.parse(fixtureText(
      `controller/controller.d/network/${RULES_NET}/member/${ADDR_A}.json`,
    )),
  );
});

Deno.test("POST creating a network returns the defaults of a fresh network", async () => {
  const { app, clock, dir } = setup();
  const r = await req(app, "POST", "/controller/network", "{}");
  assert.equal(r.status, 200);
  const n = r.json();
  assert.match(n.id, /^5b1c20a311[0-9a-f]{6}$/);
  assert.notEqual(n.id.slice(10), "000000");
  // Key set and the values of every field not set on the lab network equal the recorded ones.
  const lab = JSON.parse(fixtureText("controller/network-lab.json"));
  assert.deepEqual(Object.keys(n).sort(), Object.keys(lab).sort());
  for (
    const k of [
      "authTokens",
      "authorizationEndpoint",
      "capabilities",
      "clientId",
      "enableBroadcast",
      "mtu",
      "multicastLimit",
      "objtype",
      "private",
      "remoteTraceLevel",
      "remoteTraceTarget",
      "rules",
      "rulesSource",
      "ssoEnabled",
      "tags",
    ]
  ) {
    assert.deepEqual(n[k], lab[k], k);
  }
  assert.deepEqual(n.dns, []);
  assert.deepEqual(n.routes, []);
  assert.deepEqual(n.ipAssignmentPools, []);
  assert.equal(n.name, "");
  assert.deepEqual(n.v4AssignMode, { zt: false });
  assert.deepEqual(n.v6AssignMode, { "6plane": false, rfc4193: false, zt: false });
  assert.equal(n.creationTime, clock.t);
  assert.equal(n.revision, 1);
  assert.equal(n.nwid, n.id);
  // keys sorted, compact, and the file on disk is the same text
  assert.equal(
    r.text,
    JSON.stringify(Object.fromEntries(Object.keys(n).sort().map((k) => [k, n[k]]))),
  );
  assert.equal(Deno.readTextFileSync(`${dir}/network/${n.id}.json`), r.text);
  // legacy form with our address
  const r2 = await req(app, "POST", "/controller/network/5b1c20a311______", '{"name":"x"}');
  assert.equal(r2.status, 200);
  assert.equal(r2.json().name, "x");
  assert.notEqual(r2.json().id, n.id);
  assert.equal((await req(app, "POST", "/controller/network/0123456789______", "{}")).status, 400);
});

Deno.test("POST recreating the lab network's settings gives the recorded object (clock fields aside)", async () => {
  const { app } = setup();
  const body = {
    name: "lab-net",
    private: true,
    v4AssignMode: { zt: true },
    v6AssignMode: { rfc4193: true, "6plane": true, zt: false },
    ipAssignmentPools: [{ ipRangeStart: "198.19.0.10", ipRangeEnd: "198.19.0.250" }],
    routes: [{ target: "198.19.0.0/24", via: null }],
    dns: { domain: "lab.example", servers: ["198.19.0.53"] },
  };
  const r = (await req(app, "POST", "/controller/network/5b1c20a311abcdef", JSON.stringify(body)))
    .json();
  const lab = JSON.parse(fixtureText("controller/network-lab.json"));
  // Only id/nwid (a different network) and creationTime (clock) differ.
  for (const k of ["id", "nwid", "creationTime"]) {
    delete r[k];
    delete lab[k];
  }
  assert.deepEqual(r, lab);
});

Deno.test("POST rules from the rule compiler re-renders them as recorded", async () => {
  const { app } = setup();
  const compiled = JSON.parse(fixtureText("rules/lab.compiled.json")).config;
  const r =
    (await req(app, "POST", "/controller/network/5b1c20a311abcdef", JSON.stringify(compiled)))
      .json();
  const want = JSON.parse(fixtureText("controller/network-rules.json"));
  assert.deepEqual(r.rules, want.rules);
  assert.deepEqual(r.capabilities, want.capabilities);
  assert.deepEqual(r.tags, want.tags);
});

Deno.test("POST member authorize produces the recorded shape", async () => {
  const { app, clock, store } = setup();
  // A network with no members yet: create the member by authorizing it (as the lab did).
  store.deleteMember(LAB_NET, ADDR_A);
  clock.t = 1795303630200;
  const r = await req(
    app,
    "POST",
    `/controller/network/${LAB_NET}/member/${ADDR_A}`,
    '{"authorized":true}',
  );
  assert.equal(r.status, 200);
  assert.equal(r.text, fixtureText("controller/member-a-authorized.json"));
  // Same POST again: no change, no revision bump.
  const again = await req(
    app,
    "POST",
    `/controller/network/${LAB_NET}/member/${ADDR_A}`,
    '{"authorized":true}',
  );
  assert.equal(again.json().revision, 1);
  // member on unknown network → 404
  assert.equal(
    (await req(app, "POST", `/controller/network/5b1c20a311000001/member/${ADDR_A}`, "{}")).status,
    404,
  );
});

Deno.test("POST member with tags and capabilities (rules net) matches the recorded answer", async () => {
  const { app, clock, store } = setup();
  // Reconstruct b-like pre-state for a: the unauthorized record the first request wrote.
  const before = JSON.parse(fixtureText("controller/rules-member-a.json"));
  Object.assign(before, {
    authorized: false,
    capabilities: [],
    tags: [],
    lastAuthorizedTime: 0,
    lastAuthorizedCredentialType: null,
    revision: 0,
  });
  store.deleteMember(RULES_NET, ADDR_A);
  store.saveMember(before); // revision → 1
  clock.t = 1795303642725;
  const r = await req(
    app,
    "POST",
    `/controller/network/${RULES_NET}/member/${ADDR_A}`,
    JSON.stringify({ authorized: true, tags: [[2000, 10]], capabilities: [1000, 1000] }),
  );
  assert.equal(r.text, fixtureText("controller/rules-member-a.json"));
});

Deno.test("bad input → 400 naming the field, malformed ids → 404, nothing changed on disk", async () => {
  const { app, dir } = setup();
  const before = snapshotTree(dir);
  const n = `/controller/network/${LAB_NET}`;
  const m = `${n}/member/${ADDR_A}`;
  const cases: Array<[string, string, string | undefined, RegExp]> = [
    ["POST", n, '{"private":{}}', /^private: expected a boolean, number or string, not an object/],
    ["POST", n, '{"private":null}', /^private: .*not null/],
    ["POST", n, '{"mtu":[]}', /^mtu: .*not an array/],
    ["POST", n, '{"multicastLimit":null}', /^multicastLimit: /],
    ["POST", n, '{"name":{"a":1}}', /^name: /],
    ["POST", n, '{"enableBroadcast":[true]}', /^enableBroadcast: /],
    ["POST", n, '{"routes":[{"target":"10.0.0.0/33"}]}', /^routes\[0\]\.target: /],
    ["POST", n, '{"routes":[{"target":"10.0.0.0"}]}', /^routes\[0\]\.target: /],
    ["POST", n, '{"routes":[{"target":"nonsense/8"}]}', /^routes\[0\]\.target: /],
    ["POST", n, '{"routes":[{"target":"10.0.0.0/8","via":"10.0.0.300"}]}', /^routes\[0\]\.via: /],
    [
      "POST",
      n,
      '{"ipAssignmentPools":[{"ipRangeStart":"10.0.0.1","ipRangeEnd":"fd00::1"}]}',
      /^ipAssignmentPools\[0\]\.ipRangeEnd: /,
    ],
    [
      "POST",
      n,
      '{"rules":[{"type":"ACTION_ACCEPT"},{"type":"MATCH_NOPE"}]}',
      /^rules\[1\]\.type: unknown rule type/,
    ],
    [
      "POST",
      n,
      '{"rules":[{"type":"MATCH_ETHERTYPE","etherType":{}}]}',
      /^rules\[0\]\.etherType: /,
    ],
    ["POST", n, '{"rules":[{"type":"MATCH_IPV4_SOURCE","ip":"fd00::/8"}]}', /^rules\[0\]\.ip: /],
    [
      "POST",
      n,
      '{"capabilities":[{"id":1,"rules":[{"type":7}]}]}',
      /^capabilities\[0\]\.rules\[0\]\.type: /,
    ],
    ["POST", n, '{"v4AssignMode":5}', /^v4AssignMode: /],
    ["POST", n, '{"v6AssignMode":{"rfc4193":[]}}', /^v6AssignMode/],
    ["POST", n, '{"dns":{"domain":"x","servers":["not-an-ip"]}}', /^dns/],
    ["POST", n, '{"tags":[{"id":null}]}', /^tags\[0\]\.id: /],
    ["POST", n, '{"remoteTraceTarget":{}}', /^remoteTraceTarget: /],
    ["POST", n, "{not json", /^body: invalid JSON/],
    ["POST", n, "[1,2]", /^body: /],
    ["POST", m, '{"authorized":null}', /^authorized: /],
    ["POST", m, '{"authorized":{"value":true}}', /^authorized: /],
    ["POST", m, '{"noAutoAssignIps":[]}', /^noAutoAssignIps: /],
    ["POST", m, '{"ipAssignments":["10.0.0.999"]}', /^ipAssignments\[0\]: /],
    ["POST", m, '{"tags":[[1]]}', /^tags\[0\]/],
    ["POST", m, '{"capabilities":[[1]]}', /^capabilities\[0\]: /],
    ["POST", m, '{"name":null}', /^name: /],
    ["POST", m, "nope", /^body: invalid JSON/],
  ];
  // malformed ids in the URL: no route (404, empty body), as the reference's route regexes
  for (
    const [method, path, body] of [
      ["GET", "/controller/network/5b1c20a3110", undefined],
      ["POST", "/controller/network/zzzzzzzzzzzzzzzz", "{}"],
      ["DELETE", "/controller/network/12", undefined],
      ["GET", `${n}/member/98bec7160`, undefined],
      ["POST", `${n}/member/98bec7160g`, "{}"],
      ["DELETE", `/controller/network/xx/member/${ADDR_A}`, undefined],
    ] as const
  ) {
    const r = await req(app, method, path, body);
    assert.deepEqual([r.status, r.text], [404, ""], `${method} ${path}`);
  }
  for (const [method, path, body, re] of cases) {
    const r = await req(app, method, path, body);
    assert.equal(r.status, 400, `${method} ${path} ${body}`);
    const j = r.json();
    assert.equal(j.error, 400);
    assert.match(j.description, re, `${method} ${path} ${body}: ${j.description}`);
  }
  assert.deepEqual(snapshotTree(dir), before);
});

Deno.test("DELETE returns the deleted object, removes files, then 404", async () => {
  const { app, dir } = setup();
  const mPath = `/controller/network/${LAB_NET}/member/${ADDR_B}`;
  const d = await req(app, "DELETE", mPath);
  assert.equal(d.text, fixtureText("controller/member-b.json"));
  assert.equal((await req(app, "GET", mPath)).status, 404);
  assert.equal((await req(app, "DELETE", mPath)).status, 404);
  assert.throws(() => Deno.statSync(`${dir}/network/${LAB_NET}/member/${ADDR_B}.json`));
  assert.equal(
    (await req(app, "GET", `/controller/network/${LAB_NET}/member`)).text,
    '{"98bec71608":2}',
  );

  const dn = await req(app, "DELETE", `/controller/network/${RULES_NET}`);
  assert.equal(dn.text, fixtureText("controller/network-rules.json"));
  assert.equal((await req(app, "GET", `/controller/network/${RULES_NET}`)).status, 404);
  assert.equal((await req(app, "GET", "/controller/network")).text, `["${LAB_NET}"]`);
  assert.throws(() => Deno.statSync(`${dir}/network/${RULES_NET}.json`));
  assert.throws(() => Deno.statSync(`${dir}/network/${RULES_NET}`));
});

Deno.test("JSONP wrapping", async () => {
  const { app } = setup();
  const r = await app.request("/controller/network?jsonp=cb");
  assert.equal(await r.text(), `cb(${fixtureText("controller/networks.json")});`);
});

Deno.test("mounts under a parent app (as the service does)", async () => {
  const { ctl } = setup();
  const parent = new Router();
  parent.get("/status", (c) => c.json({ ok: true }));
  parent.route("/", controllerApi(ctl));
  const r = await parent.request(`/controller/network/${LAB_NET}`);
  assert.equal(await r.text(), fixtureText("controller/network-lab.json"));
  assert.equal((await parent.request("/status")).status, 200);
});
