// netns e2e: two controller instances with one identity share one PostgreSQL database; kill -9 of the first, database restart.
import assert from "node:assert/strict";
import { announceSkip, waitFor, withLab } from "./netns.ts";
import { explainFailure, prepareHome, ROOT_IP, ZtNode } from "./zt_lab.ts";
import {
  apiCall,
  authorize,
  CONTROLLER_IP,
  createNetwork,
  MEMBER_IPS,
  networkOf,
  ONLINE_MS,
  vl2World,
  waitStatus,
} from "./vl2_lab.ts";
import { PgCluster, postgresAvailable } from "../helpers/pg_cluster.ts";
import type { Lab } from "./netns.ts";
import type { LabIdentity } from "./zt_lab.ts";

const SKIP = announceSkip("controller_pg_test.ts");
/** The second controller instance's underlay address. */
const CONTROLLER2_IP = "198.18.0.3";

/** A lab node whose local.conf also carries `settings` (written before it starts). */
function startWith(
  lab: Lab,
  p: { name: string; ns: string; id: LabIdentity; planet: Uint8Array },
  settings: Record<string, unknown>,
): ZtNode {
  const home = lab.path(p.name);
  const token = `tok-${p.name}-${p.id.address}`;
  prepareHome(home, p.id, p.planet, token);
  const conf = JSON.parse(Deno.readTextFileSync(`${home}/local.conf`));
  Object.assign(conf.settings, settings);
  Deno.writeTextFileSync(`${home}/local.conf`, JSON.stringify(conf, null, 2));
  return new ZtNode(lab, { ...p, home, token, runner: "zt-run" });
}

Deno.test({
  name: "e2e controller on PostgreSQL: two instances, one database, kill -9, database restart",
  ignore: SKIP !== undefined || !postgresAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const started = Date.now();
    const pg = await PgCluster.start();
    try {
      const db = await pg.createDb("e2e");
      const w = await vl2World();
      await withLab(async (lab) => {
        const r = await lab.addHost("r", ROOT_IP);
        const h1 = await lab.addHost("ctl1", CONTROLLER_IP);
        const h2 = await lab.addHost("ctl2", CONTROLLER2_IP);
        const ha = await lab.addHost("a", MEMBER_IPS.a);
        const root = new ZtNode(lab, {
          name: "root",
          ns: r.ns,
          id: w.ids.root,
          ...(() => {
            const home = lab.path("root");
            const token = `tok-root-${w.ids.root.address}`;
            prepareHome(home, w.ids.root, w.planet, token);
            return { home, token };
          })(),
          runner: "zt-run",
        });
        const shared = { controllerDbPath: db, controllerJoiningInstance: "ctl1" };
        const all = [root];
        await explainFailure(all, async () => {
          await root.waitOnline(15_000);
          const c1 = startWith(
            lab,
            { name: "ctl1", ns: h1.ns, id: w.ids.ctl, planet: w.planet },
            { ...shared, controllerInstanceName: "ctl1" },
          );
          all.push(c1);
          await new Promise((res) => setTimeout(res, 2200));
          const a = startWith(lab, { name: "a", ns: ha.ns, id: w.ids.a, planet: w.planet }, {});
          all.push(a);
          await Promise.all([c1.waitOnline(ONLINE_MS), a.waitOnline(ONLINE_MS)]);

          // a joins through the first instance
          const nwid = await createNetwork(c1);
          await authorize(c1, nwid, a, true);
          assert.equal((await apiCall(a, "POST", `/network/${nwid}`, {})).status, 200);
          await waitStatus(a, nwid, "OK", 20_000);

          // the second instance (same identity, same database) comes up and knows the network
          await new Promise((res) => setTimeout(res, 2200));
          const c2 = startWith(
            lab,
            { name: "ctl2", ns: h2.ns, id: w.ids.ctl, planet: w.planet },
            { ...shared, controllerInstanceName: "ctl2" },
          );
          all.push(c2);
          await c2.waitOnline(ONLINE_MS);
          const n2 = await apiCall(c2, "GET", `/controller/network/${nwid}`);
          assert.equal(n2.status, 200);
          // it does not join networks (same MAC and IPs as the first): 409
          const join2 = await apiCall(c2, "POST", `/network/${nwid}`, {});
          assert.equal(join2.status, 409, JSON.stringify(join2.json));

          // an API change on the second reaches the member the first is serving
          const t0 = Date.now();
          const ren = await apiCall(c2, "POST", `/controller/network/${nwid}`, { name: "via-2" });
          assert.equal(ren.status, 200);
          await waitStatus(a, nwid, "OK", 15_000, (n) => n.name === "via-2");
          console.log(`  change on ctl2 reached a in ${Date.now() - t0} ms`);

          // database restart mid-run: writes 503 while it is down, then work again
          await pg.stopServer("immediate");
          const down = await apiCall(c2, "POST", `/controller/network/${nwid}`, { name: "x" });
          assert.equal(down.status, 503, JSON.stringify(down.json));
          assert.equal((await apiCall(c1, "GET", `/controller/network/${nwid}`)).status, 200);
          await pg.startServer();
          await waitFor(
            "ctl1 accepts writes again",
            20_000,
            async () =>
              (await apiCall(c1, "POST", `/controller/network/${nwid}`, { name: "after-restart" }))
                .status === 200,
          );
          await waitStatus(a, nwid, "OK", 15_000, (n) => n.name === "after-restart");

          // kill -9 the first instance; a leaves and rejoins and is served by the second
          await c1.stop("SIGKILL");
          const tKill = Date.now();
          assert.equal((await apiCall(a, "DELETE", `/network/${nwid}`)).status, 200);
          await waitFor("a left", 10_000, async () => (await networkOf(a, nwid)) === undefined);
          assert.equal((await apiCall(a, "POST", `/network/${nwid}`, {})).status, 200);
          await waitStatus(a, nwid, "OK", 120_000, (n) => n.name === "after-restart").catch(
            async (e) => {
              const ra = JSON.stringify(await root.peer(c2.address));
              const aa = JSON.stringify(await a.peer(c2.address));
              throw new Error(`${e.message}\nroot's peer c: ${ra}\na's peer c: ${aa}`);
            },
          );
          const st = await apiCall(
            c2,
            "GET",
            `/unstable/controller/network/${nwid}/member-status`,
          );
          const seen = (st.json as { members: Record<string, { lastSeen: number }> })
            .members[a.address];
          assert.ok(seen && seen.lastSeen >= tKill - 5000, `ctl2 served a: ${JSON.stringify(st)}`);
          console.log(`  after kill -9 of ctl1, a got OK from ctl2 in ${Date.now() - tKill} ms`);
        });
      });
    } finally {
      await pg.destroy();
    }
    console.log(`controller pg e2e took ${Date.now() - started} ms`);
  },
});
