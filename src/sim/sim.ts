// Simulator entry point: one seeded virtual internet (clock, randomness, public realm, hosts, NATs).
import { Clock } from "./clock.ts";
import type { LinkOptions } from "./link.ts";
import { Nat, type NatOptions, type NatType } from "./nat.ts";
import {
  type Host,
  type HostOptions,
  Network,
  Realm,
  type SimStats,
  type TraceEvent,
} from "./network.ts";
import { Random } from "./random.ts";

export { addrKey, parseAddr, sameAddr, type SimAddr, simAddr } from "./address.ts";
export { Clock, type TimerHandle } from "./clock.ts";
export { Link, type LinkOptions } from "./link.ts";
export {
  Nat,
  type NatMapping,
  type NatOptions,
  type NatStats,
  type NatType,
  type RebindOptions,
} from "./nat.ts";
export {
  DEFAULT_TTL,
  type DropReason,
  Host,
  type HostOptions,
  Realm,
  type ReceiveHandler,
  type SimStats,
  type TraceEvent,
  type TrafficStats,
  UdpSocket,
} from "./network.ts";
export { Random } from "./random.ts";

/** Options for a {@link Sim}. */
export interface SimOptions {
  /** Default link for hosts and NAT uplinks on the public internet (default 5 ms latency). */
  internetLink?: LinkOptions;
  /** Clock start time in ms (default 0). */
  startMs?: number;
  /** Clock guard: most events per run call (default 20,000,000). */
  maxEvents?: number;
  /** Clock guard: most consecutive events at one instant (default 100,000). */
  maxEventsPerInstant?: number;
}

/**
 * A deterministic in-memory internet. Same seed + same test actions = same run.
 *
 * ```ts
 * const sim = new Sim(42);
 * const root = sim.host("198.18.0.1");
 * const nat = sim.nat("198.18.1.1", "symmetric");
 * const a = nat.host("10.0.0.2");
 * const s = a.bind(9993);
 * s.onReceive((src, bytes) => {});
 * sim.clock.runFor(5000);
 * ```
 */
export class Sim {
  readonly clock: Clock;
  /** For test code and nodes (use `random.fork()` per node); the network draws from its own stream. */
  readonly random: Random;
  readonly net: Network;
  /** The public internet realm. */
  readonly internet: Realm;

  constructor(seed: number | string = 1, opts: SimOptions = {}) {
    this.clock = new Clock({
      start: opts.startMs,
      maxEvents: opts.maxEvents,
      maxEventsPerInstant: opts.maxEventsPerInstant,
    });
    this.random = new Random(seed);
    this.net = new Network(this.clock, this.random.fork());
    this.internet = new Realm(this.net, "internet", opts.internetLink ?? { latencyMs: 5 });
  }

  /** Virtual time in ms. */
  get now(): number {
    return this.clock.now;
  }

  /** Whole-network datagram counters. */
  get stats(): SimStats {
    return this.net.stats;
  }

  /** Observer for every send, delivery, drop and NAT translation (undefined = none). */
  get trace(): ((e: TraceEvent) => void) | undefined {
    return this.net.trace;
  }

  /** Sets an observer for every send, delivery, drop and NAT translation. */
  set trace(fn: ((e: TraceEvent) => void) | undefined) {
    this.net.trace = fn;
  }

  /** Creates a host with public IP(s) on the internet. */
  host(ips: string | string[], opts?: HostOptions): Host {
    return this.internet.host(ips, opts);
  }

  /** Creates a NAT box with public IP `publicIp`; put hosts behind it with `nat.host(...)`. */
  nat(publicIp: string, type: NatType, opts?: NatOptions): Nat {
    return new Nat(this.internet, publicIp, type, opts);
  }
}
