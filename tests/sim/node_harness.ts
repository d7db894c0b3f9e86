// Test helper: runs zt cores (the production wiring) on simulator hosts with a tick loop driven by the virtual clock.
import { Controller } from "../../src/controller/controller.ts";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import { ControllerResponder } from "../../src/controller/responder.ts";
import { Core, type CoreHost, type CoreOptions, type CoreStateKind } from "../../src/core/core.ts";
import { FakeNetConfig } from "../../src/sim/fake_net_config.ts";
import { MemFramePort } from "../../src/sim/mem_frame_port.ts";
import { SimTransport } from "../../src/sim/sim_transport.ts";
import { c25519Generate } from "../../src/crypto/c25519.ts";
import { type Host, Random, type Sim, type UdpSocket } from "../../src/sim/sim.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import type { Node, NodeSettings } from "../../src/vl1/node.ts";
import type { NodeEvent } from "../../src/vl1/node_host.ts";
import { signWorld, type World, WorldType } from "../../src/vl1/world.ts";
import type { Frames } from "../../src/vl2/frames.ts";
import type { NetworkInfo } from "../../src/vl2/network.ts";
import type { Networks } from "../../src/vl2/networks.ts";

/** Generates `n` identities deterministically from `seed` (about 1 s each). */
export function makeIdentities(seed: string, n: number): Identity[] {
  const rnd = new Random(seed).source();
  const out: Identity[] = [];
  for (let i = 0; i < n; i++) out.push(Identity.generate(rnd));
  return out;
}

/** A planet with the given roots (identity + "ip/port" endpoint). */
export function makePlanet(
  roots: { identity: Identity; endpoint: string }[],
  seed = "planet",
): World {
  const { publicKey, privateKey } = c25519Generate(new Random(seed).source());
  return signWorld(
    {
      type: WorldType.PLANET,
      id: 7n,
      timestamp: 1000n,
      updatesMustBeSignedBy: publicKey,
      roots: roots.map((r) => ({
        identity: new Identity(r.identity.address, r.identity.publicKey),
        stableEndpoints: [InetAddress.parse(r.endpoint)!],
      })),
    },
    privateKey,
    publicKey,
  );
}

/** Where a sim node keeps its persistent state (default: an in-memory map). */
export interface SimNodeStore {
  get(kind: CoreStateKind, id: string): Uint8Array | undefined;
  put(kind: CoreStateKind, id: string, data: Uint8Array | undefined): void;
}

/**
 * A node on a simulated host: a {@link Core} (the production wiring: node, upper-layer mux,
 * networks, frames, controller responder when attached) with its store and recorded events.
 */
export class SimNode {
  readonly core: Core;
  readonly host: Host;
  readonly socket: UdpSocket;
  /** The transport double the core sends and receives through. */
  readonly transport: SimTransport;
  /** Frame ports by network, once {@link usePorts} opened them (as the service's data plane). */
  readonly ports = new Map<bigint, MemFramePort>();
  /** The OS configuration double per network (with {@link usePorts}). */
  readonly netConfigs = new Map<bigint, FakeNetConfig>();
  #usePorts = false;
  readonly store = new Map<string, Uint8Array>();
  /** Where persistent state goes (replace it to keep state in a home directory). */
  state: SimNodeStore;
  readonly events: NodeEvent[] = [];
  readonly sim: Sim;
  /** Frames the core writes to a network's port (default: dropped). */
  onTap: ((nwid: bigint, frame: Uint8Array) => void) | undefined;
  /** A rehearsal's datagram (`CoreHost.rehearseSend`; default: nothing). */
  onRehearseSend:
    | ((localSocket: number, remote: InetAddress, data: Uint8Array) => void)
    | undefined;
  /** A rehearsal's frame to a port (`CoreHost.tapRehearse`; default: nothing). */
  onTapRehearse: ((nwid: bigint, frame: Uint8Array) => void) | undefined;
  /** Network joined/changed/left. */
  onNetworkChanged: ((nwid: bigint, info: NetworkInfo | undefined) => void) | undefined;
  stopped = false;
  #timer: { cancel(): void } | undefined;

  constructor(
    sim: Sim,
    host: Host,
    identity: Identity,
    planet: World,
    port = 9993,
    settings?: Partial<NodeSettings>,
    coreOptions?: Pick<CoreOptions, "rehearsal" | "deferSettle">,
  ) {
    this.sim = sim;
    this.host = host;
    this.socket = host.bind(port);
    const rnd = sim.random.fork();
    const store = this.store;
    this.state = {
      get: (kind, id) => store.get(`${kind}/${id}`),
      put(kind, id, data) {
        if (data) store.set(`${kind}/${id}`, data.slice());
        else store.delete(`${kind}/${id}`);
      },
    };
    const events = this.events;
    this.transport = new SimTransport(this.socket, (ls, remote, data) => {
      if (!this.stopped) this.core.receive(this.sim.now, ls, remote, data);
    });
    const ch: CoreHost = {
      send: (ls, remote, data, ttl) => !this.stopped && this.transport.send(ls, remote, data, ttl),
      rehearseSend: (ls, remote, data) => this.onRehearseSend?.(ls, remote, data.slice()),
      tapRehearse: (nwid, f, s, e) => this.onTapRehearse?.(nwid, f.slice(s, e)),
      tapWrite: (nwid, f, s, e) => {
        this.ports.get(nwid)?.write(f, s, e);
        this.onTap?.(nwid, f.slice(s, e));
      },
      networkChanged: (nwid, info) => {
        if (this.#usePorts) this.#portChanged(nwid, info);
        this.onNetworkChanged?.(nwid, info);
      },
      random: (n) => rnd.bytes(n),
      now: () => sim.now,
      storePut: (kind, id, data) => this.state.put(kind, id, data),
      storeGet: (kind, id) => this.state.get(kind, id),
      event: (e) => {
        if (e.type !== "trace") events.push(e);
      },
    };
    this.core = new Core({ identity, host: ch, now: sim.now, planet, settings, ...coreOptions });
    this.#schedule(0);
  }

  /**
   * From now on, each configured network gets a {@link MemFramePort} (opened with the network's
   * MAC and MTU, its frames going to the core's `tapFrame`) and a {@link FakeNetConfig} given the
   * managed addresses and routes, as the service's data plane gives them to a TAP.
   */
  usePorts(): void {
    this.#usePorts = true;
  }

  #portChanged(nwid: bigint, info: NetworkInfo | undefined): void {
    if (!info) {
      void this.ports.get(nwid)?.close();
      this.ports.delete(nwid);
      this.netConfigs.delete(nwid);
      return;
    }
    if (!info.config) return;
    let port = this.ports.get(nwid);
    if (!port) {
      const p = port = new MemFramePort();
      void p.open(`zt${nwid.toString(16).slice(-6)}`, info.mac, info.mtu);
      p.onFrame((f) => void this.core.tapFrame(this.sim.now, nwid, f, 0, f.length));
      this.ports.set(nwid, p);
      this.netConfigs.set(nwid, new FakeNetConfig());
    }
    if (port.mtu !== info.mtu) port.setMtu(info.mtu);
    const c = info.localConf;
    void this.netConfigs.get(nwid)!.syncManaged(info.assignedAddresses, info.routes, {
      allowManaged: c.allowManaged,
      allowGlobal: c.allowGlobal,
      allowDefault: c.allowDefault,
    });
  }

  /** The VL1 node inside the core. */
  get node(): Node {
    return this.core.node;
  }

  #schedule(delay: number): void {
    this.#timer = this.sim.clock.after(delay, () => {
      if (this.stopped) return;
      const now = this.sim.now;
      this.#schedule(this.core.tick(now) - now);
    });
  }

  /** Stops the node (vanishes: no more sending, receiving or ticks). */
  stop(): void {
    this.stopped = true;
    this.#timer?.cancel();
  }

  /** Address as 10 hex digits. */
  get addr(): string {
    return this.node.address.toString();
  }

  /** Whether we have a non-expired direct path to `other`. */
  hasDirectPath(other: SimNode): boolean {
    const p = this.node.peer(other.node.address);
    return !!p && p.paths.some((x) => !x.expired);
  }

  /** Sends ECHO to `other`; resolves the RTT into the returned box when the reply comes. */
  ping(other: SimNode): { rtt: number | undefined } {
    const box: { rtt: number | undefined } = { rtt: undefined };
    this.node.ping(this.sim.now, other.node.address, (rtt) => (box.rtt = rtt));
    return box;
  }
}

/**
 * Runs a real controller (in-memory store, `identity` = the node's) on `sn`, attached to its core
 * as the service attaches its controller.
 */
export function attachController(
  sn: SimNode,
  identity: Identity,
  log?: (m: string) => void,
): { ctl: Controller; resp: ControllerResponder } {
  const sim = sn.sim;
  const ctl = new Controller({
    identity,
    store: new MemoryStore(),
    random: (n) => sim.random.bytes(n),
    now: () => sim.now,
  });
  const resp = sn.core.attachController({
    controller: ctl,
    Responder: ControllerResponder,
    ...(log ? { log } : {}),
  });
  return { ctl, resp };
}

/** A private network body: ZT-assigned IPv4 from `10.147.<octet>.10-250` and its /24 route. */
export function managedNetworkBody(name: string, octet = 17): Record<string, unknown> {
  return {
    name,
    private: true,
    v4AssignMode: { zt: true },
    ipAssignmentPools: [{ ipRangeStart: `10.147.${octet}.10`, ipRangeEnd: `10.147.${octet}.250` }],
    routes: [{ target: `10.147.${octet}.0/24`, via: null }],
  };
}

/**
 * A member's VL2 stack as the core wires it (Networks + Frames), with each frame written to the
 * tap copied to `onTap`.
 */
export function attachDataPlane(
  _sim: Sim,
  sn: SimNode,
  onTap: (frame: Uint8Array) => void,
): { networks: Networks; frames: Frames } {
  sn.onTap = (_nwid, f) => onTap(f);
  return { networks: sn.core.networks, frames: sn.core.frames! };
}
