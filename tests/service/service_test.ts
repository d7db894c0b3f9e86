// The real service on 127.0.0.1 with a test planet (unreachable root): /status, UDP, stop, port in use.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { fixtureText } from "../fixtures.ts";
import { freePort, TEST_PLANET_ID, testWorld } from "./live_service.ts";
import { Logger } from "../../src/service/logger.ts";
import { createNode } from "../../src/service/node_factory.ts";
import { Service, type ServiceOptions } from "../../src/service/service.ts";
import type { ServiceNode } from "../../src/service/service_node.ts";
import { PortInUseError } from "../../src/service/udp_transport.ts";
import { WorldType } from "../../src/vl1/world.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** A home with identity a, token tok-a, the test planet and a local.conf binding loopback only. */
function makeHome(): string {
  const home = Deno.makeTempDirSync({ prefix: "zt-service-test-" });
  Deno.writeTextFileSync(`${home}/identity.secret`, fixtureText("identities/a.secret"));
  Deno.writeTextFileSync(`${home}/authtoken.secret`, "tok-a");
  Deno.writeFileSync(`${home}/planet`, testWorld(WorldType.PLANET, TEST_PLANET_ID));
  Deno.writeTextFileSync(
    `${home}/local.conf`,
    JSON.stringify({ settings: { bind: ["127.0.0.1"], allowSecondaryPort: false } }),
  );
  return home;
}

async function getJson(
  port: number,
  path: string,
  token = "tok-a",
): Promise<Record<string, unknown>> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { "X-ZT1-Auth": token } });
  return await r.json();
}

function quietLogger(lines: string[]): Logger {
  return new Logger("debug", (_l, line) => lines.push(line));
}

Deno.test("service: starts on loopback with a test planet, serves /status, receives UDP, stops", async () => {
  const home = makeHome();
  const lines: string[] = [];
  const port = freePort();
  let received = 0;
  const opts: ServiceOptions = {
    home,
    port,
    log: quietLogger(lines),
    apiHosts: ["127.0.0.1"],
    createNode: (o) => {
      const n = createNode(o);
      const real = n.receive.bind(n);
      return Object.assign(n, {
        receive: (...a: Parameters<ServiceNode["receive"]>) => {
          received++;
          real(...a);
        },
      });
    },
  };
  const svc = await Service.start(opts);
  try {
    assert.equal(svc.port, port);
    assert.equal(Deno.readTextFileSync(`${home}/zerotier-one.port`), String(port));
    assert.deepEqual(svc.boundAddresses().map(String), [`127.0.0.1/${port}`]);
    const st = await getJson(port, "/status");
    assert.equal(st.address, "98bec71608");
    assert.equal(st.online, false);
    assert.equal(st.planetWorldId, Number(TEST_PLANET_ID));
    assert.equal(st.planetWorldTimestamp, 1700000000000);
    assert.equal(st.publicIdentity, fixtureText("identities/a.public").trim());
    const settings = (st.config as { settings: Record<string, unknown> }).settings;
    assert.equal(settings.primaryPort, port);
    assert.equal(settings.homeDir, home);
    assert.deepEqual(settings.listeningOn, [`127.0.0.1/${port}`]);
    const unauth = await fetch(`http://127.0.0.1:${port}/status`);
    assert.equal(unauth.status, 401);
    assert.equal(await unauth.text(), "{}");
    const health = await (await fetch(`http://127.0.0.1:${port}/health`)).json();
    assert.equal(health.online, false);
    const peers = await (await fetch(`http://127.0.0.1:${port}/peer?auth=tok-a`)).json();
    assert.ok(Array.isArray(peers));
    // a datagram (4 junk bytes, ignored by the node) reaches node.receive
    const c = dgram.createSocket("udp4");
    await new Promise<void>((r) =>
      c.send(new Uint8Array([1, 2, 3, 4]), port, "127.0.0.1", () => r())
    );
    c.close();
    for (let i = 0; i < 100 && received === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(received, 1);
    // a second service on the same port (another home: this one is locked): the "in use" error
    const home2 = makeHome();
    try {
      await assert.rejects(
        () => Service.start({ ...opts, home: home2, log: quietLogger([]) }),
        (e: unknown) =>
          e instanceof PortInUseError &&
          e.message ===
            `UDP port ${port} is already in use (is zerotier-one or another zt running?)`,
      );
    } finally {
      Deno.removeSync(home2, { recursive: true });
    }
  } finally {
    const t0 = performance.now();
    await svc.stop();
    assert.ok(performance.now() - t0 < 2000);
    Deno.removeSync(home, { recursive: true });
  }
  await assert.rejects(() => fetch(`http://127.0.0.1:${port}/health`));
  assert.ok(lines.some((l) => l.includes("started")), lines.join("\n"));
});

Deno.test("zt run: a real process serves /status, stops on SIGTERM, second start reports port in use", async () => {
  const home = makeHome();
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "run", home, `-p${port}`],
    stdout: "piped",
    stderr: "piped",
    env: { ZT_LOG: "info" },
  }).spawn();
  try {
    let st: Record<string, unknown> | undefined;
    for (let i = 0; i < 150 && st === undefined; i++) {
      try {
        st = await getJson(port, "/status");
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(st, "service did not come up");
    assert.equal(st.address, "98bec71608");
    assert.equal(st.online, false);
    assert.equal(st.planetWorldId, Number(TEST_PLANET_ID));

    const home2 = makeHome(); // the same home would be refused by its lock first
    const second = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "run", home2, `-p${port}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    Deno.removeSync(home2, { recursive: true });
    assert.equal(second.code, 1);
    assert.equal(
      new TextDecoder().decode(second.stderr).trim(),
      `zt: UDP port ${port} is already in use (is zerotier-one or another zt running?)`,
    );

    const t0 = performance.now();
    child.kill("SIGTERM");
    const out = await child.output();
    assert.ok(performance.now() - t0 < 2500, "slow shutdown");
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const log = new TextDecoder().decode(out.stderr);
    assert.match(log, /node 98bec71608 started/);
    assert.match(log, /stopped/);
    assert.equal(Deno.readTextFileSync(`${home}/zerotier-one.port`), String(port));
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    Deno.removeSync(home, { recursive: true });
  }
});
