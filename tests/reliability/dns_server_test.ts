// Reliability of the member-name DNS listener (src/service/dns_server.ts) on loopback: fuzzed datagrams and TCP messages, many TCP connections, slow clients.
import assert from "node:assert/strict";
import * as dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
import { buildZone, type Zone } from "../../src/controller/dns_zone.ts";
import { framed, q, startServer, tcpRead, udpQuery } from "../helpers/dns_client.ts";
import { seededRandom } from "../helpers/seeded_random.ts";

function zone(): Zone {
  return buildZone({ id: "8056c2e21c000001", dns: { domain: "zt.example", servers: [] } }, [
    { id: "bbbbbbbbbb", name: "bob", authorized: true, ipAssignments: ["198.19.1.3"] },
  ]);
}

/** Polls `cond` every 20 ms for at most `ms`. */
async function until(cond: () => boolean, ms = 10_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

/** A read that resolves to "closed" at end of stream or reset, bounded by `ms`. */
async function closedWithin(c: Deno.Conn, ms: number): Promise<boolean> {
  const buf = new Uint8Array(4096);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      c.read(buf).then((n) => (n === null ? "closed" : "data")).catch(() => "closed"),
      new Promise<string>((res) => timer = setTimeout(() => res("wait"), end - Date.now())),
    ]);
    clearTimeout(timer);
    if (r === "closed") return true;
    if (r === "wait") return false;
  }
  return false;
}

Deno.test("dns server: 5000 fuzzed datagrams, then still answers", async () => {
  const z = zone();
  const { server, port } = await startServer(() => [z]);
  const s = dgram.createSocket("udp4");
  try {
    const rnd = seededRandom(99);
    const base = q("bob.zt.example");
    let replies = 0;
    s.on("message", () => replies++);
    for (let i = 0; i < 5000; i++) {
      const r = rnd(3);
      let b: Uint8Array;
      if (r[0] & 1) {
        b = rnd(r[1] % 300);
      } else {
        b = base.slice(0, Math.max(1, base.length - (r[1] % 8)));
        const p = rnd(2);
        b[p[0] % b.length] = p[1];
        if (b.length > 2) b[2] &= 0x7f; // a query, so the decoder runs
      }
      s.send(b, port, "127.0.0.1");
      if (i % 200 === 199) await new Promise((res) => setTimeout(res, 5));
    }
    assert.ok(await until(() => server.stats.udpQueries >= 4000), `${server.stats.udpQueries}`);
    const a = await udpQuery(port, q("bob.zt.example"));
    assert.equal(a.answers[0].data, "198.19.1.3");
    assert.ok(replies > 0);
  } finally {
    s.close();
    await server.close();
  }
});

Deno.test("dns server: fuzzed TCP messages get answers or a closed connection, never a stall", async () => {
  const z = zone();
  const { server, port } = await startServer(() => [z], { tcpTimeoutMs: 2000 });
  try {
    const rnd = seededRandom(5);
    for (let i = 0; i < 200; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        const r = rnd(2);
        const body = r[0] & 1
          ? rnd(r[1])
          : q("bob.zt.example").map((v, k) => k === (r[1] % 30) ? v ^ 0x5a : v);
        await c.write(framed(body));
        let timer: ReturnType<typeof setTimeout> | undefined;
        const got = await Promise.race([
          tcpRead(c).catch(() => undefined),
          new Promise<"stall">((res) => timer = setTimeout(() => res("stall"), 8000)),
        ]);
        clearTimeout(timer);
        assert.notEqual(got, "stall");
        if (got) dnsPacket.decode(Buffer.from(got)); // whatever comes back parses
      } finally {
        c.close();
      }
    }
    const a = await udpQuery(port, q("bob.zt.example"));
    assert.equal(a.answers[0].data, "198.19.1.3");
  } finally {
    await server.close();
  }
});

Deno.test("dns server: TCP connection cap; over it connections are closed, the server recovers", async () => {
  const z = zone();
  const { server, port } = await startServer(() => [z], { maxTcpConnections: 8 });
  const conns: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 40; i++) conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    assert.ok(await until(() => server.stats.tcpAccepted + server.stats.tcpRejected >= 40));
    assert.equal(server.stats.tcpAccepted, 8);
    assert.equal(server.stats.tcpRejected, 32);
    assert.ok(server.openConnections <= 8);
  } finally {
    for (const c of conns) c.close();
  }
  try {
    assert.ok(await until(() => server.openConnections === 0));
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await c.write(framed(q("bob.zt.example")));
      const r = dnsPacket.decode(Buffer.from((await tcpRead(c))!));
      assert.equal(r.answers[0].data, "198.19.1.3");
    } finally {
      c.close();
    }
  } finally {
    await server.close();
  }
});

Deno.test("dns server: slow and idle clients are cut off; a connection's query quota is bounded", async () => {
  const z = zone();
  const { server, port } = await startServer(() => [z], { tcpTimeoutMs: 300, tcpMaxQueries: 5 });
  try {
    const idle = await Deno.connect({ hostname: "127.0.0.1", port });
    const slow = await Deno.connect({ hostname: "127.0.0.1", port });
    await slow.write(framed(q("bob.zt.example")).subarray(0, 5)); // half a query, then silence
    assert.ok(await closedWithin(idle, 10_000), "idle connection not closed");
    assert.ok(await closedWithin(slow, 10_000), "slow connection not closed");
    idle.close();
    slow.close();
    assert.ok(server.stats.tcpTimedOut >= 2);

    const busy = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      for (let i = 0; i < 5; i++) {
        await busy.write(framed(q("bob.zt.example", "A", i)));
        const r = dnsPacket.decode(Buffer.from((await tcpRead(busy))!));
        assert.equal(r.id, i);
      }
      assert.ok(await closedWithin(busy, 10_000), "connection open past its quota");
    } finally {
      busy.close();
    }
    assert.ok(await until(() => server.openConnections === 0));
  } finally {
    await server.close();
  }
});
