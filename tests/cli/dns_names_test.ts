// Tests for src/cli/dns_names.ts: the --dns-names operation against the real controller API routes.
import assert from "node:assert/strict";
import { controllerApi } from "../../src/service/controller_api.ts";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import { type ApiCall, dnsNameServers, setDnsNames } from "../../src/cli/dns_names.ts";
import { labController } from "../controller/helpers.ts";

function setup() {
  const { ctl } = labController(new MemoryStore());
  const app = controllerApi(ctl);
  const calls: string[] = [];
  const call: ApiCall = async (method, path, body) => {
    calls.push(`${method} ${path}`);
    if (path === "/status") return { status: 200, json: { address: ctl.address } };
    const r = await app.fetch(
      new Request(`http://x${path}`, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: body === undefined ? {} : { "content-type": "application/json" },
      }),
    );
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : undefined };
  };
  const nwid = ctl.address + "00abcd";
  assert.ok(ctl.postNetwork(nwid, { v6AssignMode: { rfc4193: true } }).ok);
  return { ctl, call, calls, nwid };
}

Deno.test("setDnsNames: domain and the controller's own addresses in one POST", async () => {
  const { ctl, call, calls, nwid } = setup();
  ctl.postMember(nwid, ctl.address, { authorized: true, ipAssignments: ["198.19.7.1"] });
  const r = await setDnsNames(call, nwid.toUpperCase(), "Names.Example.");
  assert.ok(r.ok, r.ok ? "" : r.error);
  assert.equal(r.domain, "names.example");
  assert.equal(r.servers[0], "198.19.7.1");
  assert.equal(r.servers.length, 2);
  assert.ok(r.servers[1].startsWith("fd"));
  const dns = ctl.getNetwork(nwid)!.dns as { domain: string; servers: string[] };
  assert.equal(dns.domain, "names.example");
  assert.deepEqual(dns.servers, r.servers);
  assert.equal(calls.filter((c) => c.startsWith("POST")).length, 1);
});

Deno.test("setDnsNames: clear errors, nothing changed", async () => {
  const { ctl, call, nwid } = setup();
  const before = JSON.stringify(ctl.getNetwork(nwid));
  const bad = await setDnsNames(call, nwid, "not a domain");
  assert.ok(!bad.ok && bad.error.includes("not a DNS domain"));
  const badId = await setDnsNames(call, "xyz", "a.example");
  assert.ok(!badId.ok && badId.error.includes("not a network ID"));
  const missing = await setDnsNames(call, ctl.address + "000fff", "a.example");
  assert.ok(!missing.ok && missing.error.includes("not found"));
  const notMember = await setDnsNames(call, nwid, "a.example");
  assert.ok(
    !notMember.ok && notMember.error.includes(`zt join ${nwid}`),
    JSON.stringify(notMember),
  );
  ctl.postMember(nwid, ctl.address, { authorized: true, noAutoAssignIps: true });
  const noIp = await setDnsNames(call, nwid, "a.example");
  assert.ok(!noIp.ok && noIp.error.includes("no managed address"));
  assert.equal(JSON.stringify(ctl.getNetwork(nwid)), before);
});

Deno.test("dnsNameServers: the first IPv4 and the first IPv6 address", () => {
  const net = { id: "8056c2e21c000001", v6AssignMode: { rfc4193: true, "6plane": true } };
  const s = dnsNameServers(net, {
    id: "aaaaaaaaaa",
    ipAssignments: ["fd00::1", "198.19.1.1", "198.19.1.2"],
  });
  assert.deepEqual(s, ["198.19.1.1", "fd00::1"]);
  const rfc = dnsNameServers(net, { id: "aaaaaaaaaa", ipAssignments: [] });
  assert.deepEqual(rfc, ["fd80:56c2:e21c:0:199:93aa:aaaa:aaaa"]);
  assert.deepEqual(dnsNameServers({ id: "8056c2e21c000001" }, { id: "aaaaaaaaaa" }), []);
});
