// Tests for src/service/dns_server.ts: answers over UDP and TCP on loopback, zones looked up per query, unbind.
import assert from "node:assert/strict";
import * as dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
import { buildZone, type Zone } from "../../src/controller/dns_zone.ts";
import { DnsServer } from "../../src/service/dns_server.ts";
import { framed, freePort, q, startServer, tcpRead, udpQuery } from "../helpers/dns_client.ts";

function zoneWith(name: string): Zone {
  return buildZone({ id: "8056c2e21c000001", dns: { domain: "zt.example", servers: [] } }, [
    { id: "bbbbbbbbbb", name, authorized: true, ipAssignments: ["198.19.1.3"] },
  ]);
}

Deno.test("DnsServer: answers over UDP and TCP; zone changes apply to the next query", async () => {
  let z = zoneWith("bob");
  const { server, port } = await startServer(() => [z]);
  try {
    assert.deepEqual(server.bound(), ["127.0.0.1"]);
    const a = await udpQuery(port, q("bob.zt.example"));
    assert.equal(a.rcode, "NOERROR");
    assert.equal(a.answers[0].data, "198.19.1.3");
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await c.write(framed(q("bob.zt.example", "A", 1)));
      await c.write(framed(q("nobody.zt.example", "A", 2)));
      const r1 = dnsPacket.decode(Buffer.from((await tcpRead(c))!));
      const r2 = dnsPacket.decode(Buffer.from((await tcpRead(c))!));
      assert.equal(r1.id, 1);
      assert.equal(r1.answers[0].data, "198.19.1.3");
      assert.equal(r2.id, 2);
      assert.equal(r2.rcode, "NXDOMAIN");
    } finally {
      c.close();
    }
    z = zoneWith("robert");
    assert.equal((await udpQuery(port, q("bob.zt.example"))).rcode, "NXDOMAIN");
    assert.equal((await udpQuery(port, q("robert.zt.example"))).answers[0].data, "198.19.1.3");
    assert.equal((await udpQuery(port, q("example.com"))).rcode, "REFUSED");
    assert.equal(server.stats.rcodes.get(5), 1);
    await server.bind("127.0.0.1"); // already bound: no-op
  } finally {
    await server.close();
  }
  assert.deepEqual(server.bound(), []);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
});

Deno.test("DnsServer: bind fails cleanly on an address this host does not have", async () => {
  const server = new DnsServer({ zones: () => [], port: freePort() });
  await assert.rejects(server.bind("198.18.250.250"));
  assert.deepEqual(server.bound(), []);
  await server.close();
});

Deno.test("DnsServer: IPv6 address (::1), UDP and TCP", async () => {
  const z = zoneWith("bob");
  const port = freePort();
  const server = new DnsServer({ zones: (ip) => (ip === "::1" ? [z] : []), port });
  try {
    await server.bind("::1");
  } catch (e) {
    await server.close();
    if (e instanceof Error && /EADDRNOTAVAIL|EAFNOSUPPORT|not available/i.test(e.message)) {
      console.log(`no IPv6 loopback here (${e.message}); skipped`);
      return;
    }
    throw e;
  }
  try {
    const s = dgram.createSocket("udp6");
    const got = await new Promise<Uint8Array>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no answer in 5 s")), 5000);
      s.on("message", (m: Uint8Array) => {
        clearTimeout(t);
        resolve(m);
      });
      s.send(q("bob.zt.example"), port, "::1");
    });
    s.close();
    assert.equal(dnsPacket.decode(Buffer.from(got)).answers[0].data, "198.19.1.3");
    const c = await Deno.connect({ hostname: "::1", port });
    try {
      await c.write(framed(q("bob.zt.example", "AAAA")));
      const r = dnsPacket.decode(Buffer.from((await tcpRead(c))!));
      assert.equal(r.rcode, "NOERROR");
      assert.equal(r.answers.length, 0);
    } finally {
      c.close();
    }
  } finally {
    await server.close();
  }
});
