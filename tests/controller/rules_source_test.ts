// POSTing `rulesSource` compiles it into rules/capabilities/tags; compile errors are 400s.
import assert from "node:assert/strict";
import { controllerApi } from "../../src/service/controller_api.ts";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import { fixtureText } from "../fixtures.ts";
import {
  fixtureFileStore,
  labController,
  labIdentity,
  RULES_NET,
  snapshotTree,
} from "./helpers.ts";

// deno-lint-ignore no-explicit-any
type AnyJson = any;

const LAB_SOURCE = fixtureText("rules/lab.ztrules");
const RECORDED = JSON.parse(fixtureText("controller/network-rules.json"));
/** A network of the controller (c = 5b1c20a311) that is not in the fixture database. */
const NEW_NET = "5b1c20a311abcdef";

async function post(app: ReturnType<typeof controllerApi>, path: string, body: unknown) {
  const r = await app.request(path, { method: "POST", body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, text, json: JSON.parse(text) as AnyJson };
}

async function get(app: ReturnType<typeof controllerApi>, path: string) {
  const r = await app.request(path);
  return { status: r.status, text: await r.text() };
}

Deno.test("rulesSource lab.ztrules gives the recorded network's rules, capabilities, tags", async () => {
  const { ctl } = labController(new MemoryStore());
  const app = controllerApi(ctl);
  const r = await post(app, `/controller/network/${NEW_NET}`, { rulesSource: LAB_SOURCE });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.rules, RECORDED.rules);
  assert.deepEqual(r.json.capabilities, RECORDED.capabilities);
  assert.deepEqual(r.json.tags, RECORDED.tags);
  assert.equal(r.json.rulesSource, LAB_SOURCE);
  // and it was stored: GET returns the same
  const g = JSON.parse((await get(app, `/controller/network/${NEW_NET}`)).text);
  assert.deepEqual(g.rules, RECORDED.rules);
  assert.equal(g.rulesSource, LAB_SOURCE);

  // Updating an existing network with default rules (the recorded one with its rules reset).
  const { store } = fixtureFileStore();
  const { ctl: ctl2 } = labController(store);
  const app2 = controllerApi(ctl2);
  const reset = await post(app2, `/controller/network/${RULES_NET}`, {
    rules: [{ type: "ACTION_ACCEPT" }],
    capabilities: [],
    tags: [],
  });
  assert.equal(reset.status, 200);
  assert.notDeepEqual(reset.json.rules, RECORDED.rules);
  const u = await post(app2, `/controller/network/${RULES_NET}`, { rulesSource: LAB_SOURCE });
  assert.equal(u.status, 200);
  for (const k of ["rules", "capabilities", "tags"]) assert.deepEqual(u.json[k], RECORDED[k], k);
  // Everything else equals the recorded network (apart from revision and the source itself).
  const want = { ...RECORDED, rulesSource: LAB_SOURCE, revision: u.json.revision };
  assert.deepEqual(u.json, want);
});

Deno.test("compiled tags reach members: a new member gets the default tag in its config", async () => {
  const { ctl, clock } = labController(new MemoryStore());
  const app = controllerApi(ctl);
  await post(app, `/controller/network/${NEW_NET}`, { rulesSource: LAB_SOURCE, private: false });
  const a = labIdentity("a");
  const d = ctl.handleConfigRequest(clock.t, {
    identity: a,
    address: a.address,
    metadata: { rulesEngineRevision: 1 },
    physicalAddress: undefined,
  }, BigInt("0x" + NEW_NET));
  assert.equal(d.kind, "config");
  if (d.kind !== "config") return;
  assert.deepEqual(d.plan.tags, [{ id: 2000, value: 20 }]); // "default client" = enum 20
  assert.equal(d.plan.rules.length, RECORDED.rules.length);
  assert.equal(d.plan.capabilities.length, 0); // ssh_admin is not a default capability
});

Deno.test("a broken rulesSource → 400 rulesSource:LINE:COL and nothing changes", async () => {
  const { store, dir } = fixtureFileStore();
  const { ctl } = labController(store);
  const app = controllerApi(ctl);
  const before = (await get(app, `/controller/network/${RULES_NET}`)).text;
  const disk = snapshotTree(dir);

  // line 17 is `drop ipprotocol 6 dport 23;`; "banana" starts at column 25
  const lines = LAB_SOURCE.split("\n");
  assert.equal(lines[16], "drop ipprotocol 6 dport 23;");
  const broken = LAB_SOURCE.replace("dport 23", "dport banana");
  const r = await post(app, `/controller/network/${RULES_NET}`, {
    name: "renamed",
    rulesSource: broken,
  });
  assert.equal(r.status, 400);
  assert.equal(r.json.error, 400);
  assert.match(r.json.description, /^rulesSource:17:25: .*dport/);
  assert.deepEqual(Object.keys(r.json).sort(), ["description", "error"]);
  assert.equal((await get(app, `/controller/network/${RULES_NET}`)).text, before);
  assert.deepEqual(snapshotTree(dir), disk);

  // an unterminated statement points past its end; a new network is not created
  const r2 = await post(app, `/controller/network/${NEW_NET}`, {
    rulesSource: "accept\n  ipprotocol 6 dport 22",
  });
  assert.equal(r2.status, 400);
  assert.match(r2.json.description, /^rulesSource:2:\d+: .*';'/);
  assert.equal((await get(app, `/controller/network/${NEW_NET}`)).status, 404);
  assert.deepEqual(snapshotTree(dir), disk);

  // not a string → schema error
  const r3 = await post(app, `/controller/network/${RULES_NET}`, { rulesSource: 5 });
  assert.equal(r3.status, 400);
  assert.match(r3.json.description, /^rulesSource: /);
  assert.deepEqual(snapshotTree(dir), disk);
});

Deno.test("explicit rules/capabilities/tags win over rulesSource, which is stored as is", async () => {
  const { ctl } = labController(new MemoryStore());
  const app = controllerApi(ctl);
  const rules = [{ type: "ACTION_DROP" }];
  const r = await post(app, `/controller/network/${NEW_NET}`, {
    rules,
    rulesSource: LAB_SOURCE,
  });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.rules, [{ type: "ACTION_DROP" }]);
  assert.deepEqual(r.json.capabilities, []);
  assert.deepEqual(r.json.tags, []);
  assert.equal(r.json.rulesSource, LAB_SOURCE);
  // with explicit JSON the source is not compiled, so even a broken one is just stored
  const b = await post(app, `/controller/network/${NEW_NET}`, {
    tags: [],
    rulesSource: "not rules at all",
  });
  assert.equal(b.status, 200);
  assert.deepEqual(b.json.rules, [{ type: "ACTION_DROP" }]);
  assert.equal(b.json.rulesSource, "not rules at all");
  // a blank source only resets the stored text
  const e = await post(app, `/controller/network/${NEW_NET}`, { rulesSource: "" });
  assert.equal(e.status, 200);
  assert.deepEqual(e.json.rules, [{ type: "ACTION_DROP" }]);
  assert.equal(e.json.rulesSource, "");
});
