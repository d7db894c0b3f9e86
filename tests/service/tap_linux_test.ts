// Tests for the Linux TAP adapter: device names, errors, and (as root) a real TAP in a fresh netns.
//
// Root tests spawn `ip netns exec <ns> deno run -A <this file> probe`: the probe (bottom of this
// file) opens the TAP there, applies addresses/routes, exchanges ARP and ICMP with the kernel,
// measures frames/s, closes, and prints what it observed as JSON for the test to assert on.
import { runCommand } from "../helpers/run_command.ts";
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { fixtureText } from "../fixtures.ts";
import {
  LinuxTapDevice,
  linuxTapDeviceName,
  MAX_IFNAME,
  permissionCause,
  pickLinuxTapDeviceName,
  TapError,
} from "../../ffi/tap_linux.ts";
import { createTap, parseDevMcast, type Tap, tapDeviceName } from "../../src/service/tap.ts";
import { DEFAULT_MANAGED_POLICY } from "../../src/service/managed_diff.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import type { Route } from "../../src/vl2/network_config.ts";
import { macToBytes, parseMac } from "../../src/vl2/mac.ts";

const SELF = new URL(import.meta.url).pathname;
const decoder = new TextDecoder();

/** Recorded reference network objects (ZeroTier One 1.14.1 on Linux). */
interface NetworkJson {
  nwid: string;
  mac: string;
  portDeviceName: string;
  assignedAddresses: string[];
}
const recordedNetworks = (): NetworkJson[] => [
  ...JSON.parse(fixtureText("api/a-network.json")) as NetworkJson[],
  ...JSON.parse(fixtureText("api/b-network.json")) as NetworkJson[],
];

Deno.test("tap: device names match the reference's portDeviceName", () => {
  const nets = recordedNetworks();
  assert.ok(nets.length >= 4);
  for (const n of nets) {
    const nwid = BigInt("0x" + n.nwid);
    assert.equal(linuxTapDeviceName(nwid), n.portDeviceName, n.nwid);
    assert.ok(n.portDeviceName.length <= MAX_IFNAME);
  }
  // Collisions step the 40-bit value up by one.
  const nwid = BigInt("0x" + nets[0].nwid);
  const first = linuxTapDeviceName(nwid);
  const taken = new Set([first, linuxTapDeviceName(nwid, 1)]);
  const picked = pickLinuxTapDeviceName(nwid, (n) => taken.has(n));
  assert.equal(picked, linuxTapDeviceName(nwid, 2));
  assert.notEqual(picked, first);
  assert.match(picked, /^zt[a-z2-7]{8}$/);
  assert.equal(linuxTapDeviceName(0n), "ztaaaaaaaa");
  assert.equal(linuxTapDeviceName(0n, 0xff_ffff_ffff), "zt77777777");
  assert.equal(linuxTapDeviceName(0n, 2 ** 40), "ztaaaaaaaa"); // 40-bit wrap
  assert.throws(() => pickLinuxTapDeviceName(nwid, () => true), /no free TAP device name/);
});

Deno.test("tap: /proc/net/dev_mcast parsing", () => {
  const text = [
    "2    zt7agraozd      1     0     333300000001",
    "2    zt7agraozd      1     0     01005e000001",
    "2    zt7agraozd      2     0     3333ffd6b528",
    "3    eth0            1     0     333300000001",
    "garbage",
    "4    zt7agraozd      1     0     zz",
  ].join("\n");
  assert.deepEqual(parseDevMcast(text, "zt7agraozd"), [
    0x01005e000001,
    0x333300000001,
    0x3333ffd6b528,
  ]);
  assert.deepEqual(parseDevMcast(text, "zt0"), []);
});

Deno.test("tap: createTap refuses other systems clearly; bad arguments are rejected", async () => {
  for (const os of ["darwin", "freebsd", "windows"]) {
    assert.throws(() => createTap(os), /TAP devices are only implemented for Linux so far/);
  }
  assert.throws(() => LinuxTapDevice.open("", 0x32aabbccddee, 2800), TapError);
  assert.throws(
    () => LinuxTapDevice.open("a-name-far-too-long", 0x32aabbccddee, 2800),
    /bad interface name/,
  );
  assert.throws(() => LinuxTapDevice.open("zt0", 0x32aabbccddee, 20), /bad MTU/);
  const t = createTap("linux");
  assert.equal(t.deviceName, "");
  assert.equal(t.write(new Uint8Array(60)), false);
  assert.throws(() => t.onFrame(() => {}), /not open/);
  await t.close();
});

// ---------------------------------------------------------------------------------------------
// Root tests in a network namespace.

/** Why the root tests cannot run, or undefined. In CI (env CI) they must run. */
function rootSkipReason(): string | undefined {
  if (Deno.build.os !== "linux") return "TAP tests need Linux";
  if (Deno.env.get("CI")) return undefined;
  if (Deno.uid() !== 0) {
    return "TAP tests need root (CAP_NET_ADMIN) to create namespaces and devices";
  }
  try {
    Deno.statSync("/dev/net/tun");
  } catch {
    return "TAP tests need /dev/net/tun (modprobe tun)";
  }
  return undefined;
}
const skipReason = rootSkipReason();
if (skipReason) console.log(`SKIP tests/service/tap_linux_test.ts (netns part): ${skipReason}`);

const run = runCommand;

/** Creates a fresh namespace, runs `fn(ns)`, deletes the namespace whatever happens. */
async function withNetns(fn: (ns: string) => Promise<void>): Promise<void> {
  const ns = `zttap${crypto.getRandomValues(new Uint32Array(1))[0].toString(16)}`;
  const add = await run(["ip", "netns", "add", ns]);
  assert.equal(add.code, 0, add.err);
  try {
    await fn(ns);
  } finally {
    await run(["ip", "netns", "del", ns]);
  }
}

/** Runs this file's probe inside `ns` and returns its JSON report. */
async function probeIn(
  ns: string,
  mode: string,
  prefix: string[] = [],
): Promise<Record<string, unknown>> {
  const r = await run([
    ...prefix,
    "ip",
    "netns",
    "exec",
    ns,
    Deno.execPath(),
    "run",
    "-A",
    SELF,
    mode,
  ]);
  const last = r.out.trim().split("\n").pop() ?? "";
  assert.equal(r.code, 0, `probe ${mode} failed:\n${r.out}\n${r.err}`);
  return JSON.parse(last);
}

Deno.test({
  name:
    "tap: real TAP in a netns: name/MAC/MTU, managed IPs+routes, ARP+ICMP with the kernel, close",
  ignore: skipReason !== undefined,
  fn: () =>
    withNetns(async (ns) => {
      const rep = await probeIn(ns, "probe") as unknown as ProbeReport;
      const net = recordedNetworks()[1]; // lab-net on node a
      // Device: the reference's name for the network, its MAC, MTU 2800, up.
      assert.equal(rep.name, net.portDeviceName);
      assert.equal(rep.link.ifname, net.portDeviceName);
      assert.equal(rep.link.address, net.mac);
      assert.equal(rep.link.mtu, 2800);
      assert.ok(rep.link.flags.includes("UP"), JSON.stringify(rep.link.flags));
      assert.ok(rep.link.flags.includes("MULTICAST"));
      // Managed addresses and routes, as applied.
      assert.deepEqual(rep.addrs1.sort(), [
        "198.19.0.114/24",
        "fd5b:1c20:a311:fca1:ca99:93d6:b528:1/88",
      ]);
      assert.deepEqual(rep.syncFailures, []);
      assert.ok(
        rep.routes1.includes("198.19.5.0/24 via 198.19.0.1 src 198.19.0.114"),
        rep.routes1.join("; "),
      );
      assert.ok(rep.routes1.includes("198.19.6.0/24 - src 198.19.0.114"), rep.routes1.join("; "));
      assert.ok(
        rep.routes1.includes(
          "fd00:77::/64 via fd5b:1c20:a311:fca1:ca99:9300:0:1 src fd5b:1c20:a311:fca1:ca99:93d6:b528:1",
        ),
        rep.routes1.join("; "),
      );
      assert.ok(rep.routes1.includes("198.19.0.0/24 - src 198.19.0.114")); // from the address itself
      // After the change: new IPv4, the gateway route and IPv6 gone.
      assert.deepEqual(rep.addrs2, ["198.19.0.115/24"]);
      assert.ok(!rep.routes2.some((r) => r.startsWith("198.19.5.0/24")), rep.routes2.join("; "));
      assert.ok(rep.routes2.includes("198.19.6.0/24 - src 198.19.0.115"), rep.routes2.join("; "));
      assert.ok(!rep.routes2.some((r) => r.startsWith("fd00:77::")));
      // allowManaged off: everything zt added is gone.
      assert.deepEqual(rep.addrs3, []);
      assert.deepEqual(rep.routes3.filter((r) => r.startsWith("198.19.")), []);
      // The multicast groups include the ARP group of the assigned IPv4 and kernel groups.
      assert.ok(
        rep.groups.includes(`ffffffffffff/${(0xc6130073).toString(16)}`),
        rep.groups.join(" "),
      );
      assert.ok(rep.groups.includes("01005e000001/0"), rep.groups.join(" "));
      // Kernel answered our ARP request and ICMP echo with correct frames.
      assert.ok(rep.arpReply, "no ARP reply");
      assert.equal(rep.arpReply.senderMac, net.mac);
      assert.equal(rep.arpReply.senderIp, "198.19.0.115");
      assert.equal(rep.arpReply.targetMac, PEER_MAC_TEXT);
      assert.equal(rep.arpReply.targetIp, PEER_IP_TEXT);
      assert.ok(rep.echoReply, "no ICMP echo reply");
      assert.equal(rep.echoReply.dstMac, PEER_MAC_TEXT);
      assert.equal(rep.echoReply.srcIp, "198.19.0.115");
      assert.equal(rep.echoReply.id, 0x7a74);
      assert.equal(rep.echoReply.payload, "zt tap probe");
      assert.equal(rep.echoReply.checksumOk, true);
      // A second open of the same name is refused with a clear message.
      assert.match(rep.busyError, /cannot create TAP device zt7ag5yaw3: the name is already used/);
      // Offloads are on unless ZT_TAP_OFFLOAD=0 (frames above went through the vnet-header path).
      assert.equal(rep.offload, Deno.env.get("ZT_TAP_OFFLOAD") !== "0");
      // Throughput (printed, not asserted beyond "it moved").
      assert.ok(rep.perf.replies > 0);
      console.log(
        `TAP echo loop: ${rep.perf.sent} requests written, ${rep.perf.replies} replies read in ` +
          `${rep.perf.ms.toFixed(0)} ms = ${
            (rep.perf.replies / rep.perf.ms * 1000).toFixed(0)
          } round trips/s ` +
          `(${
            ((rep.perf.sent + rep.perf.replies) / rep.perf.ms * 1000).toFixed(0)
          } frames/s through the ` +
          `tap); ${(rep.perf.replies / rep.perf.polls).toFixed(1)} frames per poll`,
      );
      // A rehearsed write is not seen by the kernel or counted; a real one is.
      assert.deepEqual(rep.rehearsal, {
        has: true,
        statsSame: true,
        writesSame: true,
        answered: 0,
        rxPacketsAfterWrite: 1,
      });
      // Closed: the device is gone.
      assert.equal(rep.goneAfterClose, true);
    }),
});

Deno.test({
  name: "tap: clear errors without permission and without /dev/net/tun",
  ignore: skipReason !== undefined,
  fn: () =>
    withNetns(async (ns) => {
      // Without /dev/net/tun (an empty tmpfs over /dev/net in a private mount namespace).
      const noTun = await probeIn(ns, "error", [
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs none /dev/net && exec "$@"',
        "sh",
      ]);
      assert.match(
        String(noTun.error),
        /cannot create TAP device .*: \/dev\/net\/tun not found \(load the tun module/,
      );
      // As an unprivileged user (nobody).
      const tmp = Deno.makeTempDirSync({ prefix: "zttap" });
      try {
        Deno.chmodSync(tmp, 0o777);
        // The checkout may sit in a directory nobody cannot read (CI clones into private temp
        // dirs): run a world-readable copy of the code instead.
        const root = new URL("../../", import.meta.url).pathname;
        const copy = `${tmp}/main`;
        Deno.mkdirSync(copy);
        for (const d of ["ffi", "src", "tests"]) {
          const c = await run(["cp", "-r", `${root}${d}`, `${copy}/${d}`]);
          assert.equal(c.code, 0, c.err);
        }
        Deno.copyFileSync(`${root}deno.json`, `${copy}/deno.json`);
        await run(["chmod", "-R", "a+rX", tmp]);
        const asNobody = [
          "setpriv",
          "--reuid=65534",
          "--regid=65534",
          "--clear-groups",
          "env",
          `DENO_DIR=${tmp}`,
          `HOME=${tmp}`,
          Deno.execPath(),
          "run",
          "-A",
          "--no-lock",
          `${copy}/tests/service/tap_linux_test.ts`,
          "error",
        ];
        const r = await run(asNobody);
        assert.equal(r.code, 0, r.err);
        const rep = JSON.parse(r.out.trim().split("\n").pop() ?? "{}");
        assert.match(
          String(rep.error),
          /cannot create TAP device .*: permission denied at ioctl\(TUNSETIFF\): creating and configuring interfaces needs CAP_NET_ADMIN \(run as root/,
        );
        // A /dev/net/tun nobody may not open (mode 0600, in a private mount namespace): the
        // message names the device's mode and owner and the process's uid.
        const r2 = await run([
          "unshare",
          "-m",
          "--propagation",
          "private",
          "sh",
          "-c",
          'mount -t tmpfs none /dev/net && mknod -m 0600 /dev/net/tun c 10 200 && exec "$@"',
          "sh",
          ...asNobody,
        ]);
        assert.equal(r2.code, 0, r2.err);
        const rep2 = JSON.parse(r2.out.trim().split("\n").pop() ?? "{}");
        assert.match(
          String(rep2.error),
          /permission denied opening \/dev\/net\/tun \(mode 0600, owner uid 0 gid 0; this process runs as uid 65534\): run as root/,
        );
      } finally {
        Deno.removeSync(tmp, { recursive: true });
      }
    }),
});

// ---------------------------------------------------------------------------------------------
// The probe (runs inside the namespace via `deno run`; Deno.test above is inert there).

const PEER_MAC = 0x320000000002;
const PEER_MAC_TEXT = "32:00:00:00:00:02";
const PEER_IP = [198, 19, 0, 50];
const PEER_IP_TEXT = "198.19.0.50";

/** What the probe observed. */
interface ProbeReport {
  name: string;
  link: { ifname: string; address: string; mtu: number; flags: string[] };
  addrs1: string[];
  routes1: string[];
  addrs2: string[];
  routes2: string[];
  addrs3: string[];
  routes3: string[];
  syncFailures: string[];
  groups: string[];
  arpReply?: { senderMac: string; senderIp: string; targetMac: string; targetIp: string };
  echoReply?: { dstMac: string; srcIp: string; id: number; payload: string; checksumOk: boolean };
  busyError: string;
  offload: boolean;
  perf: { sent: number; replies: number; ms: number; polls: number };
  goneAfterClose: boolean;
  rehearsal: {
    has: boolean;
    statsSame: boolean;
    writesSame: boolean;
    answered: number;
    rxPacketsAfterWrite: number;
  };
}

const hexMac = (b: Uint8Array, o: number) =>
  [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, "0")).join(":");
const ipText = (b: Uint8Array, o: number) => [...b.subarray(o, o + 4)].join(".");

/** Internet checksum over `b[start, end)`. */
function inetChecksum(b: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) sum += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Ethernet header to `dst` from the peer. */
function ether(frame: Uint8Array, dst: Uint8Array, type: number): void {
  frame.set(dst, 0);
  frame.set(macToBytes(PEER_MAC), 6);
  frame[12] = type >> 8;
  frame[13] = type & 0xff;
}

/** ARP request "who has `target`, tell the peer", broadcast. */
function arpRequest(target: number[]): Uint8Array {
  const f = new Uint8Array(42);
  ether(f, new Uint8Array(6).fill(0xff), 0x0806);
  f.set([0, 1, 8, 0, 6, 4, 0, 1], 14);
  f.set(macToBytes(PEER_MAC), 22);
  f.set(PEER_IP, 28);
  f.set(target, 38);
  return f;
}

/** IPv4 ICMP echo request from the peer to `dstIp` at `dstMac`. */
function echoRequest(
  dstMac: Uint8Array,
  dstIp: number[],
  seq: number,
  payload: Uint8Array,
): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + payload.length);
  ether(f, dstMac, 0x0800);
  const ipLen = 20 + 8 + payload.length;
  f.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0, 0, 0x40, 0, 64, 1, 0, 0], 14);
  f.set(PEER_IP, 26);
  f.set(dstIp, 30);
  const c = inetChecksum(f, 14, 34);
  f[24] = c >> 8;
  f[25] = c & 0xff;
  f.set([8, 0, 0, 0, 0x7a, 0x74, seq >> 8, seq & 0xff], 34);
  f.set(payload, 42);
  const ic = inetChecksum(f, 34, f.length);
  f[36] = ic >> 8;
  f[37] = ic & 0xff;
  return f;
}

async function ipJson(args: string[]): Promise<unknown[]> {
  const r = await run(["ip", "-j", ...args]);
  if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.err}`);
  return JSON.parse(r.out || "[]");
}

/** "ip/bits" of every address on `dev` except link-local. */
async function addrsOf(dev: string): Promise<string[]> {
  const links = await ipJson(["addr", "show", "dev", dev]) as {
    addr_info: { local: string; prefixlen: number; scope: string }[];
  }[];
  return links.flatMap((l) =>
    l.addr_info.filter((a) => a.scope !== "link").map((a) => `${a.local}/${a.prefixlen}`)
  );
}

/** "dst via|- src|-" of every IPv4 and IPv6 route on `dev`. */
async function routesOf(dev: string): Promise<string[]> {
  const out: string[] = [];
  for (const fam of ["-4", "-6"]) {
    const rs = await ipJson([fam, "route", "show", "dev", dev]) as {
      dst: string;
      gateway?: string;
      prefsrc?: string;
    }[];
    for (const r of rs) {
      out.push(`${r.dst} ${r.gateway ?? "-"} src ${r.prefsrc ?? "-"}`.replace(" - src", " - src"));
    }
  }
  return out.map((s) =>
    s.replace(/^(\S+) (\S+) src/, (_m, d, g) => g === "-" ? `${d} - src` : `${d} via ${g} src`)
  );
}

/** Waits until `cond()` or `ms` pass. */
async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
}

const A = (s: string) => InetAddress.parse(s)!;
const route = (t: string, via?: string): Route => ({
  target: A(t),
  via: via ? A(via) : undefined,
  flags: 0,
  metric: 0,
});

async function probe(): Promise<ProbeReport> {
  const net = recordedNetworks()[1]; // lab-net of node a
  const nwid = BigInt("0x" + net.nwid);
  const mac = parseMac(net.mac)!;
  const macBytes = macToBytes(mac);
  const name = tapDeviceName(nwid);
  const tap: Tap = createTap();
  await tap.open(name, mac, 2800);
  const rep = { name } as ProbeReport;
  try {
    rep.offload = tap.offload ?? false;
    const link = (await ipJson(["link", "show", "dev", name]))[0] as ProbeReport["link"];
    rep.link = { ifname: link.ifname, address: link.address, mtu: link.mtu, flags: link.flags };

    const six = "fd5b:1c20:a311:fca1:ca99:93d6:b528:1/88";
    const failures: string[] = [];
    const sync = async (assigned: string[], routes: Route[], policy = DEFAULT_MANAGED_POLICY) => {
      const r = await tap.syncManaged(assigned.map(A), routes, policy);
      failures.push(...r.failed.map((f) => `${f.args.join(" ")}: ${f.error}`));
    };
    const routes = [
      route("198.19.0.0/24"),
      route("198.19.5.0/24", "198.19.0.1"),
      route("198.19.6.0/24"),
      route("fd00:77::/64", "fd5b:1c20:a311:fca1:ca99:9300:0:1"),
    ];
    await sync(["198.19.0.114/24", six], routes);
    rep.addrs1 = await addrsOf(name);
    rep.routes1 = await routesOf(name);
    await sync(["198.19.0.115/24"], [route("198.19.0.0/24"), route("198.19.6.0/24")]);
    rep.addrs2 = await addrsOf(name);
    rep.routes2 = await routesOf(name);
    rep.syncFailures = failures;

    // Frames: ARP request → ARP reply; ICMP echo → echo reply.
    let perfReplies = 0;
    tap.onFrame((f) => {
      const type = (f[12] << 8) | f[13];
      if (type === 0x0806 && f.length >= 42 && f[21] === 2 && !rep.arpReply) {
        rep.arpReply = {
          senderMac: hexMac(f, 22),
          senderIp: ipText(f, 28),
          targetMac: hexMac(f, 32),
          targetIp: ipText(f, 38),
        };
      } else if (type === 0x0800 && f[23] === 1 && f[34] === 0) {
        const seq = (f[40] << 8) | f[41];
        if (seq === 0 && !rep.echoReply) {
          const ipLen = (f[16] << 8) | f[17];
          rep.echoReply = {
            dstMac: hexMac(f, 0),
            srcIp: ipText(f, 26),
            id: (f[38] << 8) | f[39],
            payload: decoder.decode(f.subarray(42, 14 + ipLen)),
            checksumOk: inetChecksum(f, 34, 14 + ipLen) === 0 && inetChecksum(f, 14, 34) === 0,
          };
        } else perfReplies++;
      }
    });
    const target = [198, 19, 0, 115];
    tap.write(arpRequest(target));
    await until(() => rep.arpReply !== undefined, 3000);
    const payload = new TextEncoder().encode("zt tap probe");
    const echo0 = echoRequest(macBytes, target, 0, payload);
    // Write from an offset inside a bigger buffer, as the node does.
    const big = new Uint8Array(echo0.length + 20);
    big.set(echo0, 10);
    tap.write(big, 10, 10 + echo0.length);
    await until(() => rep.echoReply !== undefined, 3000);

    // A rehearsed write (Core.rehearse) reaches nothing: no interface counter moves, the kernel
    // answers nothing, the device counts nothing; the same frame written for real is answered.
    const stats = () =>
      ["rx_packets", "rx_bytes", "rx_errors", "rx_dropped"].map((k) =>
        Number(Deno.readTextFileSync(`/sys/class/net/${name}/statistics/${k}`).trim())
      );
    const writes = () => {
      const o = tap.offloadCounters;
      return JSON.stringify([tap.counters.framesWritten, tap.counters.writeErrors, o]);
    };
    const echo1 = echoRequest(macBytes, target, 9999, payload);
    const s0 = stats(), w0 = writes(), r0 = perfReplies;
    for (let i = 0; i < 10; i++) tap.rehearseWrite?.(echo1);
    await new Promise((r) => setTimeout(r, 100));
    const s1 = stats(), w1 = writes(), r1 = perfReplies;
    tap.write(echo1);
    await until(() => perfReplies > r1, 3000);
    rep.rehearsal = {
      has: typeof tap.rehearseWrite === "function",
      statsSame: JSON.stringify(s0) === JSON.stringify(s1),
      writesSame: w0 === w1,
      answered: r1 - r0,
      rxPacketsAfterWrite: stats()[0] - s1[0],
    };
    perfReplies = 0;

    rep.groups = tap.multicastGroups().map((g) =>
      `${g.mac.toString(16).padStart(12, "0")}/${g.adi.toString(16)}`
    );

    // Second open of the same name.
    try {
      LinuxTapDevice.open(name, mac, 2800).close();
      rep.busyError = "(opened twice!)";
    } catch (e) {
      rep.busyError = (e as Error).message;
    }

    // Throughput: batches of echo requests, yielding between batches so the read loop drains.
    const frames = Array.from(
      { length: 256 },
      (_, i) => echoRequest(macBytes, target, i + 1, payload),
    );
    const pollsBefore = tap.counters.polls;
    const t0 = performance.now();
    let sent = 0;
    while (performance.now() - t0 < 2000 && sent < 2_000_000) {
      for (const f of frames) tap.write(f);
      sent += frames.length;
      await new Promise((r) => setImmediate(r));
    }
    await until(() => perfReplies >= sent, 500);
    rep.perf = {
      sent,
      replies: perfReplies,
      ms: performance.now() - t0,
      polls: tap.counters.polls - pollsBefore,
    };

    await sync(["198.19.0.115/24"], [route("198.19.6.0/24")], {
      ...DEFAULT_MANAGED_POLICY,
      allowManaged: false,
    });
    rep.addrs3 = await addrsOf(name);
    rep.routes3 = await routesOf(name);
  } finally {
    await tap.close();
  }
  rep.goneAfterClose = (await run(["ip", "link", "show", "dev", name])).code !== 0;
  return rep;
}

async function errorProbe(): Promise<{ error: string }> {
  const tap = createTap();
  try {
    await tap.open("zterrtest", 0x32aabbccddee, 2800);
    await tap.close();
    return { error: "(opened!)" };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

if (import.meta.main) {
  const mode = Deno.args[0];
  const out = mode === "probe"
    ? await probe()
    : mode === "error"
    ? await errorProbe()
    : { error: "bad mode" };
  console.log(JSON.stringify(out));
}

Deno.test("tap: a permission error names its cause (/dev/net/tun's mode and owner, or CAP_NET_ADMIN)", () => {
  const st = { mode: 0o20600, uid: 0, gid: 0 } as Deno.FileInfo;
  const open = permissionCause("open /dev/net/tun", () => st, 1000);
  assert.match(open, /opening \/dev\/net\/tun \(mode 0600, owner uid 0 gid 0; this process runs/);
  assert.match(open, /as uid 1000\): run as root/);
  assert.match(
    permissionCause("ioctl(TUNSETIFF)", () => st, 1000),
    /at ioctl\(TUNSETIFF\): creating and configuring interfaces needs CAP_NET_ADMIN/,
  );
  const gone = permissionCause("open /dev/net/tun", () => {
    throw new Deno.errors.NotFound("x");
  }, 1000);
  assert.match(gone, /permission denied opening \/dev\/net\/tun: run as root/);
});
