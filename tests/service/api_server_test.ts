// Tests for the local API app against an in-memory fake node: auth forms, shapes vs the fixtures.
import assert from "node:assert/strict";
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import { type ApiState, createApiApp, sendJson } from "../../src/service/api_server.ts";
import type { ServiceNode, ServicePeerInfo } from "../../src/service/service_node.ts";
import { Address } from "../../src/vl1/address.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { parseWorld, type World } from "../../src/vl1/world.ts";

const TOKEN = "tok-a";

/** Peer info rebuilt from a reference /peer answer (so the output must reproduce it). */
function peersFromFixture(json: Array<Record<string, unknown>>): ServicePeerInfo[] {
  return json.map((p) => ({
    address: Address.parse(p.address as string)!,
    version: (p.versionMajor as number) < 0 ? undefined : {
      major: p.versionMajor as number,
      minor: p.versionMinor as number,
      revision: p.versionRev as number,
    },
    latency: p.latency as number,
    role: p.role as "LEAF",
    paths: (p.paths as Array<Record<string, unknown>>).map((x) => ({
      address: InetAddress.parse(x.address as string)!,
      localSocket: x.localSocket as number,
      lastSend: x.lastSend as number,
      lastReceive: x.lastReceive as number,
      preferred: x.preferred as boolean,
      expired: x.expired as boolean,
      trustedPathId: x.trustedPathId as number,
    })),
  }));
}

/** A fake node with host a's identity, the lab planet and a's peers. */
function fakeNode(opts: { moons?: World[] } = {}): ServiceNode {
  const identity = Identity.fromString(fixtureText("identities/a.public"))!;
  const planet = parseWorld(fixtureBytes("planet.bin"))!;
  const peers = peersFromFixture(JSON.parse(fixtureText("api/a-peer.json")));
  return {
    identity,
    receive: () => {},
    tick: () => 1000,
    online: () => true,
    peers: () => [...peers].reverse(),
    peer: (a) => peers.find((p) => p.address.toString() === a.toString()),
    planet: () => planet,
    moons: () => opts.moons ?? [],
    orbit: () => {},
    deorbit: () => {},
    surfaceAddresses: () => [InetAddress.parse("198.18.0.3/9993")!],
  };
}

function fakeState(node = fakeNode(), allowed: string[] = []): ApiState {
  return {
    node,
    authToken: () => TOKEN,
    metricsToken: () => "met-a",
    allowManagementFrom: () => allowed.map((s) => InetAddress.parse(s)!),
    now: () => 1795303646926,
    statusExtras: () => ({
      localConf: JSON.parse(fixtureText("homes/a/local.conf")),
      effective: {
        primaryPort: 9993,
        secondaryPort: 0,
        tertiaryPort: 0,
        allowTcpFallbackRelay: false,
        forceTcpRelay: false,
        portMappingEnabled: false,
        softwareUpdate: "disable",
        softwareUpdateChannel: "release",
        homeDir: "/var/lib/zt-lab/a",
      },
      listeningOn: [InetAddress.parse("198.18.0.3/9993")!],
      surfaceAddresses: [InetAddress.parse("198.18.0.3/9993")!],
    }),
  };
}

const remote = (hostname: string) => ({
  remoteAddr: { transport: "tcp" as const, hostname, port: 5555 },
});

Deno.test("API: /status and /peer reproduce the reference's answers byte for byte", async () => {
  const app = createApiApp(fakeState());
  const st = await app.request("/status", { headers: { "X-ZT1-Auth": TOKEN } });
  assert.equal(st.status, 200);
  assert.equal(st.headers.get("content-type"), "application/json");
  assert.equal(await st.text(), fixtureText("api/a-status.json").trim());
  const peers = await app.request("/peer", { headers: { "X-ZT1-Auth": TOKEN } });
  assert.equal(await peers.text(), fixtureText("api/a-peer.json").trim());
  const one = await app.request("/peer/8fc24dde94", { headers: { "X-ZT1-Auth": TOKEN } });
  assert.deepEqual(await one.json(), JSON.parse(fixtureText("api/a-peer.json"))[1]);
  const unknown = await app.request("/peer/0123456789", { headers: { "X-ZT1-Auth": TOKEN } });
  assert.equal(unknown.status, 200);
  assert.equal(await unknown.text(), "{}");
});

Deno.test("API: token forms, precedence, wrong tokens, open /health, 404", async () => {
  const app = createApiApp(fakeState());
  const get = (path: string, headers: Record<string, string> = {}, env?: object) =>
    app.request(path, { headers }, env);
  const expect = async (r: Response | Promise<Response>, status: number, body?: string) => {
    const res = await r;
    assert.equal(res.status, status);
    const text = await res.text();
    if (body !== undefined) assert.equal(text, body);
    return text;
  };
  await expect(get("/status"), 401, "{}");
  await expect(get("/status", { "X-ZT1-Auth": TOKEN }), 200);
  await expect(get(`/status?auth=${TOKEN}`), 200);
  await expect(get("/status", { Authorization: `Bearer ${TOKEN}` }), 200);
  await expect(get("/status", { Authorization: `bEaReR ${TOKEN}` }), 200);
  await expect(get("/status", { "X-ZT1-Auth": "tok-b" }), 401, "{}");
  await expect(get("/status?auth=tok-"), 401, "{}");
  await expect(get("/status", { Authorization: `Bearer ${TOKEN}x` }), 401, "{}");
  await expect(get("/status", { Authorization: `Basic ${TOKEN}` }), 401, "{}");
  await expect(get("/status", { Authorization: `Bearer ${TOKEN} extra` }), 401, "{}");
  // only the first present source is consulted
  await expect(get(`/status?auth=${TOKEN}`, { "X-ZT1-Auth": "wrong" }), 401);
  await expect(get("/status?auth=wrong", { Authorization: `Bearer ${TOKEN}` }), 401);
  // /health needs no token
  const h = JSON.parse(await expect(get("/health"), 200));
  assert.deepEqual(Object.keys(h), [
    "clock",
    "online",
    "version",
    "versionBuild",
    "versionMajor",
    "versionMinor",
    "versionRev",
  ]);
  assert.equal(h.version, "1.14.1");
  assert.equal(h.online, true);
  assert.equal(h.clock, 1795303646926);
  // unknown path: 404 {} (after auth)
  await expect(get("/nope", { "X-ZT1-Auth": TOKEN }), 404, "{}");
  await expect(get("/peer/xyz", { "X-ZT1-Auth": TOKEN }), 404, "{}");
  await expect(get("/nope"), 401, "{}");
  // jsonp
  const j = await expect(get(`/health?jsonp=cb`), 200);
  assert.match(j, /^cb\(\{"clock":1795303646926,.*\}\);$/);
});

Deno.test("API: client address check (loopback, allowManagementFrom)", async () => {
  const app = createApiApp(fakeState(fakeNode(), ["192.168.0.0/16"]));
  const hdr = { headers: { "X-ZT1-Auth": TOKEN } };
  assert.equal((await app.request("/status", hdr, remote("127.0.0.1"))).status, 200);
  assert.equal((await app.request("/status", hdr, remote("::1"))).status, 200);
  assert.equal((await app.request("/status", hdr, remote("192.168.7.9"))).status, 200);
  assert.equal((await app.request("/status", hdr, remote("::ffff:192.168.7.9"))).status, 200);
  const far = await app.request("/status", hdr, remote("10.0.0.1"));
  assert.equal(far.status, 401);
  assert.equal(await far.text(), "{}");
  assert.equal((await app.request("/health", {}, remote("10.0.0.1"))).status, 401);
  assert.equal((await app.request("/health", {}, remote("192.168.0.1"))).status, 200);
});

Deno.test("API: /moon lists orbited moons in the reference's shape", async () => {
  const moon = parseWorld(fixtureBytes("0000008fc24dde94.moon"))!;
  const app = createApiApp(fakeState(fakeNode({ moons: [moon] })));
  const hdr = { headers: { "X-ZT1-Auth": TOKEN } };
  const list = await (await app.request("/moon", hdr)).json();
  assert.equal(list.length, 1);
  const m = list[0];
  assert.deepEqual(Object.keys(m), [
    "id",
    "roots",
    "signature",
    "timestamp",
    "updatesMustBeSignedBy",
    "waiting",
  ]);
  assert.equal(m.id, "0000008fc24dde94");
  assert.equal(m.waiting, false);
  assert.equal(m.roots[0].identity, fixtureText("identities/r.public").trim());
  assert.deepEqual(m.roots[0].stableEndpoints, ["198.18.0.1/9993"]);
  assert.equal(m.signature.length, 192);
  assert.deepEqual(await (await app.request("/moon/8fc24dde94", hdr)).json(), m);
  assert.equal(await (await app.request("/moon/0000000001", hdr)).text(), "{}");
});

Deno.test("API: extensions add routes behind the same auth; errors are 500 JSON", async () => {
  const app = createApiApp(fakeState(), [
    (a) => {
      a.get("/network", (c) => sendJson(c, []));
      a.get("/boom", () => {
        throw new Error("kaboom");
      });
    },
  ]);
  assert.equal((await app.request("/network")).status, 401);
  const r = await app.request("/network", { headers: { "X-ZT1-Auth": TOKEN } });
  assert.equal(await r.text(), "[]");
  const b = await app.request("/boom", { headers: { "X-ZT1-Auth": TOKEN } });
  assert.equal(b.status, 500);
  assert.deepEqual(await b.json(), { error: 500, description: "kaboom" });
});
