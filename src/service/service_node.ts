// What the service needs from a VL1 node (a structural view of src/vl1/node.ts, fakeable in tests).
import type { Address } from "../vl1/address.ts";
import type { Identity } from "../vl1/identity.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { NodeSettings } from "../vl1/node_settings.ts";
import type { World } from "../vl1/world.ts";

/** One physical path of a peer, as the node reports it. */
export interface ServicePathInfo {
  /** Remote physical address. */
  address: InetAddress;
  /** Local socket id the path uses. */
  localSocket: number;
  /** ms timestamp of the last send (0 = never). */
  lastSend: number;
  /** ms timestamp of the last receive (0 = never). */
  lastReceive: number;
  /** The currently selected path. */
  preferred: boolean;
  /** Past its expiry. */
  expired: boolean;
  /** Trusted path id (0 = none). */
  trustedPathId: bigint | number;
}

/** One peer, as the node reports it. */
export interface ServicePeerInfo {
  /** 40-bit address (its toString() is 10 hex digits). */
  address: Address | { toString(): string };
  /** Remote software version, if known. */
  version: { major: number; minor: number; revision: number } | undefined;
  /** Latency in ms, -1 if unknown. */
  latency: number;
  /** Role as the topology sees it. */
  role: "LEAF" | "MOON" | "PLANET";
  /** Known physical paths. */
  paths: ServicePathInfo[];
}

/** The node calls the service makes. */
export interface ServiceNode {
  /** Our identity. */
  readonly identity: Identity;
  /** One datagram arrived. Never throws. */
  receive(now: number, localSocket: number, remote: InetAddress, data: Uint8Array): void;
  /** Background work; returns ms until the next tick wanted. */
  tick(now: number): number;
  /** Online (an upstream heard from recently). */
  online(): boolean;
  /** All peers. */
  peers(): ServicePeerInfo[];
  /** One peer. */
  peer(addr: Address): ServicePeerInfo | undefined;
  /** The planet in use. */
  planet(): World;
  /** Moons orbited (loaded). */
  moons(): World[];
  /** Orbit a moon (seed = its root's address, or undefined to load from moons.d). */
  orbit(now: number, worldId: bigint, seed: Address | undefined): void;
  /** Stop orbiting a moon. */
  deorbit(worldId: bigint): void;
  /** Our addresses as peers see them. */
  surfaceAddresses(): InetAddress[];
  /** Live settings change (local.conf reload); nodes without it keep their start settings. */
  updateSettings?(s: Pick<Partial<NodeSettings>, "physical" | "localAddresses" | "cipher">): void;
}
