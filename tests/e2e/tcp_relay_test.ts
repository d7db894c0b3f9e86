// netns e2e: a member with all UDP dropped joins and pings through `zt relay` on the root's host; with UDP back, traffic returns to UDP.
//
// ZeroTier tunnels only toward IPv4 addresses it deems global, so the root also gets 192.0.0.1
// (IETF protocol assignments, never routed; only inside these namespaces) and the lab planet lists
// it there. Every host gets a 192.0.0.x address on the same bridge.
import assert from "node:assert/strict";
import { announceSkip, exec, type Lab, waitFor, withLab } from "./netns.ts";
import { REFERENCE, startReferenceNode } from "./reference_node.ts";
import {
  CLI,
  explainFailure,
  generateIdentities,
  type LabIdentity,
  makeLabPlanet,
  type PeerJson,
  startNode,
  ZT_V8_FLAGS,
  ZtNode,
} from "./zt_lab.ts";
import {
  apiCall,
  authorize,
  createNetwork,
  overlayIps,
  pingOnce,
  pingUntil,
  waitStatus,
  ztIn,
} from "./vl2_lab.ts";

const SKIP = announceSkip("tcp_relay_test.ts");

/** The fallback delay the tunneling member uses (the real one is 60 s). */
const FALLBACK_MS = 3000;
/** Socket id of tunneled paths (src/service/transport_mux.ts RELAY_SOCKET_ID). */
const RELAY_SOCKET = 999;
/** Spacing between node starts (the root's per-/24 HELLO rate limit). */
const START_SPACING_MS = 2200;

/** Hosts: underlay 198.18.0.x plus the "global" 192.0.0.x on the same interface. */
const HOSTS = {
  root: ["198.18.0.1", "192.0.0.1"],
  ctl: ["198.18.0.2", "192.0.0.2"],
  a: ["198.18.0.11", "192.0.0.11"],
  b: ["198.18.0.12", "192.0.0.12"],
} as const;

/** Drops (or, with `allow`, stops dropping) every UDP datagram in and out of `node`'s namespace. */
async function blockUdp(node: ZtNode, block: boolean): Promise<void> {
  for (const chain of ["INPUT", "OUTPUT"]) {
    await exec(node.ns, ["iptables", block ? "-A" : "-D", chain, "-p", "udp", "-j", "DROP"]);
  }
}

/** The member's root peer entry. */
async function rootPeer(node: ZtNode, root: ZtNode): Promise<PeerJson | undefined> {
  return await node.peer(root.address);
}

/**
 * The lab of these tests: hosts root, ctl, a, b (underlay + 192.0.0.x), identities (root, ctl,
 * a, b), a planet listing the root at 192.0.0.1/9993, and `zt relay` on the root's host at
 * 192.0.0.1:443 (metrics on its 127.0.0.1:9100).
 */
async function relayLab(
  lab: Lab,
): Promise<{ ids: LabIdentity[]; planet: Uint8Array; ns: Record<string, string> }> {
  const dir = lab.path("ids");
  Deno.mkdirSync(dir);
  const ids = await generateIdentities(dir, 4);
  const planet = await makeLabPlanet(dir, ids[0], "192.0.0.1/9993");
  const ns: Record<string, string> = {};
  for (const [role, [ip, global]] of Object.entries(HOSTS)) {
    const h = await lab.addHost(role, ip);
    await lab.exec(h.ns, ["ip", "addr", "add", `${global}/24`, "dev", "eth0"]);
    ns[role] = h.ns;
  }
  lab.spawn(ns.root, [
    Deno.execPath(),
    "run",
    "-A",
    ZT_V8_FLAGS,
    CLI,
    "relay",
    "--port",
    "443",
    "--bind",
    "192.0.0.1",
    "--allow",
    "192.0.0.0/24",
    "--metrics-port",
    "9100",
    "--log-level",
    "debug",
  ], { logFile: lab.path("relay.log") });
  return { ids, planet, ns };
}

/** Starts root, ctl and b (zt), spaced for the root's HELLO rate limit; waits until online. */
async function startZtSide(
  lab: Lab,
  ids: LabIdentity[],
  planet: Uint8Array,
  ns: Record<string, string>,
  all: ZtNode[],
): Promise<{ root: ZtNode; ctl: ZtNode; b: ZtNode }> {
  const root = startNode(lab, { name: "root", ns: ns.root, id: ids[0], planet });
  all.push(root);
  await root.waitOnline(20_000);
  const ctl = startNode(lab, { name: "ctl", ns: ns.ctl, id: ids[1], planet });
  all.push(ctl);
  await new Promise((r) => setTimeout(r, START_SPACING_MS));
  const b = startNode(lab, { name: "b", ns: ns.b, id: ids[3], planet });
  all.push(b);
  await Promise.all([ctl.waitOnline(25_000), b.waitOnline(25_000)]);
  return { root, ctl, b };
}

Deno.test({
  name:
    "e2e TCP relay: a member without UDP joins and pings through zt relay, then moves back to UDP",
  ignore: SKIP !== undefined,
  fn: async () => {
    const started = Date.now();
    await withLab(async (lab) => {
      const { ids, planet, ns } = await relayLab(lab);
      const [rid, cid, aid, bid] = ids;
      const root = startNode(lab, { name: "root", ns: ns.root, id: rid, planet });
      const all: ZtNode[] = [root];
      await explainFailure(all, async () => {
        await root.waitOnline(20_000);
        const ctl = startNode(lab, { name: "ctl", ns: ns.ctl, id: cid, planet });
        all.push(ctl);
        await new Promise((r) => setTimeout(r, START_SPACING_MS));
        const b = startNode(lab, { name: "b", ns: ns.b, id: bid, planet });
        all.push(b);
        await new Promise((r) => setTimeout(r, START_SPACING_MS));
        const a = startNode(lab, {
          name: "a",
          ns: ns.a,
          id: aid,
          planet,
          settings: { allowTcpFallbackRelay: true, tcpFallbackRelay: "192.0.0.1/443" },
          env: { ZT_TCP_FALLBACK_AFTER_MS: String(FALLBACK_MS) },
        });
        all.push(a);
        await blockUdp(a, true);
        await Promise.all([ctl.waitOnline(25_000), b.waitOnline(25_000)]);

        // 1. a comes online through the relay: TUNNELED, tcpFallbackActive, tunneled peers
        const tStart = Date.now();
        const st = await a.waitOnline(30_000);
        console.log(`tcp relay: a online through the relay after ${Date.now() - tStart} ms`);
        assert.equal(st.tcpFallbackActive, true);
        const info = await ztIn(a, ["info"]);
        assert.match(info.stdout, /^200 info [0-9a-f]{10} \S+ TUNNELED\n$/);
        const rp = await rootPeer(a, root);
        assert.ok(rp, "a knows the root");
        assert.equal((rp as unknown as { tunneled: boolean }).tunneled, true);
        assert.ok(
          rp.paths.some((p) =>
            p.address === "192.0.0.1/9993" &&
            (p as unknown as { localSocket: number }).localSocket === RELAY_SOCKET
          ),
          `a's root path is the tunnel: ${JSON.stringify(rp.paths)}`,
        );
        const peersText = await ztIn(a, ["peers"]);
        assert.match(peersText.stdout, /NOTE: Currently tunneling through a TCP relay/);
        const metrics = await exec(ns.root, ["curl", "-sS", "http://127.0.0.1:9100/metrics"]);
        assert.match(metrics.stdout, /zt_relay_connections 1\n/);

        // 2. a joins a network on ctl and pings b, all through the relay
        const nwid = await createNetwork(ctl);
        await authorize(ctl, nwid, a, true);
        await authorize(ctl, nwid, b, true);
        for (const n of [a, b]) assert.equal((await ztIn(n, ["join", "--no-wait", nwid])).code, 0);
        const nb = await waitStatus(b, nwid, "OK", 20_000, (n) => n.portDeviceName !== "");
        await waitStatus(a, nwid, "OK", 30_000, (n) => n.portDeviceName !== "");
        const ipB = overlayIps(nb).v4;
        const pingMs = await pingUntil(a, ipB, 20_000, all);
        console.log(`tcp relay: first ping through the relay answered after ${pingMs} ms`);
        const m2 = await exec(ns.root, ["curl", "-sS", "http://127.0.0.1:9100/metrics"]);
        const toUdp = Number(
          /zt_relay_datagrams_total\{direction="to_udp"\} (\d+)/.exec(m2.stdout)?.[1],
        );
        assert.ok(toUdp > 10, `relay carried a's traffic (${toUdp} datagrams)`);

        // 3. UDP allowed again: the tunnel closes and a talks to the root over UDP
        // `since` is read before the unblock: while UDP is dropped nothing reaches a directly, so
        // any direct receive after it came after the unblock. (Read after, it missed the root's
        // answer when that arrived while the status call was under way, and the next full HELLO
        // to a root comes only ~4 min later.)
        const since = (await a.status()).clock as number;
        await blockUdp(a, false);
        const tUdp = Date.now();
        let lastPeers = "";
        // The root answers a over UDP once a contacts it again directly (the tunnel's close
        // re-contacts paths; otherwise at a's next root HELLO): hence the long bound.
        await waitFor("a back on UDP", 130_000, async () => {
          await pingOnce(a, ipB); // traffic, as a user's would be
          lastPeers = JSON.stringify(await a.peers());
          const s = await a.status();
          if (s.tcpFallbackActive !== false) return undefined;
          const p = await rootPeer(a, root);
          return p?.paths.find((x) =>
            x.address === "192.0.0.1/9993" && x.lastReceive >= since &&
            (x as unknown as { localSocket: number }).localSocket !== RELAY_SOCKET
          );
        }, { intervalMs: 250, detail: () => `${lastPeers}\n${a.describe()}` });
        console.log(`tcp relay: back on UDP ${Date.now() - tUdp} ms after unblocking`);
        const info2 = await ztIn(a, ["info"]);
        assert.match(info2.stdout, / ONLINE\n$/);
        await pingUntil(a, ipB, 15_000, all);
        const p2 = await rootPeer(a, root);
        assert.equal((p2 as unknown as { tunneled: boolean }).tunneled, false);
      });
    });
    const took = Date.now() - started;
    console.log(`tcp relay e2e took ${took} ms`);
    assert.ok(took < 210_000, `bounded: ${took} ms`);
  },
});

Deno.test({
  name: "e2e TCP relay: forceTcpRelay tunnels at once and sends no UDP",
  ignore: SKIP !== undefined,
  fn: async () => {
    await withLab(async (lab) => {
      const { ids, planet, ns } = await relayLab(lab);
      const all: ZtNode[] = [];
      await explainFailure(all, async () => {
        const { root } = await startZtSide(lab, ids, planet, ns, all);
        // count a's UDP datagrams out of its namespace (rule without a target: counts only)
        await exec(ns.a, ["iptables", "-A", "OUTPUT", "-p", "udp", "-o", "eth0"]);
        const a = startNode(lab, {
          name: "a",
          ns: ns.a,
          id: ids[2],
          planet,
          settings: {
            allowTcpFallbackRelay: true,
            forceTcpRelay: true,
            tcpFallbackRelay: "192.0.0.1/443",
          },
        });
        all.push(a);
        const st = await a.waitOnline(25_000);
        assert.equal(st.tcpFallbackActive, true);
        // the root knows a only through the relay's UDP socket on its own host
        const p = await root.peer(a.address);
        assert.ok(p && p.paths.length > 0, "root has a path to a");
        for (const x of p.paths) {
          assert.match(x.address, /^192\.0\.0\.1\//, JSON.stringify(p.paths));
        }
        const counted = await exec(ns.a, ["iptables", "-nvxL", "OUTPUT"]);
        const row = counted.stdout.split("\n").find((l) => / eth0 /.test(l)) ?? "";
        const pkts = Number(/^\s*(\d+)/.exec(row)?.[1]);
        assert.equal(pkts, 0, `a sent no UDP:\n${counted.stdout}`);
      });
    });
  },
});

Deno.test({
  name:
    "e2e TCP relay (reference): ZeroTier One 1.14.1 with UDP dropped and forceTcpRelay joins a zt network through zt relay",
  ignore: SKIP !== undefined || REFERENCE === undefined,
  fn: async () => {
    await withLab(async (lab) => {
      const { ids, planet, ns } = await relayLab(lab);
      const all: ZtNode[] = [];
      await explainFailure(all, async () => {
        const { ctl, b } = await startZtSide(lab, ids, planet, ns, all);
        await exec(ns.a, ["iptables", "-A", "INPUT", "-p", "udp", "-j", "DROP"]);
        await exec(ns.a, ["iptables", "-A", "OUTPUT", "-p", "udp", "-j", "DROP"]);
        const ref = startReferenceNode(lab, REFERENCE!, ns.a, ids[2], planet, {
          allowTcpFallbackRelay: true,
          forceTcpRelay: true,
          tcpFallbackRelay: "192.0.0.1/443",
        });
        all.push(ref);
        const st = await ref.waitOnline(40_000);
        assert.equal(st.tcpFallbackActive, true);
        const nwid = await createNetwork(ctl);
        await authorize(ctl, nwid, ref, true);
        await authorize(ctl, nwid, b, true);
        for (const n of [ref, b]) {
          const r = await apiCall(n, "POST", `/network/${nwid}`, {});
          assert.equal(r.status, 200);
        }
        const nb = await waitStatus(b, nwid, "OK", 20_000, (n) => n.portDeviceName !== "");
        await waitStatus(ref, nwid, "OK", 30_000, (n) => n.portDeviceName !== "");
        const ms = await pingUntil(ref, overlayIps(nb).v4, 20_000, all);
        console.log(`tcp relay (reference): first ping through zt relay after ${ms} ms`);
        const m = await exec(ns.root, ["curl", "-sS", "http://127.0.0.1:9100/metrics"]);
        assert.match(m.stdout, /zt_relay_connections 1\n/);
      });
    });
  },
});
