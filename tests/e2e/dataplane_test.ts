// netns e2e: the data plane between zt members: ping over IPv4/rfc4193/6plane, iperf3, broadcast, an unauthorized node, leave, kill -9 and restart.
import assert from "node:assert/strict";
import { announceSkip, waitFor } from "./netns.ts";
import type { ZtNode } from "./zt_lab.ts";
import {
  apiCall,
  authorize,
  createNetwork,
  linkExists,
  networkOf,
  OVERLAY_V4_BROADCAST,
  overlayIps,
  pingOnce,
  pingUntil,
  vl2LabTest,
  waitStatus,
  ztIn,
} from "./vl2_lab.ts";
import type { Lab } from "./netns.ts";

const SKIP = announceSkip("dataplane_test.ts");

/** Starts tcpdump in `node`'s namespace; resolves once it listens. Stop it with `.stop()`. */
async function capture(lab: Lab, node: ZtNode, dev: string, filter: string, file: string) {
  const log = lab.path(file);
  const p = lab.spawn(node.ns, ["tcpdump", "-n", "-l", "-e", "-i", dev, filter], { logFile: log });
  await waitFor(`tcpdump on ${node.name} listening`, 5_000, () => {
    try {
      return Deno.readTextFileSync(log).includes("listening on");
    } catch {
      return false;
    }
  });
  return {
    stop: async () => {
      await p.stop("SIGINT", 2000);
      return Deno.readTextFileSync(log).split("\n");
    },
  };
}

/** Joins `nodes` over the API and waits for each to be OK with an interface. */
async function joinAll(nodes: ZtNode[], nwid: string): Promise<Record<string, unknown>[]> {
  for (const n of nodes) {
    assert.equal((await apiCall(n, "POST", `/network/${nwid}`, {})).status, 200);
  }
  return await Promise.all(
    nodes.map((n) => waitStatus(n, nwid, "OK", 20_000, (x) => x.portDeviceName !== "")),
  );
}

vl2LabTest(
  {
    name:
      "e2e dataplane: ping IPv4/rfc4193/6plane both ways, iperf3, broadcast reaches c, unauthorized d cut off",
    skip: SKIP,
    roles: ["a", "b", "c", "d"],
    label: "dataplane test 1",
  },
  async (v, started) => {
    console.log(`dataplane: lab with 6 nodes online in ${Date.now() - started} ms`);
    const { ctl, lab } = v;
    const { a, b, c, d } = v.members;
    const nwid = await createNetwork(ctl);
    for (const m of [a, b, c]) await authorize(ctl, nwid, m, true);
    const tJoin = Date.now();
    const [na, nb, nc] = await joinAll([a, b, c], nwid);
    console.log(`dataplane: join → a, b, c OK with interfaces in ${Date.now() - tJoin} ms`);
    assert.equal((await apiCall(d, "POST", `/network/${nwid}`, {})).status, 200);
    const ipsA = overlayIps(na), ipsB = overlayIps(nb), ipsC = overlayIps(nc);
    const devA = na.portDeviceName as string, devC = nc.portDeviceName as string;

    // managed addresses and the route are on the interface
    const addrs = (await lab.exec(a.ns, ["ip", "addr", "show", "dev", devA])).stdout;
    for (const ip of [ipsA.v4, ipsA.rfc4193, ipsA.sixPlane]) {
      assert.ok(addrs.includes(` ${ip}/`), `${ip} on ${devA}:\n${addrs}`);
    }
    const link = (await lab.exec(a.ns, ["ip", "-o", "link", "show", "dev", devA])).stdout;
    assert.match(link, /mtu 2800 /);
    assert.match(link, new RegExp(`link/ether ${(na.mac as string).toLowerCase()} `));
    const routes = (await lab.exec(a.ns, ["ip", "-4", "route", "show", "dev", devA])).stdout;
    assert.match(routes, /^198\.19\.0\.0\/24 /m);

    // ping both ways over each family (ARP, NDP emulation included)
    const times: string[] = [];
    for (const [from, to, ips] of [[a, b, ipsB], [b, a, ipsA]] as const) {
      for (const fam of ["v4", "rfc4193", "sixPlane"] as const) {
        const ms = await pingUntil(from, ips[fam], 10_000, v.all);
        times.push(`${from.name}→${to.name} ${fam} ${ms} ms`);
      }
    }
    console.log(`dataplane: first answered pings: ${times.join(", ")}`);
    for (const ip of [ipsB.v4, ipsB.rfc4193, ipsB.sixPlane]) {
      const r = await lab.exec(a.ns, [
        "ping",
        ...(ip.includes(":") ? ["-6"] : []),
        "-n",
        "-c",
        "3",
        "-i",
        "0.2",
        "-W",
        "1",
        ip,
      ], { check: false });
      assert.equal(r.code, 0, `3/3 pings to ${ip}:\n${r.stdout}`);
      assert.match(r.stdout, / 0% packet loss/);
    }

    // b counts the frames a's pings bring (the frame fast path settles its counters after the
    // answer left): packets by verb, per peer, and accepted by the network's rules
    const counts = async () => {
      const r = await apiCall(b, "GET", "/metrics");
      assert.equal(r.status, 200);
      const text = String(r.json);
      const read = (re: RegExp) => {
        const m = text.match(re);
        assert.ok(m, `${re} in b's metrics`);
        return Number(m[1]);
      };
      return [
        read(/^zt_packet\{direction="rx",packet_type="frame"\} (\d+)$/m),
        read(
          new RegExp(`^zt_peer_packets\\{direction="rx",node_id="${a.address}"\\} (\\d+)$`, "m"),
        ),
        read(
          new RegExp(
            `^zt_network_packets\\{accepted="yes",direction="rx",network_id="${nwid}"\\} (\\d+)$`,
            "m",
          ),
        ),
      ];
    };
    const before = await counts();
    const r5 = await lab.exec(a.ns, ["ping", "-n", "-c", "5", "-i", "0.2", "-W", "1", ipsB.v4], {
      check: false,
    });
    assert.equal(r5.code, 0, r5.stdout);
    const after = await counts();
    for (const [i, what] of ["frames", "packets from a", "accepted frames"].entries()) {
      assert.ok(after[i] - before[i] >= 5, `b: ${what} ${before[i]} → ${after[i]}`);
    }

    // iperf3 a → b for 3 s
    const srvLog = lab.path("iperf-b.log");
    const srv = lab.spawn(b.ns, ["iperf3", "-s", "-1", "--forceflush", "-B", ipsB.v4], {
      logFile: srvLog,
    });
    await waitFor("iperf3 server listening", 5_000, () => {
      try {
        return Deno.readTextFileSync(srvLog).includes("Server listening");
      } catch {
        return false;
      }
    });
    const cli = await lab.exec(a.ns, ["iperf3", "-c", ipsB.v4, "-t", "3", "-J"], {
      check: false,
      timeoutMs: 20_000,
    });
    await srv.stop("SIGTERM", 2000);
    assert.equal(cli.code, 0, cli.stdout.slice(0, 2000) + cli.stderr);
    const ip3 = JSON.parse(cli.stdout);
    const recv = ip3.end.sum_received.bytes as number;
    const bps = ip3.end.sum_received.bits_per_second as number;
    console.log(`dataplane: iperf3 a→b 3 s: ${recv} bytes, ${(bps / 1e6).toFixed(1)} Mbit/s`);
    assert.ok(recv > 0, "iperf3 moved data");
    // the TAP offloads (TSO read, coalesced writes) were in use on both ends
    for (const n of [a, b]) {
      assert.match(Deno.readTextFileSync(n.logFile), /interface zt\w+ up \(.*, offloads on\)/);
    }

    // a broadcast ping from a reaches c's interface
    const capC = await capture(
      lab,
      c,
      devC,
      `icmp and dst host ${OVERLAY_V4_BROADCAST}`,
      "c-bcast.log",
    );
    await lab.exec(a.ns, [
      "ping",
      "-n",
      "-b",
      "-c",
      "3",
      "-i",
      "0.3",
      "-W",
      "1",
      OVERLAY_V4_BROADCAST,
    ], { check: false });
    await waitFor("c captured a's broadcast", 5_000, () => {
      const t = Deno.readTextFileSync(lab.path("c-bcast.log"));
      return t.includes(`${ipsA.v4} > ${OVERLAY_V4_BROADCAST}: ICMP echo request`);
    });
    const bl = (await capC.stop()).filter((l) => l.includes("ICMP echo request"));
    assert.ok(bl.length >= 1, "c saw the broadcast");
    assert.match(bl[0], /> ff:ff:ff:ff:ff:ff, ethertype IPv4/);
    // c is also reachable by unicast
    await pingUntil(a, ipsC.v4, 5_000, v.all);

    // d joined without authorization: refused, no interface, cannot reach a
    const nd = await waitStatus(d, nwid, "ACCESS_DENIED", 10_000);
    assert.equal(nd.portDeviceName, "");
    assert.deepEqual(nd.assignedAddresses, []);
    const dl = (await lab.exec(d.ns, ["ip", "-o", "link"])).stdout;
    assert.ok(!/ zt[a-z0-9]+:/.test(dl), `no zt interface on d:\n${dl}`);
    assert.equal(await pingOnce(d, ipsA.v4), false, "d cannot reach a");
  },
);

vl2LabTest(
  {
    name:
      "e2e dataplane: zt leave removes the interface; stop leaves nothing; kill -9 + restart rejoins and ping resumes",
    skip: SKIP,
    roles: ["a", "b"],
    label: "dataplane test 2",
  },
  async (v) => {
    const { ctl, lab } = v;
    const { a, b } = v.members;
    const nwid = await createNetwork(ctl);
    for (const m of [a, b]) await authorize(ctl, nwid, m, true);
    const [na, nb] = await joinAll([a, b], nwid);
    const ipsB = overlayIps(nb);
    const devA = na.portDeviceName as string;
    await pingUntil(a, ipsB.v4, 10_000, v.all);

    // zt leave: the interface, its addresses and route disappear
    const left = await ztIn(a, ["leave", nwid]);
    assert.equal(left.code, 0, left.stdout + left.stderr);
    assert.match(left.stdout, /200 leave OK/);
    await waitFor(
      `${devA} removed after leave`,
      5_000,
      async () => !(await linkExists(a, devA)),
    );
    assert.equal(await networkOf(a, nwid), undefined);
    const rt = (await lab.exec(a.ns, ["ip", "route"])).stdout;
    assert.ok(!rt.includes("198.19."), `no overlay route left:\n${rt}`);
    const listed = await ztIn(a, ["listnetworks"]);
    assert.ok(!listed.stdout.includes(nwid), listed.stdout);

    // join again with the CLI (it waits for OK), ping works again
    const joined = await ztIn(a, ["join", nwid]);
    assert.equal(joined.code, 0, joined.stdout + joined.stderr);
    await waitStatus(a, nwid, "OK", 10_000, (n) => n.portDeviceName !== "");
    await pingUntil(a, ipsB.v4, 10_000, v.all);

    // kill -9: the kernel drops the TAP with the process; the restart rejoins from networks.d
    await a.stop("SIGKILL");
    await waitFor(
      `${devA} gone with the killed process`,
      5_000,
      async () => !(await linkExists(a, devA)),
    );
    const tRestart = Date.now();
    a.restart();
    const back = await waitStatus(a, nwid, "OK", 30_000, (n) => n.portDeviceName !== "");
    const tUp = Date.now();
    const ms = await pingUntil(a, ipsB.v4, 20_000, v.all);
    console.log(
      `dataplane: restart → OK with interface ${tUp - tRestart} ms, → ping ` +
        `${Date.now() - tRestart} ms (ping loop ${ms} ms)`,
    );
    assert.deepEqual(overlayIps(back), overlayIps(na), "same addresses after the restart");
    await pingUntil(b, overlayIps(back).v4, 10_000, v.all);

    // a clean stop removes the interface (with its addresses and routes)
    const devBack = back.portDeviceName as string;
    const st = await a.stop("SIGTERM");
    assert.equal(st.code, 0);
    assert.equal(await linkExists(a, devBack), false, "interface removed on stop");
    const rt2 = (await lab.exec(a.ns, ["ip", "route"])).stdout;
    assert.ok(!rt2.includes("198.19."), `no overlay route after stop:\n${rt2}`);
  },
);
