// netns e2e: a node behind a NAT router running miniupnpd asks it (NAT-PMP, then UPnP IGD) to map its tertiary port; with a miniupnpd that maps on reserved WAN addresses, an outside peer uses the mapping and it is removed on exit.
//
// miniupnpd refuses to map when its WAN address is reserved (all lab addresses are) unless it
// has `ext_allow_private_ipv4` (newer than Debian 12's 2.3.1). With such a build the whole path
// is checked; with an older one the test checks what can be seen: the node's NAT-PMP request and
// its UPnP AddPortMapping (found by SSDP) reach the router for the right port and name, the
// refusal leaves the node online, and /status reports the ports.
import assert from "node:assert/strict";
import { announceSkip, exec, waitFor, withLab } from "./netns.ts";
import {
  directPath,
  explainFailure,
  generateIdentities,
  makeLabPlanet,
  pathAddress,
  ROOT_IP,
  startNode,
  type ZtNode,
} from "./zt_lab.ts";

const SKIP = announceSkip("port_mapping_test.ts");

/** The node's fixed tertiary (mapped) port. */
const TERTIARY = 31993;
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
        const b = startNode(lab, { name: "b", ns: hb.ns, id: bid, planet, runner: "lab" });
        all.push(b);
        await b.waitOnline(25_000);
        const mapped = pathAddress(ROUTER_WAN, TERTIARY);
        await waitFor("b's direct path to a through the mapping", 30_000, async () => {
          await b.ping(a.address);
          return directPath(await b.peer(a.address), mapped);
        }, { intervalMs: 500 });

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
