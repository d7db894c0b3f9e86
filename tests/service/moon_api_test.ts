// POST/PUT/DELETE /moon/<id10>: orbit/deorbit on a recording fake node, auth, bad input, the reference's answers.
import assert from "node:assert/strict";
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import { type ApiState, createApiApp } from "../../src/service/api_server.ts";
import { moonRoutes, parseSeed } from "../../src/service/moon_api.ts";
import type { ServiceNode } from "../../src/service/service_node.ts";
import type { Address } from "../../src/vl1/address.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { parseWorld, type World } from "../../src/vl1/world.ts";

const TOKEN = "tok-a";
/** The recorded moon of r (world id = r's address). */
const MOON = parseWorld(fixtureBytes("0000008fc24dde94.moon"))!;

interface Calls {
  orbit: Array<[number, bigint, string | undefined]>;
  deorbit: bigint[];
}

function setup(moons: World[] = []) {
  const calls: Calls = { orbit: [], deorbit: [] };
  const node = {
    identity: Identity.fromString(fixtureText("identities/a.public"))!,
    receive: () => {},
    tick: () => 1000,
    online: () => false,
    peers: () => [],
    peer: () => undefined,
    planet: () => parseWorld(fixtureBytes("planet.bin"))!,
    moons: () => moons,
    orbit: (now: number, id: bigint, seed: Address | undefined) =>
      void calls.orbit.push([now, id, seed?.toString()]),
    deorbit: (id: bigint) => void calls.deorbit.push(id),
    surfaceAddresses: () => [],
  } as ServiceNode;
  const state = {
    node,
    authToken: () => TOKEN,
    metricsToken: () => "met-a",
    allowManagementFrom: () => [],
    now: () => 1234,
    statusExtras: () => {
      throw new Error("unused");
    },
  } as ApiState;
  const app = createApiApp(state, [moonRoutes()]);
  const req = async (method: string, path: string, body?: string, token: string | null = TOKEN) => {
    const headers: Record<string, string> = {};
    if (token !== null) headers["X-ZT1-Auth"] = token;
    const r = await app.request(path, { method, headers, body });
    return { status: r.status, text: await r.text() };
  };
  return { calls, req };
}

Deno.test("moon api: orbit answers the reference's waiting object and orbits with the seed", async () => {
  const { calls, req } = setup();
  const r = await req("POST", "/moon/8fc24dde94", '{"seed":"8fc24dde94"}');
  assert.equal(r.status, 200);
  assert.equal(
    r.text,
    '{"id":"0000008fc24dde94","roots":[],"signature":null,"timestamp":0,' +
      '"updatesMustBeSignedBy":null,"waiting":true}',
  );
  assert.deepEqual(calls.orbit, [[1234, 0x8fc24dde94n, "8fc24dde94"]]);
  // PUT does the same; short seeds are zero-padded addresses
  const p = await req("PUT", "/moon/00000000aa", '{"seed":"abc"}');
  assert.equal(p.status, 200);
  assert.deepEqual(calls.orbit[1], [1234, 0xaan, "0000000abc"]);
});

Deno.test("moon api: already orbiting → the moon object, no new orbit", async () => {
  const { calls, req } = setup([MOON]);
  const r = await req("POST", "/moon/8fc24dde94", '{"seed":"8fc24dde94"}');
  assert.equal(r.status, 200);
  const m = JSON.parse(r.text);
  assert.equal(m.id, "0000008fc24dde94");
  assert.equal(m.waiting, false);
  assert.deepEqual(m.roots[0].stableEndpoints, ["198.18.0.1/9993"]);
  assert.equal(calls.orbit.length, 0);
  // and GET (core route) agrees
  const g = await req("GET", "/moon/8fc24dde94");
  assert.deepEqual(JSON.parse(g.text), m);
});

Deno.test("moon api: deorbit answers {result:true}", async () => {
  const { calls, req } = setup([MOON]);
  const r = await req("DELETE", "/moon/8fc24dde94");
  assert.deepEqual(r, { status: 200, text: '{"result":true}' });
  assert.deepEqual(calls.deorbit, [0x8fc24dde94n]);
});

Deno.test("moon api: auth failures and bad input change nothing", async () => {
  const { calls, req } = setup();
  for (
    const [method, token] of [["POST", null], ["POST", "nope"], ["DELETE", null], [
      "DELETE",
      "x",
    ]] as const
  ) {
    const r = await req(method, "/moon/8fc24dde94", '{"seed":"8fc24dde94"}', token);
    assert.deepEqual(r, { status: 401, text: "{}" }, `${method} ${token}`);
  }
  const bad: Array<[string, string, number, RegExp]> = [
    ["/moon/8fc24dde94", "{seed:", 400, /not valid JSON/],
    ["/moon/8fc24dde94", "[1]", 400, /JSON object/],
    ["/moon/8fc24dde94", "{}", 400, /"seed"/],
    ["/moon/8fc24dde94", '{"seed":"0"}', 400, /"seed"/],
    ["/moon/8fc24dde94", '{"seed":"12345678901"}', 400, /"seed"/],
    ["/moon/8fc24dde94", '{"seed":12}', 400, /"seed"/],
    ["/moon/8fc24dde94", '{"seed":"zz"}', 400, /"seed"/],
    // QUIRK kept: ids must be exactly 10 hex digits
    ["/moon/0000008fc24dde94", '{"seed":"8fc24dde94"}', 404, /^\{\}$/],
    ["/moon/8fc24dde9g", '{"seed":"8fc24dde94"}', 404, /^\{\}$/],
  ];
  for (const [path, body, status, re] of bad) {
    const r = await req("POST", path, body);
    assert.equal(r.status, status, `${path} ${body}`);
    if (status === 400) {
      const e = JSON.parse(r.text);
      assert.equal(e.error, 400);
      assert.match(e.description, re, `${path} ${body}`);
    } else assert.match(r.text, re, `${path} ${body}`);
  }
  assert.equal((await req("DELETE", "/moon/8fc24dde9")).status, 404);
  assert.deepEqual(calls, { orbit: [], deorbit: [] });
  assert.equal(parseSeed("8fc24dde94")?.toString(), "8fc24dde94");
  assert.equal(parseSeed("0000000000"), undefined);
});
