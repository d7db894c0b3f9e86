// A known remote node: identity, agreed keys, versions, latency, its direct paths and per-peer rate state (spec §9.2-9.5).
import { DuplicateFilter } from "./duplicate_filter.ts";
import type { Identity } from "./identity.ts";
import { IpScope } from "./inet_address.ts";
import { LATENCY_UNKNOWN, type Path } from "./path.ts";
import type { PeerKeys } from "./peer_keys.ts";
import {
  MAX_PEER_NETWORK_PATHS,
  PEER_ACTIVITY_TIMEOUT,
  PEER_CREDENTIALS_RATE_LIMIT,
  PEER_PATH_EXPIRATION,
  PEER_PING_PERIOD,
  PEER_WHOIS_RATE_LIMIT,
  PUSH_DIRECT_PATHS_CUTOFF_LIMIT,
  PUSH_DIRECT_PATHS_CUTOFF_TIME,
  TRUST_EXPIRATION,
} from "./node_settings.ts";
import { AES_GMAC_SIV_MIN_PROTO_VERSION } from "./packet.ts";

export { DUPLICATE_FILTER_SIZE } from "./duplicate_filter.ts";

/** One of a peer's direct paths with the time it was last heard from for this peer. */
export interface PeerPath {
  /** The shared physical path. */
  path: Path;
  /** Last receive from this peer over it. */
  lastReceive: number;
}

/** What `doPingAndKeepalive` wants contacted. */
export interface KeepaliveAction {
  /** Path to contact. */
  path: Path;
  /** Full HELLO (true) or ECHO/HELLO-if-old-version (false). */
  fullHello: boolean;
}

/** A remote node we share a key with. */
export class Peer {
  /** Its identity (public). */
  readonly identity: Identity;
  /** Agreed key material. */
  readonly keys: PeerKeys;
  /** Direct paths, best-effort ordered by insertion; at most 64. */
  paths: PeerPath[] = [];
  /** Remote protocol version (0 = unknown). */
  vProto = 0;
  /** Remote major version (-1 = unknown). */
  vMajor = -1;
  /** Remote minor version. */
  vMinor = -1;
  /** Remote revision. */
  vRevision = -1;
  /** Peer latency (ms, running average of direct OK(HELLO) RTTs); LATENCY_UNKNOWN until known. */
  latency = LATENCY_UNKNOWN;
  /** Last authenticated receive. */
  lastReceive = 0;
  /** Last frame/netconf/multicast receive (keeps the peer "active"). */
  lastNontrivialReceive = 0;
  /** Last trust-establishing packet. */
  lastTrustEstablished = 0;
  /** Last full HELLO from doPingAndKeepalive. */
  lastSentFullHello = 0;
  /** Last PUSH_DIRECT_PATHS sent. */
  lastDirectPathPushSent = 0;
  /** Inbound PUSH_DIRECT_PATHS window start and count. */
  lastDirectPathPushReceive = 0;
  directPathPushCutoffCount = 0;
  /** Last WHOIS answered (rate limit). */
  lastWhoisAnswered = -Infinity;
  /** Last credentials accepted (rate limit, VL2). */
  lastCredentialsReceived = -Infinity;
  /** Last time any packet was sent to this peer (for idle decisions). */
  lastSend = 0;
  /** Paths we sent a confirming HELLO to recently (path key -> time). */
  readonly #lastTriedPath = new Map<string, number>();
  readonly #dups = new DuplicateFilter();

  /** A peer with `identity` and its agreed `keys`. */
  constructor(identity: Identity, keys: PeerKeys) {
    this.identity = identity;
    this.keys = keys;
  }

  /** Whether the remote supports AES-GMAC-SIV (known protocol >= 12): selects cipher 3 vs 1. */
  get aesSupported(): boolean {
    return this.vProto >= AES_GMAC_SIV_MIN_PROTO_VERSION;
  }

  /** Records the remote's versions. */
  setRemoteVersion(proto: number, major: number, minor: number, revision: number): void {
    this.vProto = proto;
    this.vMajor = major;
    this.vMinor = minor;
    this.vRevision = revision;
  }

  /** True if this packet ID (wire, bytes 0..7) was already seen; records it otherwise. */
  isDuplicate(pkt: Uint8Array): boolean {
    return this.#dups.seen(pkt);
  }

  /** Folds a direct RTT into the peer latency. */
  addLatency(rtt: number): void {
    const l = Math.max(0, Math.min(LATENCY_UNKNOWN - 1, Math.round(rtt)));
    this.latency = this.latency === LATENCY_UNKNOWN ? l : (this.latency + l) >>> 1;
  }

  /** Peer is active: non-trivial traffic within 500 s. */
  isActive(now: number): boolean {
    return this.lastNontrivialReceive > 0 &&
      now - this.lastNontrivialReceive < PEER_ACTIVITY_TIMEOUT;
  }

  /** Trust established (VL2 credentials/frames) within 10 min. */
  trustEstablished(now: number): boolean {
    return this.lastTrustEstablished > 0 && now - this.lastTrustEstablished < TRUST_EXPIRATION;
  }

  /** The path entry for `path`, if it is one of ours. */
  findPath(path: Path): PeerPath | undefined {
    return this.paths.find((p) => p.path === path);
  }

  /**
   * Path learning on an authenticated direct packet (spec §9.2). Returns "known" if the path is
   * already ours (or an alive path with the same IP and socket exists), "learned" if an OK taught
   * us a new path, "confirm" if the caller should send a confirming HELLO (at most once per
   * second per path), or "none".
   */
  learnPath(now: number, path: Path, isOk: boolean): "known" | "learned" | "confirm" | "none" {
    for (const pp of this.paths) {
      if (pp.path === path) {
        pp.lastReceive = now;
        return "known";
      }
      if (
        pp.path.localSocket === path.localSocket && pp.path.address.ipEquals(path.address) &&
        pp.path.alive(now)
      ) return "known";
    }
    if (isOk) {
      let replace = -1;
      let oldest = -1;
      let oldestAge = -1;
      for (let i = 0; i < this.paths.length; i++) {
        const p = this.paths[i].path;
        const age = now - p.lastIn;
        if (age > oldestAge) {
          oldestAge = age;
          oldest = i;
        }
        if (
          p.localSocket === path.localSocket && p.address.ipEquals(path.address) && !p.alive(now)
        ) {
          replace = i;
          break;
        }
      }
      const entry = { path, lastReceive: now };
      if (replace >= 0) this.paths[replace] = entry;
      else if (this.paths.length < MAX_PEER_NETWORK_PATHS) this.paths.push(entry);
      else this.paths[oldest] = entry;
      return "learned";
    }
    for (const [k, t] of this.#lastTriedPath) {
      if (now - t > 1000 || now < t) this.#lastTriedPath.delete(k);
    }
    if (this.#lastTriedPath.has(path.key)) return "none";
    if (this.#lastTriedPath.size >= 64) return "none";
    this.#lastTriedPath.set(path.key, now);
    return "confirm";
  }

  /** Best path by quality among non-expired paths (or any path with `includeExpired`). */
  bestPath(now: number, includeExpired = false): Path | undefined {
    let best: Path | undefined;
    let bestQ = Infinity;
    for (const pp of this.paths) {
      if (includeExpired || now - pp.lastReceive < PEER_PATH_EXPIRATION) {
        const q = pp.path.quality(now);
        if (q <= bestQ) {
          bestQ = q;
          best = pp.path;
        }
      }
    }
    return best;
  }

  /** Non-expired paths. */
  activePaths(now: number): PeerPath[] {
    return this.paths.filter((pp) => now - pp.lastReceive < PEER_PATH_EXPIRATION);
  }

  /** Whether some non-expired path has this exact address. */
  hasActivePathTo(now: number, addressKey: string): boolean {
    return this.paths.some((pp) =>
      now - pp.lastReceive < PEER_PATH_EXPIRATION && pp.path.address.key() === addressKey
    );
  }

  /**
   * The keepalive pass (spec §9.3): removes expired paths and returns the paths to contact: all of
   * them with a full HELLO if 60 s passed since the last one, else those needing a heartbeat.
   */
  doPingAndKeepalive(now: number): KeepaliveAction[] {
    const full = now - this.lastSentFullHello >= PEER_PING_PERIOD;
    if (full) this.lastSentFullHello = now;
    this.paths = this.paths.filter((pp) => now - pp.lastReceive < PEER_PATH_EXPIRATION);
    const out: KeepaliveAction[] = [];
    for (const pp of this.paths) {
      if (full || pp.path.needsHeartbeat(now)) out.push({ path: pp.path, fullHello: full });
    }
    return out;
  }

  /** Relay quality (lower is better; Infinity after 500 s of silence), for upstream choice. */
  relayQuality(now: number): number {
    const tsr = now - this.lastReceive;
    if (this.lastReceive <= 0 || tsr >= PEER_ACTIVITY_TIMEOUT) return Infinity;
    const l = this.latency === LATENCY_UNKNOWN || this.latency === 0 ? 0xffff : this.latency;
    return l * (1 + Math.floor(tsr / 61_000));
  }

  /** Paths in `scope` and `family` (for self-awareness resets). */
  pathsInScope(scope: IpScope, family: 4 | 6): PeerPath[] {
    return this.paths.filter((pp) => pp.path.scope === scope && pp.path.address.family === family);
  }

  /** Best path per (family, scope) for RENDEZVOUS (`introduce`). */
  bestByScope(now: number): Map<string, Path> {
    const m = new Map<string, Path>();
    const q = new Map<string, number>();
    for (const pp of this.paths) {
      const k = `${pp.path.address.family}/${pp.path.scope}`;
      const v = pp.path.quality(now);
      if (v <= (q.get(k) ?? Infinity)) {
        q.set(k, v);
        m.set(k, pp.path);
      }
    }
    return m;
  }

  /** Inbound WHOIS gate (100 ms). */
  allowWhois(now: number): boolean {
    if (now - this.lastWhoisAnswered < PEER_WHOIS_RATE_LIMIT && now >= this.lastWhoisAnswered) {
      return false;
    }
    this.lastWhoisAnswered = now;
    return true;
  }

  /** Inbound credentials gate (1 s), for VL2. */
  allowCredentials(now: number): boolean {
    if (
      now - this.lastCredentialsReceived < PEER_CREDENTIALS_RATE_LIMIT &&
      now >= this.lastCredentialsReceived
    ) return false;
    this.lastCredentialsReceived = now;
    return true;
  }

  /** Inbound PUSH_DIRECT_PATHS gate (<= 8 per 30 s window). */
  allowDirectPathPush(now: number): boolean {
    if (now - this.lastDirectPathPushReceive <= PUSH_DIRECT_PATHS_CUTOFF_TIME) {
      if (++this.directPathPushCutoffCount > PUSH_DIRECT_PATHS_CUTOFF_LIMIT) return false;
    } else {
      this.lastDirectPathPushReceive = now;
      this.directPathPushCutoffCount = 0;
    }
    return true;
  }
}

/** Scope order used by `introduce`: highest scope first. */
export const SCOPES_HIGH_TO_LOW: IpScope[] = [7, 6, 5, 4, 3, 2, 1, 0];
