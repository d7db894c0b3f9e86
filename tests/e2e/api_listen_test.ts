// netns e2e: the local API is reachable from another host only with allowManagementFrom, and then only from the allowed range (else 401 {}).
import assert from "node:assert/strict";
import { announceSkip, exec, type Lab, waitFor, withLab } from "./netns.ts";
import { explainFailure, labWorld, prepareHome, ZT_PORT, ZtNode } from "./zt_lab.ts";

const SKIP = announceSkip("api_listen_test.ts");

/** Underlay addresses: managed node m, locked node l, client. */
const M_IP = "198.18.0.5";
const L_IP = "198.18.0.6";
const CLIENT_IP = "198.18.0.7";
/** A second subnet on the same bridge, outside allowManagementFrom: m .1, client .2. */
const OTHER_M_IP = "198.18.7.1";
const OTHER_CLIENT_IP = "198.18.7.2";

/** Starts `zt run` in `ns` with extra local.conf settings. */
function startWith(
  lab: Lab,
  name: string,
  ns: string,
  idIndex: number,
  extra: Record<string, unknown>,
  world: Awaited<ReturnType<typeof labWorld>>,
): ZtNode {
  const home = lab.path(name);
  const id = world.ids[idIndex];
  const token = `tok-${name}-${id.address}`;
  prepareHome(home, id, world.planet, token);
  const conf = JSON.parse(Deno.readTextFileSync(`${home}/local.conf`));
  Object.assign(conf.settings, extra);
  Deno.writeTextFileSync(`${home}/local.conf`, JSON.stringify(conf, null, 2));
  return new ZtNode(lab, { name, ns, home, id, token, runner: "zt-run" });
}

/** curl from `ns`: HTTP status (0 = no HTTP answer), body, curl's exit code. */
async function curl(
  ns: string,
  url: string,
  token?: string,
): Promise<{ code: number; status: number; body: string }> {
  const args = ["curl", "-sS", "--max-time", "3", "-w", "\n%{http_code}"];
  if (token !== undefined) args.push("-H", `X-ZT1-Auth: ${token}`);
  args.push(url);
  const r = await exec(ns, args, { check: false, timeoutMs: 6000 });
  const nl = r.stdout.lastIndexOf("\n");
  return {
    code: r.code,
    status: Number(r.stdout.slice(nl + 1)) || 0,
    body: nl < 0 ? r.stdout : r.stdout.slice(0, nl),
  };
}

Deno.test({
  name:
    "e2e api listen: allowManagementFrom opens the API to that range (token still needed), others get 401 {}; default is loopback only",
  ignore: SKIP !== undefined,
  fn: async () => {
    const world = await labWorld();
    await withLab(async (lab) => {
      const m = await lab.addHost("m", M_IP);
      const l = await lab.addHost("l", L_IP);
      const client = await lab.addHost("cl", CLIENT_IP);
      await lab.exec(m.ns, ["ip", "addr", "add", `${OTHER_M_IP}/24`, "dev", "eth0"]);
      await lab.exec(client.ns, ["ip", "addr", "add", `${OTHER_CLIENT_IP}/24`, "dev", "eth0"]);
      const nm = startWith(lab, "m", m.ns, 1, { allowManagementFrom: ["198.18.0.0/24"] }, world);
      const nl = startWith(lab, "l", l.ns, 2, {}, world);
      const nodes = [nm, nl];
      await explainFailure(nodes, async () => {
        // both answer on loopback inside their own namespace
        for (const n of nodes) {
          const s = await waitFor(`${n.name} API`, 15_000, () => n.status());
          assert.equal(s.address, n.address);
        }

        // m from the allowed range: /status with the token
        const ok = await curl(client.ns, `http://${M_IP}:${ZT_PORT}/status`, nm.token);
        assert.equal(ok.status, 200, ok.body);
        const st = JSON.parse(ok.body);
        assert.equal(st.address, nm.address);
        assert.equal(st.publicIdentity, nm.id.public);
        // ... still needs the token (401 {}), except /health
        const noTok = await curl(client.ns, `http://${M_IP}:${ZT_PORT}/status`);
        assert.deepEqual([noTok.status, noTok.body], [401, "{}"]);
        const badTok = await curl(client.ns, `http://${M_IP}:${ZT_PORT}/status`, "nope");
        assert.deepEqual([badTok.status, badTok.body], [401, "{}"]);
        const health = await curl(client.ns, `http://${M_IP}:${ZT_PORT}/health`);
        assert.equal(health.status, 200, health.body);
        assert.equal(typeof JSON.parse(health.body).online, "boolean");

        // m from outside the allowed range: 401 {} even with the right token
        const other = await curl(client.ns, `http://${OTHER_M_IP}:${ZT_PORT}/status`, nm.token);
        assert.deepEqual([other.status, other.body], [401, "{}"]);
        const otherHealth = await curl(client.ns, `http://${OTHER_M_IP}:${ZT_PORT}/health`);
        assert.deepEqual([otherHealth.status, otherHealth.body], [401, "{}"]);
        // /metrics has no IP restriction, only its token (spec §11.1)
        const metricsToken = Deno.readTextFileSync(`${nm.home}/metricstoken.secret`).trim();
        const met = await curl(client.ns, `http://${OTHER_M_IP}:${ZT_PORT}/metrics`, metricsToken);
        assert.equal(met.status, 200);
        assert.match(met.body, /^# (HELP|TYPE) zt_/m);
        const metNo = await curl(client.ns, `http://${OTHER_M_IP}:${ZT_PORT}/metrics`);
        assert.deepEqual([metNo.status, metNo.body], [401, "{}"]);

        // l (no allowManagementFrom): nothing listens on its underlay address
        const refused = await curl(client.ns, `http://${L_IP}:${ZT_PORT}/status`, nl.token);
        assert.equal(refused.status, 0);
        assert.equal(refused.code, 7, `curl: connection refused expected, got ${refused.code}`);
        const ss = await exec(l.ns, ["ss", "-Htln", `sport = :${ZT_PORT}`], { check: false });
        const listeners = ss.stdout.trim().split("\n").map((x) => x.trim().split(/\s+/)[3]);
        assert.ok(listeners.length > 0, ss.stdout);
        for (const a of listeners) {
          assert.match(a, /^(127\.0\.0\.1|\[::1\]):9993$/, `l listens only on loopback: ${a}`);
        }
      });
      for (const n of nodes) await n.stop();
    });
  },
});
