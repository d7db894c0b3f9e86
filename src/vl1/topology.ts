// Known peers and paths, the planet and moons, upstream roots and their roles (spec §6.2-6.5, §9.10).
import type { Address } from "./address.ts";
import type { Identity } from "./identity.ts";
import type { InetAddress } from "./inet_address.ts";
import type { NodeHost } from "./node_host.ts";
import { PEER_ACTIVITY_TIMEOUT } from "./node_settings.ts";
import { Path, pathKey } from "./path.ts";
import { Peer } from "./peer.ts";
import { decodePeerCache, encodePeerCache } from "./peer_cache.ts";
import { PeerKeys } from "./peer_keys.ts";
import { serializeWorld, shouldReplaceWorld, verifyWorld, type World, WorldType } from "./world.ts";

/** Role of a peer as shown in APIs. */
export type PeerRole = "LEAF" | "MOON" | "PLANET";

/** Most shared Path objects kept. */
export const MAX_PATHS = 65_536;
/** Most moons orbited (and pending seeds). */
const MAX_MOONS = 64;

/** 16-hex-digit world id, the store key for planet and moon records. */
export function worldIdHex(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16).padStart(16, "0");
}

/** Peers, paths and worlds of one node. */
export class Topology {
  readonly #me: Identity;
  readonly #host: NodeHost;
  readonly #maxPeers: number;
  readonly peers = new Map<number, Peer>();
  readonly #paths = new Map<string, Path>();
  #cleanCredit = 0;
  #pathsRefused = 0;
  #peersEvicted = 0;
  #planet: World;
  #moons: World[] = [];
  /** Pending moon seeds: world id -> seed address. */
  readonly #seeds = new Map<bigint, number>();
  #upstreams = new Set<number>();
  #planetRoots = new Set<number>();
  #amUpstream = false;
  /** What each peer's cache record held when last written or loaded (see {@link cacheKey}). */
  readonly #savedKeys = new WeakMap<Peer, string>();
  /** Addresses recently looked up in the peer cache without success. */
  readonly #cacheMisses = new Set<number>();
  /**
   * Checks a cached identity's proof of work before the peer is loaded (the node routes this
   * through its remembered checks and budget: any packet naming the address triggers a load).
   */
  validateIdentity: (id: Identity) => boolean = (id) => id.validate();
  /** Called when a peer is loaded from the cache (to HELLO its cached paths). */
  onCacheLoad?: (peer: Peer, paths: InetAddress[]) => void;

  /** A topology for `me` with initial `planet`. */
  constructor(me: Identity, host: NodeHost, planet: World, maxPeers: number) {
    this.#me = me;
    this.#host = host;
    this.#planet = planet;
    this.#maxPeers = maxPeers;
    this.#recompute();
  }

  /** The current planet. */
  get planet(): World {
    return this.#planet;
  }

  /** Orbited moons. */
  get moons(): World[] {
    return [...this.#moons];
  }

  /** Moon ids wanted (seed pending, no definition yet). */
  get moonsWanted(): bigint[] {
    return [...this.#seeds.keys()];
  }

  /** True if our identity is a root of the planet or a moon. */
  get amUpstream(): boolean {
    return this.#amUpstream;
  }

  /** Is `addr` an upstream (a planet/moon root that is not us)? */
  isUpstream(addr: number): boolean {
    return this.#upstreams.has(addr);
  }

  /** Whether worlds in OK(HELLO) from `addr` may be considered: upstreams and moon seeds. */
  shouldAcceptWorldUpdateFrom(addr: number): boolean {
    if (this.#upstreams.has(addr)) return true;
    for (const s of this.#seeds.values()) if (s === addr) return true;
    return false;
  }

  /** PLANET / MOON / LEAF. */
  role(addr: number): PeerRole {
    if (this.#planetRoots.has(addr)) return "PLANET";
    if (this.#upstreams.has(addr)) return "MOON";
    return "LEAF";
  }

  /**
   * True if `addr` is a root with stable endpoints and `remote`'s IP is not one of them (roots
   * may only be reached at their listed endpoints).
   */
  isProhibitedEndpoint(addr: number, remote: InetAddress): boolean {
    for (const w of [this.#planet, ...this.#moons]) {
      for (const r of w.roots) {
        if (r.identity.address.value !== addr || r.stableEndpoints.length === 0) continue;
        return !r.stableEndpoints.some((e) => e.ipEquals(remote));
      }
    }
    return false;
  }

  /** Upstreams and seeds to keep contacting: address -> stable endpoints (seeds: none). */
  upstreamsToContact(): Map<number, InetAddress[]> {
    const m = new Map<number, InetAddress[]>();
    for (const w of [this.#planet, ...this.#moons]) {
      for (const r of w.roots) {
        const a = r.identity.address.value;
        if (a === this.#me.address.value) continue;
        m.set(a, [...(m.get(a) ?? []), ...r.stableEndpoints]);
      }
    }
    for (const s of this.#seeds.values()) {
      if (!m.has(s) && s !== this.#me.address.value) m.set(s, []);
    }
    return m;
  }

  /** Best upstream by relay quality (excluding `exclude`), if any. */
  bestUpstream(now: number, exclude?: number): Peer | undefined {
    let best: Peer | undefined;
    let bestQ = Infinity;
    for (const a of this.#upstreams) {
      if (a === exclude) continue;
      const p = this.peers.get(a);
      if (!p) continue;
      const q = p.relayQuality(now);
      if (best === undefined || q < bestQ) {
        best = p;
        bestQ = q;
      }
    }
    return best;
  }

  /** The shared path object for (socket, address), created on demand (bounded). */
  getPath(localSocket: number, remote: InetAddress): Path {
    const k = pathKey(localSocket, remote);
    let p = this.#paths.get(k);
    if (!p) {
      p = new Path(localSocket, remote);
      if (this.#paths.size >= MAX_PATHS) {
        // full: drop unused paths (a walk, so at most once per MAX_PATHS / 16 new paths); if
        // still full, the path serves this packet only and is not remembered
        if (this.#cleanCredit <= 0) {
          this.#cleanCredit = MAX_PATHS >> 4;
          this.cleanPaths(Infinity);
        } else this.#cleanCredit--;
        if (this.#paths.size >= MAX_PATHS) {
          this.#pathsRefused++;
          return p;
        }
      }
      this.#paths.set(k, p);
    }
    return p;
  }

  /** New paths not remembered because the path table was full (cumulative). */
  get pathsRefused(): number {
    return this.#pathsRefused;
  }

  /** Addresses remembered as absent from the peer cache. */
  get cacheMissCount(): number {
    return this.#cacheMisses.size;
  }

  /** Peers evicted to stay within the peer bound (cumulative). */
  get peersEvicted(): number {
    return this.#peersEvicted;
  }

  /** An existing path object, without creating one. */
  findPath(localSocket: number, remote: InetAddress): Path | undefined {
    return this.#paths.get(pathKey(localSocket, remote));
  }

  /** Number of path objects (for memory checks). */
  get pathCount(): number {
    return this.#paths.size;
  }

  /** Drops path objects no peer uses and not heard from for `maxIdle` ms. */
  cleanPaths(now: number, maxIdle = 600_000): void {
    const used = new Set<Path>();
    for (const p of this.peers.values()) for (const pp of p.paths) used.add(pp.path);
    for (const [k, p] of this.#paths) {
      if (!used.has(p) && (now === Infinity || now - Math.max(p.lastIn, p.lastOut) > maxIdle)) {
        this.#paths.delete(k);
      }
    }
  }

  /** A known peer, loading it from the peer cache if present (`now` for cached path HELLOs). */
  getPeer(addr: number): Peer | undefined {
    const p = this.peers.get(addr);
    if (p || addr === this.#me.address.value) return p;
    if (this.#cacheMisses.has(addr)) return undefined;
    return this.#loadCached(addr);
  }

  /** Adds (or returns the existing) peer for a validated identity; undefined if agreement fails. */
  addPeer(identity: Identity, keys?: PeerKeys): Peer | undefined {
    const a = identity.address.value;
    if (a === this.#me.address.value) return undefined;
    const existing = this.peers.get(a);
    if (existing) return existing;
    let k = keys;
    if (!k) {
      const key = this.#me.agree(identity);
      if (!key) return undefined;
      k = new PeerKeys(key);
    }
    if (this.peers.size >= this.#maxPeers) this.#evictOne();
    const p = new Peer(identity, k);
    this.peers.set(a, p);
    this.#cacheMisses.delete(a);
    return p;
  }

  /** Evicts peers silent for 500 s (not upstreams), saving them to the peer cache. */
  evictInactive(now: number): void {
    for (const [a, p] of this.peers) {
      if (this.#upstreams.has(a)) continue;
      if (now - p.lastReceive > PEER_ACTIVITY_TIMEOUT) {
        this.savePeer(p);
        this.peers.delete(a);
      }
    }
    this.#cacheMisses.clear();
  }

  /** Writes a peer cache record. */
  savePeer(p: Peer): void {
    if (this.#upstreams.has(p.identity.address.value)) return;
    this.#savedKeys.set(p, cacheKey(p.vProto, p.vMajor, p.vMinor, p.vRevision, p.paths));
    this.#host.storePut(
      "peer",
      p.identity.address.toString(),
      encodePeerCache({
        identity: p.identity,
        vProto: p.vProto,
        vMajor: Math.max(0, p.vMajor),
        vMinor: Math.max(0, p.vMinor),
        vRevision: Math.max(0, p.vRevision),
        paths: p.paths.map((pp) => pp.path.address),
      }),
    );
  }

  /**
   * Writes the cache records of peers heard from (not upstreams) whose versions or paths changed
   * since their record was last written or loaded, at most `max` of them; returns how many.
   */
  saveChangedPeers(max: number): number {
    let n = 0;
    for (const [a, p] of this.peers) {
      if (n >= max) break;
      if (p.lastReceive <= 0 || this.#upstreams.has(a)) continue;
      const k = cacheKey(p.vProto, p.vMajor, p.vMinor, p.vRevision, p.paths);
      if (this.#savedKeys.get(p) === k) continue;
      this.savePeer(p);
      n++;
    }
    return n;
  }

  /**
   * Offers a world (spec §6.2). Planet: replaced per the update rule. Moon: updated per the rule,
   * or accepted new when `alwaysAcceptNew` or a pending seed for its id is one of its roots.
   * Accepted worlds are persisted. Returns true if accepted.
   */
  addWorld(w: World, alwaysAcceptNew: boolean): boolean {
    if (w.type === WorldType.PLANET) {
      if (!shouldReplaceWorld(this.#planet, w)) return false;
      this.#planet = w;
      this.#host.storePut("planet", worldIdHex(w.id), serializeWorld(w));
    } else if (w.type === WorldType.MOON) {
      const i = this.#moons.findIndex((m) => m.id === w.id);
      if (i >= 0) {
        if (!shouldReplaceWorld(this.#moons[i], w)) return false;
        this.#moons[i] = w;
      } else {
        const seed = this.#seeds.get(w.id);
        const seeded = seed !== undefined && w.roots.some((r) => r.identity.address.value === seed);
        if (!(alwaysAcceptNew || seeded) || !verifyWorld(w)) return false;
        if (this.#moons.length >= MAX_MOONS) return false;
        this.#moons.push(w);
        this.#seeds.delete(w.id);
      }
      this.#host.storePut("moon", worldIdHex(w.id), serializeWorld(w));
    } else {
      return false;
    }
    this.#recompute();
    return true;
  }

  /** Orbits a moon: loads `moon/<id16>` from the store if present, else records the seed. */
  orbit(worldId: bigint, seed: Address | undefined, parse: (b: Uint8Array) => World | undefined) {
    const stored = this.#host.storeGet("moon", worldIdHex(worldId));
    const w = stored ? parse(stored) : undefined;
    if (w && w.id === worldId && w.type === WorldType.MOON && this.addWorld(w, true)) return;
    if (this.#moons.some((m) => m.id === worldId)) return;
    if (seed && this.#seeds.size < MAX_MOONS) this.#seeds.set(worldId, seed.value);
  }

  /** Leaves a moon (and forgets its seed and stored file). */
  deorbit(worldId: bigint): void {
    this.#moons = this.#moons.filter((m) => m.id !== worldId);
    this.#seeds.delete(worldId);
    this.#host.storePut("moon", worldIdHex(worldId), undefined);
    this.#recompute();
  }

  #recompute(): void {
    const me = this.#me.address.value;
    const ups = new Set<number>();
    const planetRoots = new Set<number>();
    let am = false;
    for (const w of [this.#planet, ...this.#moons]) {
      for (const r of w.roots) {
        const a = r.identity.address.value;
        if (a === me) {
          am = true;
          continue;
        }
        ups.add(a);
        if (w === this.#planet) planetRoots.add(a);
        if (!this.peers.has(a)) this.addPeer(r.identity);
      }
    }
    this.#upstreams = ups;
    this.#planetRoots = planetRoots;
    this.#amUpstream = am;
  }

  #evictOne(): void {
    let victim: number | undefined;
    let oldest = Infinity;
    for (const [a, p] of this.peers) {
      if (this.#upstreams.has(a)) continue;
      if (p.lastReceive < oldest) {
        oldest = p.lastReceive;
        victim = a;
      }
    }
    if (victim !== undefined) {
      this.savePeer(this.peers.get(victim)!);
      this.peers.delete(victim);
      this.#peersEvicted++;
    }
  }

  #loadCached(addr: number): Peer | undefined {
    let rec;
    try {
      const b = this.#host.storeGet("peer", addr.toString(16).padStart(10, "0"));
      rec = b ? decodePeerCache(b) : undefined;
    } catch {
      rec = undefined;
    }
    if (!rec || rec.identity.address.value !== addr || !this.validateIdentity(rec.identity)) {
      if (this.#cacheMisses.size >= 4096) this.#cacheMisses.clear();
      this.#cacheMisses.add(addr);
      return undefined;
    }
    const p = this.addPeer(rec.identity);
    if (!p) return undefined;
    p.setRemoteVersion(rec.vProto, rec.vMajor, rec.vMinor, rec.vRevision);
    const paths = rec.paths.map((address) => ({ path: { address } }));
    this.#savedKeys.set(p, cacheKey(rec.vProto, rec.vMajor, rec.vMinor, rec.vRevision, paths));
    this.onCacheLoad?.(p, rec.paths);
    return p;
  }
}

/** What a peer cache record says, as a string to notice changes (versions as stored, paths). */
function cacheKey(
  vProto: number,
  vMajor: number,
  vMinor: number,
  vRevision: number,
  paths: readonly { path: { address: InetAddress } }[],
): string {
  const v = [vProto, vMajor, vMinor, vRevision].map((x) => Math.max(0, x)).join(".");
  return `${v}|${paths.map((pp) => pp.path.address.key()).join(",")}`;
}
