// The adapter boundary of the sans-I/O node: everything the core asks of the world outside it.
import type { InetAddress } from "./inet_address.ts";

/** An event the node reports to its host (logging, status changes). */
export type NodeEvent =
  | { type: "online" }
  | { type: "offline" }
  | { type: "trace"; message: string }
  | { type: "fatalIdentityCollision" }
  | { type: "userMessage"; source: string; typeId: bigint; payload: Uint8Array }
  | { type: "remoteTrace"; source: string; data: Uint8Array };

/** Kinds of persistent state the node asks its host to keep (mirrors the reference's files). */
export type StateKind = "planet" | "moon" | "peer" | "networkConfig";

/**
 * What a Node needs from the world: it calls these and never touches sockets, files or clocks.
 * Every call is synchronous; the host may queue the work.
 */
export interface NodeHost {
  /**
   * Sends one UDP datagram. `localSocket` is an opaque id of the socket a path uses (-1 = any);
   * `ttl`, when given, is the IP TTL for this datagram only (hole-punching probes use 2).
   * Returns false if it could not be sent (no socket of that family, etc.).
   */
  send(localSocket: number, remote: InetAddress, data: Uint8Array, ttl?: number): boolean;
  /** Cryptographically strong random bytes. */
  random(n: number): Uint8Array;
  /** Stores (data) or deletes (undefined) a piece of state, e.g. ("peer", "89e92ceee5", bytes). */
  storePut(kind: StateKind, id: string, data: Uint8Array | undefined): void;
  /** Reads a piece of state previously stored, or undefined. */
  storeGet(kind: StateKind, id: string): Uint8Array | undefined;
  /** Reports an event. */
  event(e: NodeEvent): void;
  /**
   * Whether a physical address may carry ZeroTier traffic for a peer (local.conf blacklists,
   * not inside a ZeroTier-managed network). Optional; defaults to allowed.
   */
  pathCheck?(peerAddress: number, localSocket: number, remote: InetAddress): boolean;
}
