// What members last reported in config requests, per network, bounded (per network and in total) with least-recently-seen eviction.
import type { Identity } from "../vl1/identity.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { RequestMetadata } from "./config_decision.ts";

/** Most members remembered per network. */
export const MEMBER_STATUS_MAX_PER_NETWORK = 16_384;
/** Most members remembered over all networks. */
export const MEMBER_STATUS_MAX = 65_536;

/** What a member last reported in a config request (kept in memory only). */
export interface MemberStatus {
  /** Time of the last request (ms). */
  lastSeen: number;
  /** Time of the last request that carried a packet ID (the per-member rate limit), if any. */
  lastRequest?: number;
  /** Where it came from. */
  physicalAddress: InetAddress | undefined;
  /** Its identity. */
  identity: Identity;
  /** Its request metadata (software version etc.). */
  metadata: RequestMetadata;
}

/** Bounds of a {@link MemberStatusTable}. */
export interface MemberStatusLimits {
  /** Most entries per network (default {@link MEMBER_STATUS_MAX_PER_NETWORK}). */
  perNetwork?: number;
  /** Most entries in total (default {@link MEMBER_STATUS_MAX}). */
  total?: number;
}

/**
 * Member status by network, then by member address. Each network's map is kept in recency
 * order (a refresh moves the entry to the end), so the least recently seen member of a network
 * is its first entry. When a network is full its least recently seen member is forgotten; when
 * the table is full the least recently seen member of the network holding the most entries is
 * forgotten, so a flood into one network never pushes out another network's members. Forgetting
 * costs little: the member is remembered again at its next request (every minute or so).
 */
export class MemberStatusTable {
  readonly #byNetwork = new Map<string, Map<string, MemberStatus>>();
  readonly #perNetwork: number;
  readonly #total: number;
  #size = 0;
  #evicted = 0;

  /** An empty table with the given bounds. */
  constructor(limits: MemberStatusLimits = {}) {
    this.#perNetwork = Math.max(1, limits.perNetwork ?? MEMBER_STATUS_MAX_PER_NETWORK);
    this.#total = Math.max(1, limits.total ?? MEMBER_STATUS_MAX);
  }

  /** Entries held (all networks). */
  get size(): number {
    return this.#size;
  }

  /** Entries forgotten to stay within the bounds since start. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Networks with at least one entry. */
  get networks(): number {
    return this.#byNetwork.size;
  }

  /** The entry of (nwid, address); both lower-case hex. */
  get(nwid: string, address: string): MemberStatus | undefined {
    return this.#byNetwork.get(nwid)?.get(address);
  }

  /** Records (or refreshes, moving it to most recent) the entry of (nwid, address). */
  set(nwid: string, address: string, status: MemberStatus): void {
    let m = this.#byNetwork.get(nwid);
    if (m?.delete(address)) {
      m.set(address, status);
      return;
    }
    if (m && m.size >= this.#perNetwork) this.#evictFrom(nwid, m);
    else if (this.#size >= this.#total) this.#evictLargest(nwid);
    m = this.#byNetwork.get(nwid); // eviction may have dropped an emptied map
    if (!m) {
      m = new Map();
      this.#byNetwork.set(nwid, m);
    }
    m.set(address, status);
    this.#size++;
  }

  /** Forgets one entry. */
  delete(nwid: string, address: string): void {
    const m = this.#byNetwork.get(nwid);
    if (!m?.delete(address)) return;
    this.#size--;
    if (m.size === 0) this.#byNetwork.delete(nwid);
  }

  /** Forgets a whole network. */
  deleteNetwork(nwid: string): void {
    const m = this.#byNetwork.get(nwid);
    if (!m) return;
    this.#size -= m.size;
    this.#byNetwork.delete(nwid);
  }

  /** The entries of `nwid` as [address, status] pairs (least recently seen first). */
  *entries(nwid: string): IterableIterator<[string, MemberStatus]> {
    const m = this.#byNetwork.get(nwid);
    if (m) yield* m;
  }

  /** Addresses of `nwid`'s members seen within `windowMs` of `now` (unsorted). */
  seenWithin(nwid: string, now: number, windowMs: number): string[] {
    const out: string[] = [];
    const m = this.#byNetwork.get(nwid);
    if (!m) return out;
    for (const [a, s] of m) if (now - s.lastSeen <= windowMs) out.push(a);
    return out;
  }

  #evictFrom(nwid: string, m: Map<string, MemberStatus>): void {
    const first = m.keys().next();
    if (first.done) return;
    m.delete(first.value);
    this.#size--;
    this.#evicted++;
    if (m.size === 0) this.#byNetwork.delete(nwid);
  }

  /** Evicts from the network holding the most; `nwid` (the one growing) wins ties. */
  #evictLargest(nwid: string): void {
    let bestId: string | undefined = nwid;
    let best: Map<string, MemberStatus> | undefined = this.#byNetwork.get(nwid);
    for (const [id, m] of this.#byNetwork) {
      if (!best || m.size > best.size) {
        best = m;
        bestId = id;
      }
    }
    if (best && bestId !== undefined) this.#evictFrom(bestId, best);
  }
}
