// Traffic over the last minutes: periodic samples of the cumulative per-network and per-peer packet and byte counters, in a bounded ring.
import type { Json } from "./api_status.ts";

/** Cumulative counters of one network or peer: [rxPackets, txPackets, rxBytes, txBytes]. */
export type TrafficCounts = [number, number, number, number];

/** One sample: time and the cumulative counters at that time. */
export interface TrafficSample {
  /** ms timestamp. */
  t: number;
  /** By 16-hex-digit network ID. */
  networks: Record<string, TrafficCounts>;
  /** By 10-hex-digit peer address. */
  peers: Record<string, TrafficCounts>;
}

/** Where the samples come from. */
export interface TrafficSource {
  /** Current time, ms. */
  now(): number;
  /** Cumulative counters of each joined network. */
  networks(): Record<string, TrafficCounts>;
  /** Cumulative counters of each peer. */
  peers(): Record<string, TrafficCounts>;
}

/** Default sampling interval (ms). */
export const TRAFFIC_INTERVAL_MS = 5000;
/** Samples kept by default (15 minutes at 5 s). */
export const TRAFFIC_SAMPLES = 180;
/** Most peers kept per sample (the busiest). */
export const TRAFFIC_MAX_PEERS = 64;

/** Keeps the busiest `max` entries (by total bytes, then packets). */
function busiest(r: Record<string, TrafficCounts>, max: number): Record<string, TrafficCounts> {
  const e = Object.entries(r);
  if (e.length <= max) return r;
  e.sort((a, b) =>
    (b[1][2] + b[1][3]) - (a[1][2] + a[1][3]) || (b[1][0] + b[1][1]) - (a[1][0] + a[1][1])
  );
  return Object.fromEntries(e.slice(0, max));
}

/**
 * A ring of {@link TrafficSample}s taken every `intervalMs` while started. Readers turn the
 * cumulative counters into rates (differences between samples).
 */
export class TrafficHistory {
  readonly #src: TrafficSource;
  readonly #max: number;
  /** Sampling interval, ms. */
  readonly intervalMs: number;
  readonly #ring: TrafficSample[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  /** A history over `src`. */
  constructor(src: TrafficSource, intervalMs = TRAFFIC_INTERVAL_MS, maxSamples = TRAFFIC_SAMPLES) {
    this.#src = src;
    this.intervalMs = intervalMs;
    this.#max = Math.max(2, maxSamples);
  }

  /** Takes one sample now (dropping the oldest beyond the bound). */
  sample(): void {
    const s: TrafficSample = {
      t: this.#src.now(),
      networks: this.#src.networks(),
      peers: busiest(this.#src.peers(), TRAFFIC_MAX_PEERS),
    };
    this.#ring.push(s);
    while (this.#ring.length > this.#max) this.#ring.shift();
  }

  /** Starts sampling (one sample right away). Idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.intervalMs);
    Deno.unrefTimer(this.#timer);
  }

  /** Stops sampling. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The samples, oldest first, plus a fresh one for "now" (not stored). */
  json(): Json {
    const now: TrafficSample = {
      t: this.#src.now(),
      networks: this.#src.networks(),
      peers: busiest(this.#src.peers(), TRAFFIC_MAX_PEERS),
    };
    const samples = [...this.#ring, now];
    return {
      intervalMs: this.intervalMs,
      fields: ["rxPackets", "txPackets", "rxBytes", "txBytes"],
      samples: samples as unknown as Json,
    };
  }
}
