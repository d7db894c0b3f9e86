// Test helper: runs zt VL1 Nodes on simulator hosts with a tick loop driven by the virtual clock.
import { Controller } from "../../src/controller/controller.ts";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import { ControllerResponder, responderNode } from "../../src/controller/responder.ts";
import { c25519Generate } from "../../src/crypto/c25519.ts";
import { type Host, Random, type Sim, type UdpSocket } from "../../src/sim/sim.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { Node, type NodeSettings } from "../../src/vl1/node.ts";
import type { NodeEvent, NodeHost, StateKind } from "../../src/vl1/node_host.ts";
import { signWorld, type World, WorldType } from "../../src/vl1/world.ts";
import { Frames } from "../../src/vl2/frames.ts";
import { Networks } from "../../src/vl2/networks.ts";
import { UpperLayerMux } from "../../src/vl2/upper_layer_mux.ts";

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

/** A node on a simulated host, with its store and recorded events. */
export class SimNode {
  readonly node: Node;
  readonly host: Host;
  socket: UdpSocket;
  readonly store = new Map<string, Uint8Array>();
  readonly events: NodeEvent[] = [];
  readonly sim: Sim;
  stopped = false;
  #timer: { cancel(): void } | undefined;

  constructor(
    sim: Sim,
    host: Host,
    identity: Identity,
    planet: World,
    port = 9993,
    settings?: Partial<NodeSettings>,
  ) {
    this.sim = sim;
    this.host = host;
    this.socket = host.bind(port);
    const rnd = sim.random.fork();
    const store = this.store;
    const events = this.events;
    const nh: NodeHost = {
      send: (_ls, remote, data, ttl) => {
        if (this.stopped) return false;
        return this.socket.send({ ip: remote.toIpString(), port: remote.port }, data, ttl);
      },
      random: (n) => rnd.bytes(n),
      storePut(kind: StateKind, id: string, data: Uint8Array | undefined) {
        if (data) store.set(`${kind}/${id}`, data.slice());
        else store.delete(`${kind}/${id}`);
      },
      storeGet: (kind: StateKind, id: string) => store.get(`${kind}/${id}`),
      event: (e) => {
        if (e.type !== "trace") events.push(e);
      },
    };
    this.node = new Node({ identity, host: nh, now: sim.now, planet, settings });
    this.#listen();
    this.#schedule(0);
  }

  #listen(): void {
    this.socket.onReceive((src, bytes) => {
      if (this.stopped) return;
      const remote = InetAddress.fromIp(src.ip, src.port);
      if (remote) this.node.receive(this.sim.now, 0, remote, bytes);
    });
  }

  #schedule(delay: number): void {
    this.#timer = this.sim.clock.after(delay, () => {
      if (this.stopped) return;
      this.#schedule(this.node.tick(this.sim.now));
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
 * Runs a real controller (in-memory store, `identity` = the node's) on `sn`: a Controller and its
 * responder plugged into the node through the upper-layer mux.
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
  const resp = new ControllerResponder({
    node: responderNode(sn.node),
    controller: ctl,
    random: (n) => sim.random.bytes(n),
    ...(log ? { log } : {}),
  });
  sn.node.setUpperLayer(new UpperLayerMux({ sender: sn.node, configRequests: resp }));
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
 * A member's VL2 stack wired as the service does it: Networks + Frames on the node, a config
 * change announcing our groups at once, and each frame written to the tap copied to `onTap`.
 * The caller installs the frame handler and the node's upper layer.
 */
export function attachDataPlane(
  sim: Sim,
  sn: SimNode,
  onTap: (frame: Uint8Array) => void,
): { networks: Networks; frames: Frames } {
  const late: { frames?: Frames } = {}; // Frames needs Networks, the callback needs Frames
  const networks = new Networks({
    node: sn.node,
    host: {
      saveConfig() {},
      saveLocalConf() {},
      onNetworkChanged: (nwid) => late.frames?.networkChanged(sim.now, nwid),
    },
  });
  const rnd = sim.random.fork();
  const frames = new Frames({
    node: sn.node,
    networks,
    random: (n) => rnd.bytes(n),
    tapWrite: (_nwid, f, s, e) => onTap(f.slice(s, e)),
  });
  late.frames = frames;
  return { networks, frames };
}
