// Benchmark: 1400-byte datagrams over loopback between two UDP transports, node:dgram vs FFI.
//
// Both transports live in this one thread, as in `zt run`: the sender keeps at most WINDOW
// datagrams in flight (sent but not yet received) and refills the window from the receive
// callback, so the figure is what one JS thread sustains sending and receiving together. A 20 ms
// stall (loss) resets the window; lost datagrams are reported. Modes: "dgram" (node:dgram),
// "ffi" (the transport as `zt run` uses it: `send` queues into the ring, flushed as UDP GSO runs
// and received with UDP GRO) and "ffi+sendmmsg" (`LinuxUdp.sendMany`: one sendmmsg message per
// datagram, no GSO).
import { Logger } from "../src/service/logger.ts";
import { PortInUseError, type UdpTransportApi } from "../src/service/udp_transport.ts";
import {
  type FfiUdpTransport,
  openUdpTransport,
  type UdpTransportKind,
} from "../src/service/udp_transport_ffi.ts";
import { InetAddress } from "../src/vl1/inet_address.ts";

const SIZE = 1400;
const WINDOW = 64;
const DURATION_MS = 2000;
const LO = InetAddress.fromIp("127.0.0.1")!;

/** What is measured: a transport kind, or the FFI transport sending with sendmmsg batches. */
export type UdpBenchMode = UdpTransportKind | "ffi+sendmmsg";

/** One measured run. */
export interface UdpBenchResult {
  /** Implementation measured. */
  kind: UdpBenchMode;
  /** Datagrams received per second. */
  datagramsPerSecond: number;
  /** Payload megabytes (10^6) received per second. */
  mbPerSecond: number;
  /** Datagrams sent that never arrived. */
  lost: number;
  /** Seconds measured. */
  seconds: number;
}

/** Opens a transport of `kind` on a free random high port of 127.0.0.1. */
async function open(
  kind: UdpTransportKind,
  onPacket: (s: number, r: InetAddress, d: Uint8Array) => void,
): Promise<UdpTransportApi> {
  const log = new Logger("error", () => {});
  for (let i = 0; i < 20; i++) {
    try {
      return await openUdpTransport({
        impl: kind,
        port: 20000 + Math.floor(Math.random() * 40000),
        bind: [LO],
        log,
        onPacket,
      });
    } catch (e) {
      if (!(e instanceof PortInUseError)) throw e;
    }
  }
  throw new Error("no free UDP port");
}

/** Measures one implementation for `ms` milliseconds. */
export async function measure(
  kind: UdpBenchMode,
  ms = DURATION_MS,
  window = WINDOW,
): Promise<UdpBenchResult> {
  let received = 0;
  let sent = 0;
  let lostReset = 0;
  let wake: (() => void) | undefined;
  const impl: UdpTransportKind = kind === "dgram" ? "dgram" : "ffi";
  const rx = await open(impl, (_s, _r, d) => {
    if (d.length === SIZE) received++;
    if (wake && sent - lostReset - received < window / 2) {
      const w = wake;
      wake = undefined;
      w();
    }
  });
  const tx = await open(impl, () => {});
  const batched = kind === "ffi+sendmmsg" ? (tx as FfiUdpTransport).udp : undefined;
  const batch = Array.from({ length: window }, () => new Uint8Array(SIZE).fill(0x5a));
  const to = rx.boundAddresses()[0];
  const payload = new Uint8Array(SIZE).fill(0x5a);
  const t0 = performance.now();
  const end = t0 + ms;
  try {
    while (performance.now() < end) {
      if (batched) {
        sent += batched.sendMany(1, to, batch, window - (sent - lostReset - received));
      } else {
        while (sent - lostReset - received < window) {
          if (tx.send(1, to, payload)) sent++;
          else break;
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          wake = undefined;
          lostReset = sent - received; // stalled: count what is in flight as lost
          resolve();
        }, 20);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const seconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 20)); // let stragglers arrive
    return {
      kind,
      datagramsPerSecond: received / seconds,
      mbPerSecond: received * SIZE / seconds / 1e6,
      lost: sent - received,
      seconds,
    };
  } finally {
    await tx.close();
    await rx.close();
  }
}

/** Formats a result line. */
function line(r: UdpBenchResult): string {
  return `${r.kind.padEnd(12)} ${Math.round(r.datagramsPerSecond).toLocaleString("en-US")} ` +
    `datagrams/s  ${r.mbPerSecond.toFixed(1)} MB/s  (${(r.mbPerSecond * 8 / 1000).toFixed(2)} ` +
    `Gb/s, ${SIZE} B, lost ${r.lost}, ${r.seconds.toFixed(1)} s)`;
}

/** Runs both implementations and prints datagrams/s and MB/s. */
export async function run(): Promise<void> {
  const kinds: UdpBenchMode[] = Deno.build.os === "linux"
    ? ["dgram", "ffi", "ffi+sendmmsg"]
    : ["dgram"];
  for (const kind of kinds) console.log(line(await measure(kind)));
}

if (import.meta.main) await run();
