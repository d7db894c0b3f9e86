// Benchmark of the network controller at 10,000 members: load time, memory, config requests/s.
import { Controller } from "../src/controller/controller.ts";
import type { Requester, RequestMetadata } from "../src/controller/config_decision.ts";
import { META_114 } from "../tests/controller/helpers.ts";
import { FileStore } from "../src/service/controller_file_store.ts";
import { ipKey, networkPools, networkRoutes, pickIpv4 } from "../src/controller/ip_assignment.ts";
import type { JsonObject } from "../src/util/json.ts";
import { canonicalJson } from "../src/util/json.ts";
import { MemoryStore } from "../src/controller/memory_store.ts";
import {
  applyNetworkPost,
  initMember,
  initNetwork,
  memberForSave,
} from "../src/controller/model.ts";
import { signedConfigChunks } from "../src/controller/netconf_builder.ts";
import type { ControllerStore } from "../src/controller/store.ts";
import { Address } from "../src/vl1/address.ts";
import { Identity } from "../src/vl1/identity.ts";
import { InetAddress } from "../src/vl1/inet_address.ts";

/** Members in the network. */
const MEMBERS = 10_000;
/** Config requests from random existing members per run. */
const REPEAT_REQUESTS = 2_000;
/** Config requests from members asking for the first time (pool assignment) per run. */
const NEW_REQUESTS = 500;
/** Active bridges among the members (they appear as specialists in every config). */
const BRIDGES = 3;
/** Rules of the benchmark network (compiled through the `rulesSource` path). */
const RULES_SOURCE = `
tag role
  id 2000
  enum 10 server
  enum 20 client
  default client
;
cap ssh_admin
  id 1000
  accept ipprotocol 6 dport 22;
;
drop not ethertype ipv4 and not ethertype arp and not ethertype ipv6;
drop ipprotocol 6 dport 23;
accept ipprotocol 1;
accept tand role 10 or tor role 20;
accept;
`;

const META: RequestMetadata = META_114;

function random(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/**
 * A member identity with random keys. The address/key binding (the memory-hard hash) is not
 * computed: the controller does not check it, and 10,000 real identities would take minutes.
 */
function fakeIdentity(used: Set<number>): Identity {
  for (;;) {
    const b = random(5);
    const a = Address.fromBytes(b, 0);
    if (a.isReserved() || used.has(a.value)) continue;
    used.add(a.value);
    return new Identity(a, random(64));
  }
}

function requester(id: Identity, i: number): Requester {
  return {
    identity: id,
    address: id.address,
    metadata: META,
    physicalAddress: InetAddress.fromIp(`192.0.2.${1 + (i % 250)}`, 9993),
  };
}

/** Test data: the network record, stored members, and members that have not asked yet. */
interface Population {
  nwid: string;
  network: JsonObject;
  records: JsonObject[];
  members: Identity[];
  newcomers: Identity[];
}

/** Builds the network and its member records as the controller itself would have stored them. */
function populate(controller: Identity, now: number): Population {
  const nwid = controller.address.toString() + "abcdef";
  const r = applyNetworkPost(initNetwork({}, nwid, now), {
    name: "bench",
    private: true,
    v4AssignMode: { zt: true },
    v6AssignMode: { zt: false, rfc4193: true, "6plane": true },
    routes: [{ target: "10.1.0.0/16", via: null }],
    ipAssignmentPools: [{ ipRangeStart: "10.1.0.1", ipRangeEnd: "10.1.255.254" }],
    rulesSource: RULES_SOURCE,
  });
  if (!r.ok) throw new Error(r.error);
  const network: JsonObject = { ...r.value, revision: 1 };
  const pools = networkPools(network.ipAssignmentPools);
  const routes = networkRoutes(network.routes);
  const used = new Set<number>([controller.address.value]);
  const taken = new Set<string>();
  const records: JsonObject[] = [];
  const members: Identity[] = [];
  for (let i = 0; i < MEMBERS; i++) {
    const id = fakeIdentity(used);
    const addr = id.address.toString();
    const ip = pickIpv4(pools, routes, id.address.value, taken);
    if (!ip) throw new Error("pool exhausted");
    taken.add(ip.ipKey());
    const m = initMember({}, nwid, addr, now);
    Object.assign(m, {
      authorized: true,
      activeBridge: i < BRIDGES,
      identity: id.toString(false),
      ipAssignments: [ip.toIpString()],
      tags: [[2000, 20]],
      capabilities: [],
      lastAuthorizedTime: now,
      lastAuthorizedCredentialType: "api",
      vMajor: META.majorVersion!,
      vMinor: META.minorVersion!,
      vRev: META.revision!,
      vProto: META.protocolVersion!,
      revision: 2,
    });
    records.push(memberForSave(m));
    members.push(id);
  }
  // Newcomers: authorized through the API beforehand (no identity, no IP yet).
  const newcomers: Identity[] = [];
  for (let i = 0; i < NEW_REQUESTS; i++) {
    const id = fakeIdentity(used);
    const m = initMember({}, nwid, id.address.toString(), now);
    Object.assign(m, {
      authorized: true,
      lastAuthorizedTime: now,
      lastAuthorizedCredentialType: "api",
      revision: 1,
    });
    records.push(memberForSave(m));
    newcomers.push(id);
  }
  return { nwid, network, records, members, newcomers };
}

function gc(): boolean {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) return false;
  g();
  g();
  return true;
}

function mib(n: number): string {
  return (n / 1048576).toFixed(1) + " MiB";
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Time per request (decision + signed chunks), split into decision and signing. */
function requests(
  ctl: Controller,
  pick: (i: number) => Identity,
  count: number,
  nw: bigint,
  clock: { t: number },
): { total: number[]; decide: number[]; sign: number[]; seconds: number } {
  const total: number[] = [];
  const decide: number[] = [];
  const sign: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const id = pick(i);
    clock.t += 1;
    const a = performance.now();
    const d = ctl.handleConfigRequest(clock.t, requester(id, i), nw);
    const b = performance.now();
    if (d.kind !== "config") throw new Error(`unexpected decision ${d.kind}`);
    const chunks = signedConfigChunks(d.plan, ctl.identity, random);
    const c = performance.now();
    if (!chunks || chunks.length === 0) throw new Error("config did not fit");
    if (d.plan.staticIps.length !== 3) throw new Error("expected IPv4 + rfc4193 + 6plane");
    total.push(c - a);
    decide.push(b - a);
    sign.push(c - b);
  }
  return { total, decide, sign, seconds: (performance.now() - t0) / 1000 };
}

function report(label: string, r: ReturnType<typeof requests>): void {
  const s = (x: number[]) => x.slice().sort((p, q) => p - q);
  const t = s(r.total), d = s(r.decide), g = s(r.sign);
  console.log(
    `  ${label}: ${(r.total.length / r.seconds).toFixed(0)} req/s; ` +
      `mean ${(r.seconds * 1000 / t.length).toFixed(2)} ms, p50 ${pct(t, 0.5).toFixed(2)} ms, ` +
      `p90 ${pct(t, 0.9).toFixed(2)} ms, p99 ${pct(t, 0.99).toFixed(2)} ms ` +
      `(decision p50 ${pct(d, 0.5).toFixed(2)} ms, sign+chunks p50 ${pct(g, 0.5).toFixed(2)} ms)`,
  );
}

/** One store backend: load, memory, repeat path, first-time path. */
function runBackend(
  name: string,
  controller: Identity,
  open: (p: Population) => ControllerStore,
  pop: () => Population,
): void {
  const now = 1_800_000_000_000;
  // Memory is measured with the seed data alive both times, so the difference is the store.
  const p = pop();
  const hadGc = gc();
  const before = Deno.memoryUsage();
  const t0 = performance.now();
  const store = open(p);
  const loadMs = performance.now() - t0;
  const { members, newcomers, nwid } = p;
  gc();
  const after = Deno.memoryUsage();
  const n = store.listMembers(nwid).length;
  console.log(
    `${name}: ${n} members loaded in ${loadMs.toFixed(0)} ms; ` +
      `RSS ${mib(before.rss)} → ${mib(after.rss)}, heap ${mib(before.heapUsed)} → ` +
      `${mib(after.heapUsed)} (${((after.heapUsed - before.heapUsed) / n).toFixed(0)} B/member` +
      `${hadGc ? "" : ", no gc(): includes garbage"})`,
  );
  const clock = { t: now };
  const ctl = new Controller({ identity: controller, store, random, now: () => clock.t });
  const nw = BigInt("0x" + nwid);
  // warm-up on a few members (JIT), not counted
  requests(ctl, (i) => members[i], 50, nw, clock);
  const rnd = new Uint32Array(REPEAT_REQUESTS);
  crypto.getRandomValues(rnd);
  report(
    "repeat   ",
    requests(ctl, (i) => members[rnd[i] % members.length], REPEAT_REQUESTS, nw, clock),
  );
  report("first-time", requests(ctl, (i) => newcomers[i], NEW_REQUESTS, nw, clock));
  // sanity: every newcomer got a distinct pool address
  const ips = new Set<string>();
  for (const m of store.listMembers(nwid)) {
    for (const s of (m.ipAssignments as string[]) ?? []) {
      const k = ipKey(s);
      if (k && ips.has(k)) throw new Error(`duplicate IP ${s}`);
      if (k) ips.add(k);
    }
  }
  if (ips.size !== MEMBERS + NEW_REQUESTS) throw new Error(`expected distinct IPs, ${ips.size}`);
  const end = Deno.memoryUsage();
  console.log(`  after requests: RSS ${mib(end.rss)}, heap ${mib(end.heapUsed)}`);
}

/** Writes the population in the FileStore layout (plain writes; this is setup, not measured). */
function writeDb(dir: string, p: Population): void {
  Deno.mkdirSync(`${dir}/network/${p.nwid}/member`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/network/${p.nwid}.json`, canonicalJson(p.network));
  for (const m of p.records) {
    Deno.writeTextFileSync(`${dir}/network/${p.nwid}/member/${m.id}.json`, canonicalJson(m));
  }
}

/**
 * Prints load time, memory (RSS, heap; per member) and config requests/s with p50/p99 latency
 * (decision + signed config chunks, sequential) for a 10,000-member network, for the
 * MemoryStore and the FileStore, separately for repeat requests and first-time requests.
 */
export async function run(): Promise<void> {
  const controller = Identity.generate(random);
  const now = 1_800_000_000_000;
  console.log(
    `network: ${MEMBERS} authorized members (+${NEW_REQUESTS} API-authorized newcomers), ` +
      `IPv4 pool /16 + rfc4193 + 6plane, ${BRIDGES} active bridges, 1 tag, 1 capability; ` +
      `${REPEAT_REQUESTS} repeat + ${NEW_REQUESTS} first-time requests`,
  );
  runBackend(
    "MemoryStore",
    controller,
    (p) => new MemoryStore([p.network], p.records),
    () => populate(controller, now),
  );
  const dir = await Deno.makeTempDir({ prefix: "zt-ctl-bench-" });
  try {
    const p = populate(controller, now);
    const t0 = performance.now();
    writeDb(dir, p);
    console.log(
      `FileStore: wrote ${p.records.length} member files in ${
        (performance.now() - t0).toFixed(0)
      } ms (setup)`,
    );
    runBackend("FileStore", controller, () => new FileStore(dir), () => p);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await run();
