// Benchmark of the network controller at 100,000 members on each store: armored config requests through the node.
//
// The controller runs in a real VL1 `Node` (fake host: datagrams are captured, nothing leaves the
// process) with its `UpperLayerMux` and `ControllerResponder`, exactly as the service wires it
// (with PostgreSQL: behind `PgController`, replies held until their writes commit). Members are
// >= 1,000 identities with real C25519 key pairs; each request is a NETWORK_CONFIG_REQUEST packet
// armored (Salsa20/12 + Poly1305) with the member's agreed key and handed to `node.receive`, and
// it counts as answered when the node sends the first datagram of the signed reply. The address /
// key binding (the memory-hard hash, ~2 s of CPU per identity here) is not computed for the bench
// identities: their peer records are served from the peer cache with validation skipped for
// them only (and charged as such to the node's identity-check budget). Environment:
// ZT_BENCH_MEMBERS (default 100000), ZT_BENCH_STORES (memory,file,pg), ZT_BENCH_REPEAT (repeat
// requests, default 5000), ZT_BENCH_PHASES (repeat,first,api: which phases run; default all, e.g.
// `repeat` alone to profile the repeat path; the process prints `repeat phase: pid N` when it
// starts and the phase's window in process time when it ends). The key crypto backend is chosen
// first, as `zt` does (libcrypto; ZT_CRYPTO=js for @noble).
import { nativeCrypto } from "../src/service/native_crypto.ts";
import { c25519BackendName } from "../src/crypto/c25519.ts";
import { setImmediate } from "node:timers";
import process from "node:process";
import { Controller } from "../src/controller/controller.ts";
import { controllerApi } from "../src/service/controller_api.ts";
import { FileStore } from "../src/service/controller_file_store.ts";
import type { JsonObject } from "../src/util/json.ts";
import { canonicalJson } from "../src/util/json.ts";
import { MemoryStore } from "../src/controller/memory_store.ts";
import {
  applyNetworkPost,
  initMember,
  initNetwork,
  memberForSave,
} from "../src/controller/model.ts";
import { networkPools, networkRoutes, pickIpv4 } from "../src/controller/ip_assignment.ts";
import { ControllerResponder, responderNode } from "../src/controller/responder.ts";
import type { ControllerStore } from "../src/controller/store.ts";
import { c25519Generate } from "../src/crypto/c25519.ts";
import { PgController } from "../src/service/pg/pg_controller.ts";
import { installSigningCrypto } from "../src/service/signing_crypto.ts";
import { parsePgConnInfo, type PgConnInfo } from "../src/service/pg/pg_conninfo.ts";
import { PgStore } from "../src/service/pg/pg_store.ts";
import { writePg } from "../src/service/pg/pg_transfer.ts";
import { pgConnect } from "../src/service/pg/pg_transfer.ts";
import { Address } from "../src/vl1/address.ts";
import { armor } from "../src/vl1/armor.ts";
import { Identity } from "../src/vl1/identity.ts";
import { InetAddress } from "../src/vl1/inet_address.ts";
import { Node } from "../src/vl1/node.ts";
import type { NodeHost } from "../src/vl1/node_host.ts";
import { Verb, writeHeader } from "../src/vl1/packet.ts";
import { encodePeerCache } from "../src/vl1/peer_cache.ts";
import { PeerKeys } from "../src/vl1/peer_keys.ts";
import { encodeNetworkConfigRequest } from "../src/vl1/verbs/network_config.ts";
import {
  defaultConfigRequestMetadata,
  encodeConfigRequestMetadata,
} from "../src/vl2/config_request_metadata.ts";
import { UpperLayerMux } from "../src/vl2/upper_layer_mux.ts";
import { parseWorld } from "../src/vl1/world.ts";
import { fixtureBytes, fixtureText } from "../tests/fixtures.ts";
import { PgCluster, postgresBinDir } from "../tests/helpers/pg_cluster.ts";

const MEMBERS = positiveInt("ZT_BENCH_MEMBERS", 100_000);
/** Members with real key pairs that send the repeat requests. */
const ASKERS = 1_000;
/** Repeat requests (each asker several times, > 1 s apart in node time). */
const REPEAT = positiveInt("ZT_BENCH_REPEAT", 5_000);
/** Phases to run (the warm-up always runs). */
const PHASES = new Set((Deno.env.get("ZT_BENCH_PHASES") ?? "repeat,first,api").split(","));
for (const p of PHASES) {
  if (!["repeat", "first", "api"].includes(p)) {
    throw new Error(`ZT_BENCH_PHASES: unknown phase "${p}" (repeat, first, api)`);
  }
}

function positiveInt(name: string, dflt: number): number {
  const v = Deno.env.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name}: not a positive integer: ${v}`);
  return n;
}
/** First-time requests (members authorized through the API beforehand: identity + IP assigned now). */
const FIRST = 1_000;
/** API writes (member renames) per mode. */
const API_WRITES = 300;
/**
 * Requests handed to the node before the event loop gets a turn (writes, held replies). The turn
 * is a setImmediate (I/O is polled, no timer clamp): a setTimeout(0) here idled ~3 ms per burst,
 * which capped the measured rate near 20 requests per 3 ms plus the work, whatever the store.
 */
const BURST = 20;

const CONTROLLER = Identity.fromString(fixtureText("identities/c.secret"))!;
const PLANET = parseWorld(fixtureBytes("planet.bin"))!;
const NWID = CONTROLLER.address.toString() + "abcdef";
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** A member that sends requests: identity with keys, its agreed key, its fixed source address. */
interface Asker {
  id: Identity;
  keys: PeerKeys;
  remote: InetAddress;
}

function asker(used: Set<number>, i: number): Asker {
  for (;;) {
    const a = Address.fromBytes(random(5), 0);
    if (a.isReserved() || used.has(a.value)) continue;
    used.add(a.value);
    benchAddresses.add(a.value);
    const k = c25519Generate(random);
    const id = new Identity(a, k.publicKey, k.privateKey);
    return {
      id,
      keys: new PeerKeys(id.agree(CONTROLLER)!),
      remote: InetAddress.fromIp(`198.18.${(i >> 8) & 0xff}.${i & 0xff}`, 9993)!,
    };
  }
}

function fakeIdentity(used: Set<number>): Identity {
  for (;;) {
    const a = Address.fromBytes(random(5), 0);
    if (a.isReserved() || used.has(a.value)) continue;
    used.add(a.value);
    return new Identity(a, random(64));
  }
}

interface Population {
  network: JsonObject;
  records: JsonObject[];
  askers: Asker[];
  newcomers: Asker[];
}

function populate(now: number): Population {
  const r = applyNetworkPost(initNetwork({}, NWID, now), {
    name: "bench",
    private: true,
    v4AssignMode: { zt: true },
    v6AssignMode: { zt: false, rfc4193: true, "6plane": true },
    routes: [{ target: "10.0.0.0/8", via: null }],
    ipAssignmentPools: [{ ipRangeStart: "10.0.0.1", ipRangeEnd: "10.255.255.254" }],
  });
  if (!r.ok) throw new Error(r.error);
  const network: JsonObject = { ...r.value, revision: 1 };
  const pools = networkPools(network.ipAssignmentPools);
  const routes = networkRoutes(network.routes);
  const used = new Set<number>([CONTROLLER.address.value]);
  const taken = new Set<string>();
  const records: JsonObject[] = [];
  const askers: Asker[] = [];
  for (let i = 0; i < MEMBERS; i++) {
    let id: Identity;
    if (i < ASKERS) {
      const a = asker(used, i);
      askers.push(a);
      id = a.id;
    } else id = fakeIdentity(used);
    const ip = pickIpv4(pools, routes, id.address.value, taken)!;
    taken.add(ip.ipKey());
    const m = initMember({}, NWID, id.address.toString(), now);
    Object.assign(m, {
      authorized: true,
      identity: id.toString(false),
      ipAssignments: [ip.toIpString()],
      lastAuthorizedTime: now,
      lastAuthorizedCredentialType: "api",
      vMajor: 1,
      vMinor: 14,
      vRev: 1,
      vProto: 12,
      revision: 2,
    });
    records.push(memberForSave(m));
  }
  const newcomers: Asker[] = [];
  for (let i = 0; i < FIRST; i++) {
    const a = asker(used, ASKERS + i);
    newcomers.push(a);
    const m = initMember({}, NWID, a.id.address.toString(), now);
    Object.assign(m, { authorized: true, lastAuthorizedTime: now, revision: 1 });
    records.push(memberForSave(m));
  }
  return { network, records, askers, newcomers };
}

/** The controller in a real node, as the service wires it. */
class Harness {
  readonly node: Node;
  readonly ctl: Controller;
  readonly clock: { t: number };
  /** remote → time the request was handed over; removed when its reply goes out. */
  readonly waiting = new Map<string, number>();
  readonly latencies: number[] = [];
  readonly #peerCache = new Map<string, Uint8Array>();
  #pid = 1n;
  readonly #payload = encodeNetworkConfigRequest({
    networkId: BigInt("0x" + NWID),
    metadata: encodeConfigRequestMetadata(defaultConfigRequestMetadata()),
  });

  constructor(store: ControllerStore, all: Asker[], now: number, pg?: PgController) {
    for (const a of all) {
      this.#peerCache.set(
        a.id.address.toString(),
        encodePeerCache({
          identity: a.id,
          vProto: 12,
          vMajor: 1,
          vMinor: 14,
          vRevision: 1,
          paths: [],
        }),
      );
    }
    this.clock = { t: now };
    const host: NodeHost = {
      send: (_s, remote) => {
        const k = remote.toString();
        const t0 = this.waiting.get(k);
        if (t0 !== undefined) {
          this.latencies.push(performance.now() - t0);
          this.waiting.delete(k);
        }
        return true;
      },
      random,
      storePut: () => {},
      storeGet: (kind, id) => kind === "peer" ? this.#peerCache.get(id) : undefined,
      event: () => {},
    };
    // The bench identities' memory-hard check is skipped (see Identity.prototype.validate
    // below), so the node's identity-check budget is charged what that costs: next to nothing.
    this.node = new Node({
      identity: CONTROLLER,
      host,
      now,
      planet: PLANET,
      settings: { identityValidationCostMs: 0.001 },
    });
    const mux = new UpperLayerMux({ sender: this.node });
    this.node.setUpperLayer(mux);
    this.ctl = new Controller({ identity: CONTROLLER, store, random, now: () => this.clock.t });
    pg?.bind(this.ctl);
    const rn = responderNode(this.node);
    const responder = new ControllerResponder({
      node: pg ? pg.deferringNode(rn) : rn,
      controller: this.ctl,
      random,
    });
    mux.setConfigRequestHandler(pg ? pg.wrap(responder) : responder);
  }

  /** Armors one config request from `a` and hands it to the node. */
  ask(a: Asker): void {
    const len = 28 + this.#payload.length;
    const pkt = new Uint8Array(len + 32);
    const id = new Uint8Array(8);
    new DataView(id.buffer).setBigUint64(0, this.#pid++);
    writeHeader(pkt, id, CONTROLLER.address.value, a.id.address.value, Verb.NETWORK_CONFIG_REQUEST);
    pkt.set(this.#payload, 28);
    armor(pkt, len, a.keys, 1);
    this.waiting.set(a.remote.toString(), performance.now());
    this.node.receive(this.clock.t, 0, a.remote, pkt.subarray(0, len));
  }

  /** Sends `count` requests (2 ms of node time apart, BURST per event-loop turn). */
  async drive(pick: (i: number) => Asker, count: number): Promise<Result> {
    this.latencies.length = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      this.clock.t += 2;
      this.ask(pick(i));
      if (i % BURST === BURST - 1) await new Promise((r) => setImmediate(r));
    }
    const end = Date.now() + 60_000;
    while (this.waiting.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const lost = this.waiting.size;
    this.waiting.clear();
    return {
      n: count - lost,
      seconds,
      latencies: this.latencies.slice(),
      lost,
      cpuMsPerRequest: (c.user + c.system) / 1000 / Math.max(1, count - lost),
    };
  }
}

interface Result {
  n: number;
  seconds: number;
  latencies: number[];
  lost: number;
  /**
   * CPU time of the whole process (every thread, GC included) per answered request: what a
   * request costs whatever share of the shared box the bench gets (req/s is that share / this).
   */
  cpuMsPerRequest: number;
}

/** The result of a phase that did not run (shown as NaN). */
function skipped(): Result {
  return { n: NaN, seconds: NaN, latencies: [], lost: 0, cpuMsPerRequest: NaN };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

function fmt(r: Result): string {
  const s = r.latencies.slice().sort((a, b) => a - b);
  return `${(r.n / r.seconds).toFixed(0)} req/s, p50 ${pct(s, 0.5).toFixed(2)} ms, ` +
    `p99 ${pct(s, 0.99).toFixed(2)} ms, CPU ${r.cpuMsPerRequest.toFixed(3)} ms/request${
      r.lost ? `, ${r.lost} unanswered` : ""
    }`;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  g?.();
  g?.();
}

/**
 * API writes: renames of asker members, one at a time and 16 at once. Returns both rates and
 * how many writes were refused with 503 (PostgreSQL did not confirm in time: counted and
 * reported, not fatal, so one slow commit on a loaded box does not lose the run's other
 * figures); any other failure throws.
 */
async function apiWrites(ctl: Controller, askers: Asker[]): Promise<[number, number, number]> {
  const app = controllerApi(ctl);
  let refused = 0;
  const post = async (i: number) => {
    const a = askers[i % askers.length].id.address.toString();
    const r = await app.request(`/controller/network/${NWID}/member/${a}`, {
      method: "POST",
      body: JSON.stringify({ name: `bench-${i}` }),
    });
    const text = await r.text();
    if (r.status === 503) {
      if (refused++ === 0) console.log(`API write refused (503): ${text}`);
      return;
    }
    if (r.status !== 200) throw new Error(`API write: ${r.status} ${text}`);
  };
  let t0 = performance.now();
  for (let i = 0; i < API_WRITES; i++) await post(i);
  const seq = API_WRITES / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  let next = API_WRITES;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < 2 * API_WRITES) await post(next++);
  }));
  const par = API_WRITES / ((performance.now() - t0) / 1000);
  return [seq, par, refused];
}

/** Bench identities: the memory-hard address check is skipped for these addresses only. */
const benchAddresses = new Set<number>();
const origValidate = Identity.prototype.validate;
Identity.prototype.validate = function (): boolean {
  return benchAddresses.has(this.address.value) || origValidate.call(this);
};

/** Time spent in Ed25519 signing (the controller signs each config and its credentials). */
let signMs = 0;
const origSign = Identity.prototype.sign;
Identity.prototype.sign = function (msg: Uint8Array): Uint8Array {
  const t = performance.now();
  try {
    return origSign.call(this, msg);
  } finally {
    signMs += performance.now() - t;
  }
};

interface Row {
  store: string;
  startMs: number;
  bytesPerMember: number;
  repeat: Result;
  first: Result;
  signShare: number;
  api: [number, number, number];
}

async function runStore(
  name: string,
  pop: Population,
  open: () => Promise<{ store: ControllerStore; pg?: PgController; close: () => Promise<void> }>,
): Promise<Row> {
  const now = 1_800_000_000_000;
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const t0 = performance.now();
  const o = await open();
  const startMs = performance.now() - t0;
  gc();
  const bytesPerMember = (Deno.memoryUsage().heapUsed - before) / (MEMBERS + FIRST);
  const h = new Harness(o.store, [...pop.askers, ...pop.newcomers], now, o.pg);
  try {
    await h.drive((i) => pop.askers[i % pop.askers.length], 1000); // warm-up (JIT, peers)
    signMs = 0;
    // the window of the repeat phase (process time), for a profile of that phase alone
    const from = performance.now();
    if (PHASES.has("repeat")) console.log(`repeat phase: pid ${Deno.pid}`);
    const repeat = PHASES.has("repeat")
      ? await h.drive((i) => pop.askers[i % pop.askers.length], REPEAT)
      : skipped();
    if (PHASES.has("repeat")) {
      console.log(
        `repeat phase of ${name}: ${from.toFixed(0)}-${performance.now().toFixed(0)} ms`,
      );
    }
    const signShare = signMs / 1000 / repeat.seconds;
    const first = PHASES.has("first") ? await h.drive((i) => pop.newcomers[i], FIRST) : skipped();
    const api: [number, number, number] = PHASES.has("api")
      ? await apiWrites(h.ctl, pop.askers)
      : [NaN, NaN, 0];
    const row = { store: name, startMs, bytesPerMember, repeat, first, signShare, api };
    console.log(
      `${name}: start ${startMs.toFixed(0)} ms, ${bytesPerMember.toFixed(0)} B/member; ` +
        `repeat ${fmt(repeat)}; first-time ${fmt(first)}; signing ${
          (signShare * 100).toFixed(0)
        }% of repeat time; API writes ${api[0].toFixed(0)}/s (1 at a time), ` +
        `${api[1].toFixed(0)}/s (16 at once)${api[2] ? `, ${api[2]} refused (503)` : ""}`,
    );
    return row;
  } finally {
    await o.close();
  }
}

/** Writes the population in the controller.d layout (setup, not measured). */
function writeDir(dir: string, p: Population): void {
  Deno.mkdirSync(`${dir}/network/${NWID}/member`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/network/${NWID}.json`, canonicalJson(p.network));
  for (const m of p.records) {
    Deno.writeTextFileSync(`${dir}/network/${NWID}/member/${m.id}.json`, canonicalJson(m));
  }
}

/** Where a child process writes its rows (set by the parent, see {@link run}). */
const ROW_FILE = Deno.env.get("ZT_BENCH_ROW_FILE");

/** JSON of rows with NaN (phases not run) kept. */
function rowsToJson(rows: Row[]): string {
  return JSON.stringify(rows, (_k, v) => typeof v === "number" && !Number.isFinite(v) ? `${v}` : v);
}

function rowsFromJson(text: string): Row[] {
  return JSON.parse(text, (_k, v) => v === "NaN" || v === "Infinity" ? Number(v) : v) as Row[];
}

/**
 * Runs each store in a child process of its own (a fresh V8 isolate). In one process, the store
 * measured second paid 10-35% more CPU per repeat request than alone, whichever store it was:
 * a V8 profile of its repeat phase had the request path in baseline (Sparkplug) code where the
 * first store's ran optimized (with bytecode flushing off, pg second paid 22% instead of 36%).
 */
async function runChildren(stores: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const store of stores) {
    const file = await Deno.makeTempFile({ prefix: "zt-ctl-bench-rows-" });
    try {
      const st = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", "--v8-flags=--expose-gc", import.meta.filename!],
        env: { ZT_BENCH_STORES: store, ZT_BENCH_ROW_FILE: file },
        stdin: "null",
      }).spawn().status;
      if (!st.success) throw new Error(`controller bench of store ${store}: exit code ${st.code}`);
      rows.push(...rowsFromJson(await Deno.readTextFile(file)));
    } finally {
      await Deno.remove(file).catch(() => {});
    }
  }
  return rows;
}

/**
 * Prints, per store (memory, file, PostgreSQL), start-up time, heap per member, config
 * requests/s with p50/p99 for repeat and first-time requests through the armored receive path,
 * the share of signing, and API writes/s; then a Markdown table of the same. With more than
 * one store, each runs in a child process of its own (see {@link runChildren});
 * ZT_BENCH_ISOLATE=0 runs them one after the other in this process instead.
 */
export async function run(): Promise<void> {
  const stores = (Deno.env.get("ZT_BENCH_STORES") ?? "memory,file,pg").split(",");
  for (const store of stores) {
    if (!["memory", "file", "pg"].includes(store)) {
      throw new Error(`ZT_BENCH_STORES: unknown store "${store}" (memory, file, pg)`);
    }
  }
  const signer = installSigningCrypto();
  if (ROW_FILE === undefined) {
    console.log(
      `network: ${MEMBERS} members (${ASKERS} with key pairs ask ${REPEAT} times), ` +
        `${FIRST} first-time members; armored requests through Node.receive, signed replies`,
    );
    console.log(`Ed25519: ${signer.ed25519}${signer.reason ? ` (${signer.reason})` : ""}`);
    console.log(
      `key crypto: ${c25519BackendName()}${nativeCrypto.reason ? ` (${nativeCrypto.reason})` : ""}`,
    );
  }
  const rows = ROW_FILE === undefined && stores.length > 1 &&
      Deno.env.get("ZT_BENCH_ISOLATE") !== "0"
    ? await runChildren(stores)
    : await runInProcess(stores);
  if (ROW_FILE !== undefined) {
    await Deno.writeTextFile(ROW_FILE, rowsToJson(rows));
    return;
  }
  printTable(rows);
}

/** Runs the stores one after the other in this process. */
async function runInProcess(stores: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  const now = 1_800_000_000_000;
  // file and PostgreSQL load their own copies of one population (setup, not measured); the
  // memory store keeps the record objects, so it gets its own
  let shared: Population | undefined;
  const population = () => shared ??= populate(now);
  for (const store of stores) {
    if (store === "memory") {
      const p = populate(now);
      rows.push(
        await runStore("memory", p, () =>
          Promise.resolve({
            store: new MemoryStore([p.network], p.records),
            close: () => Promise.resolve(),
          })),
      );
    } else if (store === "file") {
      const p = population();
      const dir = await Deno.makeTempDir({ prefix: "zt-ctl-bench-" });
      try {
        writeDir(dir, p);
        rows.push(
          await runStore(
            "file",
            p,
            () => Promise.resolve({ store: new FileStore(dir), close: () => Promise.resolve() }),
          ),
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    } else {
      if (!postgresBinDir()) {
        console.log("pg: PostgreSQL not installed (scripts/setup.sh)");
        continue;
      }
      const p = population();
      const pg = await PgCluster.start();
      try {
        const url = await pg.createDb("bench");
        const conn = parsePgConnInfo(url) as PgConnInfo;
        const sql = pgConnect(conn);
        await writePg(sql, { networks: [p.network], members: p.records });
        await sql.end();
        rows.push(
          await runStore("pg", p, async () => {
            const store = await PgStore.open({ conn, instance: "bench" });
            const c = new PgController(store);
            return { store, pg: c, close: () => c.close() };
          }),
        );
      } finally {
        await pg.destroy();
      }
    }
  }
  return rows;
}

/** The Markdown table of the rows. */
function printTable(rows: Row[]): void {
  const s = (r: Result) => r.latencies.slice().sort((a, b) => a - b);
  console.log(
    "\n| store | start-up | heap/member | repeat req/s | p50 | p99 | CPU/req | first-time req/s | p50 | p99 | CPU/req | API writes/s (1 / 16 at once) |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const a = s(r.repeat), b = s(r.first);
    console.log(
      `| ${r.store} | ${(r.startMs / 1000).toFixed(1)} s | ${r.bytesPerMember.toFixed(0)} B | ` +
        `${(r.repeat.n / r.repeat.seconds).toFixed(0)} | ${pct(a, 0.5).toFixed(2)} ms | ` +
        `${pct(a, 0.99).toFixed(2)} ms | ${r.repeat.cpuMsPerRequest.toFixed(3)} ms | ` +
        `${(r.first.n / r.first.seconds).toFixed(0)} | ` +
        `${pct(b, 0.5).toFixed(2)} ms | ${pct(b, 0.99).toFixed(2)} ms | ` +
        `${r.first.cpuMsPerRequest.toFixed(3)} ms | ` +
        `${r.api[0].toFixed(0)} / ${r.api[1].toFixed(0)}${
          r.api[2] ? ` (${r.api[2]} refused)` : ""
        } |`,
    );
  }
}

if (import.meta.main) await run();
