// Metrics: families/types/labels vs the recorded /metrics of 1.14.1, values from node counters, /metrics auth, metrics.prom writer.
import assert from "node:assert/strict";
import { fixtureText } from "../fixtures.ts";
import {
  MetricsWriter,
  nodeTableMetrics,
  ServiceMetrics,
  TABLE_METRIC_NAMES,
} from "../../src/service/metrics.ts";
import { NodeCounters } from "../../src/vl1/node_counters.ts";
import { Address } from "../../src/vl1/address.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { ErrorCode, Verb } from "../../src/vl1/packet.ts";
import { startLiveService } from "./live_service.ts";

/** One sample line. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
/** One metric family. */
interface Family {
  type?: string;
  help?: string;
  samples: Sample[];
}

/** A tiny Prometheus text-format parser (HELP, TYPE, samples with quoted label values). */
function parseExposition(text: string): Map<string, Family> {
  const fams = new Map<string, Family>();
  const fam = (n: string) => {
    let f = fams.get(n);
    if (!f) fams.set(n, f = { samples: [] });
    return f;
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      if (m[1] === "HELP") fam(m[2]).help = m[3];
      else fam(m[2]).type = m[3];
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `bad exposition line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
      let rest = m[2];
      for (let l = re.exec(m[2]); l; l = re.exec(m[2])) {
        labels[l[1]] = l[2];
        rest = rest.replace(l[0], "");
      }
      assert.equal(rest, "", `bad labels in: ${line}`);
    }
    const value = m[3] === "+Inf" ? Infinity : Number(m[3]);
    assert.ok(!Number.isNaN(value), line);
    const base = fams.has(m[1]) ? m[1] : m[1].replace(/_(bucket|sum|count)$/, "");
    fam(base).samples.push({ name: m[1], labels, value });
  }
  return fams;
}

/** Label names of a family's samples (minus `le`). */
function labelNames(f: Family): string[] {
  const s = new Set<string>();
  for (const x of f.samples) for (const k of Object.keys(x.labels)) if (k !== "le") s.add(k);
  return [...s].sort();
}

/** Values of one label across a family. */
function labelValues(f: Family, label: string): string[] {
  return [...new Set(f.samples.map((x) => x.labels[label]).filter((v) => v !== undefined))].sort();
}

function value(f: Family | undefined, labels: Record<string, string>, name?: string): number {
  const hit = f?.samples.find((x) =>
    (name === undefined || x.name === name) &&
    Object.entries(labels).every(([k, v]) => x.labels[k] === v) &&
    Object.keys(x.labels).length === Object.keys(labels).length
  );
  assert.ok(hit, `no sample ${name ?? ""} ${JSON.stringify(labels)}`);
  return hit.value;
}

const REFERENCE = parseExposition(fixtureText("api/a-metrics.txt"));
/** Families of spec §11.4 not present in the recording (no network was joined there). */
const NETWORK_FAMILIES: Record<string, [string, string[]]> = {
  zt_network_multicast_groups_subscribed: ["gauge", ["network_id"]],
  zt_network_packets: ["counter", ["accepted", "direction", "network_id"]],
};

/** Checks our exposition against the recording: same families, types, help, label sets. */
function checkAgainstReference(ours: Map<string, Family>): void {
  assert.equal(REFERENCE.size, 26); // 8 zt_* families + 18 controller_* ones
  for (const [name, ref] of REFERENCE) {
    const f = ours.get(name);
    assert.ok(f, `missing family ${name}`);
    assert.equal(f.type, ref.type, name);
    assert.equal(f.help, ref.help, name);
    if (ref.samples.length && f.samples.length) {
      assert.deepEqual(labelNames(f), labelNames(ref), name);
    }
    for (const l of ["packet_type", "error_type", "direction", "protocol", "status"]) {
      if (
        ref.samples.some((x) => l in x.labels) &&
        !["zt_peer_path_count", "zt_peer_packets"].includes(name)
      ) {
        assert.deepEqual(labelValues(f, l), labelValues(ref, l), `${name} ${l}`);
      }
    }
    if (ref.type === "histogram" && f.samples.length) {
      const les = (fam: Family) =>
        fam.samples.filter((x) => x.name.endsWith("_bucket")).map((x) => x.labels.le);
      assert.deepEqual([...new Set(les(f))], [...new Set(les(ref))], name);
    }
  }
  for (const [name, [type, labels]] of Object.entries(NETWORK_FAMILIES)) {
    assert.equal(ours.get(name)?.type, type, name);
    if (ours.get(name)!.samples.length) assert.deepEqual(labelNames(ours.get(name)!), labels);
  }
  // nothing beyond the reference's families, our table families and the internal-error
  // counter (deliberate additions)
  assert.equal(ours.get("zt_internal_errors_total")?.type, "counter");
  assert.deepEqual(
    [...ours.keys()].sort(),
    [
      ...REFERENCE.keys(),
      ...Object.keys(NETWORK_FAMILIES),
      ...TABLE_METRIC_NAMES,
      "zt_internal_errors_total",
    ].sort(),
  );
}

function peer(addr: string, latency: number, paths: Array<[string, boolean]>) {
  return {
    address: Address.parse(addr)!,
    version: { major: 1, minor: 14, revision: 1 },
    latency,
    role: "LEAF" as const,
    paths: paths.map(([a, expired], i) => ({
      address: InetAddress.parse(a)!,
      localSocket: 1,
      lastSend: 0,
      lastReceive: 0,
      preferred: i === 0,
      expired,
      trustedPathId: 0,
    })),
  };
}

Deno.test("metrics: families, types, help and labels as the recorded 1.14.1 /metrics", async () => {
  const m = new ServiceMetrics();
  m.update({
    peers: [peer("5b1c20a311", 13, [["198.18.0.2/9993", false]])],
    networks: [{
      id: "5b1c20a311fca1ca",
      multicastGroups: 3,
      packets: { rxAccepted: 5, rxDropped: 1, txAccepted: 7, txDropped: 0 },
    }],
  });
  const ours = parseExposition(await m.text());
  checkAgainstReference(ours);
  // an empty registry (fresh service) also has every family
  checkAgainstReference(parseExposition(await new ServiceMetrics().text()));
});

Deno.test("metrics: values follow the node's cumulative counters", async () => {
  const k = new NodeCounters();
  const a = 0x5b1c20a311;
  k.received(Verb.HELLO, a);
  k.received(Verb.OK, a);
  k.received(Verb.OK, a);
  k.sent(Verb.WHOIS, a, new Uint8Array(5));
  const err = new Uint8Array(18);
  err[9] = ErrorCode.NETWORK_ACCESS_DENIED;
  k.received(Verb.ERROR, a, err);
  err[9] = ErrorCode.OBJ_NOT_FOUND;
  k.sent(Verb.ERROR, 0x98bec71608, err);
  k.receivedBytes(1276);
  k.sentBytes(663);
  k.peerError(a);
  k.internalError("frames");
  k.internalError("frames");
  k.internalError("tick");
  const m = new ServiceMetrics();
  const upd = () =>
    m.update({
      counters: k.snapshot(),
      peers: [peer("5b1c20a311", 13, [["198.18.0.2/9993", false], ["10.0.0.1/9993", true]])],
      controller: { controller_network_count: 2, controller_member_auth_count: 4 },
    });
  upd();
  upd(); // applying the same totals twice must not double them
  let f = parseExposition(await m.text());
  assert.equal(value(f.get("zt_packet"), { direction: "rx", packet_type: "hello" }), 1);
  assert.equal(value(f.get("zt_packet"), { direction: "rx", packet_type: "ok" }), 2);
  assert.equal(value(f.get("zt_packet"), { direction: "tx", packet_type: "whois" }), 1);
  assert.equal(value(f.get("zt_packet"), { direction: "tx", packet_type: "hello" }), 0);
  assert.equal(
    value(f.get("zt_packet_error"), { direction: "rx", error_type: "network_access_denied" }),
    1,
  );
  assert.equal(
    value(f.get("zt_packet_error"), { direction: "tx", error_type: "obj_not_found" }),
    1,
  );
  assert.equal(value(f.get("zt_data"), { direction: "rx", protocol: "udp" }), 1276);
  assert.equal(value(f.get("zt_data"), { direction: "tx", protocol: "udp" }), 663);
  assert.equal(value(f.get("zt_data"), { direction: "tx", protocol: "tcp" }), 0);
  assert.equal(value(f.get("zt_peer_packets"), { direction: "rx", node_id: "5b1c20a311" }), 4);
  assert.equal(value(f.get("zt_peer_packets"), { direction: "tx", node_id: "98bec71608" }), 1);
  assert.equal(value(f.get("zt_peer_packet_errors"), { node_id: "5b1c20a311" }), 1);
  assert.equal(value(f.get("zt_internal_errors_total"), { where: "frames" }), 2);
  assert.equal(value(f.get("zt_internal_errors_total"), { where: "tick" }), 1);
  assert.equal(value(f.get("zt_peer_path_count"), { node_id: "5b1c20a311", status: "alive" }), 1);
  assert.equal(value(f.get("zt_peer_path_count"), { node_id: "5b1c20a311", status: "dead" }), 1);
  const lat = f.get("zt_peer_latency");
  assert.equal(value(lat, { node_id: "5b1c20a311", le: "10" }, "zt_peer_latency_bucket"), 0);
  assert.equal(value(lat, { node_id: "5b1c20a311", le: "30" }, "zt_peer_latency_bucket"), 2);
  assert.equal(value(lat, { node_id: "5b1c20a311" }, "zt_peer_latency_sum"), 26);
  assert.equal(value(f.get("controller_network_count"), {}), 2);
  assert.equal(value(f.get("controller_member_auth_count"), {}), 4);
  assert.equal(value(f.get("zt_num_networks"), {}), 0);
  // more traffic: counters move to the new totals
  k.received(Verb.OK, a);
  k.receivedBytes(24);
  upd();
  f = parseExposition(await m.text());
  assert.equal(value(f.get("zt_packet"), { direction: "rx", packet_type: "ok" }), 3);
  assert.equal(value(f.get("zt_data"), { direction: "rx", protocol: "udp" }), 1300);
});

Deno.test("metrics: writer rewrites <home>/metrics.prom and stops cleanly", async () => {
  const home = Deno.makeTempDirSync();
  const k = new NodeCounters();
  const errors: string[] = [];
  const w = new MetricsWriter(
    home,
    new ServiceMetrics(),
    () => ({
      counters: k.snapshot(),
      peers: [],
    }),
    (msg) => void errors.push(msg),
    20,
  );
  try {
    await w.writeNow();
    const first = Deno.readTextFileSync(`${home}/metrics.prom`);
    checkAgainstReference(parseExposition(first));
    k.sentBytes(100);
    let text = first;
    for (let i = 0; i < 100 && text === first; i++) {
      await new Promise((r) => setTimeout(r, 10));
      text = Deno.readTextFileSync(`${home}/metrics.prom`);
    }
    assert.equal(
      value(parseExposition(text).get("zt_data"), { direction: "tx", protocol: "udp" }),
      100,
    );
    await w.stop();
    assert.deepEqual([...Deno.readDirSync(home)].map((e) => e.name), ["metrics.prom"]);
    assert.deepEqual(errors, []);
  } finally {
    await w.stop();
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("metrics: live service /metrics (metrics token or auth token), node traffic counted, metrics.prom", async () => {
  const live = await startLiveService();
  try {
    const url = `http://127.0.0.1:${live.port}/metrics`;
    const none: Record<string, string>[] = [{}, { "X-ZT1-Auth": "wrong" }, {
      Authorization: "Bearer nope",
    }];
    for (const headers of none) {
      const r = await fetch(url, { headers });
      assert.equal(r.status, 401);
      assert.equal(await r.text(), "{}");
    }
    const good: Record<string, string>[] = [
      { "X-ZT1-Auth": "met-a" },
      { "X-ZT1-Auth": "tok-a" },
      { Authorization: "Bearer met-a" },
    ];
    for (const headers of good) {
      const r = await fetch(url, { headers });
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-type")!, /^text\/plain/);
      const fams = parseExposition(await r.text());
      checkAgainstReference(fams);
      // the node said HELLO to its (unreachable) root at start: counted from the node itself
      assert.ok(value(fams.get("zt_packet"), { direction: "tx", packet_type: "hello" }) >= 1);
      assert.ok(
        value(fams.get("zt_peer_packets"), { direction: "tx", node_id: "8fc24dde94" }) >= 1,
      );
      assert.ok(value(fams.get("zt_data"), { direction: "tx", protocol: "udp" }) > 0);
    }
    const r = await fetch(`${url}?auth=met-a`);
    assert.equal(r.status, 200);
    await r.body?.cancel();
    // the metrics token opens /metrics only
    const st = await fetch(`http://127.0.0.1:${live.port}/status`, {
      headers: { "X-ZT1-Auth": "met-a" },
    });
    assert.equal(st.status, 401);
    await st.body?.cancel();
    checkAgainstReference(parseExposition(Deno.readTextFileSync(`${live.home}/metrics.prom`)));
  } finally {
    await live.stop();
  }
});

Deno.test("metrics: table families carry the node's table sizes (gauges) and drops (counters)", async () => {
  const m = new ServiceMetrics();
  const fake = {
    tableStats: () => ({
      peers: 3,
      paths: 4,
      whoisQueue: 1,
      whoisRequests: 2,
      fragments: 0,
      rendezvous: 0,
      selfAwareness: 5,
      uniteGate: 0,
      peerCacheMisses: 0,
      identityNegative: 7,
      identityPositive: 2,
      identityValidations: 9,
      identityAgreements: 12,
      identityFailures: 7,
      identityReplaysDropped: 100,
      identityBudgetDropped: 40,
      whoisQueueDropped: 0,
      whoisRequestsEvicted: 0,
      selfAwarenessEvicted: 0,
      pathsRefused: 0,
      peersEvicted: 0,
    }),
  };
  const tables = nodeTableMetrics(fake);
  assert.deepEqual(Object.keys(tables).filter((k) => !TABLE_METRIC_NAMES.includes(k)), []);
  m.update({ peers: [], tables });
  const text = await m.text();
  assert.match(text, /^zt_peers_entries 3$/m);
  assert.match(text, /^zt_identity_negative_entries 7$/m);
  assert.match(text, /^zt_identity_replays_dropped 100$/m);
  m.update({ peers: [], tables: { ...tables, zt_identity_replays_dropped: 150 } });
  assert.match(await m.text(), /^zt_identity_replays_dropped 150$/m);
});
