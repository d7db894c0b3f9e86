// The boundaries of the sans-I/O node: what it is built from, what it asks of the world outside it (host) and the VL2 hook above it.
import type { Address } from "./address.ts";
import type { Identity } from "./identity.ts";
import type { InetAddress } from "./inet_address.ts";
import type { NodeSettings } from "./node_settings.ts";
import type { Verb } from "./packet.ts";
import type { World } from "./world.ts";

/** An event the node reports to its host (logging, status changes). */
export type NodeEvent =
  | { type: "online" }
  | { type: "offline" }
  | { type: "trace"; message: string }
  | { type: "fatalIdentityCollision" }
  | { type: "userMessage"; source: string; typeId: bigint; payload: Uint8Array }
  | { type: "remoteTrace"; source: string; data: Uint8Array }
  /**
   * An internal exception (a bug, not bad input) was caught at boundary `where` and counted in
   * `zt_internal_errors_total{where}`; `stack` is the error's stack when it has one.
   */
  | { type: "internalError"; where: string; message: string; stack?: string };

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
   * `data` may be a view into a buffer the node reuses for its next packet: the host must send or
   * copy it before returning.
   */
  send(localSocket: number, remote: InetAddress, data: Uint8Array, ttl?: number): boolean;
  /**
   * Runs the code of {@link send} for one datagram without sending it (the socket call is made
   * with no message): a rehearsal's last step (see `Node.rehearse`). Optional.
   */
  rehearseSend?(localSocket: number, remote: InetAddress, data: Uint8Array): void;
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

/** Construction options of a {@link Node}. */
export interface NodeOptions {
  /** Our identity, with private key. */
  identity: Identity;
  /** The adapter to the outside world. */
  host: NodeHost;
  /** Current time (ms). */
  now: number;
  /** The planet to use. */
  planet: World;
  /** Optional settings (MTU / trusted paths per CIDR, local addresses, limits). */
  settings?: Partial<NodeSettings>;
}

/** The VL2 hook (see {@link Node.setUpperLayer}). */
export interface UpperLayer {
  /**
   * An authenticated, decompressed VL2 packet (FRAME, EXT_FRAME, MULTICAST_*, NETWORK_*), or an
   * OK/ERROR not consumed by VL1. `payload` is the verb payload (from packet offset 28).
   */
  handle(
    now: number,
    source: Address,
    verb: Verb,
    payload: Uint8Array,
    info: { hops: number; packetId: bigint; remote: InetAddress; localSocket: number },
  ): boolean | void;
  /**
   * Called from {@link Node.tick}. May return the delay (ms) until it wants the next tick; the
   * node's tick then returns at most that (never under 60 ms).
   */
  tick?(now: number): number | void;
}

/** The upper layer's FRAME fast path (see {@link Node.setFrameFastPath}). */
export interface FrameFastPath {
  /**
   * An authenticated, uncompressed FRAME from `source` arrived directly (hops 0); its payload is
   * `pkt[off..)`. Returns true if it was delivered (bookkeeping may be put off until
   * {@link settle}); false, with nothing done, to run it through the full path.
   */
  fastFrame(now: number, source: number, pkt: Uint8Array, off: number): boolean;
  /** Runs the bookkeeping put off by {@link fastFrame}. */
  settle(): void;
}

/**
 * Receive metadata handed to the upper layer. The packet ID is kept as two u32 halves and built
 * as a bigint only when read (most frames never need it); the object stays valid after the
 * packet buffer is reused, so it may be kept (held frames).
 */
export class UpperPacketInfo {
  /** Hop count. */
  readonly hops: number;
  /** Physical source address. */
  readonly remote: InetAddress;
  /** Local socket it arrived on. */
  readonly localSocket: number;
  readonly #hi: number;
  readonly #lo: number;

  /** Metadata of packet `p` (its ID is read from `p[0..8)` now). */
  constructor(hops: number, p: Uint8Array, remote: InetAddress, localSocket: number) {
    this.hops = hops;
    this.remote = remote;
    this.localSocket = localSocket;
    this.#hi = ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
    this.#lo = ((p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7]) >>> 0;
  }

  /** Packet ID (as on the wire). */
  get packetId(): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }
}
