// The in-memory role doubles: SimTransport over the simulated internet, MemFramePort, FakeNetConfig.
import assert from "node:assert/strict";
import { FakeNetConfig } from "../../src/sim/fake_net_config.ts";
import { MemFramePort } from "../../src/sim/mem_frame_port.ts";
import { Sim } from "../../src/sim/sim.ts";
import { SimTransport } from "../../src/sim/sim_transport.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";

Deno.test("SimTransport: datagrams cross the sim as socket 0, copied, counted, closed sends fail", () => {
  const sim = new Sim(5);
  const got: [number, string, number[]][] = [];
  const a = new SimTransport(sim.host("90.0.0.1").bind(9993), () => {});
  const b = new SimTransport(sim.host("90.0.0.2").bind(9993), (ls, remote, data) => {
    got.push([ls, remote.toString(), [...data]]);
    if (data[0] === 9) throw new Error("handler bug");
  });
  assert.deepEqual(a.boundAddresses().map(String), ["90.0.0.1/9993"]);
  assert.equal(a.hasWildcard(4), false);
  const to = InetAddress.parse("90.0.0.2/9993")!;
  const buf = new Uint8Array([1, 2, 3]);
  assert.ok(a.send(-1, to, buf));
  buf[0] = 7; // not retained: the copy in flight keeps 1
  assert.ok(a.send(5, to, new Uint8Array([9])));
  sim.clock.runFor(100);
  assert.deepEqual(got, [[0, "90.0.0.1/9993", [1, 2, 3]], [0, "90.0.0.1/9993", [9]]]);
  assert.deepEqual(a.stats, { received: 0, sent: 2, sendErrors: 0, handlerErrors: 0 });
  assert.deepEqual(b.stats, { received: 2, sent: 0, sendErrors: 0, handlerErrors: 1 });
  void a.close();
  assert.equal(a.send(-1, to, buf), false);
  assert.equal(a.stats.sendErrors, 1);
});

Deno.test("MemFramePort: open once, writes recorded as copies, inject → callback then round end, close", async () => {
  const p = new MemFramePort();
  const seen: string[] = [];
  await p.open("zt0", new Uint8Array([0x02, 0, 0, 0, 0, 1]), 2800);
  assert.deepEqual([p.deviceName, p.mac, p.mtu], ["zt0", 0x020000000001, 2800]);
  await assert.rejects(() => p.open("zt1", 1, 1500), /already opened/);
  const f = new Uint8Array([9, 1, 2, 3, 9]);
  assert.ok(p.write(f, 1, 4));
  f[1] = 0;
  assert.deepEqual(p.written.map((x) => [...x]), [[1, 2, 3]]);
  assert.equal(p.inject(f), false, "no callback yet");
  p.onFrame(
    (x) => {
      seen.push(`frame ${x.length}`);
      if (x.length === 1) throw new Error("boom");
    },
    (e) => seen.push(`error ${(e as Error).message}`),
    () => seen.push("round end"),
  );
  assert.ok(p.inject(f));
  assert.ok(p.inject(new Uint8Array(1)));
  assert.deepEqual(seen, ["frame 5", "round end", "frame 1", "error boom", "round end"]);
  p.setMtu(1500);
  assert.equal(p.mtu, 1500);
  await p.close();
  assert.equal(p.write(f), false);
  assert.equal(p.inject(f), false);
});

Deno.test("FakeNetConfig: records each wanted state (copied) and reports the groups it is given", async () => {
  const c = new FakeNetConfig();
  const assigned = [InetAddress.parse("10.1.2.3/24")!];
  const policy = { allowManaged: true, allowGlobal: false, allowDefault: false };
  const r = await c.syncManaged(assigned, [], policy);
  assert.deepEqual(r.failed, []);
  assigned.push(InetAddress.parse("10.9.9.9/8")!);
  policy.allowGlobal = true;
  assert.deepEqual(c.last!.assigned.map(String), ["10.1.2.3/24"]);
  assert.equal(c.last!.policy.allowGlobal, false);
  c.groups = [{ mac: 0xffffffffffff, adi: 0x0a010203 }];
  const g = c.multicastGroups();
  g.pop();
  assert.equal(c.multicastGroups().length, 1);
});
