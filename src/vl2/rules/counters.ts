// Per-network counts of frames accepted and dropped by the rules engine, and bytes of accepted frames (for /metrics and the web UI's traffic view).
import { LastHitMap } from "../../util/last_hit_map.ts";

/** Counter values of one network. */
export interface RuleCounterValues {
  /** Received frames accepted (including redirected ones). */
  rxAccepted: number;
  /** Received frames dropped by rules. */
  rxDropped: number;
  /** Outgoing frames accepted (including redirected ones). */
  txAccepted: number;
  /** Outgoing frames dropped by rules. */
  txDropped: number;
}

/** Ethernet payload bytes of accepted frames of one network. */
export interface RuleByteCounts {
  /** Received. */
  rxBytes: number;
  /** Sent. */
  txBytes: number;
}

const zero = (): RuleCounterValues => ({
  rxAccepted: 0,
  rxDropped: 0,
  txAccepted: 0,
  txDropped: 0,
});

/**
 * Accepted / dropped frame counters per network ID, both directions (the reference's
 * `zt_network_packets{direction,accepted}` family). Every drop is counted, including drops by an
 * explicit DROP rule - the reference counts only frames no rule or capability accepted.
 */
export class RuleCounters {
  // read per frame: see LastHitMap
  #byNetwork = new LastHitMap<bigint, RuleCounterValues>();
  #bytes = new LastHitMap<bigint, RuleByteCounts>();

  /**
   * Records the outcome of one frame (or of `frames` frames, `bytes` of payload in all); `bytes`
   * counts if accepted.
   */
  record(networkId: bigint, inbound: boolean, accepted: boolean, bytes = 0, frames = 1): void {
    let c = this.#byNetwork.get(networkId);
    if (!c) {
      c = zero();
      this.#byNetwork.set(networkId, c);
    }
    if (inbound) accepted ? (c.rxAccepted += frames) : (c.rxDropped += frames);
    else accepted ? (c.txAccepted += frames) : (c.txDropped += frames);
    if (!accepted || bytes <= 0) return;
    let b = this.#bytes.get(networkId);
    if (!b) {
      b = { rxBytes: 0, txBytes: 0 };
      this.#bytes.set(networkId, b);
    }
    if (inbound) b.rxBytes += bytes;
    else b.txBytes += bytes;
  }

  /** Bytes of accepted frames of one network (zeros if nothing was recorded). */
  bytes(networkId: bigint): RuleByteCounts {
    const b = this.#bytes.get(networkId);
    return b ? { ...b } : { rxBytes: 0, txBytes: 0 };
  }

  /** A copy of one network's counters (zeros if nothing was recorded). */
  get(networkId: bigint): RuleCounterValues {
    const c = this.#byNetwork.get(networkId);
    return c ? { ...c } : zero();
  }

  /** Networks with counters, ascending ID. */
  networks(): bigint[] {
    return [...this.#byNetwork.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Forgets a network (after leaving it). */
  forget(networkId: bigint): void {
    this.#byNetwork.delete(networkId);
    this.#bytes.delete(networkId);
  }
}
