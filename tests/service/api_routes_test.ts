// Route audit of the local API of a running service: every route's auth, 404s for unknown paths and malformed ids, 400 for bad bodies (nothing changed), key sets vs the recordings.
import assert from "node:assert/strict";
import { fixtureBytes, fixtureText } from "../fixtures.ts";
import { Logger } from "../../src/service/logger.ts";
import { createNode } from "../../src/service/node_factory.ts";
import { Service } from "../../src/service/service.ts";
import { WorldType } from "../../src/vl1/world.ts";
import { freePort, testWorld } from "./live_service.ts";

/** Auth tokens of the test home. */
const TOKEN = "tok-a";
const METRICS_TOKEN = "met-a";
/** Identity a of the recordings is the node; its embedded controller owns `<a>xxxxxx`. */
const ADDR_A = "98bec71608";
/** A network of another controller (joins stay REQUESTING_CONFIGURATION: nothing answers). */
const FOREIGN_NWID = "5b1c20a311fca1ca";
/** The recorded moon (root r), placed in moons.d so the node orbits it from the start. */
const MOON_ID16 = "0000008fc24dde94";
const MOON_ID10 = "8fc24dde94";

/** A running service for the audit. */
interface Audit {
  service: Service;
  home: string;
  port: number;
  /** Our controller's network (created through the API). */
  nwid: string;
  stop(): Promise<void>;
}

/** Starts a service (identity a, recorded local.conf + web server on, recorded moon, no TAPs). */
async function startAudit(): Promise<Audit> {
  const home = Deno.makeTempDirSync({ prefix: "zt-routes-test-" });
  Deno.writeTextFileSync(`${home}/identity.secret`, fixtureText("identities/a.secret"));
  Deno.writeTextFileSync(`${home}/authtoken.secret`, TOKEN);
  Deno.writeTextFileSync(`${home}/metricstoken.secret`, METRICS_TOKEN);
  Deno.writeFileSync(`${home}/planet`, testWorld(WorldType.PLANET, 0x7e57n));
  Deno.mkdirSync(`${home}/moons.d`);
  Deno.writeFileSync(`${home}/moons.d/${MOON_ID16}.moon`, fixtureBytes(`${MOON_ID16}.moon`));
  Deno.mkdirSync(`${home}/app/demo`, { recursive: true });
  Deno.writeTextFileSync(`${home}/app/demo/index.html`, "<p>demo</p>");
  const conf = JSON.parse(fixtureText("homes/a/local.conf"));
  // UDP on loopback only: the test planet's root (198.18.255.1) is never actually reached
  Object.assign(conf.settings, { bind: ["127.0.0.1"], enableWebServer: true });
  Deno.writeTextFileSync(`${home}/local.conf`, JSON.stringify(conf));
  let service: Service | undefined;
  let port = 0;
  for (let i = 0; i < 5 && !service; i++) {
    port = freePort();
    try {
      service = await Service.start({
        home,
        port,
        log: new Logger("error", () => {}),
        apiHosts: ["127.0.0.1"],
        createNode,
        dataPlane: false,
      });
    } catch (e) {
      if (i === 4) throw e;
    }
  }
  const svc = service!;
  const r = await call(port, "POST", `/controller/network/${ADDR_A}______`, '{"name":"audit"}');
  assert.equal(r.status, 200, r.text);
  const nwid = JSON.parse(r.text).id as string;
  const m = await call(port, "POST", `/controller/network/${nwid}/member/beccf08a89`, "{}");
  assert.equal(m.status, 200, m.text);
  return {
    service: svc,
    home,
    port,
    nwid,
    stop: async () => {
      await svc.stop();
      Deno.removeSync(home, { recursive: true });
    },
  };
}

/** One HTTP request to the service (token `tok` sent as X-ZT1-Auth unless null). */
async function call(
  port: number,
  method: string,
  path: string,
  body?: string,
  tok: string | null = TOKEN,
): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: tok === null ? {} : { "X-ZT1-Auth": tok },
    body,
    redirect: "manual",
  });
  return {
    status: res.status,
    text: await res.text(),
    type: res.headers.get("content-type") ?? "",
  };
}

/** A route: method, path (with the audit's ids filled in), optional body. */
type Route = [string, string, string?];

/** Every route the local API serves, with well-formed ids (`nwid` = our controller's network). */
function allRoutes(nwid: string): { token: Route[]; open: Route[] } {
  const member = `/controller/network/${nwid}/member/beccf08a89`;
  const token: Route[] = [
    ["GET", "/status"],
    ["GET", "/config"],
    ["POST", "/config/settings", "{}"],
    ["PUT", "/config/settings", "{}"],
    ["GET", "/network"],
    ["POST", `/network/${FOREIGN_NWID}`, "{}"],
    ["PUT", `/network/${FOREIGN_NWID}`, "{}"],
    ["GET", `/network/${FOREIGN_NWID}`],
    ["DELETE", `/network/${FOREIGN_NWID}`],
    ["GET", "/peer"],
    ["GET", `/peer/${MOON_ID10}`],
    ["GET", "/moon"],
    ["GET", `/moon/${MOON_ID10}`],
    ["POST", `/moon/${MOON_ID10}`, `{"seed":"${MOON_ID10}"}`],
    ["PUT", `/moon/${MOON_ID10}`, `{"seed":"${MOON_ID10}"}`],
    ["DELETE", `/moon/${MOON_ID10}`],
    ["GET", "/controller"],
    ["GET", "/controller/network"],
    ["POST", "/controller/network", "{}"],
    ["PUT", "/controller/network", "{}"],
    ["POST", `/controller/network/${ADDR_A}______`, "{}"],
    ["GET", `/controller/network/${nwid}`],
    ["POST", `/controller/network/${nwid}`, "{}"],
    ["PUT", `/controller/network/${nwid}`, "{}"],
    ["GET", `/controller/network/${nwid}/member`],
    ["GET", member],
    ["POST", member, "{}"],
    ["PUT", member, "{}"],
    ["DELETE", member],
    ["GET", "/unstable/controller/network"],
    ["GET", `/unstable/controller/network/${nwid}/member`],
    ["DELETE", `/controller/network/${nwid}`],
  ];
  const open: Route[] = [["GET", "/health"], ["GET", "/app/demo/"], ["GET", "/app/demo/x/y"]];
  return { token, open };
}

/** What the state looks like through the API and on disk (to prove requests changed nothing). */
async function snapshot(a: Audit): Promise<string> {
  const parts: string[] = [];
  for (
    const p of [
      "/config",
      "/network",
      "/moon",
      "/controller/network",
      `/controller/network/${a.nwid}`,
      `/controller/network/${a.nwid}/member`,
      `/controller/network/${a.nwid}/member/beccf08a89`,
    ]
  ) {
    const r = await call(a.port, "GET", p);
    parts.push(`${p} ${r.status} ${r.text}`);
  }
  parts.push(Deno.readTextFileSync(`${a.home}/local.conf`));
  const walk = (dir: string) => {
    for (const e of [...Deno.readDirSync(dir)].sort((x, y) => x.name < y.name ? -1 : 1)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) walk(p);
      else parts.push(`${p}: ${Deno.readTextFileSync(p)}`);
    }
  };
  for (const d of ["controller.d", "networks.d", "moons.d"]) {
    try {
      walk(`${a.home}/${d}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return parts.join("\n");
}

/** Union of the keys of the recorded objects of one kind over hosts a, b, c, r. */
function recordedKeys(kind: "status" | "peer" | "network"): Set<string> {
  const keys = new Set<string>();
  for (const h of ["a", "b", "c", "r"]) {
    const j = JSON.parse(fixtureText(`api/${h}-${kind}.json`));
    for (const o of Array.isArray(j) ? j : [j]) for (const k of Object.keys(o)) keys.add(k);
  }
  return keys;
}

/** Asserts `obj` has all `keys` (extras allowed). */
function assertKeys(obj: unknown, keys: Iterable<string>, what: string): void {
  assert.ok(typeof obj === "object" && obj !== null && !Array.isArray(obj), `${what}: object`);
  const missing = [...keys].filter((k) => !(k in (obj as object)));
  assert.deepEqual(missing, [], `${what}: missing keys`);
}

/** Keys of a recorded controller answer. */
function controllerKeys(file: string): string[] {
  return Object.keys(JSON.parse(fixtureText(`controller/${file}`)));
}

Deno.test("api routes: every route needs the token except /health, /app and /metrics (its own token)", async () => {
  const a = await startAudit();
  try {
    const { token, open } = allRoutes(a.nwid);
    const before = await snapshot(a);
    for (const [method, path, body] of token) {
      for (const tok of [null, "wrong", METRICS_TOKEN, ""]) {
        const r = await call(a.port, method, path, body, tok);
        assert.deepEqual([r.status, r.text], [401, "{}"], `${method} ${path} token ${tok}`);
      }
    }
    // the same routes via ?auth= and Bearer: not 401
    for (const [method, path, body] of token.filter(([m]) => m === "GET")) {
      const q = await call(a.port, method, `${path}?auth=${TOKEN}`, body, null);
      assert.notEqual(q.status, 401, `${method} ${path}?auth=`);
      const res = await fetch(`http://127.0.0.1:${a.port}${path}`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      await res.body?.cancel();
      assert.notEqual(res.status, 401, `${method} ${path} Bearer`);
    }
    assert.equal(await snapshot(a), before, "refused requests changed nothing");
    for (const [method, path] of open) {
      const r = await call(a.port, method, path, undefined, null);
      assert.equal(r.status, 200, `${method} ${path} without a token: ${r.text}`);
    }
    assert.match((await call(a.port, "GET", "/app/demo/", undefined, null)).text, /demo/);
    // /metrics: metrics token or auth token, nothing else
    for (const [tok, want] of [[METRICS_TOKEN, 200], [TOKEN, 200], [null, 401], ["x", 401]]) {
      const r = await call(a.port, "GET", "/metrics", undefined, tok as string | null);
      assert.equal(r.status, want, `/metrics token ${tok}`);
      if (want === 200) assert.match(r.type, /^text\/plain/);
      else assert.equal(r.text, "{}");
    }
    // with the token every route answers (not 401/404/5xx)
    for (const [method, path, body] of token) {
      const r = await call(a.port, method, path, body);
      assert.ok(r.status === 200, `${method} ${path} with the token: ${r.status} ${r.text}`);
      assert.match(r.type, /^application\/json/, `${method} ${path}`);
      JSON.parse(r.text);
    }
  } finally {
    await a.stop();
  }
});

Deno.test("api routes: unknown paths, wrong methods and malformed ids → 404 {}", async () => {
  const a = await startAudit();
  try {
    const n = a.nwid;
    const cases: Route[] = [
      ["GET", "/nope"],
      ["GET", "/statusx"],
      ["GET", "/status/x"],
      ["GET", "/peers"],
      ["GET", "/config/x"],
      ["GET", "/config/settings"],
      ["GET", `/network/${FOREIGN_NWID}/x`],
      ["GET", `/peer/${MOON_ID10}/x`],
      ["GET", `/moon/${MOON_ID10}/x`],
      ["GET", "/controller/x"],
      ["GET", `/controller/network/${n}/x`],
      ["GET", `/controller/network/${n}/member/beccf08a89/x`],
      ["GET", "/unstable/controller"],
      ["GET", "/unstable/x"],
      ["POST", "/status", "{}"],
      ["PUT", "/status", "{}"],
      ["DELETE", "/status"],
      ["POST", "/peer", "{}"],
      ["DELETE", "/config/settings"],
      ["POST", "/network", "{}"],
      ["DELETE", "/controller/network"],
      ["DELETE", `/controller/network/${n}/member`],
      // malformed ids
      ["GET", "/network/xyz"],
      ["GET", "/network/5b1c20a311fca1c"],
      ["GET", "/network/5b1c20a311fca1cag"],
      ["GET", "/network/5b1c20a311fca1ca0"],
      ["POST", "/network/xyz", "{}"],
      ["PUT", "/network/5b1c20a311fca1c", "{}"],
      ["DELETE", "/network/xyz"],
      ["DELETE", "/network/5b1c20a311fca1c"],
      ["GET", "/peer/xyz"],
      ["GET", "/peer/98bec7160"],
      ["GET", "/peer/98bec716080"],
      ["GET", "/moon/xyz"],
      ["GET", `/moon/${MOON_ID16}`],
      ["POST", "/moon/xyz", `{"seed":"${MOON_ID10}"}`],
      ["PUT", `/moon/${MOON_ID16}`, `{"seed":"${MOON_ID10}"}`],
      ["DELETE", "/moon/xyz"],
      ["GET", "/controller/network/xyz"],
      ["GET", "/controller/network/5b1c20a3110"],
      ["POST", "/controller/network/zzzzzzzzzzzzzzzz", "{}"],
      ["PUT", "/controller/network/12", "{}"],
      ["DELETE", "/controller/network/12"],
      ["GET", "/controller/network/xyz/member"],
      ["GET", "/unstable/controller/network/xyz/member"],
      ["GET", `/controller/network/${n}/member/98bec7160`],
      ["POST", `/controller/network/${n}/member/98bec7160g`, "{}"],
      ["PUT", `/controller/network/xx/member/beccf08a89`, "{}"],
      ["DELETE", `/controller/network/${n}/member/beccf08a8`],
      ["DELETE", `/controller/network/xx/member/beccf08a89`],
      // unknown (well-formed) ones
      ["GET", "/network/0123456789abcdef"],
      ["GET", "/controller/network/0123456789abcdef"],
      ["GET", `/controller/network/${n}/member/0123456789`],
      ["DELETE", "/controller/network/0123456789abcdef"],
    ];
    const before = await snapshot(a);
    for (const [method, path, body] of cases) {
      const r = await call(a.port, method, path, body);
      // the controller's routes answer 404 with an empty body (as the reference's), the rest {}
      const empty = /^\/(unstable\/)?controller\/network\/[^/]+(\/member(\/[^/]+)?)?$/.test(path) &&
        !(method === "DELETE" && path.endsWith("/member"));
      assert.deepEqual([r.status, r.text], [404, empty ? "" : "{}"], `${method} ${path}`);
    }
    assert.equal(await snapshot(a), before, "404s changed nothing");
  } finally {
    await a.stop();
  }
});

Deno.test("api routes: bad bodies on POST/PUT routes → 400 with a message, nothing changed", async () => {
  const a = await startAudit();
  try {
    const n = a.nwid;
    const paths = [
      "/config/settings",
      `/network/${FOREIGN_NWID}`,
      `/moon/${MOON_ID10}`,
      `/moon/0123456789`,
      "/controller/network",
      `/controller/network/${ADDR_A}______`,
      `/controller/network/${n}`,
      `/controller/network/0123456789abcdef`,
      `/controller/network/${n}/member/beccf08a89`,
      `/controller/network/${n}/member/0123456789`,
    ];
    const before = await snapshot(a);
    for (const path of paths) {
      for (const method of ["POST", "PUT"]) {
        for (const body of ["{not json", '{"a":', "[1,", "nul"]) {
          const r = await call(a.port, method, path, body);
          assert.equal(r.status, 400, `${method} ${path} ${body}: ${r.text}`);
          const j = JSON.parse(r.text);
          assert.equal(j.error, 400, `${method} ${path}`);
          assert.ok(typeof j.description === "string" && j.description.length > 0, r.text);
        }
      }
    }
    assert.equal(await snapshot(a), before, "rejected bodies changed nothing");
  } finally {
    await a.stop();
  }
});

Deno.test("api routes: answers carry every key of the recorded answers", async () => {
  const a = await startAudit();
  try {
    const get = async (p: string) => {
      const r = await call(a.port, "GET", p);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
      return JSON.parse(r.text);
    };
    const statusRec = JSON.parse(fixtureText("api/a-status.json"));
    const status = await get("/status");
    assertKeys(status, recordedKeys("status"), "/status");
    assertKeys(status.config.settings, Object.keys(statusRec.config.settings), "settings");
    assert.equal(status.address, ADDR_A);

    // peers: the planet root and the moon root are known from the start
    const peerKeys = recordedKeys("peer");
    const pathKeys = new Set<string>();
    for (const h of ["a", "b", "c", "r"]) {
      for (const p of JSON.parse(fixtureText(`api/${h}-peer.json`))) {
        for (const x of p.paths) for (const k of Object.keys(x)) pathKeys.add(k);
      }
    }
    const peers = await get("/peer");
    assert.ok(Array.isArray(peers) && peers.length > 0, "some peers");
    for (const p of peers) {
      assertKeys(p, peerKeys, `/peer ${p.address}`);
      for (const x of p.paths) assertKeys(x, pathKeys, `/peer ${p.address} path`);
    }
    assertKeys(await get(`/peer/${peers[0].address}`), peerKeys, "/peer/<addr>");

    // networks: join answer, list, one
    const netKeys = recordedKeys("network");
    const joined = await call(a.port, "POST", `/network/${FOREIGN_NWID}`, "{}");
    assert.equal(joined.status, 200, joined.text);
    assertKeys(JSON.parse(joined.text), netKeys, "POST /network/<id>");
    const nets = await get("/network");
    assert.equal(nets.length, 1);
    assertKeys(nets[0], netKeys, "/network");
    assertKeys(await get(`/network/${FOREIGN_NWID}`), netKeys, "/network/<id>");
    const left = await call(a.port, "DELETE", `/network/${FOREIGN_NWID}`);
    assert.deepEqual(JSON.parse(left.text), { result: true });
    assert.equal((await call(a.port, "DELETE", `/network/${FOREIGN_NWID}`)).text, "{}");

    // moons (no API recording: the spec's keys and the recorded moon.json's values)
    const moonRec = JSON.parse(fixtureText("moon.json"));
    const moons = await get("/moon");
    assert.equal(moons.length, 1);
    const moonKeys = ["id", "timestamp", "signature", "updatesMustBeSignedBy", "roots", "waiting"];
    assertKeys(moons[0], moonKeys, "/moon");
    assert.equal(moons[0].id, MOON_ID16);
    assert.equal(moons[0].updatesMustBeSignedBy, moonRec.updatesMustBeSignedBy);
    assert.deepEqual(moons[0].roots, moonRec.roots);
    assertKeys(await get(`/moon/${MOON_ID10}`), moonKeys, "/moon/<id>");

    // controller
    const ctl = await call(a.port, "GET", "/controller");
    assert.deepEqual(Object.keys(JSON.parse(ctl.text)), controllerKeys("controller.json"));
    const list = await get("/controller/network");
    assert.deepEqual(list, [a.nwid]);
    assert.ok(
      JSON.parse(fixtureText("controller/networks.json")).every((x: unknown) =>
        typeof x === "string"
      ),
    );
    const netRecKeys = controllerKeys("network-lab.json");
    assertKeys(await get(`/controller/network/${a.nwid}`), netRecKeys, "controller network");
    const created = await call(a.port, "POST", "/controller/network", '{"name":"x"}');
    assertKeys(JSON.parse(created.text), netRecKeys, "POST /controller/network");
    const members = await get(`/controller/network/${a.nwid}/member`);
    assert.deepEqual(Object.keys(members), ["beccf08a89"]);
    assert.equal(typeof members.beccf08a89, "number");
    for (const v of Object.values(JSON.parse(fixtureText("controller/members.json")))) {
      assert.equal(typeof v, "number");
    }
    const authRec = controllerKeys("member-b-authorized.json");
    const posted = await call(
      a.port,
      "POST",
      `/controller/network/${a.nwid}/member/beccf08a89`,
      '{"authorized":true}',
    );
    assertKeys(JSON.parse(posted.text), authRec, "POST member");
    const member = await get(`/controller/network/${a.nwid}/member/beccf08a89`);
    assertKeys(member, authRec, "GET member");
    assert.equal(member.authorized, true);
    const un = await get("/unstable/controller/network");
    assertKeys(un, ["data", "meta"], "/unstable/controller/network");
    for (const d of un.data) assertKeys(d, netRecKeys, "/unstable network");
    const um = await get(`/unstable/controller/network/${a.nwid}/member`);
    assertKeys(um.data[0], authRec, "/unstable member");
    const deleted = await call(
      a.port,
      "DELETE",
      `/controller/network/${a.nwid}/member/beccf08a89`,
    );
    assertKeys(JSON.parse(deleted.text), authRec, "DELETE member");
  } finally {
    await a.stop();
  }
});
