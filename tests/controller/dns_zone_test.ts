// Tests for src/controller/dns_zone.ts: labels, domains, reverse names, zone building and lookups.
import assert from "node:assert/strict";
import {
  buildZone,
  lookupZone,
  normalizeDomain,
  reverseName,
  sanitizeLabel,
} from "../../src/controller/dns_zone.ts";
import type { JsonObject } from "../../src/util/json.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";

const NWID = "8056c2e21c000001";

function network(extra: JsonObject = {}): JsonObject {
  return {
    id: NWID,
    private: true,
    dns: { domain: "Zt.Example.", servers: ["198.19.1.1"] },
    v6AssignMode: { rfc4193: true, "6plane": false, zt: false },
    ...extra,
  };
}

function member(id: string, name: string, ips: string[], extra: JsonObject = {}): JsonObject {
  return { id, address: id, name, authorized: true, ipAssignments: ips, ...extra };
}

Deno.test("sanitizeLabel: lower case, runs of other characters become one dash, 63 max", () => {
  assert.equal(sanitizeLabel("Bob"), "bob");
  assert.equal(sanitizeLabel("Bob's Laptop!"), "bob-s-laptop");
  assert.equal(sanitizeLabel("  --alice.home--  "), "alice-home");
  assert.equal(sanitizeLabel("ünïcode"), "n-code");
  assert.equal(sanitizeLabel("!!!"), "");
  assert.equal(sanitizeLabel(""), "");
  const long = sanitizeLabel("a".repeat(60) + "-b" + "c".repeat(10));
  assert.equal(long.length, 63);
  assert.ok(!long.endsWith("-"));
  assert.equal(sanitizeLabel("a".repeat(62) + "--b"), "a".repeat(62));
});

Deno.test("normalizeDomain: accepts domains, rejects junk", () => {
  assert.equal(normalizeDomain("Zt.Example."), "zt.example");
  assert.equal(normalizeDomain("home.arpa"), "home.arpa");
  assert.equal(normalizeDomain(""), undefined);
  assert.equal(normalizeDomain("a..b"), undefined);
  assert.equal(normalizeDomain("-a.b"), undefined);
  assert.equal(normalizeDomain("a b.c"), undefined);
  assert.equal(normalizeDomain("x".repeat(64) + ".c"), undefined);
});

Deno.test("reverseName: IPv4 and IPv6", () => {
  assert.equal(reverseName(InetAddress.fromIp("198.19.1.2")!), "2.1.19.198.in-addr.arpa");
  assert.equal(
    reverseName(InetAddress.fromIp("fd00::1")!),
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa",
  );
});

Deno.test("buildZone: names, address names, rfc4193, PTR; unauthorized members left out", () => {
  const z = buildZone(network(), [
    member("aaaaaaaaaa", "alice", ["198.19.1.2"]),
    member("bbbbbbbbbb", "Bob", ["198.19.1.3", "fd00::3"]),
    member("cccccccccc", "carol", ["198.19.1.4"], { authorized: false }),
    member("dddddddddd", "", ["198.19.1.5"], { noAutoAssignIps: true }),
  ]);
  assert.equal(z.domain, "zt.example");
  assert.deepEqual(z.names.get("bob.zt.example")?.a, ["198.19.1.3"]);
  const v6 = z.names.get("bob.zt.example")!.aaaa;
  assert.equal(v6.length, 2);
  assert.ok(v6.includes("fd00::3"));
  assert.ok(v6.includes("fd80:56c2:e21c:0:199:93bb:bbbb:bbbb"), v6.join(","));
  assert.deepEqual(z.names.get("bbbbbbbbbb.zt.example"), z.names.get("bob.zt.example"));
  assert.equal(z.names.get("carol.zt.example"), undefined);
  assert.equal(z.names.get("cccccccccc.zt.example"), undefined);
  assert.deepEqual(z.names.get("dddddddddd.zt.example"), { a: ["198.19.1.5"], aaaa: [] });
  assert.deepEqual(z.ptr.get("3.1.19.198.in-addr.arpa"), [
    "bbbbbbbbbb.zt.example",
    "bob.zt.example",
  ]);
});

Deno.test("buildZone: 6plane address, public network shows unauthorized members", () => {
  const z = buildZone(
    network({ private: false, v6AssignMode: { "6plane": true } }),
    [member("aaaaaaaaaa", "alice", [], { authorized: false })],
  );
  const v6 = z.names.get("alice.zt.example")!.aaaa;
  assert.equal(v6.length, 1);
  assert.ok(v6[0].startsWith("fc"), v6[0]);
  assert.ok(v6[0].endsWith(":1"), v6[0]);
});

Deno.test("buildZone: two members with one name both answer", () => {
  const z = buildZone(network(), [
    member("aaaaaaaaaa", "twin", ["198.19.1.2"]),
    member("bbbbbbbbbb", "Twin", ["198.19.1.3"]),
  ]);
  assert.deepEqual(z.names.get("twin.zt.example")?.a, ["198.19.1.2", "198.19.1.3"]);
});

Deno.test("buildZone: no domain, no names", () => {
  const z = buildZone(network({ dns: [] }), [member("aaaaaaaaaa", "alice", ["198.19.1.2"])]);
  assert.equal(z.domain, "");
  assert.equal(z.names.size, 0);
  assert.deepEqual(lookupZone(z, "alice.zt.example", "A"), { rcode: "REFUSED" });
});

Deno.test("lookupZone: A, AAAA, ANY, NODATA, NXDOMAIN, REFUSED, PTR, SOA, case", () => {
  const z = buildZone(network({ v6AssignMode: {} }), [
    member("aaaaaaaaaa", "alice", ["198.19.1.2"]),
    member("bbbbbbbbbb", "bob", ["198.19.1.3", "fd00::3"]),
  ]);
  assert.deepEqual(lookupZone(z, "BOB.zt.example.", "A"), {
    rcode: "NOERROR",
    answers: [{ name: "bob.zt.example", type: "A", data: "198.19.1.3" }],
    soa: false,
  });
  assert.deepEqual(lookupZone(z, "bob.zt.example", "AAAA"), {
    rcode: "NOERROR",
    answers: [{ name: "bob.zt.example", type: "AAAA", data: "fd00::3" }],
    soa: false,
  });
  const any = lookupZone(z, "bob.zt.example", "ANY");
  assert.equal(any.rcode === "NOERROR" && any.answers.length, 2);
  assert.deepEqual(lookupZone(z, "alice.zt.example", "AAAA"), {
    rcode: "NOERROR",
    answers: [],
    soa: false,
  });
  assert.deepEqual(lookupZone(z, "aaaaaaaaaa.zt.example", "A"), {
    rcode: "NOERROR",
    answers: [{ name: "aaaaaaaaaa.zt.example", type: "A", data: "198.19.1.2" }],
    soa: false,
  });
  assert.deepEqual(lookupZone(z, "nobody.zt.example", "A"), { rcode: "NXDOMAIN" });
  assert.deepEqual(lookupZone(z, "x.bob.zt.example", "A"), { rcode: "NXDOMAIN" });
  assert.deepEqual(lookupZone(z, "example.com", "A"), { rcode: "REFUSED" });
  assert.deepEqual(lookupZone(z, "zt.example.com", "A"), { rcode: "REFUSED" });
  assert.deepEqual(lookupZone(z, "xzt.example", "A"), { rcode: "REFUSED" });
  assert.deepEqual(lookupZone(z, "9.9.19.198.in-addr.arpa", "PTR"), { rcode: "REFUSED" });
  assert.deepEqual(lookupZone(z, "2.1.19.198.in-addr.arpa", "PTR"), {
    rcode: "NOERROR",
    answers: [
      { name: "2.1.19.198.in-addr.arpa", type: "PTR", data: "aaaaaaaaaa.zt.example" },
      { name: "2.1.19.198.in-addr.arpa", type: "PTR", data: "alice.zt.example" },
    ],
    soa: false,
  });
  assert.deepEqual(lookupZone(z, "zt.example", "SOA"), {
    rcode: "NOERROR",
    answers: [],
    soa: true,
  });
  assert.deepEqual(lookupZone(z, "zt.example", "A"), { rcode: "NOERROR", answers: [], soa: false });
});
