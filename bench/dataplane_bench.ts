// Benchmark: data plane in a netns lab — iperf3, ping RTT, CPU s/GB, peak RSS, auth→first ping; raw veth vs zt (and the reference when ZT_REFERENCE is set).
//
// Root only. Builds the VL2 lab of tests/e2e (root .1, controller .2, zt members a .11 and b .12
// on one bridge, underlay 198.18.0.0/16, overlay 198.19.0.0/24). With ZT_REFERENCE=<path to a
// zerotier-one binary>, two reference members c .13 and d .14 run inside their own lab
// namespaces with their own homes holding the SAME lab planet (root = the zt root), so no public
// root is ever contacted; they join the zt controller's network. Columns: raw veth a→b, zt↔zt,
// and with the reference ref↔ref, zt→ref, ref→zt. Options: `--seconds N` (iperf3 duration,
// default 10), `--quick` (3 s), `--profile` (perf record of both zt nodes during an extra zt↔zt
// 1-stream run, or an extra set of pings with `--rtt`, printed as a breakdown; needs `perf`),
// `--idle N` (quiet seconds for idle RSS and CPU), `--rtt` (ping RTT, CPU during the pings and
// idle figures only: no iperf3), `--pairs veth,ztzt,refref,ztref,refzt` (only those columns),
// `--pings N` (pings per RTT figure, 0.2 s apart; default 60), `--hops` (per-hop latency: the
// pings again with tcpdump on both ends' TAP and underlay), `--entry js|ts` (what the zt nodes
// start: `js` (default) the plain-JavaScript build the `zt` launcher runs, built afresh into a
// temporary directory (scripts/build_js.ts); `ts` cli.ts). Env ZT_BENCH_SMAPS_DIR: copy each
// node's /proc/<pid>/smaps there when idle RSS is read. A pair whose nodes have carried no
// iperf3 traffic yet in the run (zt↔zt, ref↔ref) is also pinged before its iperf3 runs: the RTT of
// a member whose JIT is still cold. `--rtt-rounds N` (default 6, 0 = off): after all pairs, N
// rounds that ping every overlay pair 10 times each in turn, order rotating: a same-minutes RTT
// per pairing (row "ping RTT median, pairs interleaved"), since one pair's 12 s of pings and the
// next pair's minutes later see a different machine.
// `--floor`: three pairs of bench/rtt_floor_node.ts forwarders (TAP <-> UDP on zt's own
// adapters, no protocol; without a cipher, with the WASM AES-GMAC-SIV of a lone zt packet, with
// cipher 1) join those rounds; a line after the table splits zt↔zt's RTT into runtime and I/O,
// cipher, and the rest.
import { median } from "./stats.ts";
import { exec, Lab, type NsProcess, waitFor } from "../tests/e2e/netns.ts";
import { LAB_PLANET_ID, ZT_PORT, ZT_V8_FLAGS, type ZtNode } from "../tests/e2e/zt_lab.ts";
import {
  api200,
  CONTROLLER_IP,
  MEMBER_IPS,
  OVERLAY_V4,
  startVl2Lab,
  vl2World,
} from "../tests/e2e/vl2_lab.ts";
import { parseWorld } from "../src/vl1/world.ts";
import { procStatTicks } from "../src/service/memory_trim.ts";
import { buildJs } from "../scripts/build_js.ts";

/** Options of {@link runDataplaneBench}. */
export interface DataplaneBenchOptions {
  /** Seconds per iperf3 run. */
  seconds: number;
  /** Path of a reference zerotier-one binary, or undefined. */
  reference?: string;
  /** Record a perf profile of the zt nodes during the zt↔zt 1-stream run. */
  profile: boolean;
  /** Seconds of quiet before idle RSS is read (default 60); idle CPU is measured over them. */
  idleSeconds: number;
  /**
   * Per-hop latency (`--hops`): after each overlay pair's RTT pings, the same number of pings
   * again with tcpdump on both ends' underlay and TAP interfaces (see {@link hopLatencies}).
   */
  hops?: boolean;
  /** Only ping RTT (and idle RSS/CPU): no iperf3 runs (`--rtt`). */
  rttOnly?: boolean;
  /**
   * Only these pairs (`--pairs veth,ztzt,refref,ztref,refzt`); all when undefined. The lab and
   * the auth → first ping measurements are the same either way.
   */
  pairs?: string[];
  /** Pings per RTT measurement, 0.2 s apart (`--pings N`, default {@link DEFAULT_PINGS}). */
  pings: number;
  /**
   * Interleaved RTT (`--rtt-rounds N`, default {@link DEFAULT_RTT_ROUNDS}, 0 = off): after every
   * pair's own runs, N rounds that each ping every overlay pair {@link INTERLEAVED_PINGS} times in
   * turn (the order rotating by round), so every pairing is pinged across the same minutes of a
   * shared, drifting machine; the table's interleaved row is the median of all of a pair's pings.
   */
  rttRounds?: number;
  /**
   * `--floor`: three more pairs of hosts run bench/rtt_floor_node.ts (a TAP <-> UDP forwarder on
   * zt's own adapters, no protocol; pairs without a cipher, with the WASM AES-GMAC-SIV a lone zt
   * packet gets, and with cipher 1) and join the interleaved RTT rounds: how much of zt↔zt's RTT
   * is the runtime and its I/O, the cipher, and the VL1/VL2 code. Printed after the table.
   */
  floor?: boolean;
  /**
   * What zt nodes start (`--entry`): "js" the launcher's plain-JavaScript build (default),
   * "ts" cli.ts.
   */
  entry: "js" | "ts";
}

/** Short names of the pairs for `--pairs`. */
const PAIR_KEYS: Record<string, string> = {
  "raw veth": "veth",
  "zt↔zt": "ztzt",
  "ref↔ref": "refref",
  "zt→ref": "ztref",
  "ref→zt": "refzt",
};

/** The measurements of one pair of endpoints. */
export interface PairResult {
  /** Column label. */
  label: string;
  /** iperf3 TCP, 1 stream, Gb/s received. */
  gbps1: number;
  /** iperf3 TCP, 4 streams, Gb/s received. */
  gbps4: number;
  /** Average ping RTT (pings 0.2 s apart), ms. */
  rttMs: number;
  /** Median of the same pings, ms. */
  rttMedianMs?: number;
  /** How many pings were sent for the RTT figures (the table's label says it). */
  rttCount?: number;
  /**
   * Median RTT of the same number of pings before any iperf3 run, when neither node had carried
   * bulk traffic yet in this run (a member's JIT is cold then), ms.
   */
  rttColdMedianMs?: number;
  /** CPU seconds per GB (1e9 bytes) of the sending / receiving node, 1 stream (undefined: no node). */
  cpu1?: [number, number];
  /** The same with 4 streams. */
  cpu4?: [number, number];
  /** VmHWM of the sending / receiving node after the runs (its whole life, start-up too), MiB. */
  rssMiB?: [number, number];
  /** Largest VmRSS of the sending / receiving node sampled during the iperf3 runs, MiB. */
  loadRssMiB?: [number, number];
  /** ms from the authorizing POST to the first answered ping, if measured for this pair. */
  authMs?: number;
  /** Which node was authorized and who pinged it. */
  authNote?: string;
  /** Ciphers of the ZeroTier packets seen on the sender's wire during the 1-stream run. */
  cipherMix?: string;
  /** VmRSS of the sending / receiving node when idle (see {@link idleRss}), MiB. */
  idleRssMiB?: [number, number];
  /** RssAnon and RssFile of the sending / receiving node at the same moment, MiB. */
  idleSplitMiB?: [[number, number], [number, number]];
  /** CPU of the sending / receiving node during the quiet period, % of one core. */
  idleCpuPct?: [number, number];
  /** CPU of the pinging / pinged node during the RTT pings (5 per second), % of one core. */
  rttCpuPct?: [number, number];
  /** Per-hop latency medians of a separate set of pings (`--hops`). */
  hops?: HopLatencies;
  /** Median RTT of the interleaved rounds (`--rtt-rounds`), ms, and how many pings it took. */
  rttInterleaved?: { medianMs: number; count: number };
}

/**
 * Medians over the pings seen in all four captures, µs: the pinger's node from the echo request
 * on its TAP to the datagram on its underlay interface, the target's node from that datagram to
 * the request on its TAP, the target's node from the reply on its TAP to the datagram out, the
 * pinger's node from that datagram to the reply on its TAP; and the round trip between the
 * pinger's TAP stamps.
 */
export interface HopLatencies {
  /** Pings matched in all four captures. */
  count: number;
  pingerOut: number;
  targetIn: number;
  targetOut: number;
  pingerIn: number;
  rtt: number;
}

/** tcpdump text of one end of a pair (`-tt` stamps): its TAP and its underlay interface. */
export interface HopCapture {
  /** ICMP on the TAP. */
  tap: string;
  /** UDP on the underlay interface. */
  underlay: string;
  /** The node's underlay IPv4 address. */
  ip: string;
}

/** Echo requests or replies on a TAP capture: sequence number -> time (s). */
function echoTimes(text: string, kind: "request" | "reply"): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split("\n")) {
    const m = /^(\d+\.\d+) .*ICMP echo (request|reply), id \d+, seq (\d+)/.exec(line);
    if (m && m[2] === kind && !out.has(Number(m[3]))) out.set(Number(m[3]), Number(m[1]));
  }
  return out;
}

/** Times (s, ascending) of the UDP datagrams from `src` in an underlay capture. */
function udpFrom(text: string, src: string): number[] {
  const out: number[] = [];
  const at = ` IP ${src}.`;
  for (const line of text.split("\n")) {
    const m = /^(\d+\.\d+) /.exec(line);
    if (m && line.includes(at)) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/**
 * Per-hop latency from tcpdump captures of both ends (`tcpdump -nn -tt
 * --time-stamp-precision=nano`; namespaces share the kernel clock): each echo request on the
 * pinger's TAP is followed to the first datagram the pinger sends within 20 ms, the first the
 * target receives after it, the request on the target's TAP; the reply likewise back. Undefined
 * when no ping could be followed.
 */
export function hopLatencies(pinger: HopCapture, target: HopCapture): HopLatencies | undefined {
  const reqP = echoTimes(pinger.tap, "request"), repP = echoTimes(pinger.tap, "reply");
  const reqT = echoTimes(target.tap, "request"), repT = echoTimes(target.tap, "reply");
  const pOut = udpFrom(pinger.underlay, pinger.ip), pIn = udpFrom(pinger.underlay, target.ip);
  const tIn = udpFrom(target.underlay, pinger.ip), tOut = udpFrom(target.underlay, target.ip);
  const after = (xs: number[], t: number | undefined) =>
    t === undefined ? undefined : xs.find((x) => x >= t && x - t < 0.02);
  const hops: number[][] = [[], [], [], [], []];
  for (const [seq, t0] of reqP) {
    const t3 = reqT.get(seq), t4 = repT.get(seq), t7 = repP.get(seq);
    if (t3 === undefined || t4 === undefined || t7 === undefined) continue;
    const t1 = after(pOut, t0), t2 = after(tIn, t1), t5 = after(tOut, t4), t6 = after(pIn, t5);
    if (t1 === undefined || t2 === undefined || t5 === undefined || t6 === undefined) continue;
    if (!(t2 <= t3 && t3 <= t4 && t6 <= t7)) continue;
    [t1 - t0, t3 - t2, t5 - t4, t7 - t6, t7 - t0].forEach((d, i) => hops[i].push(d * 1e6));
  }
  if (hops[0].length === 0) return undefined;
  const [pingerOut, targetIn, targetOut, pingerIn, rtt] = hops.map(median);
  return { count: hops[0].length, pingerOut, targetIn, targetOut, pingerIn, rtt };
}

/**
 * `count` pings from `from` to `to` (0.2 s apart) with tcpdump on both nodes' TAP (ICMP) and
 * underlay (UDP) interfaces; {@link hopLatencies} of the captures.
 */
async function captureHops(
  from: BenchNode,
  to: BenchNode,
  nwid: string,
  count: number,
): Promise<HopLatencies | undefined> {
  const dump = (n: BenchNode, dev: string, filter: string[]) =>
    new Deno.Command("ip", {
      args: ["netns", "exec", n.ns, "tcpdump", "-i", dev, "-nn", "-tt", "-l"]
        .concat(["--time-stamp-precision=nano", "-B", "4096", ...filter]),
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
  const udp = ["udp", "and", "greater", "100"];
  const procs = [
    dump(from, await tapDevice(from, nwid), ["icmp"]),
    dump(from, "eth0", udp),
    dump(to, await tapDevice(to, nwid), ["icmp"]),
    dump(to, "eth0", udp),
  ];
  const texts = procs.map((p) => p.output());
  try {
    await new Promise((r) => setTimeout(r, 1000)); // tcpdump attaches
    await pingRtts(from, to.overlay, count);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    for (const p of procs) {
      try {
        p.kill("SIGINT");
      } catch {
        // already gone
      }
    }
  }
  const dec = new TextDecoder();
  const [pt, pu, tt, tu] = (await Promise.all(texts)).map((o) => dec.decode(o.stdout));
  return hopLatencies({ tap: pt, underlay: pu, ip: from.ip }, { tap: tt, underlay: tu, ip: to.ip });
}

/** One benchmark endpoint: a zt or reference node in a lab namespace. */
interface BenchNode {
  name: string;
  kind: "zt" | "ref" | "veth";
  ns: string;
  token: string;
  address: string;
  /** Underlay address. */
  ip: string;
  /** Overlay IPv4 assigned by the bench. */
  overlay: string;
  proc?: NsProcess;
  /** Home directory (for metricstoken.secret). */
  home?: string;
}

const GB = 1e9;
/**
 * Pings per RTT measurement. 20 left the median of a run ±25% on this shared box; 60 (12 s a
 * pair) halves the spread.
 */
export const DEFAULT_PINGS = 60;
/** Rounds of the interleaved RTT measurement (see {@link DataplaneBenchOptions.rttRounds}). */
export const DEFAULT_RTT_ROUNDS = 6;
/** Pings per pair in each interleaved round, 0.2 s apart. */
export const INTERLEAVED_PINGS = 10;

/**
 * Parses `--seconds N`, `--quick` (3 s runs, 10 s idle), `--idle N` (seconds before idle RSS,
 * default 60), `--profile`, `--rtt` (ping RTT and idle figures only), `--hops`, `--pairs`,
 * `--pings`, `--rtt-rounds`, `--entry`, `--floor` from `args`; the reference from ZT_REFERENCE.
 */
export function parseBenchArgs(args: string[]): DataplaneBenchOptions {
  let seconds = 10;
  let profile = false;
  let idleSeconds = 60;
  let rttOnly = false;
  let hops = false;
  let pairs: string[] | undefined;
  let pings = DEFAULT_PINGS;
  let rttRounds = DEFAULT_RTT_ROUNDS;
  let floor = false;
  let entry: "js" | "ts" = "js";
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--quick") {
      seconds = 3;
      idleSeconds = 10;
    } else if (args[i] === "--idle" || args[i].startsWith("--idle=")) {
      const v = args[i].includes("=") ? args[i].split("=")[1] : args[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 600) throw new Error(`bad --idle ${v}`);
      idleSeconds = n;
    } else if (args[i] === "--profile") profile = true;
    else if (args[i] === "--rtt") rttOnly = true;
    else if (args[i] === "--hops") hops = true;
    else if (args[i] === "--floor") floor = true;
    else if (args[i] === "--entry" || args[i].startsWith("--entry=")) {
      const v = args[i].includes("=") ? args[i].split("=")[1] : args[++i];
      if (v !== "js" && v !== "ts") throw new Error(`bad --entry ${v} (js or ts)`);
      entry = v;
    } else if (args[i] === "--pairs" || args[i].startsWith("--pairs=")) {
      const v = args[i].includes("=") ? args[i].split("=")[1] : args[++i];
      pairs = (v ?? "").split(",").filter((x) => x !== "");
      const known = Object.values(PAIR_KEYS);
      const bad = pairs.filter((x) => !known.includes(x));
      if (bad.length > 0 || pairs.length === 0) {
        throw new Error(`bad --pairs ${v} (known: ${known.join(",")})`);
      }
    } else if (args[i] === "--pings" || args[i].startsWith("--pings=")) {
      const v = args[i].includes("=") ? args[i].split("=")[1] : args[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 3 || n > 1000) throw new Error(`bad --pings ${v}`);
      pings = n;
    } else if (args[i] === "--rtt-rounds" || args[i].startsWith("--rtt-rounds=")) {
      const v = args[i].includes("=") ? args[i].split("=")[1] : args[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 100) throw new Error(`bad --rtt-rounds ${v}`);
      rttRounds = n;
    } else if (args[i] === "--seconds" || args[i].startsWith("--seconds=")) {
      const v = args[i].includes("=") ? args[i].split("=")[1] : args[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 600) throw new Error(`bad --seconds ${v}`);
      seconds = n;
    }
  }
  const reference = Deno.env.get("ZT_REFERENCE") || undefined;
  return {
    seconds,
    reference,
    profile,
    idleSeconds,
    rttOnly,
    pairs,
    pings,
    hops,
    entry,
    rttRounds,
    floor,
  };
}

/** One call to a node's local API (curl inside its namespace); status and parsed body. */
async function nodeApi(
  n: BenchNode,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const args = ["curl", "-sS", "--max-time", "3", "-X", method, "-H", `X-ZT1-Auth: ${n.token}`];
  args.push("-w", "\n%{http_code}");
  if (body !== undefined) {
    args.push("-H", "Content-Type: application/json", "-d", JSON.stringify(body));
  }
  args.push(`http://127.0.0.1:${ZT_PORT}${path}`);
  const r = await exec(n.ns, args, { check: false, timeoutMs: 5000 });
  if (r.code !== 0) throw new Error(`${method} ${path} on ${n.name}: ${r.stderr.trim()}`);
  const nl = r.stdout.lastIndexOf("\n");
  const text = r.stdout.slice(0, nl);
  let json: Record<string, unknown> | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: Number(r.stdout.slice(nl + 1)), json };
}

/** utime + stime of `pid` in seconds. */
function cpuSeconds(pid: number, clkTck: number): number {
  return (procStatTicks(Deno.readTextFileSync(`/proc/${pid}/stat`)) ?? NaN) / clkTck;
}

/** VmHWM of `pid` in MiB. */
function peakRssMiB(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * Counts the ciphers of the ZeroTier packets in a pcap (Ethernet, IPv4/UDP) captured with a small
 * snap length: a packet head's flags byte (payload offset 18) holds the cipher in bits 3..5;
 * fragments (0xff at payload offset 13) carry none and are skipped. A UDP GSO super-datagram
 * counts once, by its first packet.
 */
export function cipherMixOfPcap(b: Uint8Array): Map<number, number> {
  const mix = new Map<number, number>();
  if (b.length < 24) return mix;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = v.getUint32(0, true) === 0xa1b2c3d4 || v.getUint32(0, true) === 0xa1b23c4d;
  for (let o = 24; o + 16 <= b.length;) {
    const incl = v.getUint32(o + 8, le);
    const rec = b.subarray(o + 16, Math.min(b.length, o + 16 + incl));
    o += 16 + incl;
    if (rec.length < 14 + 20 + 8 || ((rec[12] << 8) | rec[13]) !== 0x0800) continue;
    const ihl = (rec[14] & 0x0f) * 4;
    if (rec[14 + 9] !== 17) continue;
    const zt = rec.subarray(14 + ihl + 8);
    if (zt.length < 28 || zt[13] === 0xff) continue;
    const c = (zt[18] >>> 3) & 7;
    mix.set(c, (mix.get(c) ?? 0) + 1);
  }
  return mix;
}

/** "c3 100%" style text of a cipher count map. */
export function formatCipherMix(mix: Map<number, number>): string {
  const total = [...mix.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return "-";
  return [...mix].sort((x, y) => y[1] - x[1])
    .map(([c, n]) => `c${c} ${(100 * n / total).toFixed(n === total ? 0 : 1)}%`).join(" ");
}

/** Captures up to 2000 ZeroTier datagram heads on `n`'s eth0 while `fn` runs; the cipher mix. */
async function withCipherMix<T>(
  lab: Lab,
  n: BenchNode,
  fn: () => Promise<T>,
): Promise<[T, string]> {
  const file = lab.path(`mix-${n.name}-${crypto.randomUUID()}.pcap`);
  const cap = lab.spawn(n.ns, [
    "tcpdump",
    "-i",
    "eth0",
    "-nn",
    "-s",
    "128",
    "-c",
    "2000",
    "-U",
    "-w",
    file,
    "udp",
  ], { logFile: `${file}.log` });
  await new Promise((r) => setTimeout(r, 500));
  try {
    const r = await fn();
    await cap.stop("SIGINT", 2000);
    let mix = "-";
    try {
      mix = formatCipherMix(cipherMixOfPcap(Deno.readFileSync(file)));
    } catch {
      // no capture
    }
    return [r, mix];
  } finally {
    if (!cap.exitStatus) await cap.stop("SIGKILL", 1000);
  }
}

/** A `/proc/<pid>/status` size field (VmRSS, RssAnon, RssFile, ...) of `pid` in MiB. */
function statusMiB(pid: number, key = "VmRSS"): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(
      Deno.readTextFileSync(`/proc/${pid}/status`),
    );
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN; // the process is gone
  }
}

/** VmRSS of `pid` in MiB. */
function rssMiB(pid: number): number {
  return statusMiB(pid);
}

/**
 * Samples the VmRSS of `pids` every 200 ms until the returned stop function is called, which
 * gives the largest value seen for each (MiB).
 */
function sampleRss(pids: number[]): () => number[] {
  const max = pids.map((p) => rssMiB(p));
  const t = setInterval(() => {
    pids.forEach((p, i) => {
      const v = rssMiB(p);
      if (v > max[i]) max[i] = v;
    });
  }, 200);
  return () => {
    clearInterval(t);
    pids.forEach((p, i) => {
      const v = rssMiB(p);
      if (v > max[i]) max[i] = v;
    });
    return max;
  };
}

/** The result of one iperf3 client run. */
interface IperfRun {
  bytes: number;
  gbps: number;
  /** CPU seconds of the sender's / receiver's node process during the run. */
  cpu?: [number, number];
  /** Largest VmRSS of the sender's / receiver's node process during the run, MiB. */
  rss?: [number, number];
}

/** iperf3 from `from` to `toIp` for `seconds` with `streams` streams. */
async function iperf(
  from: BenchNode,
  to: BenchNode,
  toIp: string,
  seconds: number,
  streams: number,
  clkTck: number,
): Promise<IperfRun> {
  const pids = from.proc && to.proc ? [from.proc.pid, to.proc.pid] : undefined;
  const before = pids?.map((p) => cpuSeconds(p, clkTck));
  const rssDone = pids ? sampleRss(pids) : undefined;
  const r = await exec(from.ns, [
    "iperf3",
    "-c",
    toIp,
    "-t",
    String(seconds),
    "-P",
    String(streams),
    "-J",
  ], { check: false, timeoutMs: (seconds + 30) * 1000 });
  const after = pids?.map((p) => cpuSeconds(p, clkTck));
  const rss = rssDone?.() as [number, number] | undefined;
  if (r.code !== 0) {
    throw new Error(`iperf3 ${from.name}→${toIp} failed:\n${r.stdout.slice(0, 1500)}${r.stderr}`);
  }
  const j = JSON.parse(r.stdout);
  const bytes = j.end.sum_received.bytes as number;
  const gbps = (j.end.sum_received.bits_per_second as number) / 1e9;
  const cpu = before && after
    ? [after[0] - before[0], after[1] - before[1]] as [number, number]
    : undefined;
  return { bytes, gbps, cpu, rss };
}

/** `count` pings 0.2 s apart: average, median and each RTT (ms). */
async function pingRtts(
  from: BenchNode,
  ip: string,
  count: number,
): Promise<{ avg: number; median: number; each: number[] }> {
  const r = await exec(from.ns, [
    "ping",
    "-n",
    "-c",
    String(count),
    "-i",
    "0.2",
    "-W",
    "1",
    ip,
  ], { check: false, timeoutMs: 10_000 + count * 1000 });
  const m = /= [\d.]+\/([\d.]+)\/[\d.]+\/[\d.]+ ms/.exec(r.stdout);
  if (!m) throw new Error(`ping ${from.name}→${ip}: ${r.stdout}${r.stderr}`);
  const each = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((x) => Number(x[1]));
  return { avg: Number(m[1]), median: median(each), each };
}

/** The interface name of network `nwid` on `n` (checked to be a plain device name). */
async function tapDevice(n: BenchNode, nwid: string): Promise<string> {
  const d = (await nodeApi(n, "GET", `/network/${nwid}`)).json?.portDeviceName;
  if (typeof d !== "string" || !/^[a-z0-9]{1,15}$/.test(d)) throw new Error(`${n.name}: no TAP`);
  return d;
}

/** Waits until `n` lists a non-expired direct path to `peer` at its underlay IP. */
async function waitDirect(n: BenchNode, peer: BenchNode): Promise<boolean> {
  try {
    await waitFor(`${n.name}: direct path to ${peer.name}`, 15_000, async () => {
      const r = await nodeApi(n, "GET", `/peer/${peer.address}`);
      const paths = (r.json?.paths ?? []) as { address: string; expired?: boolean }[];
      return paths.some((p) => p.address.startsWith(`${peer.ip}/`) && p.expired !== true);
    }, { intervalMs: 200 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Authorizes `target` (POST to the controller API, static overlay IP) while `pinger` pings it
 * every 0.1 s; ms from just before the POST to the first reply (ping -D timestamps).
 */
async function authToFirstPing(
  ctl: BenchNode,
  nwid: string,
  target: BenchNode,
  pinger: BenchNode,
): Promise<number> {
  // ARP retries every 100 ms instead of 1 s on the pinger's interface, so the first answer is
  // not quantized by the kernel's ARP backoff; no stale neighbor entry for the target
  const dev = await tapDevice(pinger, nwid);
  await exec(pinger.ns, ["sh", "-c", `echo 100 > /proc/sys/net/ipv4/neigh/${dev}/retrans_time_ms`]);
  await exec(pinger.ns, ["ip", "neigh", "flush", "to", target.overlay], { check: false });
  // ping streams its lines; stopped at the first reply (errors while the target has no
  // address yet do not end it, as they would with -w)
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", pinger.ns, "ping", "-n", "-D", "-c", "600", "-i", "0.1"]
      .concat(["-W", "1", target.overlay]),
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reply = (async () => {
    let text = "";
    const dec = new TextDecoder();
    for await (const chunk of child.stdout) {
      text += dec.decode(chunk, { stream: true });
      const m = /^\[(\d+\.\d+)\] \d+ bytes from/m.exec(text);
      if (m) return Number(m[1]) * 1000;
    }
    throw new Error(`no reply from ${target.name} to ${pinger.name}:\n${text.slice(-2000)}`);
  })();
  let tReply: number;
  let t0 = 0;
  try {
    await new Promise((r) => setTimeout(r, 300)); // ping is running
    t0 = Date.now();
    await authorize(ctl, nwid, target);
    tReply = await reply;
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    await child.status;
  }
  return tReply - t0;
}

/** Authorizes `m` with its static overlay IP. */
async function authorize(ctl: BenchNode, nwid: string, m: BenchNode): Promise<void> {
  const r = await nodeApi(ctl, "POST", `/controller/network/${nwid}/member/${m.address}`, {
    authorized: true,
    ipAssignments: [m.overlay],
  });
  if (r.status !== 200 || r.json?.authorized !== true) {
    throw new Error(`authorize ${m.name}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
  }
}

/** Waits until `m` has network `nwid` OK with an interface. */
async function waitOk(m: BenchNode, nwid: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`${m.name}: network OK`, timeoutMs, async () => {
    const r = await nodeApi(m, "GET", `/network/${nwid}`);
    return r.json?.status === "OK" && r.json.portDeviceName !== "";
  }, { intervalMs: 200 });
}

/** Joins `m` to `nwid` (unauthorized) and waits for ACCESS_DENIED. */
async function joinDenied(m: BenchNode, nwid: string): Promise<void> {
  const r = await nodeApi(m, "POST", `/network/${nwid}`, {});
  if (r.status !== 200) throw new Error(`join on ${m.name}: HTTP ${r.status}`);
  await waitFor(`${m.name}: ACCESS_DENIED`, 20_000, async () => {
    const n = await nodeApi(m, "GET", `/network/${nwid}`);
    return n.json?.status === "ACCESS_DENIED";
  }, { intervalMs: 200 });
}

/** Writes a reference node's home and starts it in `ns` (a lab namespace) with the lab planet. */
async function startReference(
  lab: Lab,
  binary: string,
  role: string,
  ip: string,
  id: { secret: string; public: string },
  planet: Uint8Array,
): Promise<BenchNode> {
  const w = parseWorld(planet);
  if (!w || w.id !== BigInt("0x" + LAB_PLANET_ID)) throw new Error("not the lab planet");
  const host = await lab.addHost(role, ip);
  if (!lab.namespaces.includes(host.ns)) throw new Error("reference outside the lab");
  const home = lab.path(`ref-${role}`);
  Deno.mkdirSync(home, { recursive: true });
  const token = `tok-ref-${role}-${crypto.randomUUID()}`;
  Deno.writeTextFileSync(`${home}/identity.secret`, id.secret + "\n", { mode: 0o600 });
  Deno.writeTextFileSync(`${home}/identity.public`, id.public + "\n");
  Deno.writeTextFileSync(`${home}/authtoken.secret`, token, { mode: 0o600 });
  Deno.writeFileSync(`${home}/planet`, planet);
  Deno.writeTextFileSync(
    `${home}/local.conf`,
    JSON.stringify({
      settings: {
        portMappingEnabled: false,
        allowTcpFallbackRelay: false,
        allowSecondaryPort: false,
      },
    }),
  );
  // never start it with any planet but the lab's
  const written = Deno.readFileSync(`${home}/planet`);
  if (written.length !== planet.length || !written.every((b, i) => b === planet[i])) {
    throw new Error("reference home: planet mismatch");
  }
  const proc = lab.spawn(host.ns, [binary, `-p${ZT_PORT}`, home], {
    logFile: `${home}.log`,
  });
  const n: BenchNode = {
    name: `ref-${role}`,
    kind: "ref",
    ns: host.ns,
    token,
    address: "",
    ip,
    overlay: "",
    proc,
    home,
  };
  const st = await waitFor(`reference ${role} online`, 30_000, async () => {
    if (proc.exitStatus) throw new Error(`reference ${role} exited: ${proc.logTail(20)}`);
    const r = await nodeApi(n, "GET", "/status");
    return r.json?.online === true ? r.json : undefined;
  }, { intervalMs: 250, detail: () => proc.logTail(30) });
  n.address = st.address as string;
  return n;
}

function fromZt(z: ZtNode, ip: string, overlay: string): BenchNode {
  return {
    name: z.name,
    kind: "zt",
    ns: z.ns,
    token: z.token,
    address: z.address,
    ip,
    overlay,
    proc: z.proc,
    home: z.home,
  };
}

/** The network the bench creates: private, IPv4 only (static assignments), one route. */
const BENCH_NETWORK = {
  name: "bench-net",
  private: true,
  enableBroadcast: true,
  v4AssignMode: { zt: true },
  v6AssignMode: { zt: false, rfc4193: false, "6plane": false },
  ipAssignmentPools: [{ ipRangeStart: "198.19.0.100", ipRangeEnd: "198.19.0.250" }],
  routes: [{ target: OVERLAY_V4, via: null }],
};

/**
 * The interleaved RTT (see {@link DataplaneBenchOptions.rttRounds}): `rounds` rounds, each pinging
 * every overlay pair that has a result {@link INTERLEAVED_PINGS} times, the order rotated by one
 * pair a round; sets `rttInterleaved` on those results.
 */
async function interleavedRtts(
  pairs: [string, BenchNode, BenchNode, string][],
  results: PairResult[],
  rounds: number,
  floors: FloorPair[] = [],
): Promise<void> {
  const todo = pairs.filter(([label, from]) =>
    from.kind !== "veth" && results.some((r) => r.label === label)
  );
  for (const f of floors) todo.push([f.label, f.from, f.from, f.toIp]);
  if (todo.length === 0) return;
  const each = new Map<string, number[]>(todo.map(([label]) => [label, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < todo.length; i++) {
      const [label, from, , ip] = todo[(i + round) % todo.length];
      const r = await pingRtts(from, ip, INTERLEAVED_PINGS).catch(() => undefined);
      if (r) each.get(label)!.push(...r.each);
    }
  }
  const line: string[] = [];
  for (const [label, rtts] of each) {
    if (rtts.length === 0) continue;
    const medianMs = median(rtts);
    const floor = floors.find((f) => f.label === label);
    if (floor) floor.medianMs = medianMs;
    else results.find((r) => r.label === label)!.rttInterleaved = { medianMs, count: rtts.length };
    line.push(`${label} ${medianMs.toFixed(3)}`);
  }
  console.log(`  interleaved RTT medians (${rounds} rounds): ${line.join(", ")} ms`);
}

/** A pair of RTT-floor forwarders (see {@link DataplaneBenchOptions.floor}). */
interface FloorPair {
  label: string;
  /** The pinging host (its forwarder carries the pings). */
  from: BenchNode;
  /** The other forwarder's TAP address. */
  toIp: string;
  /** Median of its interleaved pings, ms (once measured). */
  medianMs?: number;
}

/** The floor variants: label, cipher, underlay host numbers, overlay /24. */
const FLOOR_VARIANTS: [string, 0 | 1 | 3, number, number, string][] = [
  ["floor", 0, 31, 32, "198.19.31"],
  ["floor+c3", 3, 33, 34, "198.19.33"],
  ["floor+c1", 1, 35, 36, "198.19.35"],
];

/** Starts the floor forwarder pairs on the lab's bridge and waits until each one pings. */
async function startFloors(lab: Lab): Promise<FloorPair[]> {
  const repo = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
  const script = `${repo}/bench/rtt_floor_node.ts`;
  const out: FloorPair[] = [];
  for (const [label, cipher, x, y, net] of FLOOR_VARIANTS) {
    const hx = await lab.addHost(`fl${x}`, `198.18.0.${x}`);
    const hy = await lab.addHost(`fl${y}`, `198.18.0.${y}`);
    for (const [h, me, peer] of [[hx, 1, hy], [hy, 2, hx]] as const) {
      lab.spawn(h.ns, [
        Deno.execPath(),
        "run",
        "-A",
        "--config",
        `${repo}/deno.json`,
        ZT_V8_FLAGS,
        script,
        "ztfloor0",
        `${net}.${me}/24`,
        String(ZT_PORT),
        peer.ip,
        String(ZT_PORT),
        String(cipher),
      ], { logFile: lab.path(`floor-${h.ns}.log`) });
    }
    const from: BenchNode = {
      name: `fl${x}`,
      kind: "zt",
      ns: hx.ns,
      token: "",
      address: "",
      ip: hx.ip,
      overlay: `${net}.1`,
    };
    const toIp = `${net}.2`;
    await waitFor(
      `${label} forwarders`,
      30_000,
      () => pingRtts(from, toIp, 1).then(() => true, () => undefined),
      { intervalMs: 500 },
    );
    out.push({ label, from, toIp });
  }
  return out;
}

/** The line printed after the table for `--floor`. */
export function floorLine(floors: { label: string; medianMs?: number }[], results: PairResult[]) {
  const f = (label: string) => floors.find((x) => x.label === label)?.medianMs;
  const r = (label: string) => results.find((x) => x.label === label)?.rttInterleaved?.medianMs;
  const ms = (v: number | undefined) => v === undefined ? "-" : v.toFixed(3);
  return `RTT floor, pairs interleaved (ms): runtime + I/O adapters ${ms(f("floor"))}, ` +
    `+ WASM AES-GMAC-SIV ${ms(f("floor+c3"))}, + WASM Salsa20/12-Poly1305 ${ms(f("floor+c1"))}; ` +
    `zt↔zt ${ms(r("zt↔zt"))}, ref↔ref ${ms(r("ref↔ref"))}`;
}

/** Measures one pair (sender `from`, receiver `to`, addressed at `toIp`). */
async function measurePair(
  lab: Lab,
  label: string,
  from: BenchNode,
  to: BenchNode,
  toIp: string,
  o: DataplaneBenchOptions,
  clkTck: number,
  hook?: (phase: "before1" | "after1") => Promise<void>,
  cold = false,
): Promise<PairResult> {
  await pingRtts(from, toIp, 20).catch(() => 0); // warm-up: ARP, paths
  const pings = o.pings;
  if (o.rttOnly) {
    await hook?.("before1");
    const pids = from.proc && to.proc ? [from.proc.pid, to.proc.pid] : undefined;
    const before = pids?.map((p) => cpuSeconds(p, clkTck));
    const t0 = performance.now();
    const ping = await pingRtts(from, toIp, pings);
    const rttMs = ping.avg;
    const secs = (performance.now() - t0) / 1000;
    const after = pids?.map((p) => cpuSeconds(p, clkTck));
    const pct = (i: number) => 100 * (after![i] - before![i]) / secs;
    console.log(
      `  ${label}: rtt avg ${rttMs.toFixed(3)} median ${ping.median.toFixed(3)} ms (${
        ping.each.join(" ")
      })`,
    );
    return {
      label,
      gbps1: NaN,
      gbps4: NaN,
      rttMs,
      rttMedianMs: ping.median,
      rttCount: pings,
      ...(pids ? { rttCpuPct: [pct(0), pct(1)] as [number, number] } : {}),
    };
  }
  const coldPing = cold ? await pingRtts(from, toIp, pings) : undefined;
  await hook?.("before1");
  const [r1, cipherMix] = from.kind === "veth"
    ? [await iperf(from, to, toIp, o.seconds, 1, clkTck), undefined]
    : await withCipherMix(lab, from, () => iperf(from, to, toIp, o.seconds, 1, clkTck));
  await hook?.("after1");
  const r4 = await iperf(from, to, toIp, o.seconds, 4, clkTck);
  const ping = await pingRtts(from, toIp, pings);
  const rttMs = ping.avg;
  const perGb = (r: IperfRun) =>
    r.cpu ? [r.cpu[0] / (r.bytes / GB), r.cpu[1] / (r.bytes / GB)] as [number, number] : undefined;
  const res: PairResult = {
    label,
    gbps1: r1.gbps,
    gbps4: r4.gbps,
    rttMs,
    rttMedianMs: ping.median,
    rttCount: pings,
    ...(coldPing ? { rttColdMedianMs: coldPing.median } : {}),
    cpu1: perGb(r1),
    cpu4: perGb(r4),
    cipherMix,
  };
  if (from.proc && to.proc) {
    res.rssMiB = [peakRssMiB(from.proc.pid), peakRssMiB(to.proc.pid)];
    if (r1.rss && r4.rss) {
      res.loadRssMiB = [Math.max(r1.rss[0], r4.rss[0]), Math.max(r1.rss[1], r4.rss[1])];
    }
  }
  console.log(
    `  ${label}: ${r1.gbps.toFixed(3)} / ${r4.gbps.toFixed(3)} Gb/s, rtt avg ${
      rttMs.toFixed(3)
    } median ${ping.median.toFixed(3)} ms (${ping.each.join(" ")})`,
  );
  return res;
}

/** Formats the results as a text table. */
export function formatTable(results: PairResult[]): string {
  const f = (
    x: number | undefined,
    d: number,
  ) => (x === undefined || !isFinite(x) ? "-" : x.toFixed(d));
  const split = (x: [number, number] | undefined) => x ? `${f(x[0], 1)} / ${f(x[1], 1)}` : "-";
  const pings = Math.max(0, ...results.map((r) => r.rttCount ?? 0)) || DEFAULT_PINGS;
  const rows: [string, (r: PairResult) => string][] = [
    ["iperf3 TCP 1 stream (Gb/s)", (r) => f(r.gbps1, 3)],
    ["iperf3 TCP 4 streams (Gb/s)", (r) => f(r.gbps4, 3)],
    [`ping RTT avg of ${pings} (ms)`, (r) => f(r.rttMs, 3)],
    [`ping RTT median of ${pings} (ms)`, (r) => f(r.rttMedianMs, 3)],
    [`ping RTT median of ${pings} before bulk traffic (ms)`, (r) => f(r.rttColdMedianMs, 3)],
    ["CPU s/GB sender node, 1 stream", (r) => f(r.cpu1?.[0], 2)],
    ["CPU s/GB receiver node, 1 stream", (r) => f(r.cpu1?.[1], 2)],
    ["CPU s/GB sender node, 4 streams", (r) => f(r.cpu4?.[0], 2)],
    ["CPU s/GB receiver node, 4 streams", (r) => f(r.cpu4?.[1], 2)],
    ["peak RSS under iperf3 load, sender node (MiB)", (r) => f(r.loadRssMiB?.[0], 1)],
    ["peak RSS under iperf3 load, receiver node (MiB)", (r) => f(r.loadRssMiB?.[1], 1)],
    ["lifetime peak RSS (VmHWM, start-up too), sender (MiB)", (r) => f(r.rssMiB?.[0], 1)],
    ["lifetime peak RSS (VmHWM, start-up too), receiver (MiB)", (r) => f(r.rssMiB?.[1], 1)],
    ["idle RSS sender node (MiB)", (r) => f(r.idleRssMiB?.[0], 1)],
    ["idle RSS receiver node (MiB)", (r) => f(r.idleRssMiB?.[1], 1)],
    ["idle RssAnon / RssFile sender (MiB)", (r) => split(r.idleSplitMiB?.[0])],
    ["idle RssAnon / RssFile receiver (MiB)", (r) => split(r.idleSplitMiB?.[1])],
    ["idle CPU sender node (% of a core)", (r) => f(r.idleCpuPct?.[0], 2)],
    ["idle CPU receiver node (% of a core)", (r) => f(r.idleCpuPct?.[1], 2)],
    [
      "CPU during pings, pinger / pinged (%)",
      (r) => r.rttCpuPct ? `${f(r.rttCpuPct[0], 1)} / ${f(r.rttCpuPct[1], 1)}` : "-",
    ],
    ["auth POST → first ping reply (ms)", (r) => f(r.authMs, 0)],
    ["cipher mix on the wire, 1 stream", (r) => r.cipherMix ?? "-"],
  ];
  const interleaved = Math.max(0, ...results.map((r) => r.rttInterleaved?.count ?? 0));
  if (interleaved > 0) {
    rows.splice(5, 0, [
      `ping RTT median, pairs interleaved (${interleaved} pings) (ms)`,
      (r) => f(r.rttInterleaved?.medianMs, 3),
    ]);
  }
  if (results.some((r) => r.hops)) {
    rows.splice(interleaved > 0 ? 6 : 5, 0, [
      "per hop, µs: pinger out / target in / target out / pinger in",
      (r) =>
        r.hops
          ? [r.hops.pingerOut, r.hops.targetIn, r.hops.targetOut, r.hops.pingerIn]
            .map((x) => x.toFixed(0)).join(" / ")
          : "-",
    ]);
  }
  const head = ["metric", ...results.map((r) => r.label)];
  const body = rows.map(([name, get]) => [name, ...results.map(get)]);
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((row) => row[i].length)));
  const line = (row: string[]) =>
    "| " + row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") +
    " |";
  const sep = "|" +
    widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|";
  const notes = results.filter((r) => r.authNote).map((r) => `  ${r.label}: ${r.authNote}`);
  return [line(head), sep, ...body.map(line), ...(notes.length ? ["auth → ping:", ...notes] : [])]
    .join("\n");
}

/** Runs `perf record` on the zt nodes while `fn` runs; returns `perf script` output. */
async function withPerf(pids: number[], dir: string, fn: () => Promise<void>): Promise<string> {
  const data = `${dir}/perf.data`;
  const rec = new Deno.Command("perf", {
    args: ["record", "-F", "499", "-g", "-o", data, "-p", pids.join(",")],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await new Promise((r) => setTimeout(r, 500));
  try {
    await fn();
  } finally {
    rec.kill("SIGINT");
    await rec.output();
  }
  const out = new Deno.Command("perf", {
    args: ["script", "-i", data, "-F", "comm,pid,tid,ip,sym,dso"],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return new TextDecoder().decode(out.stdout);
}

/** One perf sample: process, thread name, call stack (leaf first). */
interface PerfSample {
  pid: number;
  comm: string;
  frames: { sym: string; dso: string }[];
}

/** Parses `perf script -F comm,pid,tid,ip,sym,dso` output (with call chains). */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  let cur: PerfSample | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      cur = undefined;
      continue;
    }
    if (!/^\s/.test(line)) {
      const m = /^(.*?)\s+(\d+)\/\d+/.exec(line);
      if (!m) continue;
      cur = { pid: Number(m[2]), comm: m[1].trim(), frames: [] };
      samples.push(cur);
      continue;
    }
    const f = /^\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$/.exec(line);
    if (cur && f) cur.frames.push({ sym: f[1], dso: f[2] });
  }
  return samples;
}

/** Where one sample's time goes: a category name. */
export function classifySample(s: PerfSample): string {
  const leaf = s.frames[0];
  if (!leaf) return "no stack";
  if (s.comm.startsWith("V8 ")) return "V8 worker threads (concurrent GC, JIT)";
  const stack = s.frames.map((f) => f.sym).join(" ");
  if (leaf.dso.includes("kernel")) {
    if (/\btun_|tun_chr|tun_get_user|tun_put_user/.test(stack)) return "kernel: TAP read/write";
    if (/udp_|sendmmsg|recvmmsg|__sys_sendmsg|__sys_recvmsg|sendto|recvfrom/.test(stack)) {
      return "kernel: UDP send/recv";
    }
    if (/poll|futex|schedule|nanosleep|epoll|finish_task_switch/.test(stack)) {
      return "kernel: poll/futex/scheduling";
    }
    return `kernel: other`;
  }
  if (leaf.sym.includes("wasm-function")) return "WASM crypto kernel (wasm/zt_crypto.c)";
  const js = /^JS:\S*\s*(?:'|)(\S*)\s+(file:\/\/\S+?|ext:\S+?|node:\S+?)(?::\d+)+$/.exec(leaf.sym);
  if (js) {
    const file = js[2].replace(/^file:\/\/\/work\/main\//, "").replace(
      /^file:\/\/.*\/registry\.npmjs\.org\//,
      "npm:",
    );
    return `JS ${file}`;
  }
  if (/^JS:/.test(leaf.sym)) return "JS (other)";
  if (/^(Builtin|BytecodeHandler|Stub|RegExp|Bytecode):/.test(leaf.sym)) {
    return "V8 builtins/interpreter";
  }
  if (/libc[.-]/.test(leaf.dso)) return "libc (malloc, memcpy, ...)";
  if (/\/deno$|deno\b/.test(leaf.dso)) {
    return "deno/V8 native, main thread (stripped: allocation, GC, FFI/op glue)";
  }
  return `other (${leaf.dso})`;
}

/** Per-process breakdown of `samples` by {@link classifySample}, as text. */
export function perfBreakdown(samples: PerfSample[], names: Map<number, string>): string {
  const lines: string[] = [];
  for (const [pid, name] of names) {
    const mine = samples.filter((s) => s.pid === pid);
    if (mine.length === 0) continue;
    const by = new Map<string, number>();
    const threads = new Map<string, number>();
    for (const s of mine) {
      const c = classifySample(s);
      by.set(c, (by.get(c) ?? 0) + 1);
      threads.set(s.comm, (threads.get(s.comm) ?? 0) + 1);
    }
    const pct = (n: number) => (100 * n / mine.length).toFixed(1).padStart(5) + "%";
    lines.push(`${name} (pid ${pid}, ${mine.length} samples):`);
    for (const [c, n] of [...by].sort((x, y) => y[1] - x[1]).slice(0, 20)) {
      lines.push(`  ${pct(n)}  ${c}`);
    }
    const th = [...threads].sort((x, y) => y[1] - x[1]).map(([t, n]) => `${t} ${pct(n).trim()}`);
    lines.push(`  threads: ${th.join(", ")}`);
  }
  return lines.join("\n");
}

/** Builds the lab, measures every pair, prints and returns the results. */
export async function runDataplaneBench(o: DataplaneBenchOptions): Promise<PairResult[]> {
  const clkTck = Number(
    new TextDecoder().decode(
      new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" }).outputSync().stdout,
    ).trim(),
  ) || 100;
  const w = await vl2World();
  if (o.profile) Deno.env.set("DENO_V8_FLAGS", "--perf-basic-prof");
  // zt nodes trim their resident set when `zt run` does by default (20 s after start), not at
  // the e2e lab's early 3 s
  // (a value already set wins: an A/B can move or skip the trim)
  if (!Deno.env.get("ZT_LAB_MEMORY_TRIM_MS")) Deno.env.set("ZT_LAB_MEMORY_TRIM_MS", "20000");
  // zt nodes run what the launcher runs: the plain-JavaScript build (or cli.ts with --entry ts)
  const jsDir = o.entry === "js" ? Deno.makeTempDirSync({ prefix: "zt-bench-js" }) : undefined;
  const entryBefore = Deno.env.get("ZT_LAB_ENTRY");
  if (jsDir) {
    const repo = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
    const b = await buildJs(repo, `${jsDir}/js`);
    Deno.env.set("ZT_LAB_ENTRY", `${b.dir}/cli.js`);
    console.log(`zt nodes run the JavaScript build (${b.modules} modules, ${b.dir})`);
  } else {
    Deno.env.delete("ZT_LAB_ENTRY");
    console.log("zt nodes run cli.ts");
  }
  const lab = await Lab.create();
  const results: PairResult[] = [];
  const mapFiles: string[] = [];
  try {
    const started = Date.now();
    const v = await startVl2Lab(lab, ["a", "b"]);
    Deno.env.delete("DENO_V8_FLAGS");
    for (const z of v.all) mapFiles.push(`/tmp/perf-${z.proc.pid}.map`);
    const ctl = fromZt(v.ctl, CONTROLLER_IP, "");
    const a = fromZt(v.members.a, MEMBER_IPS.a, "198.19.0.11");
    const b = fromZt(v.members.b, MEMBER_IPS.b, "198.19.0.12");
    const members = [a, b];
    let c: BenchNode | undefined, d: BenchNode | undefined;
    if (o.reference) {
      for (const role of ["c", "d"]) {
        await new Promise((r) => setTimeout(r, 2_200)); // the root's per-/24 identity gate
        const n = await startReference(
          lab,
          o.reference,
          role,
          MEMBER_IPS[role],
          w.ids[role],
          w.planet,
        );
        n.overlay = `198.19.0.${role === "c" ? 13 : 14}`;
        members.push(n);
        if (role === "c") c = n;
        else d = n;
      }
    }
    const refVersion = c ? (await nodeApi(c, "GET", "/status")).json?.version : undefined;
    console.log(`lab up in ${Date.now() - started} ms (${members.length} members)`);

    const nwid =
      (await api200(v.ctl, "POST", `/controller/network/${v.ctl.address}______`, BENCH_NETWORK))
        .id as string;
    for (const m of members) {
      await joinDenied(m, nwid);
    }
    for (const m of members) {
      lab.spawn(m.ns, ["iperf3", "-s"], { logFile: lab.path(`iperf-${m.name}.log`) });
    }
    await authorize(ctl, nwid, a);
    await waitOk(a, nwid);

    const authMs = new Map<string, [number, string]>();
    authMs.set("zt↔zt", [
      await authToFirstPing(ctl, nwid, b, a),
      "b (zt) authorized, pinged by a (zt)",
    ]);
    if (c && d) {
      authMs.set("zt→ref", [
        await authToFirstPing(ctl, nwid, c, a),
        "c (ref) authorized, pinged by a (zt)",
      ]);
      authMs.set("ref↔ref", [
        await authToFirstPing(ctl, nwid, d, c),
        "d (ref) authorized, pinged by c (ref)",
      ]);
    }
    for (const m of members) await waitOk(m, nwid);
    // `zt run` trims its start-up memory 20 s after it starts; measure settled nodes, as a node
    // that has been running a while is (bounded wait)
    for (const z of [v.members.a, v.members.b]) {
      await waitFor(
        `${z.name}'s memory trim`,
        30_000,
        () => /memory trim: /.test(Deno.readTextFileSync(z.logFile)) || undefined,
      ).catch(() => console.log(`  warning: ${z.name} logged no memory trim`));
    }
    console.log(
      `auth → first ping: ${[...authMs].map(([k, [ms]]) => `${k} ${ms.toFixed(0)} ms`).join(", ")}`,
    );

    const veth: BenchNode = { ...a, name: "a", kind: "veth", proc: undefined };
    const vethB: BenchNode = { ...b, name: "b", kind: "veth", proc: undefined };
    const pairs: [string, BenchNode, BenchNode, string][] = [
      ["raw veth", veth, vethB, b.ip],
      ["zt↔zt", a, b, b.overlay],
    ];
    if (c && d) {
      pairs.push(["ref↔ref", c, d, d.overlay], ["zt→ref", a, c, c.overlay], [
        "ref→zt",
        c,
        a,
        a.overlay,
      ]);
    }
    let profile = "";
    /** Nodes that have carried iperf3 traffic in this run. */
    const warmed = new Set<string>();
    for (const [label, from, to, ip] of pairs) {
      if (o.pairs && !o.pairs.includes(PAIR_KEYS[label])) continue;
      if (from.proc && to.proc && !(await waitDirect(from, to))) {
        console.log(`  warning: ${from.name} has no direct path to ${to.name} (relayed?)`);
      }
      let hook: ((p: "before1" | "after1") => Promise<void>) | undefined;
      if (o.profile && (label === "zt↔zt" || label === "ref→zt")) {
        hook = async (p) => {
          if (p !== "before1") return;
          const zt = [from, to].filter((n) => n.kind === "zt" && n.proc);
          const pids = zt.map((n) => n.proc!.pid);
          const script = await withPerf(pids, lab.dir, async () => {
            if (o.rttOnly) await pingRtts(from, ip, o.pings);
            else await iperf(from, to, ip, o.seconds, 1, clkTck);
          });
          const dump = Deno.env.get("ZT_BENCH_PERF_SCRIPT");
          if (dump) {
            Deno.writeTextFileSync(`${dump}.${label === "zt↔zt" ? "ztzt" : "refzt"}`, script);
          }
          const names = new Map(
            zt.map((n) => [n.proc!.pid, `${n.name} (${n === from ? "sender" : "receiver"})`]),
          );
          profile += `\n${label}:\n${perfBreakdown(parsePerfScript(script), names)}`;
        };
      }
      // the first pings between nodes that have carried no bulk traffic yet: RTT with a cold JIT
      const cold = from.kind !== "veth" && !warmed.has(from.name) && !warmed.has(to.name);
      const r = await measurePair(lab, label, from, to, ip, o, clkTck, hook, cold);
      if (o.hops && from.kind !== "veth") {
        r.hops = await captureHops(from, to, nwid, o.pings);
        const h = r.hops;
        console.log(
          h
            ? `  ${label} per hop (µs medians of ${h.count}): pinger out ${
              h.pingerOut.toFixed(0)
            }` +
              `, target in ${h.targetIn.toFixed(0)}, target out ${h.targetOut.toFixed(0)}, ` +
              `pinger in ${h.pingerIn.toFixed(0)}, rtt ${h.rtt.toFixed(0)}`
            : `  ${label} per hop: no ping could be followed through the captures`,
        );
      }
      if (!o.rttOnly && from.kind !== "veth") {
        for (const n of [from, to]) warmed.add(n.name);
      }
      const am = authMs.get(label);
      if (am) [r.authMs, r.authNote] = am;
      results.push(r);
    }
    const rounds = o.rttOnly ? 0 : o.rttRounds ?? 0;
    const floors = o.floor && rounds > 0 ? await startFloors(lab) : [];
    if (floors.length > 0) {
      // flood pings first: the forwarders' JIT as warm as the members' after their iperf3 runs
      for (const f of floors) {
        await exec(f.from.ns, ["ping", "-n", "-q", "-f", "-c", "2000", "-w", "20", f.toIp], {
          check: false,
          timeoutMs: 30_000,
        });
      }
    }
    if (rounds > 0) await interleavedRtts(pairs, results, rounds, floors);
    // Idle RSS: after the traffic, `zt info` (GET /status) and a /metrics scrape on every node,
    // then o.idleSeconds of quiet (60 s by default), VmRSS of each node process.
    const nodes = members.filter((m) => m.proc);
    for (const m of nodes) {
      await nodeApi(m, "GET", "/status");
      let metricsToken = m.token;
      try {
        metricsToken = Deno.readTextFileSync(`${m.home}/metricstoken.secret`).trim();
      } catch {
        // zt also takes the auth token
      }
      await exec(m.ns, [
        "curl",
        "-sS",
        "--max-time",
        "3",
        "-o",
        "/dev/null",
        "-H",
        `Authorization: Bearer ${metricsToken}`,
        `http://127.0.0.1:${ZT_PORT}/metrics`,
      ], { check: false, timeoutMs: 5000 });
    }
    console.log(`idle ${o.idleSeconds} s before reading VmRSS ...`);
    // idle CPU: over the quiet period after a few seconds' settling (lingering loops end)
    const settle = Math.min(5, Math.floor(o.idleSeconds / 4));
    await new Promise((r) => setTimeout(r, settle * 1000));
    const cpu0 = new Map(nodes.map((m) => [m.name, cpuSeconds(m.proc!.pid, clkTck)]));
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, (o.idleSeconds - settle) * 1000));
    const quiet = (performance.now() - t0) / 1000;
    const idleCpu = new Map(
      nodes.map((
        m,
      ) => [m.name, 100 * (cpuSeconds(m.proc!.pid, clkTck) - cpu0.get(m.name)!) / quiet]),
    );
    const idle = new Map(nodes.map((m) => [m.name, rssMiB(m.proc!.pid)]));
    const smapsDir = Deno.env.get("ZT_BENCH_SMAPS_DIR"); // diagnosis: where idle memory is
    if (smapsDir) {
      for (const m of nodes) {
        Deno.copyFileSync(`/proc/${m.proc!.pid}/smaps`, `${smapsDir}/${m.name}.smaps`);
      }
    }
    const split = new Map(
      nodes.map((m) => [
        m.name,
        [statusMiB(m.proc!.pid, "RssAnon"), statusMiB(m.proc!.pid, "RssFile")] as [number, number],
      ]),
    );
    for (const r of results) {
      const [, from, to] = pairs.find(([l]) => l === r.label)!;
      if (from.proc && to.proc) {
        r.idleRssMiB = [idle.get(from.name)!, idle.get(to.name)!];
        r.idleSplitMiB = [split.get(from.name)!, split.get(to.name)!];
        r.idleCpuPct = [idleCpu.get(from.name)!, idleCpu.get(to.name)!];
      }
    }
    const zlog = Deno.statSync(v.members.a.logFile).size + Deno.statSync(v.members.b.logFile).size;
    console.log("");
    console.log(
      `dataplane bench: ${o.seconds} s iperf3 runs; ${navigator.hardwareConcurrency} CPUs; ` +
        `deno ${Deno.version.deno}; zt members log at debug (${
          (zlog / 1024).toFixed(0)
        } KiB logged)` +
        (refVersion ? `; reference ${refVersion}` : "; no ZT_REFERENCE set"),
    );
    console.log(formatTable(results));
    if (floors.length > 0) console.log(floorLine(floors, results));
    if (profile) {
      console.log(
        "\nperf profile (self time by category) of the zt nodes during an extra 1-stream run:",
      );
      console.log(profile);
    }
    return results;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const logs = lab.processes.map((p) => `--- ${p.cmd.join(" ")}\n${p.logTail(25)}`).join("\n");
    throw new Error(`${msg}\n${logs}`);
  } finally {
    Deno.env.delete("DENO_V8_FLAGS");
    await lab.close();
    if (entryBefore === undefined) Deno.env.delete("ZT_LAB_ENTRY");
    else Deno.env.set("ZT_LAB_ENTRY", entryBefore);
    if (jsDir) Deno.removeSync(jsDir, { recursive: true });
    for (const f of mapFiles) {
      try {
        Deno.removeSync(f);
      } catch {
        // not written
      }
    }
  }
}

/** `deno task bench dataplane [--seconds N | --quick] [--profile]`: needs root. */
export async function run(): Promise<void> {
  if (Deno.uid() !== 0) {
    console.log("dataplane bench: needs root (network namespaces, TAP devices) — skipped");
    return;
  }
  for (const tool of ["iperf3", "ping", "curl", "ip"]) {
    const ok = await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" })
      .output().then((r) => r.success, () => false);
    if (!ok) {
      console.log(`dataplane bench: needs \`${tool}\` — skipped`);
      return;
    }
  }
  await runDataplaneBench(parseBenchArgs(Deno.args));
}

if (import.meta.main) await run();
