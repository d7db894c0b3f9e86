// netns e2e: a zt root and two zt leaves on one bridge come ONLINE, ECHO, hold a direct path, restart.
import assert from "node:assert/strict";
import { announceSkip, waitFor, withLab } from "./netns.ts";
import {
  directPath,
  explainFailure,
  labWorld,
  pathAddress,
  ROOT_IP,
  startRootAndLeaves,
  type ZtNode,
} from "./zt_lab.ts";

const SKIP = announceSkip("vl1_bridge_test.ts");
const A_IP = "198.18.0.11";
const B_IP = "198.18.0.12";
/** Bound on a node coming ONLINE after start (first HELLO to the root, then the online check). */
const ONLINE_MS = 25_000;

/** Asserts `leaf` sees `root` as its PLANET with a measured latency over the root's address. */
async function assertRootSeen(leaf: ZtNode, root: ZtNode): Promise<void> {
  const p = await leaf.peer(root.address);
  assert.ok(p, `${leaf.name} lists the root ${root.address} in /peer`);
  assert.equal(p.role, "PLANET");
  assert.ok(p.latency >= 0, `${leaf.name}: root latency ${p.latency} ≥ 0`);
  assert.ok(directPath(p, pathAddress(ROOT_IP)), `${leaf.name}: live path to the root`);
}

/**
 * ECHOes both ways until each side has an RTT for the other (bounded). An ECHO sent while the
 * sender still looks the other up (WHOIS through the root, whose per-/24 identity gate may hold
 * a leaf's first HELLO when both start at once) can be lost, and nothing resends an ECHO, so a
 * side without an answer sends another one every second.
 */
async function exchangeEcho(a: ZtNode, b: ZtNode, timeoutMs: number): Promise<void> {
  await a.ping(b.address);
  await b.ping(a.address);
  let last = Date.now();
  await waitFor(`OK(ECHO) between ${a.name} and ${b.name}`, timeoutMs, async () => {
    const [pa, pb] = [await a.pings(), await b.pings()];
    const aDone = (pa[b.address]?.length ?? 0) > 0, bDone = (pb[a.address]?.length ?? 0) > 0;
    if (aDone && bDone) return true;
    if (Date.now() - last >= 1000) {
      last = Date.now();
      if (!aDone) await a.ping(b.address);
      if (!bDone) await b.ping(a.address);
    }
    return false;
  });
}

Deno.test({
  name: "e2e vl1 bridge: root + two leaves ONLINE, ECHO, direct path held by ECHO traffic",
  ignore: SKIP !== undefined,
  fn: async () => {
    const world = await labWorld();
    await withLab(async (lab) => {
      const [r, a, b] = [
        await lab.addHost("r", ROOT_IP),
        await lab.addHost("a", A_IP),
        await lab.addHost("b", B_IP),
      ];
      const [root, la, lb] = await startRootAndLeaves(lab, world, { root: r, a, b });
      const nodes = [root, la, lb];
      await explainFailure(nodes, async () => {
        const statuses = await Promise.all(nodes.map((n) => n.waitOnline(ONLINE_MS)));
        for (const [i, s] of statuses.entries()) {
          assert.equal(s.online, true);
          assert.equal(s.address, nodes[i].address, "status reports the home's identity");
          assert.equal(s.planetWorldId, 0xe2e7e5, "lab planet in use (never the default)");
        }
        await assertRootSeen(la, root);
        await assertRootSeen(lb, root);

        await exchangeEcho(la, lb, 10_000);
        const aAtB = pathAddress(A_IP), bAtA = pathAddress(B_IP);
        const pathsUp = await waitFor("direct paths a<->b", 10_000, async () => {
          const pa = directPath(await la.peer(lb.address), bAtA);
          const pb = directPath(await lb.peer(la.address), aAtB);
          return pa && pb ? { pa, pb } : undefined;
        });
        const peerB = (await la.peer(lb.address))!;
        assert.equal(peerB.role, "LEAF");
        assert.ok(peerB.latency >= 0, "latency to b measured");
        assert.deepEqual(
          peerB.paths.map((p) => p.address),
          [bAtA],
          "a reaches b only over b's own address",
        );

        // Held while ECHO traffic flows: each round is answered over the same direct path (its
        // lastReceive moves on) and no other path appears. Without VL2 traffic a peer is not
        // "active" (as in the reference), so no keepalives of its own refresh this path.
        let since = Math.max(pathsUp.pa.lastReceive, pathsUp.pb.lastReceive) + 1;
        const rttsBefore = [
          (await la.pings())[lb.address].length,
          (await lb.pings())[la.address].length,
        ];
        for (let round = 0; round < 4; round++) {
          await la.ping(lb.address);
          await lb.ping(la.address);
          const fresh = await waitFor(
            `ECHO round ${round} over the direct path`,
            5_000,
            async () => {
              const pa = directPath(await la.peer(lb.address), bAtA, since);
              const pb = directPath(await lb.peer(la.address), aAtB, since);
              return pa && pb ? Math.min(pa.lastReceive, pb.lastReceive) : undefined;
            },
          );
          since = fresh + 1;
          await new Promise((r) => setTimeout(r, 1500));
        }
        // the rounds waited for traffic on the path, not for the last OK(ECHO): wait for those.
        // A lone ECHO or its answer can still be lost under load (UDP; nothing resends an ECHO),
        // so a side still short of answers sends one more each second (bounded).
        let rttsAfter = [(await la.pings())[lb.address], (await lb.pings())[la.address]];
        let lastTry = Date.now();
        await waitFor("OK(ECHO) for every round", 8_000, async () => {
          rttsAfter = [(await la.pings())[lb.address], (await lb.pings())[la.address]];
          const aShort = rttsAfter[0].length < rttsBefore[0] + 4;
          const bShort = rttsAfter[1].length < rttsBefore[1] + 4;
          if (!aShort && !bShort) return true;
          if (Date.now() - lastTry >= 1000) {
            lastTry = Date.now();
            if (aShort) await la.ping(lb.address);
            if (bShort) await lb.ping(la.address);
          }
          return false;
        }).catch(() => {});
        assert.ok(rttsAfter[0].length >= rttsBefore[0] + 4, "a got OK(ECHO) for every round");
        assert.ok(rttsAfter[1].length >= rttsBefore[1] + 4, "b got OK(ECHO) for every round");
        const finalA = (await la.peer(lb.address))!;
        assert.equal(finalA.paths.length, 1);
        assert.equal(finalA.paths[0].address, bAtA);
        assert.equal(finalA.paths[0].preferred, true);
        for (const n of nodes) assert.equal((await n.status()).online, true, `${n.name} online`);
      });
    });
  },
});

Deno.test({
  name: "e2e vl1 bridge: a killed leaf restarts ONLINE with the same identity",
  ignore: SKIP !== undefined,
  fn: async () => {
    const world = await labWorld();
    await withLab(async (lab) => {
      const [r, a, b] = [
        await lab.addHost("r", ROOT_IP),
        await lab.addHost("a", A_IP),
        await lab.addHost("b", B_IP),
      ];
      const [root, la, lb] = await startRootAndLeaves(lab, world, { root: r, a, b }, {
        a: "zt-run",
      });
      const nodes = [root, la, lb];
      await explainFailure(nodes, async () => {
        await Promise.all(nodes.map((n) => n.waitOnline(ONLINE_MS)));
        const before = await la.status();
        const secret = Deno.readTextFileSync(`${la.home}/identity.secret`);

        const st = await la.stop("SIGKILL");
        assert.equal(st.success, false, "leaf a was killed");
        const killedAt = Date.now();
        la.restart("zt-run");
        const after = await la.waitOnline(ONLINE_MS);
        assert.equal(after.address, before.address);
        assert.equal(after.publicIdentity, before.publicIdentity);
        assert.equal(Deno.readTextFileSync(`${la.home}/identity.secret`), secret);
        await assertRootSeen(la, root);

        // The root hears the new process; b reaches it directly again.
        const fromRoot = await root.peer(la.address);
        assert.ok(directPath(fromRoot, pathAddress(A_IP), killedAt), "root heard a after restart");
        await lb.ping(la.address);
        await waitFor("b's direct path to the restarted a", 10_000, async () => {
          return directPath(await lb.peer(la.address), pathAddress(A_IP), killedAt);
        });
        assert.ok((await lb.pings())[la.address]?.length, "a answered b's ECHO");
      });
    });
  },
});
