// netns e2e: two zt leaves, each behind its own iptables MASQUERADE NAT, still get a direct path.
import assert from "node:assert/strict";
import { announceSkip, waitFor, withLab } from "./netns.ts";
import {
  directPath,
  explainFailure,
  labWorld,
  pathAddress,
  ROOT_IP,
  startRootAndLeaves,
} from "./zt_lab.ts";

const SKIP = announceSkip("vl1_nat_test.ts");
/** Public (bridge-side) addresses of the two NAT routers. */
const NAT_A = "198.18.0.21";
const NAT_B = "198.18.0.22";
/** Bound on a node coming ONLINE after start. */
const ONLINE_MS = 25_000;

// Linux MASQUERADE keeps the source port when it is free and maps per source (endpoint
// independent), so both leaves appear as <NAT public ip>/9993. The root's RENDEZVOUS tells each
// leaf the other's public endpoint; both send at once, each NAT then has an outbound entry that
// the other's packets match, and the direct path forms without relaying.
Deno.test({
  name: "e2e vl1 NAT: leaves behind MASQUERADE NATs come ONLINE and hole-punch a direct path",
  ignore: SKIP !== undefined,
  fn: async () => {
    const world = await labWorld();
    await withLab(async (lab) => {
      const r = await lab.addHost("r", ROOT_IP);
      const a = await lab.addNattedHost("a", NAT_A, 1);
      const b = await lab.addNattedHost("b", NAT_B, 2);
      assert.notEqual(a.ip, NAT_A);
      const [root, la, lb] = await startRootAndLeaves(lab, world, { root: r, a, b });
      const nodes = [root, la, lb];
      await explainFailure(nodes, async () => {
        const statuses = await Promise.all(nodes.map((n) => n.waitOnline(ONLINE_MS)));
        for (const s of statuses) assert.equal(s.online, true);

        // The root sees each leaf at its NAT's public address, never the private one.
        for (const [leaf, pub] of [[la, NAT_A], [lb, NAT_B]] as const) {
          const p = await root.peer(leaf.address);
          assert.ok(p, `root lists ${leaf.name}`);
          assert.deepEqual(p.paths.map((x) => x.address), [pathAddress(pub)]);
          const view = await leaf.peer(root.address);
          assert.equal(view?.role, "PLANET");
          assert.ok(view!.latency >= 0, `${leaf.name}: root latency ${view!.latency}`);
        }

        // ECHO both ways (first relayed by the root, which then sends RENDEZVOUS to both).
        const aPub = pathAddress(NAT_A), bPub = pathAddress(NAT_B);
        const started = Date.now();
        const up = await waitFor("direct paths between the NATed leaves", 30_000, async () => {
          await la.ping(lb.address);
          await lb.ping(la.address);
          await new Promise((res) => setTimeout(res, 500));
          const pa = directPath(await la.peer(lb.address), bPub, started);
          const pb = directPath(await lb.peer(la.address), aPub, started);
          return pa && pb ? { pa, pb } : undefined;
        }, { intervalMs: 2000 });
        const [pingsA, pingsB] = [await la.pings(), await lb.pings()];
        assert.ok(pingsA[lb.address]?.length, "a got OK(ECHO) from b");
        assert.ok(pingsB[la.address]?.length, "b got OK(ECHO) from a");

        // Only the public endpoints: the private 198.18.1/2.x addresses are unreachable.
        for (const [leaf, other, pub] of [[la, lb, bPub], [lb, la, aPub]] as const) {
          const p = (await leaf.peer(other.address))!;
          assert.deepEqual(p.paths.map((x) => x.address), [pub], `${leaf.name}'s paths`);
          assert.equal(p.role, "LEAF");
          assert.ok(p.latency >= 0, `${leaf.name}: latency to ${other.name}`);
        }

        // Later ECHOs are answered over the punched path.
        const since = Math.max(up.pa.lastReceive, up.pb.lastReceive) + 1;
        await la.ping(lb.address);
        await lb.ping(la.address);
        await waitFor("ECHO over the punched path", 5_000, async () => {
          const pa = directPath(await la.peer(lb.address), bPub, since);
          const pb = directPath(await lb.peer(la.address), aPub, since);
          return !!pa && !!pb;
        });

        // Each leaf learned its public address from the root (OK(HELLO) reports it).
        for (const [leaf, pub] of [[la, aPub], [lb, bPub]] as const) {
          const s = await leaf.status();
          const surf = ((s.config as Record<string, Record<string, unknown>>).settings
            .surfaceAddresses ?? []) as string[];
          assert.ok(surf.includes(pub), `${leaf.name} surfaceAddresses ${surf} include ${pub}`);
        }
      });
    });
  },
});
