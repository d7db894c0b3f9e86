// The running node service: home, local.conf, planet/moons, UDP, timers, local API, shutdown.
import type { Address } from "../vl1/address.ts";
import type { Identity } from "../vl1/identity.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { NodeEvent, NodeHost } from "../vl1/node_host.ts";
import type { NodeSettings, PhysicalNetwork } from "../vl1/node_settings.ts";
import { DEFAULT_PLANET, parseWorld, type World, WorldType } from "../vl1/world.ts";
import { type ApiRoutes, createApiApp } from "./api_server.ts";
import { type ApiListenHost, apiListenPlan } from "./api_listen.ts";
import { appRoutes, webServerEnabled } from "./app_server.ts";
import { configRoutes } from "./config_api.ts";
import { asDataPlaneNode, DataPlane } from "./dataplane.ts";
import { ControllerService, installUpperLayer } from "./controller_service.ts";
import { DnsApplier } from "./dns_apply.ts";
import { MemberNameServer } from "./dns_names.ts";
import { atomicWriteFileSync, FileStore } from "./file_store.ts";
import { initHome } from "./home.ts";
import { localInterfaceAddresses } from "./local_addresses.ts";
import { loadLocalConf, type LocalConf } from "./local_conf.ts";
import type { Logger } from "./logger.ts";
import { type MetricsInput, MetricsWriter, nodeCounters, ServiceMetrics } from "./metrics.ts";
import { metricsRoutes } from "./metrics_api.ts";
import { ruleCountersOf } from "../vl2/rules_filter.ts";
import { moonRoutes } from "./moon_api.ts";
import { makePathCheck } from "./path_check.ts";
import { installPacketCrypto } from "./packet_crypto.ts";
import type { ServiceNode } from "./service_node.ts";
import { PortInUseError, type UdpTransportApi } from "./udp_transport.ts";
import { openUdpTransport } from "./udp_transport_ffi.ts";
import type { UpperLayerMux } from "../vl2/upper_layer_mux.ts";
import { defaultConfigRequestMetadata } from "../vl2/config_request_metadata.ts";
import type { NetworkInfo } from "../vl2/network.ts";
import { Networks } from "../vl2/networks.ts";
import { networkApiRoutes } from "./network_api.ts";
import { asVl2Node, NetworkFiles } from "./network_store.ts";

/** A problem that stops the service before it runs (message is user-facing, exit status 1). */
export class ServiceError extends Error {
  /** @param message what went wrong. */
  constructor(message: string) {
    super(message);
    this.name = "ServiceError";
  }
}

/** What a node factory receives (the shape of src/vl1/node.ts's NodeOptions). */
export interface NodeFactoryOptions {
  /** Our identity, with private key. */
  identity: Identity;
  /** The adapter. */
  host: NodeHost;
  /** Current time, ms. */
  now: number;
  /** The planet to use. */
  planet: World;
  /** Node settings from local.conf. */
  settings: Partial<NodeSettings>;
}

/** Options of {@link Service.start}. */
export interface ServiceOptions {
  /** Home directory (created if missing). */
  home: string;
  /** Primary port: overrides local.conf; 0 = random in 20000..65499. */
  port?: number;
  /** Logger. */
  log: Logger;
  /** Builds the node (normally `(o) => new Node(o)`). */
  createNode: (o: NodeFactoryOptions) => ServiceNode;
  /** Random source (default: crypto.getRandomValues). */
  random?: (n: number) => Uint8Array;
  /** Clock (default Date.now). */
  now?: () => number;
  /**
   * Local API listen addresses, the first one required (default: {@link apiListenPlan} of
   * local.conf — loopback only unless `allowManagementFrom` is set).
   */
  apiHosts?: string[];
  /** More API routes (networks, controller). */
  apiExtensions?: ApiRoutes[];
  /** Network and controller figures for the metrics (peers and packets come from the node). */
  metricsExtras?: () => Pick<MetricsInput, "networks" | "controller">;
  /** Run the embedded network controller (default true: every 1.14 node has one, spec §10). */
  controller?: boolean;
  /** Network joined/changed (`info`) or left (undefined): the TAP layer's hook. */
  onNetworkChanged?: (nwid: bigint, info: NetworkInfo | undefined) => void;
  /** Bring up a TAP interface per configured network (default true; needs root on Linux). */
  dataPlane?: boolean;
}

/** Strong random bytes from the platform. */
export function systemRandom(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) {
    crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  }
  return out;
}

/** Random port in the reference's range 20000..65499. */
function randomPort(random: (n: number) => Uint8Array): number {
  const b = random(2);
  return 20000 + (((b[0] << 8) | b[1]) % 45500);
}

/** Bounds on the node's requested tick delay. */
const MIN_TICK_MS = 60;
const MAX_TICK_MS = 5000;
/** Tries when picking a random port. */
const RANDOM_PORT_TRIES = 16;

/** Loads `<home>/planet` if present and a valid planet, else the built-in default. */
export function loadPlanet(home: string, log: Logger): { planet: World; fromFile: boolean } {
  let bytes: Uint8Array | undefined;
  try {
    bytes = Deno.readFileSync(`${home}/planet`);
  } catch {
    bytes = undefined;
  }
  if (bytes !== undefined) {
    const w = parseWorld(bytes);
    if (w && w.type === WorldType.PLANET) return { planet: w, fromFile: true };
    log.warn(`${home}/planet is not a valid planet; using the built-in default`);
  }
  return { planet: parseWorld(DEFAULT_PLANET)!, fromFile: false };
}

/** Converts local.conf `physical` entries to node settings. */
function physicalSettings(conf: LocalConf): PhysicalNetwork[] {
  return conf.physical
    .filter((p) => p.mtu !== undefined || p.trustedPathId !== 0n)
    .map((p) => ({
      network: p.network,
      ...(p.mtu !== undefined ? { mtu: p.mtu } : {}),
      ...(p.trustedPathId !== 0n ? { trustedPathId: p.trustedPathId } : {}),
    }));
}

/**
 * Writes the peer cache through the node: its `savePeers(now)` if it has one, else each peer via
 * its topology's `savePeer` (the node writes peers on eviction/periodically on its own).
 */
function savePeerCache(node: ServiceNode, now: number): void {
  const n = node as ServiceNode & {
    savePeers?: (now: number) => void;
    topology?: { peers?: Map<unknown, unknown>; savePeer?: (p: unknown) => void };
  };
  if (typeof n.savePeers === "function") {
    n.savePeers(now);
    return;
  }
  const t = n.topology;
  if (t && t.peers instanceof Map && typeof t.savePeer === "function") {
    for (const p of t.peers.values()) t.savePeer(p);
  }
}

/** The running service. Create with {@link Service.start}; stop with {@link Service.stop}. */
export class Service {
  /** Home directory. */
  readonly home: string;
  /** Primary port (UDP and API TCP). */
  readonly port: number;
  /** The node. */
  readonly node: ServiceNode;
  /** local.conf as loaded. */
  readonly conf: LocalConf;
  /**
   * The node's VL2 hook (undefined for nodes that cannot carry VL2 traffic). The member side
   * plugs in with `setMember`, the embedded controller with `setConfigRequestHandler`.
   */
  upperLayer: UpperLayerMux | undefined;
  /** The embedded network controller (undefined if disabled or its database failed to open). */
  controller: ControllerService | undefined;
  /** Joined networks (the member side of VL2; undefined for nodes without VL2). */
  networks: Networks | undefined;
  /** networks.d persistence; add `listeners` here for network changes (the TAP layer). */
  networkFiles: NetworkFiles | undefined;
  /** TAP interfaces and the frame layer (undefined when disabled or without VL2). */
  dataPlane: DataPlane | undefined;
  /** DNS for member names of the controller's own networks (with the controller and TAPs). */
  memberNames: MemberNameServer | undefined;
  /** Applies joined networks' DNS to the OS where `allowDNS` is set (with TAPs). */
  dnsApplier: DnsApplier | undefined;
  /** Resolves when the service has stopped. */
  readonly stopped: Promise<void>;
  readonly #log: Logger;
  readonly #transport: UdpTransportApi;
  readonly #servers: Deno.HttpServer[];
  readonly #now: () => number;
  readonly #metricsWriter: MetricsWriter;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopping = false;
  #resolveStopped!: () => void;

  private constructor(
    p: {
      home: string;
      port: number;
      node: ServiceNode;
      conf: LocalConf;
      log: Logger;
      transport: UdpTransportApi;
      servers: Deno.HttpServer[];
      now: () => number;
      metricsWriter: MetricsWriter;
    },
  ) {
    this.home = p.home;
    this.port = p.port;
    this.node = p.node;
    this.conf = p.conf;
    this.#log = p.log;
    this.#transport = p.transport;
    this.#servers = p.servers;
    this.#now = p.now;
    this.#metricsWriter = p.metricsWriter;
    this.stopped = new Promise((r) => (this.#resolveStopped = r));
  }

  /**
   * Starts everything. @throws HomeError (identity/home problems), ServiceError (local.conf,
   * TCP port), PortInUseError (UDP port taken).
   */
  static async start(opts: ServiceOptions): Promise<Service> {
    const log = opts.log;
    const random = opts.random ?? systemRandom;
    const now = opts.now ?? Date.now;
    const home = opts.home;

    const hs = initHome(home, { random, log: (m) => log.info(m) });
    const lc = loadLocalConf(`${home}/local.conf`);
    if (!lc.ok) throw new ServiceError(lc.error);
    const conf = lc.conf;
    for (const w of conf.warnings) log.warn(`local.conf: ${w}`);
    if (conf.settings.allowSecondaryPort) {
      log.info("allowSecondaryPort: zt binds only the primary port for now (no secondary port)");
    }
    if (conf.settings.portMappingEnabled) {
      log.debug("portMappingEnabled: ignored (zt never does UPnP/NAT-PMP)");
    }

    const { planet, fromFile } = loadPlanet(home, log);
    log.debug(
      `planet ${planet.id} (timestamp ${planet.timestamp}) from ${fromFile ? "home" : "built-in"}`,
    );

    // Late-bound: the transport delivers to the node, which is built after the port is known.
    let node: ServiceNode | undefined;
    const onPacket = (sock: number, remote: InetAddress, data: Uint8Array) => {
      node?.receive(now(), sock, remote, data);
    };

    const wanted = opts.port ?? conf.settings.primaryPort;
    let port = wanted;
    let transport: UdpTransportApi | undefined;
    for (let tries = 0; transport === undefined; tries++) {
      if (wanted === 0) port = randomPort(random);
      try {
        transport = await openUdpTransport({ port, bind: conf.settings.bind, log, onPacket });
      } catch (e) {
        if (!(e instanceof PortInUseError) || wanted !== 0 || tries >= RANDOM_PORT_TRIES) throw e;
      }
    }

    const servers: Deno.HttpServer[] = [];
    let upper: UpperLayerMux | undefined;
    let ctlService: ControllerService | undefined;
    let networks: Networks | undefined;
    let dataPlane: DataPlane | undefined;
    let memberNames: MemberNameServer | undefined;
    let dnsApplier: DnsApplier | undefined;
    const metrics = new ServiceMetrics();
    const metricsInput = (): MetricsInput => ({
      counters: nodeCounters(node),
      peers: node?.peers() ?? [],
      ...(ctlService ? { controller: ctlService.metrics() } : {}),
      ...(networks
        ? {
          networks: networks.infos().map((i) => {
            const rc = ruleCountersOf(dataPlane?.frames.filter);
            return {
              id: i.nwid.toString(16).padStart(16, "0"),
              multicastGroups: i.multicastSubscriptions.length,
              ...(rc ? { packets: rc.get(i.nwid) } : {}),
            };
          }),
        }
        : {}),
      ...(opts.metricsExtras?.() ?? {}),
    });
    const renderMetrics = async () => {
      metrics.update(metricsInput());
      return await metrics.text();
    };
    const store = new FileStore(home, (m) => log.warn(m));
    const networkFiles = new NetworkFiles(home, store, log);
    if (opts.onNetworkChanged) networkFiles.listeners.push(opts.onNetworkChanged);
    const pathCheck = makePathCheck(conf);
    const packetCrypto = installPacketCrypto();
    log.info(
      `packet crypto: AES-GMAC-SIV on ${packetCrypto.aes}${
        packetCrypto.reason ? ` (${packetCrypto.reason})` : ""
      }; cipher to AES-capable peers: ${conf.settings.cipher ?? packetCrypto.defaultCipher}${
        conf.settings.cipher ? " (local.conf)" : ""
      }`,
    );
    const ref: { service?: Service } = {};
    const host: NodeHost = {
      send: (sock, remote, data, ttl) => transport!.send(sock, remote, data, ttl),
      random,
      storePut: (kind, id, data) => store.put(kind, id, data),
      storeGet: (kind, id) => store.get(kind, id),
      event: (e) => {
        if (ref.service) ref.service.onEvent(e);
        else Service.logEvent(log, hs.identity.address, e);
      },
      pathCheck: (peer, sock, remote) => pathCheck(peer, sock, remote),
    };
    try {
      node = opts.createNode({
        identity: hs.identity,
        host,
        now: now(),
        planet,
        settings: {
          physical: physicalSettings(conf),
          localAddresses: localInterfaceAddresses(port, conf.settings.bind),
          cipher: conf.settings.cipher ?? packetCrypto.defaultCipher,
        },
      });
      upper = installUpperLayer(node);
      if (opts.controller !== false) {
        try {
          ctlService = ControllerService.open({
            home,
            conf,
            identity: hs.identity,
            random,
            now,
            log,
          });
          ctlService.attach(node, upper);
        } catch (e) {
          log.warn(`network controller disabled: ${e instanceof Error ? e.message : e}`);
        }
      }
      const vl2 = upper ? asVl2Node(node) : undefined;
      if (upper && vl2) {
        networks = new Networks({
          node: vl2,
          host: networkFiles,
          metadata: defaultConfigRequestMetadata(`${Deno.build.os}/${Deno.build.arch}`),
        });
        upper.setMember(networks);
        const dpNode = opts.dataPlane !== false ? asDataPlaneNode(node) : undefined;
        if (dpNode) {
          const t = transport;
          dataPlane = new DataPlane({
            node: dpNode,
            networks,
            log,
            now,
            random,
            flush: () => t.flush?.(),
          });
          networkFiles.listeners.push(dataPlane.onNetworkChanged);
          const joined = networks;
          const dns = dnsApplier = await DnsApplier.start({
            home,
            log,
            networks: () => joined.infos(),
          });
          networkFiles.listeners.push(() => dns.reconcile());
          if (ctlService) {
            const names = memberNames = new MemberNameServer({
              controller: ctlService.controller,
              networks: () => joined.infos(),
              log,
              now,
            });
            networkFiles.listeners.push(() => names.reconcile());
          }
        }
        for (const nwid of networkFiles.rejoinAll(networks, now())) {
          log.info(`rejoining network ${nwid.toString(16).padStart(16, "0")} (from networks.d)`);
        }
      }
      for (const id of store.list("moon")) {
        log.info(`orbiting moon ${id} (from moons.d)`);
        node.orbit(now(), BigInt("0x" + id), undefined);
      }

      const app = createApiApp({
        node,
        authToken: () => hs.authToken,
        metricsToken: () => hs.metricsToken,
        allowManagementFrom: () => conf.settings.allowManagementFrom,
        now,
        statusExtras: () => ({
          localConf: conf.raw,
          effective: {
            primaryPort: port,
            secondaryPort: 0,
            tertiaryPort: 0,
            allowTcpFallbackRelay: false,
            forceTcpRelay: false,
            portMappingEnabled: false,
            softwareUpdate: conf.settings.softwareUpdate,
            softwareUpdateChannel: conf.settings.softwareUpdateChannel,
            homeDir: home,
          },
          listeningOn: localInterfaceAddresses(port, conf.settings.bind),
          surfaceAddresses: node!.surfaceAddresses(),
        }),
      }, [
        moonRoutes(),
        networkApiRoutes(() => networks, now),
        configRoutes(home),
        metricsRoutes(renderMetrics),
        appRoutes({ home, enabled: () => webServerEnabled(conf.raw) }),
        ...(ctlService ? [ctlService.routes()] : []),
        ...(opts.apiExtensions ?? []),
      ]);
      const plan: ApiListenHost[] = opts.apiHosts
        ? opts.apiHosts.map((hostname, i) => ({ hostname, required: i === 0 }))
        : apiListenPlan(conf.settings);
      for (const h of plan) {
        try {
          servers.push(Deno.serve(
            { hostname: h.hostname, port, onListen: () => {} },
            (req, info) => app.fetch(req, { remoteAddr: info.remoteAddr as Deno.NetAddr }),
          ));
        } catch (e) {
          if (e instanceof Deno.errors.AddrInUse) {
            if (h.coveredByDualStack && servers.length > 0) continue;
            throw new ServiceError(
              `TCP port ${port} (local API) is already in use on ${h.hostname} ` +
                `(is zerotier-one or another zt running?)`,
            );
          }
          if (h.required) throw e;
          log.warn(
            `local API not available on ${h.hostname}: ${e instanceof Error ? e.message : e}`,
          );
        }
      }
      log.debug(`local API on port ${port}: ${plan.map((h) => h.hostname).join(" ")}`);
      try {
        atomicWriteFileSync(`${home}/zerotier-one.port`, new TextEncoder().encode(String(port)));
      } catch (e) {
        log.warn(`cannot write zerotier-one.port: ${e instanceof Error ? e.message : e}`);
      }
    } catch (e) {
      await memberNames?.close();
      await dnsApplier?.close();
      await dataPlane?.close();
      for (const s of servers) await s.shutdown().catch(() => {});
      await transport.close();
      throw e;
    }

    const metricsWriter = new MetricsWriter(home, metrics, metricsInput, (m) => log.warn(m));
    const service = new Service({
      home,
      port,
      node,
      conf,
      log,
      transport,
      servers,
      now,
      metricsWriter,
    });
    service.upperLayer = upper;
    service.controller = ctlService;
    service.networks = networks;
    service.networkFiles = networkFiles;
    service.dataPlane = dataPlane;
    service.memberNames = memberNames;
    service.dnsApplier = dnsApplier;
    ref.service = service;
    log.info(
      `zt: node ${hs.identity.address} started (home ${home}, port ${port}` +
        `${hs.identityCreated ? ", new identity" : ""})`,
    );
    service.#scheduleTick(0);
    return service;
  }

  /** Logs a node event (ONLINE/OFFLINE lines, traces at debug). */
  static logEvent(log: Logger, address: Address, e: NodeEvent): void {
    switch (e.type) {
      case "online":
        log.info(`zt: node ${address} is ONLINE`);
        break;
      case "offline":
        log.info(`zt: node ${address} is OFFLINE`);
        break;
      case "trace":
        log.debug(e.message);
        break;
      case "fatalIdentityCollision":
        log.error("identity collision reported by a root: this address is taken; stopping");
        break;
      default:
        log.debug(`event ${e.type}`);
    }
  }

  /** Node event handler. */
  onEvent(e: NodeEvent): void {
    Service.logEvent(this.#log, this.node.identity.address, e);
    if (e.type === "fatalIdentityCollision") void this.stop();
  }

  /** Runs node.tick and re-arms the timer with its requested delay (bounded 60..5000 ms). */
  #scheduleTick(delay: number): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      let next = MAX_TICK_MS;
      try {
        next = this.node.tick(this.#now());
      } catch (e) {
        this.#log.warn(`node tick failed: ${e instanceof Error ? e.stack : e}`);
      }
      if (!Number.isFinite(next)) next = MAX_TICK_MS;
      this.#scheduleTick(Math.max(MIN_TICK_MS, Math.min(MAX_TICK_MS, next)));
    }, delay);
  }

  /** UDP socket statistics. */
  transportStats(): UdpTransportApi["stats"] {
    return this.#transport.stats;
  }

  /** Local addresses the UDP sockets are bound to. */
  boundAddresses(): InetAddress[] {
    return this.#transport.boundAddresses();
  }

  /**
   * Stops: timers, the local API, the peer cache write (if the node offers one), UDP sockets.
   * zerotier-one.port is left in place (as the reference does). Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return await this.stopped;
    this.#stopping = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      savePeerCache(this.node, this.#now());
    } catch (e) {
      this.#log.warn(`writing the peer cache failed: ${e instanceof Error ? e.message : e}`);
    }
    await Promise.all(this.#servers.map((s) => s.shutdown().catch(() => {})));
    await this.#metricsWriter.stop();
    this.controller?.stop();
    await this.memberNames?.close();
    await this.dnsApplier?.close();
    await this.dataPlane?.close();
    await this.#transport.close();
    this.#log.info(`zt: node ${this.node.identity.address} stopped`);
    this.#resolveStopped();
  }
}
