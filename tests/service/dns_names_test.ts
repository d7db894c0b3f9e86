// Tests for src/service/dns_names.ts: which addresses serve which network, renames and removals, unbinding.
import assert from "node:assert/strict";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import { MemberNameServer, nameServerAddresses } from "../../src/service/dns_names.ts";
import { Logger } from "../../src/service/logger.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import type { NetworkInfo } from "../../src/vl2/network.ts";
import { labController } from "../controller/helpers.ts";
import { freePort, q, udpQuery } from "../helpers/dns_client.ts";

function setup() {
  const { ctl, clock } = labController(new MemoryStore());
  const nwid = ctl.address + "000001";
  const r = ctl.postNetwork(nwid, {
    dns: { domain: "zt.example", servers: ["127.0.0.1"] },
    v4AssignMode: { zt: true },
  });
  assert.ok(r.ok);
  for (
    const [id, name, ip] of [["aaaaaaaaaa", "alice", "198.19.1.2"], [
      "bbbbbbbbbb",
      "bob",
      "198.19.1.3",
    ]]
  ) {
    assert.ok(ctl.postMember(nwid, id, { authorized: true, name, ipAssignments: [ip] }).ok);
  }
  const info = {
    nwid: BigInt("0x" + nwid),
    config: {},
    assignedAddresses: [InetAddress.fromIp("127.0.0.1", 8)!, InetAddress.fromIp("fd00::1", 88)!],
  } as unknown as NetworkInfo;
  const lines: string[] = [];
  const log = new Logger("debug", (_l, m) => lines.push(m));
  return { ctl, clock, nwid, info, log, lines };
}

Deno.test("nameServerAddresses: our assigned addresses that dns.servers lists", () => {
  const { ctl, nwid, info } = setup();
  assert.deepEqual(nameServerAddresses(ctl, info), ["127.0.0.1"]);
  ctl.postNetwork(nwid, { dns: { domain: "zt.example", servers: ["fd00::1", "127.0.0.1"] } });
  assert.deepEqual(nameServerAddresses(ctl, info), ["127.0.0.1", "fd00::1"]);
  ctl.postNetwork(nwid, { dns: { domain: "zt.example", servers: ["198.19.9.9"] } });
  assert.deepEqual(nameServerAddresses(ctl, info), []);
  ctl.postNetwork(nwid, { dns: [] });
  assert.deepEqual(nameServerAddresses(ctl, info), []);
  const other = { ...info, nwid: 0x1234567890000001n } as NetworkInfo;
  assert.deepEqual(nameServerAddresses(ctl, other), []);
});

Deno.test("MemberNameServer: serves while listed; renames, deauthorization, deletion show at once", async () => {
  const { ctl, clock, nwid, info, log, lines } = setup();
  const port = freePort();
  let joined = [info];
  const s = new MemberNameServer({
    controller: ctl,
    networks: () => joined,
    log,
    now: () => clock.t,
    server: { port },
  });
  try {
    await s.settled();
    assert.deepEqual([...s.bindings()], [["127.0.0.1", nwid]]);
    assert.ok(
      lines.some((l) => l.includes("dns: answering for network") && l.includes("zt.example")),
    );
    assert.equal((await udpQuery(port, q("bob.zt.example"))).answers[0].data, "198.19.1.3");

    ctl.postMember(nwid, "bbbbbbbbbb", { name: "robert" });
    assert.equal((await udpQuery(port, q("bob.zt.example"))).rcode, "NXDOMAIN");
    assert.equal((await udpQuery(port, q("robert.zt.example"))).answers[0].data, "198.19.1.3");

    ctl.postMember(nwid, "bbbbbbbbbb", { authorized: false });
    assert.equal((await udpQuery(port, q("robert.zt.example"))).rcode, "NXDOMAIN");
    assert.equal((await udpQuery(port, q("bbbbbbbbbb.zt.example"))).rcode, "NXDOMAIN");

    ctl.deleteMember(nwid, "aaaaaaaaaa");
    assert.equal((await udpQuery(port, q("alice.zt.example"))).rcode, "NXDOMAIN");

    // a change the controller does not announce still shows within ZONE_MAX_AGE_MS
    ctl.store.saveMember({ ...ctl.getMember(nwid, "bbbbbbbbbb")!, authorized: true });
    clock.t += 1000;
    assert.equal((await udpQuery(port, q("robert.zt.example"))).answers[0].data, "198.19.1.3");

    // no longer listed in dns.servers: stops answering
    ctl.postNetwork(nwid, { dns: { domain: "zt.example", servers: ["198.19.9.9"] } });
    await s.settled();
    assert.deepEqual([...s.bindings()], []);
    assert.ok(lines.some((l) => l.includes("dns: stopped answering")));

    // listed again, then the network is left
    ctl.postNetwork(nwid, { dns: { domain: "zt.example", servers: ["127.0.0.1"] } });
    await s.settled();
    assert.equal(s.bindings().size, 1, lines.join("\n"));
    joined = [];
    s.reconcile();
    await s.settled();
    assert.equal(s.bindings().size, 0);
  } finally {
    await s.close();
  }
});
