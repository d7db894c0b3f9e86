// Who holds how many learned multicast subscriptions: the per-peer and global caps and the eviction choice (a deliberate deviation: the reference has no cap).

/** Most learned subscriptions (member × group) held in total. */
export const MULTICAST_MAX_SUBSCRIPTIONS = 65_536;
/** Most learned subscriptions held for one member. */
export const MULTICAST_MAX_SUBSCRIPTIONS_PER_PEER = 1_024;

/** Bounds of a {@link SubscriptionLedger}. */
export interface SubscriptionLimits {
  /** Most subscriptions in total (default {@link MULTICAST_MAX_SUBSCRIPTIONS}). */
  total?: number;
  /** Most subscriptions per member (default {@link MULTICAST_MAX_SUBSCRIPTIONS_PER_PEER}). */
  perPeer?: number;
}

/**
 * Which groups each member is recorded in, least recently refreshed first, with members bucketed
 * by how many they hold so that the largest holder is found at once. Before a member gains a new
 * subscription, {@link victim} names the one to drop: its own least recently refreshed one when
 * it is at the per-member cap; when the table is full, the least recently refreshed one of the
 * member holding the most, or its own when nobody holds more than it does. So a flood from some
 * peers only ever displaces those peers' entries, never a member holding fewer.
 */
export class SubscriptionLedger<G> {
  readonly #byPeer = new Map<number, Set<G>>();
  /** `#buckets[n]`: the members holding exactly n subscriptions (n >= 1). */
  readonly #buckets: Set<number>[];
  readonly #total: number;
  readonly #perPeer: number;
  #max = 0;
  #size = 0;
  #evicted = 0;

  /** An empty ledger with the given caps. */
  constructor(limits: SubscriptionLimits = {}) {
    this.#total = Math.max(1, limits.total ?? MULTICAST_MAX_SUBSCRIPTIONS);
    this.#perPeer = Math.max(
      1,
      Math.min(this.#total, limits.perPeer ?? MULTICAST_MAX_SUBSCRIPTIONS_PER_PEER),
    );
    this.#buckets = Array.from({ length: this.#perPeer + 2 }, () => new Set<number>());
  }

  /** Subscriptions held in total. */
  get size(): number {
    return this.#size;
  }

  /** Members holding at least one. */
  get peers(): number {
    return this.#byPeer.size;
  }

  /** Subscriptions dropped to stay within the caps since start. */
  get evicted(): number {
    return this.#evicted;
  }

  /** The most any one member holds. */
  get largest(): number {
    return this.#max;
  }

  /** Subscriptions held by `peer`. */
  count(peer: number): number {
    return this.#byPeer.get(peer)?.size ?? 0;
  }

  /** `peer` refreshed its subscription to `g`: it becomes its most recent. */
  touch(peer: number, g: G): void {
    const s = this.#byPeer.get(peer);
    if (s?.delete(g)) s.add(g);
  }

  /** `peer` gained a subscription to `g` (call {@link victim} first and drop what it names). */
  added(peer: number, g: G): void {
    let s = this.#byPeer.get(peer);
    if (!s) {
      s = new Set();
      this.#byPeer.set(peer, s);
    }
    if (s.has(g)) return;
    const c = s.size;
    s.add(g);
    this.#size++;
    this.#move(peer, c, c + 1);
  }

  /** `peer` lost its subscription to `g` (expiry, eviction). */
  removed(peer: number, g: G): void {
    const s = this.#byPeer.get(peer);
    if (!s?.delete(g)) return;
    this.#size--;
    this.#move(peer, s.size + 1, s.size);
    if (s.size === 0) this.#byPeer.delete(peer);
  }

  /**
   * The subscription to drop before `peer` gains a new one, or undefined if there is room.
   * The caller drops it (calling {@link removed}); it is counted as evicted here.
   */
  victim(peer: number): { peer: number; group: G } | undefined {
    const own = this.#byPeer.get(peer);
    const c = own?.size ?? 0;
    let from: number | undefined;
    if (c >= this.#perPeer) from = peer;
    else if (this.#size >= this.#total) {
      const top = this.#buckets[this.#max].values().next();
      from = !top.done && this.#max > c ? top.value : peer;
    }
    if (from === undefined) return undefined;
    const first = this.#byPeer.get(from)?.values().next();
    if (!first || first.done) return undefined;
    this.#evicted++;
    return { peer: from, group: first.value };
  }

  #move(peer: number, from: number, to: number): void {
    if (from > 0) this.#buckets[from].delete(peer);
    if (to > 0) this.#buckets[to].add(peer);
    if (to > this.#max) this.#max = to;
    while (this.#max > 0 && this.#buckets[this.#max].size === 0) this.#max--;
  }
}
