// overlay_resolver: names under a network's DNS domain asked over an in-memory userspace pair of a fake DNS answerer (A, AAAA, NXDOMAIN, timeout, cache bounds), refusal of other names, connect(name) and the SOCKS5 / HTTP CONNECT proxy with names.
import assert from "node:assert/strict";
import type { Zone } from "../../src/controller/dns_zone.ts";
import {
  answerQuery,
  decodeAddressAnswer,
  encodeAddressQuery,
} from "../../src/service/dns_message.ts";
import { Logger, type LogLevel } from "../../src/service/logger.ts";
import {
  networkDomains,
  OverlayResolver,
  ResolveError,
} from "../../src/service/overlay_resolver.ts";
import { startProxy } from "../../src/service/socks_proxy.ts";
import type { OverlayUdp } from "../../src/service/userspace_net.ts";
import type { NetworkInfo } from "../../src/vl2/network.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { type Pair, userspacePair } from "./userspace_pair.ts";

const ZONE: Zone = {
  nwid: "0000000000000001",
  domain: "zt.test",
  names: new Map([
    ["web.zt.test", { a: ["198.19.0.2"], aaaa: ["fd00::2"] }],
    ["six.zt.test", { a: [], aaaa: ["fd00::2"] }],
  ]),
  ptr: new Map(),
  ttl: 60,
};

/** Serves ZONE on b's UDP port 53; counts the queries it answered. */
function fakeDns(p: Pair): { sock: OverlayUdp; queries: string[] } {
  const sock = p.b.udp(53);
  const queries: string[] = [];
  void (async () => {
    for (;;) {
      let d: Uint8Array, from: Deno.NetAddr;
      try {
        [d, from] = await sock.receive();
      } catch {
        return;
      }
      queries.push(from.hostname);
      const r = answerQuery(d, [ZONE]);
      if (r.bytes) sock.send(r.bytes, from.hostname, from.port);
    }
  })();
  return { sock, queries };
}

const DOMAINS = [{ domain: "zt.test", servers: ["198.19.0.2"] }];

async function rejects(p: Promise<unknown>, kind: string, re: RegExp): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof ResolveError, String(e));
    assert.equal(e.kind, kind);
    assert.match(e.message, re);
    return true;
  });
}

Deno.test("overlay resolver: A, then AAAA, NXDOMAIN, cache, refusal outside the domains", async () => {
  const p = await userspacePair();
  const dns = fakeDns(p);
  try {
    const r = p.a.enableNames(() => DOMAINS, { timeoutMs: 5000 });
    assert.equal(await p.a.resolve("web.zt.test"), "198.19.0.2");
    const asked = r.counters.queries;
    assert.equal(asked, 1);
    // cached: no new query; case and a trailing dot do not matter
    assert.equal(await p.a.resolve("WEB.zt.test."), "198.19.0.2");
    assert.equal(r.counters.queries, asked);
    assert.equal(r.counters.cacheHits, 1);
    // no A record: the AAAA one
    assert.equal(await p.a.resolve("six.zt.test"), "fd00::2");
    assert.equal(r.counters.queries, asked + 2);
    await rejects(p.a.resolve("nope.zt.test"), "nxdomain", /no such name/);
    const before = dns.queries.length;
    await rejects(p.a.resolve("nope.zt.test"), "nxdomain", /no such name/); // negative cache
    await rejects(p.a.resolve("example.com"), "outside", /not under the DNS domain.*zt\.test/);
    await rejects(p.a.resolve("bad..name.zt.test"), "invalid", /not a valid host name/);
    assert.equal(dns.queries.length, before, "nothing asked for cached, outside or bad names");
    assert.equal(r.counters.refused, 1);
    // IPs pass through untouched
    assert.equal(await p.a.resolve("198.19.0.9"), "198.19.0.9");
  } finally {
    dns.sock.close();
    await p.close();
  }
});

Deno.test("overlay resolver: a silent server times out; the cache stays bounded; concurrent asks share one query", async () => {
  const p = await userspacePair();
  const dns = fakeDns(p);
  try {
    const silent = p.a.enableNames(() => [{ domain: "dead.test", servers: ["198.19.0.2"] }], {
      timeoutMs: 600,
      tryMs: 200,
    });
    // the fake serves only zt.test: REFUSED for dead.test is a failure, not a timeout
    await rejects(p.a.resolve("x.dead.test"), "failed", /rcode 5/);
    dns.sock.close();
    await rejects(p.a.resolve("y.dead.test"), "timeout", /no answer from 198\.19\.0\.2/);
    assert.ok(silent.counters.timeouts >= 1);

    const zone2 = fakeDns(p);
    const r = p.a.enableNames(() => DOMAINS, { cacheSize: 1 });
    const [x, y] = await Promise.all([p.a.resolve("web.zt.test"), p.a.resolve("web.zt.test")]);
    assert.equal(x, "198.19.0.2");
    assert.equal(y, x);
    assert.equal(r.counters.queries, 1, "one query for two concurrent asks");
    await p.a.resolve("six.zt.test");
    assert.equal(r.cacheSize, 1);
    await p.a.resolve("web.zt.test"); // evicted: asked again
    assert.equal(r.counters.queries, 4);
    zone2.sock.close();
  } finally {
    dns.sock.close();
    await p.close();
  }
});

Deno.test("overlay resolver: connect(name) and the proxy dial names; other names get host unreachable / 502 and a log line", async () => {
  const p = await userspacePair();
  const dns = fakeDns(p);
  const lines: string[] = [];
  const log = new Logger("info", (_l: LogLevel, line: string) => lines.push(line));
  const l = p.b.listen(8080);
  void (async () => {
    for await (const c of l) {
      await c.writeAll(new TextEncoder().encode("hello"));
      c.close();
    }
  })();
  p.a.enableNames(() => DOMAINS);
  const proxy = startProxy({
    port: 0,
    dial: (h, port) => p.a.connect(h, port, 5000),
    resolve: (n) => p.a.resolve(n),
    log,
  });
  try {
    const c = await p.a.connect("web.zt.test", 8080, 5000);
    assert.equal(c.remoteAddr.hostname, "198.19.0.2");
    c.close();
    await assert.rejects(p.a.connect("example.com", 80), /not under the DNS domain/);

    const socks = async (host: string): Promise<[number, string]> => {
      const s = await Deno.connect({ hostname: "127.0.0.1", port: proxy.addr.port });
      try {
        await s.write(new Uint8Array([5, 1, 0]));
        await s.read(new Uint8Array(2));
        const h = new TextEncoder().encode(host);
        await s.write(new Uint8Array([5, 1, 0, 3, h.length, ...h, 8080 >> 8, 8080 & 0xff]));
        const buf = new Uint8Array(64);
        let got = 0;
        for (;;) {
          const n = await s.read(buf.subarray(got));
          if (n === null) break;
          got += n;
        }
        return [buf[1], new TextDecoder().decode(buf.subarray(10, got))];
      } finally {
        s.close();
      }
    };
    assert.deepEqual(await socks("web.zt.test"), [0, "hello"]);
    assert.equal((await socks("example.com"))[0], 4, "host unreachable");
    assert.ok(
      lines.some((x) => /refused example\.com:8080: cannot resolve: .*not under/.test(x)),
      lines.join("\n"),
    );

    const http = async (host: string): Promise<string> => {
      const s = await Deno.connect({ hostname: "127.0.0.1", port: proxy.addr.port });
      try {
        await s.write(new TextEncoder().encode(`CONNECT ${host}:8080 HTTP/1.1\r\n\r\n`));
        const buf = new Uint8Array(256);
        let got = 0;
        for (;;) {
          const n = await s.read(buf.subarray(got));
          if (n === null) break;
          got += n;
        }
        return new TextDecoder().decode(buf.subarray(0, got));
      } finally {
        s.close();
      }
    };
    assert.match(await http("web.zt.test"), /^HTTP\/1\.1 200 [^]*hello$/);
    assert.match(await http("nothere.example"), /^HTTP\/1\.1 502 /);
  } finally {
    l.close();
    await proxy.close();
    dns.sock.close();
    await p.close();
  }
});

Deno.test("overlay resolver: networkDomains follows allowDNS and needs a domain and servers", () => {
  const info = (allowDNS: boolean, domain: string, servers: string[]) =>
    ({
      config: {},
      localConf: { allowDNS },
      dns: { domain, servers: servers.map((s) => InetAddress.parse(s)!) },
    }) as unknown as NetworkInfo;
  assert.deepEqual(networkDomains([info(true, "zt.test", ["198.19.0.2/0"])]), [
    { domain: "zt.test", servers: ["198.19.0.2"] },
  ]);
  assert.deepEqual(networkDomains([info(false, "zt.test", ["198.19.0.2/0"])]), []);
  assert.deepEqual(networkDomains([info(true, "", ["198.19.0.2/0"])]), []);
  assert.deepEqual(networkDomains([info(true, "zt.test", [])]), []);
  const r = new OverlayResolver({
    domains: () => [
      { domain: "test", servers: ["198.19.0.1"] },
      { domain: "zt.test", servers: ["198.19.0.2"] },
    ],
    udp: () => {
      throw new Error("unused");
    },
  });
  assert.equal(r.domainFor("a.zt.test")?.servers[0], "198.19.0.2", "longest domain wins");
  assert.equal(r.domainFor("a.b.test")?.servers[0], "198.19.0.1");
  assert.equal(r.domainFor("zt.test.evil"), undefined);
});

Deno.test("overlay resolver: garbage, wrong ids and other questions are ignored; only garbage times out", async () => {
  const p = await userspacePair();
  const sock = p.b.udp(53);
  let honest = true;
  void (async () => {
    for (;;) {
      let d: Uint8Array, from: Deno.NetAddr;
      try {
        [d, from] = await sock.receive();
      } catch {
        return;
      }
      const good = answerQuery(d, [ZONE]).bytes!;
      const wrongId = good.slice();
      wrongId[0] ^= 0xff;
      const other = answerQuery(encodeAddressQuery(d[0] << 8 | d[1], "six.zt.test", "A"), [ZONE])
        .bytes!;
      const replies = [
        new Uint8Array([1, 2, 3]),
        crypto.getRandomValues(new Uint8Array(100)),
        good.slice(0, 20),
        wrongId,
        other,
        d, // the query itself (not a response)
      ];
      if (honest) replies.push(good);
      for (const r of replies) sock.send(r, from.hostname, from.port);
    }
  })();
  try {
    p.a.enableNames(() => DOMAINS, { timeoutMs: 800, tryMs: 300 });
    assert.equal(await p.a.resolve("web.zt.test"), "198.19.0.2");
    honest = false;
    await rejects(p.a.resolve("six.zt.test"), "timeout", /no answer/);
  } finally {
    sock.close();
    await p.close();
  }
});

Deno.test("dns message: decodeAddressAnswer never throws on mutated answers", () => {
  const good = answerQuery(encodeAddressQuery(7, "web.zt.test", "A"), [ZONE]).bytes!;
  assert.deepEqual(decodeAddressAnswer(good, 7, "web.zt.test", "A")?.addresses, ["198.19.0.2"]);
  let seed = 1;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 3000; i++) {
    const m = good.slice(0, 1 + Math.floor(rnd() * good.length));
    for (let k = 0; k < 3; k++) m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
    const a = decodeAddressAnswer(m, 7, "web.zt.test", "A");
    if (a) assert.ok(Array.isArray(a.addresses) && Number.isFinite(a.ttl));
  }
});
