// Tests of the port mapper: NAT-PMP then UPnP fallback, renewal, removal on stop, backoff; NAT-PMP over the wire to a fake gateway on loopback.
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { Logger } from "../../src/service/logger.ts";
import {
  defaultGateway,
  type Mapping,
  type MappingMethod,
  natPmpMethod,
  PortMapper,
} from "../../src/service/port_mapper.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { until } from "../helpers/relay_peer.ts";

const log = new Logger("error");

/** A fake method: counts calls, fails while `fail` is set. */
function fake(name: "nat-pmp" | "upnp", ext: string, fail = false) {
  const m = {
    name,
    fail,
    maps: 0,
    unmaps: 0,
    closed: 0,
    map(_s: AbortSignal): Promise<InetAddress> {
      m.maps++;
      return m.fail
        ? Promise.reject(new Error("refused"))
        : Promise.resolve(InetAddress.parse(ext)!);
    },
    unmap(_s: AbortSignal): Promise<void> {
      m.unmaps++;
      return Promise.resolve();
    },
    close(): Promise<void> {
      m.closed++;
      return Promise.resolve();
    },
  };
  return m satisfies MappingMethod;
}

Deno.test("default gateway is read from /proc/net/route's host-order words", () => {
  const text = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n" +
    "eth0\t000012C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\n" +
    "eth0\t00000000\t010512C6\t0003\t0\t0\t0\t00000000\n";
  assert.deepEqual(defaultGateway(text), { gateway: "198.18.5.1", iface: "eth0" });
  assert.equal(defaultGateway("Iface\tDestination\n"), undefined);
});

Deno.test("NAT-PMP refused: UPnP maps; the mapping is renewed and removed on stop", async () => {
  const pmp = fake("nat-pmp", "192.0.0.77/30000", true);
  const upnp = fake("upnp", "192.0.0.77/30001");
  const changes: (Mapping | undefined)[] = [];
  const pm = new PortMapper({
    port: 30000,
    description: "ZeroTier/0123456789@30000",
    log,
    refreshMs: 50,
    methods: () => [pmp, upnp],
    onChange: (m) => changes.push(m),
  });
  try {
    assert.ok(await until(() => upnp.maps >= 3), "renewed");
    assert.equal(pm.mapping?.method, "upnp");
    assert.equal(pm.mapping?.external.toString(), "192.0.0.77/30001");
    assert.equal(changes.length, 1, "renewals with the same result are not changes");
    assert.equal(pmp.maps, 1, "the method that worked is tried first afterwards");
  } finally {
    await pm.stop();
  }
  const after = upnp.maps;
  assert.equal(upnp.unmaps, 1);
  assert.equal(pmp.unmaps, 0);
  assert.equal(pm.mapping, undefined);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(upnp.maps, after, "nothing after stop");
});

Deno.test("a gateway that starts refusing: the mapping is reported lost, then found again", async () => {
  const pmp = fake("nat-pmp", "192.0.0.77/30000");
  const changes: (string | undefined)[] = [];
  const pm = new PortMapper({
    port: 30000,
    description: "d",
    log,
    refreshMs: 30,
    retryMs: [10, 40],
    methods: () => [pmp],
    onChange: (m) => changes.push(m?.external.toString()),
  });
  try {
    assert.ok(await until(() => changes.length === 1));
    pmp.fail = true;
    assert.ok(await until(() => changes.length === 2));
    assert.equal(changes[1], undefined);
    // the methods are closed after the retry pause that follows the loss (not at the loss itself)
    assert.ok(await until(() => pmp.closed >= 1), "methods rebuilt after a failure");
    pmp.fail = false;
    assert.ok(await until(() => changes.length === 3));
    assert.equal(changes[2], "192.0.0.77/30000");
  } finally {
    await pm.stop();
  }
});

Deno.test("no gateway: retries with backoff, stop ends it", async () => {
  let asked = 0;
  const pm = new PortMapper({
    port: 30000,
    description: "d",
    log,
    retryMs: [5, 20],
    methods: () => {
      asked++;
      return undefined;
    },
    onChange: () => assert.fail("no mapping"),
  });
  assert.ok(await until(() => asked >= 4));
  await pm.stop();
  const n = asked;
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(asked, n);
});

Deno.test("NAT-PMP on the wire: map with the lease, renew, delete on stop (fake gateway on loopback)", async () => {
  const gw = dgram.createSocket({ type: "udp4" });
  const requests: { op: number; internal: number; external: number; lifetime: number }[] = [];
  gw.on("message", (m: Uint8Array, r: dgram.RemoteInfo) => {
    const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
    const op = m[1];
    if (op === 0) {
      // public address: 192.0.0.77
      gw.send(new Uint8Array([0, 128, 0, 0, 0, 0, 0, 1, 192, 0, 0, 77]), r.port, r.address);
      return;
    }
    const internal = v.getUint16(4);
    const external = v.getUint16(6);
    const lifetime = v.getUint32(8);
    requests.push({ op, internal, external, lifetime });
    const resp = new Uint8Array(16);
    const w = new DataView(resp.buffer);
    resp[1] = 128 + op;
    w.setUint32(4, 1);
    w.setUint16(8, internal);
    w.setUint16(10, lifetime === 0 ? 0 : external);
    w.setUint32(12, lifetime);
    gw.send(resp, r.port, r.address);
  });
  await new Promise<void>((res) => gw.bind(5351, "127.0.0.1", () => res()));
  const changes: string[] = [];
  const pm = new PortMapper({
    port: 34567,
    description: "ZeroTier/0123456789@34567",
    log,
    refreshMs: 300,
    methods: () => [natPmpMethod("127.0.0.1", "10.1.2.3", 34567, 240)],
    onChange: (m) => changes.push(String(m?.external)),
  });
  try {
    assert.ok(await until(() => requests.length >= 2, 8000), "mapped and renewed");
    assert.deepEqual(changes, ["192.0.0.77/34567"]);
    for (const q of requests) {
      assert.deepEqual(q, { op: 1, internal: 34567, external: 34567, lifetime: 240 });
    }
  } finally {
    await pm.stop();
    gw.close();
  }
  const last = requests.at(-1)!;
  assert.equal(last.op, 1, "the UDP mapping is deleted (not a TCP one)");
  assert.equal(last.lifetime, 0);
});
