// Small bounded rate gates: per-key "at most once per N ms" and the per-/24 identity validation gate.
import type { InetAddress } from "./inet_address.ts";

/**
 * "At most once per `intervalMs` per key", with a bounded key map (oldest-inserted keys are
 * forgotten when full, which can only make the gate more permissive for them).
 */
export class RateGate {
  readonly #last = new Map<string, number>();
  readonly #intervalMs: number;
  readonly #maxKeys: number;

  /** A gate allowing one event per `intervalMs` per key, remembering up to `maxKeys` keys. */
  constructor(intervalMs: number, maxKeys = 4096) {
    this.#intervalMs = intervalMs;
    this.#maxKeys = maxKeys;
  }

  /** True (and records `now`) if the key may act now. */
  allow(now: number, key: string): boolean {
    const t = this.#last.get(key);
    if (t !== undefined && now - t < this.#intervalMs && now >= t) return false;
    this.#last.delete(key);
    if (this.#last.size >= this.#maxKeys) {
      const first = this.#last.keys().next().value;
      if (first !== undefined) this.#last.delete(first);
    }
    this.#last.set(key, now);
    return true;
  }

  /** Number of keys remembered. */
  get size(): number {
    return this.#last.size;
  }

  /** Forgets keys whose last event is older than the interval. */
  clean(now: number): void {
    for (const [k, t] of this.#last) if (now - t >= this.#intervalMs) this.#last.delete(k);
  }
}

/**
 * Identity validation gate (spec §4.1): one memory-hard validation per source IP prefix (/24 for
 * IPv4, /48-ish for IPv6) hashed to a 14-bit bucket, per `intervalMs`.
 */
export class IdentityValidationGate {
  readonly #buckets = new Float64Array(16384).fill(-Infinity);
  readonly #intervalMs: number;

  /** A gate with the given per-bucket interval (2000 ms on x86-64). */
  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** True (and records `now`) if a new identity from `remote` may be validated now. */
  allow(now: number, remote: InetAddress): boolean {
    const b = bucketOf(remote);
    if (now - this.#buckets[b] < this.#intervalMs && now >= this.#buckets[b]) return false;
    this.#buckets[b] = now;
    return true;
  }
}

/** 14-bit bucket of an address's /24 (IPv4) or first 6 bytes (IPv6). */
function bucketOf(a: InetAddress): number {
  let h = 0;
  const n = a.family === 4 ? 3 : 6;
  for (let i = 0; i < n; i++) h = (Math.imul(h, 31) + a.ip[i]) >>> 0;
  return (h ^ (h >>> 14)) & 0x3fff;
}
