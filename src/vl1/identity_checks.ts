// Costly identity checks of unknown HELLO senders: remembered results (bounded) and a CPU budget on the node's injected clock.
import type { Identity } from "./identity.ts";

/** Identities whose proof of work failed, remembered per node (replays then cost nothing). */
export const IDENTITY_NEGATIVE_CACHE_SIZE = 16_384;
/** Identities whose proof of work passed, remembered per process (shared by its nodes). */
export const IDENTITY_POSITIVE_CACHE_SIZE = 16_384;
/** Share of one core that identity checks may use on average. */
export const IDENTITY_CHECK_CPU_SHARE = 0.25;
/**
 * Default cost charged per memory-hard check (ms): the TypeScript hash measures 27-39 ms on the
 * 2-core CI box (`deno task bench identity`); the service may calibrate it at start.
 */
export const IDENTITY_VALIDATION_COST_MS = 30;
/** Cost charged per key agreement done to authenticate an unknown sender's HELLO (ms). */
export const IDENTITY_AGREEMENT_COST_MS = 1;
/** Most budget that can build up while idle (ms of checks that may run back to back). */
export const IDENTITY_CHECK_BURST_MS = 1_000;

/** Bounded insertion-ordered set of strings (the oldest goes when full). */
class BoundedSet {
  readonly #s = new Set<string>();
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  has(k: string): boolean {
    return this.#s.has(k);
  }
  add(k: string): void {
    if (this.#s.has(k)) return;
    if (this.#s.size >= this.#max) {
      const first = this.#s.values().next();
      if (!first.done) this.#s.delete(first.value);
    }
    this.#s.add(k);
  }
  get size(): number {
    return this.#s.size;
  }
}

/** Identities that passed, shared by every node of the process (validation is a pure function). */
const VALIDATED = new BoundedSet(IDENTITY_POSITIVE_CACHE_SIZE);

/** The cache key of an identity: its address and public key. */
export function identityKey(id: Identity): string {
  return id.toString(false);
}

/** Options of {@link IdentityChecks}. */
export interface IdentityCheckOptions {
  /** Cost charged per memory-hard check (default {@link IDENTITY_VALIDATION_COST_MS}). */
  validationCostMs?: number;
  /** Cost charged per key agreement (default {@link IDENTITY_AGREEMENT_COST_MS}). */
  agreementCostMs?: number;
  /** Share of a core (default {@link IDENTITY_CHECK_CPU_SHARE}). */
  cpuShare?: number;
  /** Negative cache size (default {@link IDENTITY_NEGATIVE_CACHE_SIZE}). */
  negativeCacheSize?: number;
}

/** Counters of {@link IdentityChecks} (cumulative). */
export interface IdentityCheckStats {
  /** Memory-hard checks run. */
  validations: number;
  /** Key agreements paid for (unknown senders' HELLOs). */
  agreements: number;
  /** Checks that failed (remembered in the negative cache). */
  failures: number;
  /** HELLOs dropped at once because their identity failed before. */
  replaysDropped: number;
  /** HELLOs dropped because the budget was spent. */
  budgetDropped: number;
  /** Entries of the negative cache. */
  negativeEntries: number;
  /** Entries of the (process-wide) positive cache. */
  positiveEntries: number;
}

/**
 * The checks a node runs on the identity of an unknown HELLO sender. Results are remembered:
 * a failed identity (address + public key) is refused at once when replayed, a passed one is
 * not checked again. New work is paid from a budget that refills at `cpuShare` ms per ms of the
 * node's injected clock (at most {@link IDENTITY_CHECK_BURST_MS} saved up): with the defaults
 * at most a quarter of a core goes to checks over time, whatever the senders; what exceeds it
 * is counted and dropped (the sender's next HELLO may be checked later).
 */
export class IdentityChecks {
  readonly #bad: BoundedSet;
  readonly #costMs: number;
  readonly #agreeMs: number;
  readonly #share: number;
  #agreements = 0;
  #tokens = IDENTITY_CHECK_BURST_MS;
  #last: number | undefined;
  #validations = 0;
  #failures = 0;
  #replays = 0;
  #budgetDropped = 0;

  /** Checks with the given cost model. */
  constructor(opts: IdentityCheckOptions = {}) {
    this.#bad = new BoundedSet(Math.max(1, opts.negativeCacheSize ?? IDENTITY_NEGATIVE_CACHE_SIZE));
    const c = opts.validationCostMs;
    this.#costMs = c !== undefined && Number.isFinite(c) && c > 0 ? c : IDENTITY_VALIDATION_COST_MS;
    const a = opts.agreementCostMs;
    this.#agreeMs = a !== undefined && Number.isFinite(a) && a > 0 ? a : IDENTITY_AGREEMENT_COST_MS;
    const s = opts.cpuShare;
    this.#share = s !== undefined && Number.isFinite(s) && s > 0 && s <= 1
      ? s
      : IDENTITY_CHECK_CPU_SHARE;
  }

  /** "valid" / "invalid" if the identity was checked before, else undefined. */
  known(key: string): "valid" | "invalid" | undefined {
    if (VALIDATED.has(key)) return "valid";
    if (this.#bad.has(key)) {
      this.#replays++;
      return "invalid";
    }
    return undefined;
  }

  /** Pays for a key agreement from the budget; false (counted) if it is spent. */
  payAgreement(now: number): boolean {
    if (!this.#pay(now, this.#agreeMs)) return false;
    this.#agreements++;
    return true;
  }

  /**
   * Runs the memory-hard check of `id` if the budget allows, remembering the result. Returns
   * the result, or undefined (counted as dropped) if the budget is spent.
   */
  validate(now: number, id: Identity, key: string): boolean | undefined {
    if (!this.#pay(now, this.#costMs)) return undefined;
    this.#validations++;
    const ok = id.validate();
    if (ok) VALIDATED.add(key);
    else {
      this.#failures++;
      this.#bad.add(key);
    }
    return ok;
  }

  /**
   * Whether `id` passes its proof of work: remembered results first, else a check paid from
   * the budget. Undefined if the budget is spent (counted as dropped).
   */
  check(now: number, id: Identity): boolean | undefined {
    const key = identityKey(id);
    const k = this.known(key);
    if (k !== undefined) return k === "valid";
    return this.validate(now, id, key);
  }

  /** Cumulative counters and cache sizes. */
  stats(): IdentityCheckStats {
    return {
      validations: this.#validations,
      agreements: this.#agreements,
      failures: this.#failures,
      replaysDropped: this.#replays,
      budgetDropped: this.#budgetDropped,
      negativeEntries: this.#bad.size,
      positiveEntries: VALIDATED.size,
    };
  }

  #pay(now: number, cost: number): boolean {
    if (this.#last !== undefined && now > this.#last) {
      this.#tokens = Math.min(
        IDENTITY_CHECK_BURST_MS,
        this.#tokens + (now - this.#last) * this.#share,
      );
    }
    if (this.#last === undefined || now > this.#last) this.#last = now;
    if (this.#tokens < cost) {
      this.#budgetDropped++;
      return false;
    }
    this.#tokens -= cost;
    return true;
  }
}
