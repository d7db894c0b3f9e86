// netns e2e: port mapping of the tertiary port: against miniupnpd (NAT-PMP, then UPnP IGD) and against the lab NAT-PMP gateway; an outside peer reaches the node on the mapping, which is removed on exit.
//
// miniupnpd refuses to map when its WAN address is reserved (all lab addresses are) unless it
// has `ext_allow_private_ipv4` (newer than Debian 12's 2.3.1). With such a build the whole path
// is checked; with an older one the test checks what can be seen: the node's NAT-PMP request and
// its UPnP AddPortMapping (found by SSDP) reach the router for the right port and name, the
// refusal leaves the node online, and /status reports the ports.
import assert from "node:assert/strict";
import { announceSkip, exec, type Lab, waitFor, withLab } from "./netns.ts";
import {
  explainFailure,
  generateIdentities,
  makeLabPlanet,
  pathAddress,
  ROOT_IP,
  startNode,
  type ZtNode,
} from "./zt_lab.ts";
import { authorize, createNetwork, overlayIps, pingOnce, waitStatus, ztIn } from "./vl2_lab.ts";

const SKIP = announceSkip("port_mapping_test.ts");

/** The node's fixed tertiary (mapped) port. */
const TERTIARY = 31993;
/** The tertiary port's socket id (src/service/transport_mux.ts: transport 2, socket 1). */
const TERTIARY_SOCKET = 201;
/** The NAT router's WAN (lab segment) address and the private subnet behind it. */
const ROUTER_WAN = "198.18.0.21";
const SUBNET = 7;
const HOST_IP = `198.18.${SUBNET}.2`;

/** miniupnpd's nftables structure (the chain names are miniupnpd's defaults). */
const NFT_RULES = `table inet ztupnp {
  chain forward {
    type filter hook forward priority 0; policy accept;
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
`;

/**
 * miniupnpd.conf for the router: LAN side "lan", WAN side "wan", only the private subnet;
 * `allowReserved` adds `ext_allow_private_ipv4` (older builds refuse the unknown option).
 */
function miniupnpdConf(dir: string, allowReserved: boolean): string {
  return [
    "ext_ifname=wan",
    "listening_ip=lan",
    "http_port=5555",
    "enable_natpmp=yes",
    "enable_upnp=yes",
    "secure_mode=yes",
    "system_uptime=no",
    ...(allowReserved ? ["ext_allow_private_ipv4=yes"] : []),
    "uuid=5a0c1d3e-7f42-4b8e-9a61-2c7d4e8f0b13",
    "upnp_table_name=ztupnp",
    "upnp_nat_table_name=ztupnp",
    `lease_file=${dir}/miniupnpd.leases`,
    `allow 1024-65535 198.18.${SUBNET}.0/24 1024-65535`,
    "deny 0-65535 0.0.0.0/0 0-65535",
    "",
  ].join("\n");
}

/** The mapping rules miniupnpd has put in place (lines of its nft table naming `port`). */
async function nftMappings(ns: string, port: number): Promise<string[]> {
  const r = await exec(ns, ["nft", "list", "table", "inet", "ztupnp"], { check: false });
  return r.stdout.split("\n").filter((l) => l.includes(String(port)) && /dnat|accept/.test(l));
}

Deno.test({
  name: "e2e port mapping: NAT-PMP then UPnP to miniupnpd for the tertiary port; used and removed",
  ignore: SKIP !== undefined,
  fn: async () => {
    await withLab(async (lab) => {
      const dir = lab.path("ids");
      Deno.mkdirSync(dir);
      const [rid, aid, bid] = await generateIdentities(dir, 3);
      const planet = await makeLabPlanet(dir, rid, pathAddress(ROOT_IP));
      const r = await lab.addHost("r", ROOT_IP);
      const hb = await lab.addHost("b", "198.18.0.12");
      const ha = await lab.addNattedHost("a", ROUTER_WAN, SUBNET);
      // the port mapper looks for the default route's gateway (nothing routes beyond the lab)
      await lab.exec(ha.ns, ["ip", "route", "add", "default", "via", `198.18.${SUBNET}.1`]);
      // mapped (DNATed) flows may enter, as a router with UPnP lets them
      await lab.exec(ha.natNs, [
        "iptables",
        "-I",
        "FORWARD",
        "1",
        "-i",
        "wan",
        "-m",
        "conntrack",
        "--ctstate",
        "DNAT",
        "-j",
        "ACCEPT",
      ]);
      await randomizeMasquerade(lab, ha.natNs);
      const nftFile = lab.path("miniupnpd.nft");
      Deno.writeTextFileSync(nftFile, NFT_RULES);
      await lab.exec(ha.natNs, ["nft", "-f", nftFile]);
      const confFile = lab.path("miniupnpd.conf");
      const bin = (await exec(ha.natNs, ["sh", "-c", "command -v miniupnpd"])).stdout.trim();
      const allowReserved = new TextDecoder("latin1").decode(Deno.readFileSync(bin))
        .includes("ext_allow_private_ipv4");
      Deno.writeTextFileSync(confFile, miniupnpdConf(lab.path("."), allowReserved));
      const upnpLog = lab.path("miniupnpd.log");
      const daemon = lab.spawn(ha.natNs, [
        "miniupnpd",
        "-f",
        confFile,
        "-d",
        "-P",
        lab.path("miniupnpd.pid"),
      ], { logFile: upnpLog });
      const logText = () => {
        try {
          return Deno.readTextFileSync(upnpLog);
        } catch {
          return "";
        }
      };
      await waitFor("miniupnpd listening", 10_000, () => {
        if (daemon.exitStatus) throw new Error(`miniupnpd exited:\n${logText()}`);
        return /Listening for NAT-PMP/.test(logText()) || undefined;
      });
      const canMap = !/Port forwarding is impossible/.test(logText());

      const root = startNode(lab, { name: "root", ns: r.ns, id: rid, planet });
      const all: ZtNode[] = [root];
      await explainFailure(all, async () => {
        await root.waitOnline(20_000);
        const a = startNode(lab, {
          name: "a",
          ns: ha.ns,
          id: aid,
          planet,
          settings: { portMappingEnabled: true, tertiaryPort: TERTIARY },
        });
        all.push(a);
        const sa = await a.waitOnline(25_000);
        const settings = (sa.config as Record<string, Record<string, unknown>>).settings;
        assert.equal(settings.portMappingEnabled, true);
        assert.equal(settings.tertiaryPort, TERTIARY);
        assert.ok(
          (settings.listeningOn as string[]).includes(`${HOST_IP}/${TERTIARY}`),
          String(settings.listeningOn),
        );

        // NAT-PMP first, for the tertiary port, with a 240 s lease
        const pmpLine = new RegExp(
          `NAT-PMP port mapping request : ${TERTIARY}->${
            HOST_IP.replaceAll(".", "\\.")
          }:${TERTIARY} udp lifetime=240s`,
        );
        await waitFor(
          "NAT-PMP request at miniupnpd",
          15_000,
          () => pmpLine.test(logText()) || undefined,
          {
            detail: () => logText(),
          },
        );
        if (!canMap) {
          // refused: the node goes on to UPnP (SSDP discovery, then SOAP) with its mapping name
          const upnpLine = new RegExp(
            `redirecting port ${TERTIARY} to ${
              HOST_IP.replaceAll(".", "\\.")
            }:${TERTIARY} protocol UDP for: ZeroTier/${a.address}@${TERTIARY}`,
          );
          await waitFor(
            "UPnP AddPortMapping at miniupnpd",
            20_000,
            () => upnpLine.test(logText()) || undefined,
            { detail: () => logText() },
          );
          assert.match(logText(), /SSDP M-SEARCH from 198\.18\.7\.2/);
          assert.equal((await a.status()).online, true, "a refusal does not disturb the node");
          console.log(
            "port mapping: this miniupnpd refuses reserved WAN addresses (no " +
              "ext_allow_private_ipv4); checked the NAT-PMP and UPnP requests only",
          );
          return;
        }

        // a mapping exists and an outside peer reaches a at the router's address, mapped port
        await waitFor(
          "mapping in miniupnpd's rules",
          20_000,
          async () => (await nftMappings(ha.natNs, TERTIARY)).length > 0 || undefined,
        );
        const b = startNode(lab, { name: "b", ns: hb.ns, id: bid, planet });
        all.push(b);
        await b.waitOnline(25_000);
        await outsidePeerReachesTertiary(root, a, b);

        // removed when a stops
        await a.stop();
        await waitFor(
          "mapping removed",
          10_000,
          async () => (await nftMappings(ha.natNs, TERTIARY)).length === 0 || undefined,
        );
      });
    });
  },
});

/**
 * Outside peer `b` joins a network with `a` (direct paths are pushed only between peers that
 * share one), pings `a` and waits until `a` hears `b` on its tertiary socket. (b's source port may
 * differ from 9993 there: when a's own packet to b left from the same socket, conntrack renames
 * the colliding inbound flow.) Returns the ms it took after both were on the network.
 */
async function outsidePeerReachesTertiary(root: ZtNode, a: ZtNode, b: ZtNode): Promise<number> {
  const nwid = await createNetwork(root);
  for (const n of [a, b]) {
    await authorize(root, nwid, n, true);
    assert.equal((await ztIn(n, ["join", "--no-wait", nwid])).code, 0);
  }
  const na = await waitStatus(a, nwid, "OK", 20_000, (n) => n.portDeviceName !== "");
  await waitStatus(b, nwid, "OK", 20_000, (n) => n.portDeviceName !== "");
  const overlayA = overlayIps(na).v4;
  const t0 = Date.now();
  await waitFor("b reaching a's tertiary socket through the mapping", 40_000, async () => {
    await pingOnce(b, overlayA);
    const p = await a.peer(b.address);
    return p?.paths.find((x) =>
      (x as unknown as { localSocket: number }).localSocket === TERTIARY_SOCKET &&
      x.address.startsWith("198.18.0.12/") && !x.expired
    );
  }, {
    intervalMs: 1000,
    detail: async () => `a's peer b: ${JSON.stringify(await a.peer(b.address))}`,
  });
  return Date.now() - t0;
}

/** Gives the NAT router's own outbound flows random public ports, so only a mapping opens TERTIARY. */
async function randomizeMasquerade(lab: Lab, natNs: string): Promise<void> {
  await lab.exec(natNs, [
    "iptables",
    "-t",
    "nat",
    "-I",
    "POSTROUTING",
    "1",
    "-s",
    `198.18.${SUBNET}.0/24`,
    "-o",
    "wan",
    "-j",
    "MASQUERADE",
    "--random-fully",
  ]);
}

/** The lab's own NAT-PMP gateway (tests/e2e/nat_pmp_router.ts). */
const NAT_PMP_ROUTER = new URL("./nat_pmp_router.ts", import.meta.url).pathname;

/** The DNAT rules the lab gateway has added for `port`. */
async function dnatRules(ns: string, port: number): Promise<string[]> {
  const r = await exec(ns, ["iptables", "-t", "nat", "-S", "PREROUTING"]);
  return r.stdout.split("\n").filter((l) => l.includes(`--dport ${port}`) && l.includes("DNAT"));
}

Deno.test({
  name:
    "e2e port mapping (lab NAT-PMP gateway): the mapping is made, an outside peer reaches the node through it, it is removed on exit",
  ignore: SKIP !== undefined,
  fn: async () => {
    await withLab(async (lab) => {
      const dir = lab.path("ids");
      Deno.mkdirSync(dir);
      const [rid, aid, bid] = await generateIdentities(dir, 3);
      const planet = await makeLabPlanet(dir, rid, pathAddress(ROOT_IP));
      const r = await lab.addHost("r", ROOT_IP);
      const hb = await lab.addHost("b", "198.18.0.12");
      const ha = await lab.addNattedHost("a", ROUTER_WAN, SUBNET);
      await lab.exec(ha.ns, ["ip", "route", "add", "default", "via", `198.18.${SUBNET}.1`]);
      await lab.exec(ha.natNs, [
        "iptables",
        "-I",
        "FORWARD",
        "1",
        "-i",
        "wan",
        "-m",
        "conntrack",
        "--ctstate",
        "DNAT",
        "-j",
        "ACCEPT",
      ]);
      await randomizeMasquerade(lab, ha.natNs);
      const gwLog = lab.path("natpmp.log");
      lab.spawn(ha.natNs, [
        Deno.execPath(),
        "run",
        "-A",
        NAT_PMP_ROUTER,
        `198.18.${SUBNET}.1`,
        ROUTER_WAN,
        "wan",
      ], { logFile: gwLog });
      const gwText = () => {
        try {
          return Deno.readTextFileSync(gwLog);
        } catch {
          return "";
        }
      };
      await waitFor(
        "lab NAT-PMP gateway up",
        15_000,
        () => /NAT-PMP on/.test(gwText()) || undefined,
      );

      const root = startNode(lab, { name: "root", ns: r.ns, id: rid, planet });
      const all: ZtNode[] = [root];
      await explainFailure(all, async () => {
        await root.waitOnline(20_000);
        const a = startNode(lab, {
          name: "a",
          ns: ha.ns,
          id: aid,
          planet,
          settings: { portMappingEnabled: true, tertiaryPort: TERTIARY },
        });
        all.push(a);
        await a.waitOnline(25_000);
        await waitFor(
          "mapping made",
          20_000,
          async () => (await dnatRules(ha.natNs, TERTIARY)).length === 1 || undefined,
          {
            detail: () => gwText(),
          },
        );
        assert.match(
          gwText(),
          new RegExp(
            `map udp ${TERTIARY} -> 198\\.18\\.${SUBNET}\\.2:${TERTIARY} lifetime 240 result 0`,
          ),
        );

        // b, outside the NAT, reaches a on the mapped port
        const b = startNode(lab, { name: "b", ns: hb.ns, id: bid, planet });
        all.push(b);
        await b.waitOnline(25_000);
        const took = await outsidePeerReachesTertiary(root, a, b);
        const used = (await exec(ha.natNs, ["iptables", "-t", "nat", "-nvxL", "PREROUTING"])).stdout
          .split("\n").find((l) => l.includes(`dpt:${TERTIARY}`)) ?? "";
        assert.ok(
          Number(/^\s*(\d+)/.exec(used)?.[1]) > 0,
          `the DNAT rule carried b's packets: ${used}`,
        );
        console.log(`port mapping: b reaches a through the mapping after ${took} ms`);

        // a stops: the mapping is removed
        await a.stop();
        assert.deepEqual(await dnatRules(ha.natNs, TERTIARY), [], gwText());
        assert.match(gwText(), new RegExp(`unmap udp ${TERTIARY} for 198\\.18\\.${SUBNET}\\.2`));
      });
    });
  },
});
