// The one front object of the protocol core: Node + upper-layer mux + Networks + Frames + controller responder, driven by receive/tapFrame/tick.
import type { Controller } from "../controller/controller.ts";
import type {
  ControllerResponder,
  ControllerResponderOptions,
  ResponderNode,
} from "../controller/responder.ts";
import { responderNode } from "../controller/responder_node.ts";
import { serveOwnNetworks } from "../controller/self_member.ts";
import type { Address } from "../vl1/address.ts";
import type { Identity } from "../vl1/identity.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import { Node, type NodeSettings, type PeerInfo } from "../vl1/node.ts";
import type { NodeEvent, NodeOptions, StateKind, UpperLayer } from "../vl1/node_host.ts";
import type { World } from "../vl1/world.ts";
import type { ConfigRequestMetadata } from "../vl2/config_request_metadata.ts";
import { Frames, type TapWrite } from "../vl2/frames.ts";
import { LoneFrames } from "./rehearsal.ts";
import type { MulticastGroup } from "../vl2/multicast.ts";
import type { Network, NetworkInfo } from "../vl2/network.ts";
import type { NetworkLocalConf } from "../vl2/network_local_conf.ts";
import { Networks } from "../vl2/networks.ts";
import { UpperLayerMux } from "../vl2/upper_layer_mux.ts";

/**
 * Kinds of persistent state the core keeps through its host: the node's (planet, moons, peer
 * cache, `networks.d/<nwid>.conf`) plus `networkLocalConf` (`networks.d/<nwid>.local.conf`).
 */
export type CoreStateKind = StateKind | "networkLocalConf";

/**
 * Everything the core asks of the world outside it (the shape of ZeroTier's `ZT_Node_Callbacks`).
 * Calls are synchronous; the host may queue work. The node calls {@link send} itself, so a host
 * object's `send` is on the per-packet path: keep it a direct call to the transport.
 */
export interface CoreHost {
  /**
   * Sends one datagram on transport socket `localSocket` (an opaque id; -1 = any). `data` may be
   * a view into a buffer the core reuses: send or copy it before returning. False if not sent.
   */
  send(localSocket: number, remote: InetAddress, data: Uint8Array, ttl?: number): boolean;
  /**
   * Writes one Ethernet frame (`frame[start..end)`) to network `nwid`'s frame port; dropped if
   * the network has none. On the per-frame path, like {@link send}: read once, at construction,
   * and called without `this` (make it an arrow function or a bound one).
   */
  readonly tapWrite: TapWrite;
  /**
   * Runs the code of {@link send} for one datagram without sending it (the socket call is made
   * with no message): a rehearsal's last step (see `Node.rehearse`). Optional.
   */
  rehearseSend?(localSocket: number, remote: InetAddress, data: Uint8Array): void;
  /**
   * Runs the code of {@link tapWrite} for one frame without writing it (a rehearsal's last step,
   * see `Node.rehearse`). Optional.
   */
  readonly tapRehearse?: TapWrite;
  /** A network was joined or changed (`info` is its snapshot) or left (`info` undefined). */
  networkChanged?(nwid: bigint, info: NetworkInfo | undefined): void;
  /** Reads a piece of persistent state, or undefined. */
  storeGet(kind: CoreStateKind, id: string): Uint8Array | undefined;
  /** Stores (data) or deletes (undefined) a piece of persistent state. */
  storePut(kind: CoreStateKind, id: string, data: Uint8Array | undefined): void;
  /** Cryptographically strong random bytes. */
  random(n: number): Uint8Array;
  /** The current time, ms (used only where the core acts on its own: network change hooks). */
  now(): number;
  /** Reports an event (online/offline, traces, internal errors, ...). */
  event(e: NodeEvent): void;
  /** Whether a physical address may carry traffic for a peer (optional; default: allowed). */
  pathCheck?(peerAddress: number, localSocket: number, remote: InetAddress): boolean;
}

/** Construction options of {@link Core}. */
export interface CoreOptions {
  /** Our identity, with private key. */
  identity: Identity;
  /** The planet to use. */
  planet: World;
  /** The world outside. */
  host: CoreHost;
  /** Current time (ms). */
  now: number;
  /** Node settings (MTU and trusted paths, local addresses, cipher, limits). */
  settings?: Partial<NodeSettings>;
  /** Network config request metadata (default: what 1.14.1 on linux/x86_64 sends). */
  metadata?: ConfigRequestMetadata;
  /**
   * Whether the core carries Ethernet frames (default true). False: FRAME, EXT_FRAME and
   * MULTICAST_* packets are dropped, as by a node without any frame port (`dataPlane: false`).
   */
  frames?: boolean;
  /**
   * Put the frame fast path's bookkeeping (counters, peer and path times, the multicast gate
   * note) off to a microtask queued after the frame's delivery, so what the port queued first (a
   * TAP's write flush, which reads and sends a lone frame's answer) runs before it. Default
   * false: done per frame.
   */
  deferSettle?: boolean;
  /**
   * Keep the last lone frame of each direction for {@link Core.rehearse} (default false: it
   * returns false). The service sets it; its poll loop rehearses between packets.
   */
  rehearsal?: boolean;
  /** Builds the VL1 node (default `new Node(o)`; the service measures identity check costs). */
  createNode?: (o: NodeOptions) => Node;
}

/** Options of {@link Core.attachController}. */
export interface CoreControllerOptions {
  /** The controller (its identity is the node's). */
  controller: Controller;
  /**
   * The responder class (src/controller/responder.ts), passed in so that a node that serves no
   * network never loads it.
   */
  Responder: new (o: ControllerResponderOptions) => ControllerResponder;
  /** Diagnostics of the responder. */
  log?: (message: string) => void;
  /** Wraps the responder's view of the node (e.g. to defer sends until a database commit). */
  wrapNode?: (n: ResponderNode) => ResponderNode;
  /** Wraps the responder as the config request handler (e.g. to serialize on a database). */
  wrapHandler?: (r: ControllerResponder) => UpperLayer;
  /** Further responder options (the random source defaults to the host's). */
  responder?: Partial<Omit<ControllerResponderOptions, "node" | "controller">>;
}

/** Period of the retry of frames held for missing credentials, between the node's own ticks. */
export const HELD_RETRY_MS = 250;

function hex16(nwid: bigint): string {
  return nwid.toString(16).padStart(16, "0");
}

/**
 * A ZeroTier node with everything above the wire wired once: the VL1 {@link Node}, one
 * {@link UpperLayerMux} as its VL2 hook, the member side ({@link Networks}), the data plane
 * ({@link Frames}) and, when attached, the embedded controller's {@link ControllerResponder}.
 * Drive it with {@link receive} (a datagram), {@link tapFrame} (a frame from a port) and
 * {@link tick} (returns the time of the next tick wanted); it acts only through its
 * {@link CoreHost}. The service and the simulator both build exactly this.
 */
export class Core {
  /** The VL1 node. */
  readonly node: Node;
  /** The node's VL2 hook: config requests to the controller, the rest to {@link networks}. */
  readonly upper: UpperLayerMux;
  /** Joined networks. */
  readonly networks: Networks;
  /** The data plane (undefined when built with `frames: false`). */
  readonly frames: Frames | undefined;
  readonly #host: CoreHost;
  readonly #lone: LoneFrames | undefined;
  #responder: ControllerResponder | undefined;
  #undoSelf: (() => void) | undefined;
  #lastHeldRetry = -Infinity;

  /** Builds the node and its VL2 wiring; nothing is sent until the first {@link tick}. */
  constructor(o: CoreOptions) {
    const host = o.host;
    this.#host = host;
    if (o.rehearsal === true && o.frames !== false) this.#lone = new LoneFrames();
    // the host is the node's host as is: the node's sends go straight to host.send
    const nodeOpts: NodeOptions = {
      identity: o.identity,
      host,
      now: o.now,
      planet: o.planet,
      ...(o.settings ? { settings: o.settings } : {}),
    };
    const node = this.node = o.createNode ? o.createNode(nodeOpts) : new Node(nodeOpts);
    const late: { frames?: Frames } = {};
    this.networks = new Networks({
      node,
      host: {
        saveConfig: (nwid, bytes) => host.storePut("networkConfig", hex16(nwid), bytes),
        saveLocalConf: (nwid, bytes) => host.storePut("networkLocalConf", hex16(nwid), bytes),
        onNetworkChanged: (nwid, info) => {
          // a configured network's groups are announced at once rather than at the next tick
          if (info?.config) late.frames?.networkChanged(host.now(), nwid);
          host.networkChanged?.(nwid, info);
        },
      },
      ...(o.metadata ? { metadata: o.metadata } : {}),
    });
    if (o.frames !== false) {
      this.frames = late.frames = new Frames({
        node,
        networks: this.networks,
        random: (n) => host.random(n),
        tapWrite: host.tapWrite,
        ...(host.tapRehearse ? { tapRehearse: host.tapRehearse } : {}),
      });
      this.networks.frameHandler = this.frames;
      node.setFrameFastPath(this.frames, o.deferSettle === true);
    }
    this.upper = new UpperLayerMux({ sender: node, member: this.networks });
    node.setUpperLayer(this.upper);
  }

  // ---- driving ---------------------------------------------------------------------------------

  /** One datagram arrived on transport socket `localSocket`. Never throws. */
  receive(now: number, localSocket: number, remote: InetAddress, data: Uint8Array): void {
    const lone = this.#lone, f = this.frames;
    if (lone === undefined || f === undefined || !lone.wantsRx(now, data.length)) {
      this.node.receive(now, localSocket, remote, data);
      return;
    }
    // a small packet: copied before it is dearmored in place, kept if it was a fast-path FRAME
    lone.pending.set(data);
    const before = f.counters.fastIn;
    this.node.receive(now, localSocket, remote, data);
    if (f.counters.fastIn !== before) lone.keepRx(now, localSocket, remote, data.length);
  }

  /**
   * Rehearses the lone frame's way through this node, each way, without effects (see
   * `Node.rehearse`): the last small packet that took the FRAME receive fast path is dearmored
   * and delivered up to the port's write, and the last small frame read from a port is built,
   * armored and made ready to send, all on copies. On a CPU that was idle for some milliseconds
   * a lone packet pays for every piece of code and data it touches first (measured on a 2-core
   * VM: pings 0.2 s apart took zt 1.5-1.6x the RTT of ZeroTier One, 2 ms apart 1.14x); the
   * service's poll loop calls this every few ms of quiet for a second after frames moved
   * (`ffi/reactor.ts`, warm ticks). Returns whether either way ran to its end (built with
   * `rehearsal`, a frame kept within the last 2 s, `REHEARSAL_WINDOW_MS`, and its way still
   * the fast one: false stops the ticks). Never throws.
   */
  rehearse(now: number): boolean {
    const lone = this.#lone, f = this.frames;
    if (lone === undefined || f === undefined || !lone.live(now)) return false;
    let ran = false;
    this.node.rehearse(() =>
      f.rehearse(() => {
        const s = lone.scratch;
        if (lone.rxLen > 0 && lone.rxRemote !== undefined) {
          s.set(lone.rx.subarray(0, lone.rxLen));
          const rx = s.subarray(0, lone.rxLen);
          if (this.node.rehearseReceive(now, lone.rxSocket, lone.rxRemote, rx)) ran = true;
        }
        if (lone.txLen > 0) {
          s.set(lone.tx.subarray(0, lone.txLen));
          if (f.tapFrame(now, lone.txNetwork, s, 0, lone.txLen)) ran = true;
        }
      })
    );
    return ran;
  }

  /**
   * One Ethernet frame (`frame[start..end)`) from network `nwid`'s port. True if it was taken
   * (sent, or dropped by a rule), false if dropped (no such network, malformed, no data plane).
   */
  tapFrame(now: number, nwid: bigint, frame: Uint8Array, start = 0, end = frame.length): boolean {
    const f = this.frames;
    if (f === undefined) return false;
    const lone = this.#lone;
    if (lone === undefined || !lone.wantsTx(now, end - start)) {
      return f.tapFrame(now, nwid, frame, start, end);
    }
    const before = f.counters.fastOut;
    const taken = f.tapFrame(now, nwid, frame, start, end);
    if (f.counters.fastOut !== before) lone.keepTx(now, nwid, frame, start, end);
    return taken;
  }

  /** The multicast groups a network's port subscribes to now (announced on the next tick). */
  multicastGroupsChanged(now: number, nwid: bigint, groups: readonly MulticastGroup[]): void {
    const f = this.frames;
    if (!f) return;
    f.multicastGroupsChanged(nwid, groups);
    f.networkChanged(now, nwid);
  }

  /**
   * Background work (pings, keepalives, config requests, multicast, held frames, the
   * controller's pushes). Returns the time (ms, on the caller's clock) of the next tick wanted.
   * Never throws.
   */
  tick(now: number): number {
    let delay = this.node.tick(now);
    const f = this.frames;
    if (f !== undefined && f.heldCount > 0) {
      if (now - this.#lastHeldRetry >= HELD_RETRY_MS) {
        this.#lastHeldRetry = now;
        try {
          f.retryHeld(now);
        } catch (e) {
          this.node.internalError("frames_retry", e);
        }
      }
      delay = Math.min(delay, HELD_RETRY_MS);
    }
    return now + delay;
  }

  // ---- networks --------------------------------------------------------------------------------

  /** Joins `nwid` (idempotent; see `Networks.join`); a config request goes out at once. */
  join(
    now: number,
    nwid: bigint,
    opts: { storedConfig?: Uint8Array; localConf?: NetworkLocalConf } = {},
  ): Network {
    return this.networks.join(now, nwid, opts);
  }

  /** Leaves `nwid` and deletes its state. False if it was not joined. */
  leave(now: number, nwid: bigint): boolean {
    return this.networks.leave(now, nwid);
  }

  /** Snapshots of the joined networks. */
  networkInfos(): NetworkInfo[] {
    return this.networks.infos();
  }

  /** One joined network, or undefined. */
  network(nwid: bigint): Network | undefined {
    return this.networks.get(nwid);
  }

  // ---- the embedded controller -----------------------------------------------------------------

  /**
   * Puts `o.controller` on the wire: its responder answers NETWORK_CONFIG_REQUEST and pushes
   * configs and revocations through the node, and this node's own joins of the controller's
   * networks are answered in process. Replaces a controller attached before.
   */
  attachController(o: CoreControllerOptions): ControllerResponder {
    this.detachController();
    const rn = responderNode(this.node);
    const resp = new o.Responder({
      node: o.wrapNode ? o.wrapNode(rn) : rn,
      controller: o.controller,
      random: (n) => this.#host.random(n),
      ...(o.log ? { log: o.log } : {}),
      ...o.responder,
    });
    this.upper.setConfigRequestHandler(o.wrapHandler ? o.wrapHandler(resp) : resp);
    this.#undoSelf = serveOwnNetworks(resp, this.networks);
    this.#responder = resp;
    return resp;
  }

  /** Stops the controller's wire side (requests are then answered UNSUPPORTED_OPERATION). */
  detachController(): void {
    this.#undoSelf?.();
    this.#undoSelf = undefined;
    if (this.#responder) {
      this.#responder.dispose();
      this.upper.setConfigRequestHandler(undefined);
    }
    this.#responder = undefined;
  }

  /** The attached controller's responder, if any. */
  get responder(): ControllerResponder | undefined {
    return this.#responder;
  }

  // ---- queries and VL1 controls ----------------------------------------------------------------

  /** Our identity. */
  get identity(): Identity {
    return this.node.identity;
  }

  /** Our address. */
  get address(): Address {
    return this.node.address;
  }

  /** Some upstream heard from recently, or we are a root. */
  online(): boolean {
    return this.node.online();
  }

  /** Known peers. */
  peers(): PeerInfo[] {
    return this.node.peers();
  }

  /** One known peer. */
  peer(addr: Address): PeerInfo | undefined {
    return this.node.peer(addr);
  }

  /** The planet in use. */
  planet(): World {
    return this.node.planet();
  }

  /** Orbited moons. */
  moons(): World[] {
    return this.node.moons();
  }

  /** Orbits a moon (seed = its root's address, or undefined to load it from the store). */
  orbit(now: number, worldId: bigint, seed: Address | undefined): void {
    this.node.orbit(now, worldId, seed);
  }

  /** Leaves a moon. */
  deorbit(worldId: bigint): void {
    this.node.deorbit(worldId);
  }

  /** Our addresses as peers report them. */
  surfaceAddresses(): InetAddress[] {
    return this.node.surfaceAddresses();
  }

  /** Live settings change (`physical`, `localAddresses`, `cipher`; see `Node.updateSettings`). */
  updateSettings(s: Pick<Partial<NodeSettings>, "physical" | "localAddresses" | "cipher">): void {
    this.node.updateSettings(s);
  }

  /** Writes the peer cache (at shutdown). */
  savePeers(now: number): void {
    this.node.savePeers(now);
  }
}
