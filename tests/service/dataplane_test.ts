// The service data plane over a fake TAP: port up on config (name/MAC/MTU), managed sync per local conf, frames both ways, multicast polling, leave/stop, port errors.
import assert from "node:assert/strict";
import { fixtureBytes } from "../fixtures.ts";
import { TapError } from "../../ffi/tap_linux.ts";
import { DataPlane, managedPolicy, PORT_ERROR_CODE } from "../../src/service/dataplane.ts";
import { Logger } from "../../src/service/logger.ts";
import type { ManagedPolicy, SystemRoute } from "../../src/service/managed_diff.ts";
import type { ApplyReport } from "../../src/service/managed_routes.ts";
import type { FrameCallback, MulticastSubscription, Tap } from "../../src/service/tap.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { Verb } from "../../src/vl1/packet.ts";
import { decodeFrame } from "../../src/vl1/verbs/frame.ts";
import { macFromAddress } from "../../src/vl2/mac.ts";
import type { Route } from "../../src/vl2/network_config.ts";
import { Frames } from "../../src/vl2/frames.ts";
import { Networks } from "../../src/vl2/networks.ts";
import { A, B, ethFrame, FakeNode as DpNode, seededRandom } from "../vl2/data_plane_helpers.ts";
import { FakeNode, lab, LAB_NET, MemHost } from "../vl2/network_helpers.ts";

const STORED = fixtureBytes("homes/a/networks.d/5b1c20a311fca1ca.conf");

/** A TAP stand-in recording what the data plane does to it. */
class FakeTap implements Tap {
  deviceName = "";
  counters = { framesRead: 0, framesWritten: 0, writeErrors: 0, polls: 0, callbackErrors: 0 };
  addresses: InetAddress[] = [];
  routes: SystemRoute[] = [];
  opened: { name: string; mac: number; mtu: number } | undefined;
  syncs: { assigned: string[]; routes: string[]; policy: ManagedPolicy }[] = [];
  written: Uint8Array[] = [];
  mtus: number[] = [];
  groups: MulticastSubscription[] = [];
  closed = false;
  onFrameCb: FrameCallback | undefined;
  failOpen: Error | undefined;

  open(name: string, mac: number | Uint8Array, mtu: number): Promise<void> {
    if (this.failOpen) return Promise.reject(this.failOpen);
    this.deviceName = name;
    this.opened = { name, mac: mac as number, mtu };
    return Promise.resolve();
  }
  write(frame: Uint8Array, start = 0, end = frame.length): boolean {
    this.written.push(frame.slice(start, end));
    return true;
  }
  onFrame(cb: FrameCallback): void {
    this.onFrameCb = cb;
  }
  setMtu(mtu: number): void {
    this.mtus.push(mtu);
  }
  setAddresses(): Promise<ApplyReport> {
    return Promise.resolve({ ran: [], failed: [] });
  }
  setRoutes(): Promise<ApplyReport> {
    return Promise.resolve({ ran: [], failed: [] });
  }
  syncManaged(assigned: InetAddress[], routes: Route[], policy: ManagedPolicy) {
    this.syncs.push({
      assigned: assigned.map((a) => a.toString()),
      routes: routes.map((r) => r.target.toString()),
      policy,
    });
    return Promise.resolve({ ran: [["addr", "add"]], failed: [] });
  }
  multicastGroups(): MulticastSubscription[] {
    return this.groups.slice();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/**
 * Networks and Frames over fake nodes, wired to a DataPlane (whose taps are {@link FakeTap}s) as
 * the core wires them: frames written through `dp.tapWrite`, a configured network's change
 * announced to Frames before the data plane hears of it.
 */
function setup(failOpen?: Error, failCreate?: Error) {
  const lines: string[] = [];
  const log = new Logger("debug", (_l, line) => lines.push(line));
  const host = new MemHost();
  const networks = new Networks({ node: new FakeNode(lab("a")), host });
  const dpNode = new DpNode(A);
  const taps: FakeTap[] = [];
  const dp = new DataPlane({
    log,
    now: () => 1000,
    createTap: () => {
      if (failCreate) throw failCreate;
      const t = new FakeTap();
      t.failOpen = failOpen;
      taps.push(t);
      return t;
    },
    deviceName: (nwid) => `zt${nwid.toString(16).slice(-6)}`,
    multicastPollMs: 60_000,
  });
  const frames = new Frames({
    node: dpNode,
    networks,
    random: seededRandom(7),
    tapWrite: dp.tapWrite,
  });
  networks.frameHandler = frames;
  dp.attach({
    tapFrame: (now, nwid, f, s, e) => frames.tapFrame(now, nwid, f, s, e),
    multicastGroupsChanged: (now, nwid, groups) => {
      frames.multicastGroupsChanged(nwid, groups);
      frames.networkChanged(now, nwid);
    },
    network: (nwid) => networks.get(nwid),
  });
  host.onNetworkChanged = (nwid, info) => {
    if (info?.config) frames.networkChanged(1000, nwid);
    dp.onNetworkChanged(nwid, info);
  };
  return { networks, dp, dpNode, frames, taps, lines };
}

Deno.test("dataplane: a configured network gets a port (name, MAC, MTU) and its managed addresses", async () => {
  const { networks, dp, taps } = setup();
  try {
    const nw = networks.join(0, LAB_NET, { storedConfig: STORED });
    await dp.idle();
    assert.equal(taps.length, 1, "one tap for one network");
    const t = taps[0];
    const nc = nw.config!;
    assert.deepEqual(t.opened, { name: "ztfca1ca", mac: macFromAddress(A, LAB_NET), mtu: nc.mtu });
    assert.equal(nw.info().portDeviceName, "ztfca1ca");
    assert.equal(nw.status, "OK");
    assert.equal(dp.deviceNames().get(LAB_NET), "ztfca1ca");
    const last = t.syncs.at(-1)!;
    assert.deepEqual(last.assigned, nc.staticIps.map((a) => a.toString()));
    assert.ok(last.assigned.length > 0, "the recorded config assigns addresses");
    assert.deepEqual(last.routes, nc.routes.map((r) => r.target.toString()));
    assert.deepEqual(last.policy, { allowManaged: true, allowGlobal: false, allowDefault: false });

    // local settings change → re-sync under the new policy; no second tap
    networks.setLocalConf(LAB_NET, { allowManaged: false, allowGlobal: true });
    await dp.idle();
    assert.equal(taps.length, 1);
    assert.deepEqual(t.syncs.at(-1)!.policy, {
      allowManaged: false,
      allowGlobal: true,
      allowDefault: false,
    });
  } finally {
    await dp.close();
  }
});

Deno.test("dataplane: frames flow tap → FRAME and delivered frames → tap; multicast groups polled", async () => {
  const { networks, dp, dpNode, frames, taps } = setup();
  try {
    const nw = networks.join(0, LAB_NET, { storedConfig: STORED });
    const groups = [{ mac: 0x3333ff000001, adi: 0 }];
    await dp.idle();
    const t = taps[0];
    // a unicast frame from our MAC to b's MAC leaves as a FRAME to b
    const payload = new Uint8Array(60).fill(0x42);
    t.onFrameCb!(ethFrame(macFromAddress(B, LAB_NET), nw.mac, 0x0800, payload));
    const sent = dpNode.of(Verb.FRAME, B);
    assert.equal(sent.length, 1);
    const f = decodeFrame(sent[0].payload)!;
    assert.equal(f.networkId, LAB_NET);
    assert.equal(f.etherType, 0x0800);
    assert.deepEqual(sent[0].payload.subarray(f.payloadStart, f.payloadEnd), payload);
    // what the frame layer delivers is written to the tap
    const frame = ethFrame(nw.mac, macFromAddress(B, LAB_NET), 0x0800, payload);
    frames.tapWrite(LAB_NET, frame, 0, frame.length);
    assert.deepEqual(t.written, [frame]);
    frames.tapWrite(0x1234n, frame, 0, frame.length);
    assert.equal(t.written.length, 1, "frames of other networks go nowhere");
    // kernel groups reach the network (polled after each sync)
    t.groups = groups;
    networks.setLocalConf(LAB_NET, { allowDNS: true });
    await dp.idle();
    assert.deepEqual(nw.info().multicastSubscriptions, groups);
    assert.ok(
      frames.multicast.ourGroups(nw).some((g) => g.mac === groups[0].mac),
      "the frame layer subscribes to the tap's groups",
    );
  } finally {
    await dp.close();
  }
});

Deno.test("dataplane: leave closes the port; stop closes the rest; no port without a config", async () => {
  const { networks, dp, taps } = setup();
  networks.join(0, LAB_NET, { storedConfig: STORED });
  networks.join(0, 0x5b1c20a311000001n); // no config yet: no port
  await dp.idle();
  assert.equal(taps.length, 1);
  assert.equal(networks.get(0x5b1c20a311000001n)!.info().portDeviceName, "");
  dp.tapWrite(LAB_NET, new Uint8Array(60), 0, 60);
  assert.equal(taps[0].written.length, 1);
  networks.leave(0, LAB_NET);
  await dp.idle();
  assert.equal(taps[0].closed, true);
  assert.equal(dp.deviceNames().size, 0);
  dp.tapWrite(LAB_NET, new Uint8Array(60), 0, 60);
  assert.equal(taps[0].written.length, 1, "a left network's port gets no more frames");
  // rejoin → a fresh port (frames go to it, never to the old one); close() on stop closes it
  networks.join(0, LAB_NET, { storedConfig: STORED });
  await dp.idle();
  assert.equal(taps.length, 2);
  dp.tapWrite(LAB_NET, new Uint8Array(60), 0, 60);
  assert.equal(taps[1].written.length, 1);
  assert.equal(taps[0].written.length, 1);
  await dp.close();
  assert.equal(taps[1].closed, true);
  dp.tapWrite(LAB_NET, new Uint8Array(60), 0, 60);
  assert.equal(taps[1].written.length, 1, "after stop, frames the core delivers go nowhere");
});

Deno.test("dataplane: a port that cannot be created → PORT_ERROR, a clear log line, no retries", async () => {
  const err = new TapError(
    "zt: cannot create TAP device zt1: open /dev/net/tun: Permission denied",
  );
  const { networks, dp, taps, lines } = setup(err);
  try {
    const nw = networks.join(0, LAB_NET, { storedConfig: STORED });
    await dp.idle();
    assert.equal(nw.portError, PORT_ERROR_CODE);
    assert.equal(nw.status, "PORT_ERROR");
    assert.equal(nw.info().portDeviceName, "");
    const line = lines.find((l) => l.includes("cannot create its interface"));
    assert.ok(line, lines.join("\n"));
    assert.match(line, /5b1c20a311fca1ca/);
    assert.match(line, /Permission denied/);
    networks.setLocalConf(LAB_NET, { allowGlobal: true });
    await dp.idle();
    assert.equal(taps.length, 1, "not retried on every change");
  } finally {
    await dp.close();
  }
});

Deno.test("dataplane: managedPolicy copies the allow flags and the whitelist", () => {
  assert.deepEqual(
    managedPolicy({ allowManaged: true, allowGlobal: true, allowDefault: false, allowDNS: true }),
    { allowManaged: true, allowGlobal: true, allowDefault: false },
  );
  const wl = [InetAddress.parse("198.19.0.0/16")!];
  assert.deepEqual(
    managedPolicy({
      allowManaged: true,
      allowGlobal: false,
      allowDefault: true,
      allowDNS: false,
      allowManagedWhitelist: wl,
    }).allowManagedWhitelist,
    wl,
  );
});

Deno.test("dataplane: no TAP support on this OS → PORT_ERROR too", async () => {
  const { networks, dp, lines } = setup(undefined, new Error("TAP devices are only for Linux"));
  try {
    const nw = networks.join(0, LAB_NET, { storedConfig: STORED });
    await dp.idle();
    assert.equal(nw.status, "PORT_ERROR");
    assert.ok(lines.some((l) => l.includes("only for Linux")), lines.join("\n"));
  } finally {
    await dp.close();
  }
});
