// The API view of a peer (`/peer`, `listpeers`): versions, latency, role and paths, built from a Peer.
import type { Address } from "./address.ts";
import type { InetAddress } from "./inet_address.ts";
import { PEER_PATH_EXPIRATION } from "./node_settings.ts";
import { LATENCY_UNKNOWN } from "./path.ts";
import type { Peer } from "./peer.ts";
import type { PeerRole } from "./topology.ts";

/** One path in {@link PeerInfo}. */
export interface PathInfo {
  address: InetAddress;
  localSocket: number;
  lastSend: number;
  lastReceive: number;
  preferred: boolean;
  expired: boolean;
  trustedPathId: bigint;
}

/** A peer as reported by `/peer`. */
export interface PeerInfo {
  address: Address;
  version: { major: number; minor: number; revision: number } | undefined;
  /** Latency in ms, -1 unknown. */
  latency: number;
  role: PeerRole;
  paths: PathInfo[];
}

/** The {@link PeerInfo} of `p` (with `role`) at time `now`. */
export function peerInfo(p: Peer, role: PeerRole, now: number): PeerInfo {
  const best = p.bestPath(now);
  return {
    address: p.identity.address,
    version: p.vMajor >= 0
      ? { major: p.vMajor, minor: p.vMinor, revision: p.vRevision }
      : undefined,
    latency: p.latency === LATENCY_UNKNOWN ? -1 : p.latency,
    role,
    paths: p.paths.map((pp) => ({
      address: pp.path.address,
      localSocket: pp.path.localSocket,
      lastSend: pp.path.lastOut,
      lastReceive: pp.lastReceive,
      preferred: pp.path === best,
      expired: now - pp.lastReceive >= PEER_PATH_EXPIRATION,
      trustedPathId: 0n,
    })),
  };
}
