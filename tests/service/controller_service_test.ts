// The embedded controller in the real service on loopback: fixture database served, auth, create, DB path.
import assert from "node:assert/strict";
import { controllerDbPath } from "../../src/service/controller_service.ts";
import { type LocalConf, parseLocalConf } from "../../src/service/local_conf.ts";
import { Logger } from "../../src/service/logger.ts";
import { createNode } from "../../src/service/node_factory.ts";
import { Service } from "../../src/service/service.ts";
import { WorldType } from "../../src/vl1/world.ts";
import { Address } from "../../src/vl1/address.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { UpperPacketInfo } from "../../src/vl1/node_host.ts";
import { Verb } from "../../src/vl1/packet.ts";
import { encodeNetworkConfigRequest } from "../../src/vl1/verbs/network_config.ts";
import { FIXTURES, fixtureText } from "../fixtures.ts";
import { copyTree } from "../controller/helpers.ts";
import { freePort, TEST_PLANET_ID, testWorld } from "./live_service.ts";

const C_ADDR = "5b1c20a311";
const LAB_NET = "5b1c20a311fca1ca";
const RULES_NET = "5b1c20a311309832";

/** A temp home with controller c's identity, token tok-c, the test planet, loopback-only. */
function makeHome(settings: Record<string, unknown> = {}, withDb = true): string {
  const home = Deno.makeTempDirSync({ prefix: "zt-ctlsvc-test-" });
  Deno.writeTextFileSync(`${home}/identity.secret`, fixtureText("identities/c.secret"));
  Deno.writeTextFileSync(`${home}/authtoken.secret`, "tok-c");
  Deno.writeFileSync(`${home}/planet`, testWorld(WorldType.PLANET, TEST_PLANET_ID));
  Deno.writeTextFileSync(
    `${home}/local.conf`,
    JSON.stringify({ settings: { bind: ["127.0.0.1"], ...settings } }),
  );
  if (withDb) copyTree(`${FIXTURES}controller/controller.d`, `${home}/controller.d`);
  return home;
}

async function start(home: string, controller?: boolean) {
  const lines: string[] = [];
  const port = freePort();
  const svc = await Service.start({
    home,
    port,
    log: new Logger("debug", (_l, line) => lines.push(line)),
    apiHosts: ["127.0.0.1"],
    createNode,
    ...(controller === undefined ? {} : { controller }),
  });
  const http = async (method: string, path: string, body?: string, token = "tok-c") => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      body,
      headers: token ? { "X-ZT1-Auth": token } : {},
    });
    return { status: r.status, text: await r.text() };
  };
  return { svc, port, lines, http };
}

Deno.test("service: fixture controller.d is served through the local API as the reference answered", async () => {
  const home = makeHome();
  const { svc, lines, http } = await start(home);
  try {
    const info = await http("GET", "/controller");
    assert.equal(info.status, 200);
    const clock = JSON.parse(info.text).clock;
    assert.ok(Math.abs(clock - Date.now()) < 60_000);
    assert.equal(
      info.text,
      fixtureText("controller/controller.json").replace(/"clock": \d+/, `"clock": ${clock}`),
    );
    assert.equal((await http("GET", "/controller", undefined, "")).status, 401);
    assert.equal((await http("GET", "/controller/network", undefined, "wrong")).status, 401);
    const want: [string, string][] = [
      ["/controller/network", "controller/networks.json"],
      [`/controller/network/${LAB_NET}`, "controller/network-lab.json"],
      [`/controller/network/${RULES_NET}`, "controller/network-rules.json"],
      [`/controller/network/${LAB_NET}/member`, "controller/members.json"],
      [`/controller/network/${LAB_NET}/member/98bec71608`, "controller/member-a.json"],
      [`/controller/network/${LAB_NET}/member/beccf08a89`, "controller/member-b.json"],
    ];
    for (const [path, file] of want) {
      const r = await http("GET", path);
      assert.equal(r.status, 200, path);
      assert.equal(r.text, fixtureText(file), path);
    }
    assert.equal((await http("GET", "/controller/network/5b1c20a311000001")).status, 404);
    // the controller is on the wire too: the node's VL2 hook routes config requests to it
    assert.ok(svc.upperLayer, "upper layer installed");
    assert.equal(svc.upperLayer!.configRequestHandler, svc.controller!.responder);
    assert.ok(
      lines.some((l) =>
        l.includes(`network controller ${C_ADDR} ready (2 networks, database ${home}/controller.d)`)
      ),
      lines.join("\n"),
    );
    // the core routes still answer
    assert.equal(JSON.parse((await http("GET", "/status")).text).address, C_ADDR);
  } finally {
    await svc.stop();
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("service: POST /controller/network/<addr>______ creates a network on disk", async () => {
  const home = makeHome({}, false);
  const { svc, http } = await start(home);
  try {
    assert.equal((await http("GET", "/controller/network")).text, "[]");
    const r = await http("POST", `/controller/network/${C_ADDR}______`, '{"name":"made-here"}');
    assert.equal(r.status, 200, r.text);
    const n = JSON.parse(r.text);
    assert.match(n.id, new RegExp(`^${C_ADDR}[0-9a-f]{6}$`));
    assert.notEqual(n.id, `${C_ADDR}000000`);
    assert.equal(n.name, "made-here");
    assert.equal(n.private, true);
    const onDisk = JSON.parse(Deno.readTextFileSync(`${home}/controller.d/network/${n.id}.json`));
    assert.equal(onDisk.name, "made-here");
    assert.equal((await http("GET", "/controller/network")).text, `["${n.id}"]`);
    // another controller's prefix is refused
    const bad = await http("POST", "/controller/network/0123456789______", "{}");
    assert.equal(bad.status, 400);
    // a member can be authorized through the API
    const m = await http(
      "POST",
      `/controller/network/${n.id}/member/98bec71608`,
      '{"authorized":true}',
    );
    assert.equal(m.status, 200);
    assert.equal(JSON.parse(m.text).authorized, true);
    assert.ok(Deno.statSync(`${home}/controller.d/network/${n.id}/member/98bec71608.json`).isFile);
    // metrics carry the controller gauges
    const metrics = await http("GET", "/metrics");
    assert.match(metrics.text, /controller_network_count(\{[^}]*\})? 1/);
  } finally {
    await svc.stop();
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("service: with no network in its database the controller loads on first use (API, config request)", async () => {
  const home = makeHome({}, false);
  const a = await start(home);
  // read through a function: the service sets it later (TypeScript would narrow the property)
  const ctlA = () => a.svc.controller;
  try {
    assert.equal(ctlA(), undefined, "not loaded at start");
    assert.ok(!a.lines.some((l) => l.includes("network controller")), a.lines.join("\n"));
    // the metrics carry the controller gauges at zero meanwhile
    assert.match((await a.http("GET", "/metrics")).text, /controller_network_count(\{[^}]*\})? 0/);
    assert.equal((await a.http("GET", "/controller/network", undefined, "")).status, 401);
    assert.equal(ctlA(), undefined, "a refused request loads nothing");
    // first API request: loaded, answered, wired to the node
    const r = await a.http("GET", "/controller/network");
    assert.equal(r.status, 200);
    assert.equal(r.text, "[]");
    assert.ok(ctlA(), "loaded by the request");
    assert.equal(a.svc.upperLayer!.configRequestHandler, ctlA()!.responder);
    assert.equal((await a.http("GET", "/controller/network/5b1c20a311000001")).status, 404);
    assert.equal((await a.http("GET", "/controller/nosuch")).text, "{}");
    const post = await a.http("POST", `/controller/network/${C_ADDR}______`, '{"name":"lazy"}');
    assert.equal(post.status, 200, post.text);
    assert.equal(JSON.parse(post.text).name, "lazy");
  } finally {
    await a.svc.stop();
    Deno.removeSync(home, { recursive: true });
  }
  // a NETWORK_CONFIG_REQUEST loads it too, and the request is then answered by it
  const home2 = makeHome({}, false);
  const b = await start(home2);
  const ctlB = () => b.svc.controller;
  try {
    assert.equal(ctlB(), undefined);
    const payload = encodeNetworkConfigRequest({
      networkId: BigInt(`0x${C_ADDR}000001`),
      metadata: new Uint8Array(0),
    });
    const info = new UpperPacketInfo(0, new Uint8Array(8), InetAddress.parse("127.0.0.1/9")!, 0);
    b.svc.upperLayer!.handle(
      Date.now(),
      Address.parse("98bec71608")!,
      Verb.NETWORK_CONFIG_REQUEST,
      payload,
      info,
    );
    payload.fill(0); // the caller reuses its buffer: the queued request must not see this
    for (let i = 0; i < 100 && ctlB()?.responder?.stats.requests !== 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(ctlB()?.responder?.stats.requests, 1, "the request reached it");
    assert.equal(b.svc.upperLayer!.configRequestHandler, ctlB()!.responder);
  } finally {
    await b.svc.stop();
    Deno.removeSync(home2, { recursive: true });
  }
});

Deno.test("service: what a crash left in the controller database is swept at start (the controller opens)", async () => {
  const home = makeHome({}, false);
  const net = `${home}/controller.d/network`;
  Deno.mkdirSync(`${net}/.tomb-${C_ADDR}000001-1-1`, { recursive: true });
  Deno.writeTextFileSync(`${net}/.tomb-${C_ADDR}000001-1-1.json`, "{}");
  const { svc } = await start(home);
  try {
    assert.ok(svc.controller, "opened at start");
    assert.deepEqual([...Deno.readDirSync(net)].map((e) => e.name), []);
  } finally {
    await svc.stop();
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("service: settings.controllerDbPath is honoured; controller:false leaves no routes", async () => {
  const home = makeHome({ controllerDbPath: "elsewhere.d" }, false);
  copyTree(`${FIXTURES}controller/controller.d`, `${home}/elsewhere.d`);
  const a = await start(home);
  try {
    assert.equal(a.svc.controller!.dbPath, `${home}/elsewhere.d`);
    assert.equal(
      (await a.http("GET", "/controller/network")).text,
      fixtureText("controller/networks.json"),
    );
  } finally {
    await a.svc.stop();
  }
  const b = await start(home, false);
  try {
    assert.equal(b.svc.controller, undefined);
    assert.equal((await b.http("GET", "/controller")).status, 404);
    assert.ok(b.svc.upperLayer, "the VL2 hook exists without a controller");
  } finally {
    await b.svc.stop();
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("controllerDbPath: default, absolute, relative, postgres and non-string", () => {
  const conf = (s: unknown): LocalConf => {
    const r = parseLocalConf(JSON.stringify({ settings: s }));
    assert.ok(r.ok);
    return r.conf;
  };
  assert.deepEqual(controllerDbPath("/h", conf({})), { path: "/h/controller.d" });
  assert.deepEqual(controllerDbPath("/h", conf({ controllerDbPath: "/db" })), { path: "/db" });
  assert.deepEqual(controllerDbPath("/h", conf({ controllerDbPath: "x/y" })), { path: "/h/x/y" });
  const pg = controllerDbPath("/h", conf({ controllerDbPath: "postgres:host=db password=s3" }));
  assert.deepEqual(pg, {
    path: "postgres:host=db password=***",
    postgres: "postgres:host=db password=s3",
  });
  assert.match(controllerDbPath("/h", conf({ controllerDbPath: 5 })).warning!, /not a string/);
});

Deno.test("zt controller serve: a real process with the controller, a clear log line, SIGTERM", async () => {
  const home = makeHome();
  const port = freePort();
  const cli = new URL("../../cli.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    // the home given to `controller` with -D reaches `serve` (whose -p is its own UDP/API port)
    args: ["run", "-A", cli, "controller", "-D", home, "serve", `-p${port}`],
    stdout: "piped",
    stderr: "piped",
    env: { ZT_LOG: "info" },
  }).spawn();
  try {
    let text: string | undefined;
    for (let i = 0; i < 150 && text === undefined; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/controller/network`, {
          headers: { "X-ZT1-Auth": "tok-c" },
        });
        text = await r.text();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.equal(text, fixtureText("controller/networks.json"));
    child.kill("SIGTERM");
    const out = await child.output();
    assert.equal(out.code, 0);
    const log = new TextDecoder().decode(out.stderr);
    assert.match(log, new RegExp(`network controller ${C_ADDR} ready \\(2 networks, database `));
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    Deno.removeSync(home, { recursive: true });
  }
});
