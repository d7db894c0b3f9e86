// listeningOn / advertised addresses: our own virtual interfaces and other tunnels are left out.
import assert from "node:assert/strict";
import {
  builtInInterfacePrefixBlacklist,
  localInterfaceAddresses,
} from "../../src/service/local_addresses.ts";
import { defaultLocalConf, parseLocalConf } from "../../src/service/local_conf.ts";
import { startupNotes } from "../../src/service/service.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";

/** A fake interface list entry. */
function nic(name: string, address: string): Deno.NetworkInterfaceInfo {
  const family = address.includes(":") ? "IPv6" : "IPv4";
  return { name, family, address, netmask: "", scopeid: null, cidr: address, mac: "" };
}

const IFS = [
  nic("lo", "127.0.0.1"),
  nic("lo", "::1"),
  nic("eth0", "198.18.0.3"),
  nic("eth0", "fe80::1%2"),
  nic("eth0", "2001:db8::3"),
  nic("zt3jnkpz1x", "198.19.0.10"), // our TAP
  nic("ztabcdef", "fd00::10"),
  nic("tun0", "10.8.0.2"), // OpenVPN-style tunnel
  nic("tap1", "10.9.0.2"),
  nic("docker0", "172.17.0.1"),
  nic("br-lab", "198.18.5.1"),
  nic("eth1", "198.19.1.7"), // one of our own overlay addresses on an odd name
];

const strs = (a: InetAddress[]) => a.map((x) => x.toString());

Deno.test("local addresses: lo, zt*, tun*, tap* are skipped as the reference does (Linux)", () => {
  assert.deepEqual(builtInInterfacePrefixBlacklist("linux"), ["lo", "zt", "tun", "tap"]);
  const got = localInterfaceAddresses(9993, [], { builtIn: ["lo", "zt", "tun", "tap"] }, () => IFS);
  assert.deepEqual(strs(got), [
    "172.17.0.1/9993",
    "198.18.0.3/9993",
    "198.18.5.1/9993",
    "198.19.1.7/9993",
    "2001:db8::3/9993",
  ]);
  // Without the built-in list our TAP addresses would have been advertised.
  const raw = localInterfaceAddresses(9993, [], { builtIn: [] }, () => IFS);
  assert.ok(strs(raw).includes("198.19.0.10/9993"));
});

Deno.test("local addresses: interfacePrefixBlacklist, physical blacklists, own overlay IPs", () => {
  const got = localInterfaceAddresses(9993, [], {
    builtIn: builtInInterfacePrefixBlacklist("linux"),
    prefixBlacklist: ["docker", "br-"],
    blacklist: [InetAddress.parse("2001:db8::/32")!],
    ownAddresses: [InetAddress.parse("198.19.1.7/24")!],
  }, () => IFS);
  assert.deepEqual(strs(got), ["198.18.0.3/9993"]);
});

Deno.test("local addresses: explicit bind addresses are listed as given", () => {
  const bind = [InetAddress.fromIp("198.18.0.3")!, InetAddress.fromIp("0.0.0.0")!];
  assert.deepEqual(strs(localInterfaceAddresses(9993, bind, {}, () => IFS)), ["198.18.0.3/9993"]);
});

Deno.test("local.conf: interfacePrefixBlacklist is read; bad entries warn", () => {
  const r = parseLocalConf(
    JSON.stringify({ settings: { interfacePrefixBlacklist: ["docker", 7, ""] } }),
  );
  assert.ok(r.ok);
  assert.deepEqual(r.conf.settings.interfacePrefixBlacklist, ["docker"]);
  assert.equal(r.conf.warnings.length, 2);
  assert.deepEqual(defaultLocalConf().settings.interfacePrefixBlacklist, []);
});

Deno.test("start notes: none for a default local.conf, one per setting the file sets", () => {
  assert.deepEqual(startupNotes(defaultLocalConf()), []);
  const empty = parseLocalConf(JSON.stringify({ settings: {} }));
  assert.ok(empty.ok);
  assert.deepEqual(startupNotes(empty.conf), []);
  // Regression: the secondary port, port mapping and the TCP relay are implemented; no note may
  // say otherwise (they used to say "zt never does UPnP/NAT-PMP", "zt has no TCP relay", ...).
  const set = parseLocalConf(JSON.stringify({
    settings: {
      allowSecondaryPort: true,
      portMappingEnabled: true,
      allowTcpFallbackRelay: true,
      forceTcpRelay: true,
      webUi: false,
      lowBandwidthMode: true,
      multicoreEnabled: false,
    },
  }));
  assert.ok(set.ok);
  assert.deepEqual(startupNotes(set.conf), [
    "settings.lowBandwidthMode: kept (shown in /status) but not acted on by zt",
    "settings.multicoreEnabled: kept (shown in /status) but not acted on by zt",
  ]);
});
