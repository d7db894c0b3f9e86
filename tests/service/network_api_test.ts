// The /network API and networks.d persistence: recorded homes reload to the recorded /network answers; join, settings, leave.
import assert from "node:assert/strict";
import { fixtureBytes, FIXTURES, fixtureText } from "../fixtures.ts";
import { type ApiState, createApiApp } from "../../src/service/api_server.ts";
import { NodeStateStore } from "../../src/service/node_state_store.ts";
import { Logger } from "../../src/service/logger.ts";
import { networkApiRoutes } from "../../src/service/network_api.ts";
import { NetworkFiles } from "../../src/service/network_store.ts";
import type { ServiceNode } from "../../src/service/service_node.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { parseWorld } from "../../src/vl1/world.ts";
import { parseMac } from "../../src/vl2/mac.ts";
import { Networks } from "../../src/vl2/networks.ts";
import { FakeNode } from "../vl2/network_helpers.ts";

const HOSTS = ["a", "b", "c", "r"] as const;
/**
 * Fields of the recorded answers that are live state, not stored: the OS interface name and the
 * multicast groups the interface joined (both come from the TAP layer), and `status` of a
 * network without config (the controller's refusal, ACCESS_DENIED, is not persisted: after a
 * restart it is REQUESTING_CONFIGURATION until the controller answers again).
 */
const LIVE = ["portDeviceName", "multicastSubscriptions"];

function tempHome(h: string): string {
  const dir = Deno.makeTempDirSync({ prefix: "zt-netapi-" });
  const src = `${FIXTURES}homes/${h}/networks.d`;
  try {
    Deno.mkdirSync(`${dir}/networks.d`);
    for (const e of Deno.readDirSync(src)) {
      Deno.writeFileSync(`${dir}/networks.d/${e.name}`, Deno.readFileSync(`${src}/${e.name}`));
    }
  } catch {
    // hosts without networks.d
  }
  return dir;
}

function service(h: string, home: string) {
  const identity = Identity.fromString(fixtureText(`identities/${h}.secret`))!;
  const node = new FakeNode(identity);
  const log = new Logger("error");
  const files = new NetworkFiles(home, new NodeStateStore(home), log);
  const nets = new Networks({ node, host: files });
  const svcNode: ServiceNode = {
    identity,
    receive: () => {},
    tick: () => 1000,
    online: () => true,
    peers: () => [],
    peer: () => undefined,
    planet: () => parseWorld(fixtureBytes("planet.bin"))!,
    moons: () => [],
    orbit: () => {},
    deorbit: () => {},
    surfaceAddresses: () => [],
  };
  const state: ApiState = {
    node: svcNode,
    authToken: () => `tok-${h}`,
    metricsToken: () => "m",
    allowManagementFrom: () => [],
    now: () => 1000,
    statusExtras: () => {
      throw new Error("unused");
    },
  };
  const app = createApiApp(state, [networkApiRoutes(() => nets, () => 1000)]);
  const req = async (method: string, path: string, body?: string) => {
    const r = await app.request(path, {
      method,
      headers: { "X-ZT1-Auth": `tok-${h}` },
      ...(body !== undefined ? { body } : {}),
    });
    return { status: r.status, json: await r.json() };
  };
  return { node, nets, files, app, req };
}

Deno.test("network api: each recorded home's networks.d reloads and /network equals the recorded answer (live fields named)", async () => {
  for (const h of HOSTS) {
    const home = tempHome(h);
    try {
      const { nets, files, req } = service(h, home);
      files.rejoinAll(nets, 0);
      const want = JSON.parse(fixtureText(`api/${h}-network.json`)) as Record<string, unknown>[];
      const got = (await req("GET", "/network")).json as Record<string, unknown>[];
      assert.equal(got.length, want.length, h);
      for (let i = 0; i < want.length; i++) {
        const w = { ...want[i] };
        const g = { ...got[i] };
        // key order as recorded (sorted)
        assert.deepEqual(Object.keys(g), Object.keys(w), `${h} keys`);
        const stored = fixtureBytes(`homes/${h}/networks.d/${w.id}.conf`);
        if (stored.length === 1) {
          assert.equal(g.status, "REQUESTING_CONFIGURATION");
          g.status = w.status;
        }
        for (const k of LIVE) {
          assert.notDeepEqual(g[k], w[k], `${h} ${k} is live`);
          delete g[k];
          delete w[k];
        }
        assert.deepEqual(g, w, `${h} ${w.id}`);
      }
      // with the TAP layer's live state filled in, the whole answer matches (save that status)
      for (const w of want) {
        const nw = nets.get(BigInt("0x" + w.id))!;
        nw.setPort({
          deviceName: w.portDeviceName as string,
          multicastSubscriptions: (w.multicastSubscriptions as { mac: string; adi: number }[])
            .map((s) => ({ mac: parseMac(s.mac)!, adi: s.adi })).reverse(),
        });
        if (w.status === "ACCESS_DENIED") nw.setFailure("ACCESS_DENIED");
      }
      assert.deepEqual((await req("GET", "/network")).json, want, h);
      for (const w of want) {
        assert.deepEqual((await req("GET", `/network/${w.id}`)).json, w);
      }
    } finally {
      Deno.removeSync(home, { recursive: true });
    }
  }
});

Deno.test("network api: POST joins and applies the four booleans (persisted), DELETE leaves and removes the files", async () => {
  const home = tempHome("c"); // no networks.d
  try {
    const { node, req, nets } = service("a", home);
    const id = "5b1c20a311fca1ca";
    assert.deepEqual(await req("GET", `/network/${id}`), { status: 404, json: {} });
    const r = await req("POST", `/network/${id}`, "");
    assert.equal(r.status, 200);
    assert.equal(r.json.status, "REQUESTING_CONFIGURATION");
    assert.equal(r.json.id, id);
    assert.equal(r.json.mac, "ca:39:42:d6:b5:28");
    assert.equal(r.json.allowManaged, true);
    assert.equal(node.sent.length, 1); // the config request
    assert.equal(
      new TextDecoder().decode(Deno.readFileSync(`${home}/networks.d/${id}.conf`)),
      "\n",
    );
    const r2 = await req(
      "POST",
      `/network/${id}`,
      JSON.stringify({
        allowManaged: false,
        allowDNS: true,
        allowGlobal: 1,
        allowDefault: "nonsense",
      }),
    );
    assert.equal(r2.json.allowManaged, false);
    assert.equal(r2.json.allowDNS, true);
    assert.equal(r2.json.allowGlobal, true);
    assert.equal(r2.json.allowDefault, false);
    assert.equal(
      new TextDecoder().decode(Deno.readFileSync(`${home}/networks.d/${id}.local.conf`)),
      "allowManaged=0\nallowGlobal=1\nallowDefault=0\nallowDNS=1\n",
    );
    // PUT works the same; a body that is not a JSON object → 400, nothing changes
    const badBody = await req("PUT", `/network/${id}`, "{not json");
    assert.equal(badBody.status, 400);
    assert.match(badBody.json.description, /not valid JSON/);
    assert.equal((await req("POST", "/network/5b1c20a311000001", "[1]")).status, 400);
    assert.equal(nets.list().length, 1);
    assert.equal((await req("GET", `/network/${id}`)).json.allowDNS, true);
    // settings survive a restart
    const again = service("a", home);
    again.files.rejoinAll(again.nets, 0);
    assert.equal((await again.req("GET", `/network/${id}`)).json.allowDNS, true);
    assert.deepEqual((await req("GET", "/network")).json.map((n: { id: string }) => n.id), [id]);
    assert.deepEqual(await req("DELETE", `/network/${id}`), {
      status: 200,
      json: { result: true },
    });
    assert.deepEqual(await req("DELETE", `/network/${id}`), { status: 200, json: {} });
    assert.deepEqual((await req("GET", "/network")).json, []);
    assert.deepEqual([...Deno.readDirSync(`${home}/networks.d`)].map((e) => e.name), []);
    // malformed ids
    assert.equal((await req("DELETE", "/network/5b1c20a311fca1c")).status, 404);
    assert.equal((await req("POST", "/network/5b1c20a311fca1c")).status, 404);
    assert.equal((await req("POST", "/network/0000000000000000")).status, 404);
    assert.equal((await req("GET", "/network/zzzzzzzzzzzzzzzz")).status, 404);
    // no token: 401
    const { app } = service("a", home);
    assert.equal((await app.request("/network")).status, 401);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});
