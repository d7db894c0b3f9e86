// The running node service: home, local.conf, planet/moons, UDP, timers, local API, shutdown.
// First: the crypto backend is chosen before any module that hashes or signs runs (when this is
// the first importer of the crypto modules; cli.ts imports native_crypto.ts itself, first).
import { nativeCrypto } from "./native_crypto.ts";
import { c25519BackendName } from "../crypto/c25519.ts";
import type { Address } from "../vl1/address.ts";
import { InetAddress, IpScope } from "../vl1/inet_address.ts";
import type { NodeEvent, NodeOptions } from "../vl1/node_host.ts";
import type { Node } from "../vl1/node.ts";
import type { PhysicalNetwork } from "../vl1/node_settings.ts";
import { type IdleTrimOptions, ResidentSetKeeper } from "./memory_trim.ts";
import { Core, type CoreHost } from "../core/core.ts";
import { DEFAULT_PLANET, parseWorld, type World, WorldType } from "../vl1/world.ts";
import { type ApiRoutes, createApiApp } from "./api_server.ts";
import { type ApiListenHost, apiListenPlan } from "./api_listen.ts";
import { appRoutes, webServerEnabled } from "./app_server.ts";
import { configRoutes } from "./config_api.ts";
import { DataPlane } from "./dataplane.ts";
import type { Tap } from "./tap.ts";
// the controller (and its member-name DNS server) is loaded when there is something to serve
import type { ControllerService } from "./controller_service.ts";
import { controllerAtStart, joinRefusal, LazyController } from "./controller_wiring.ts";
import { DnsApplier } from "./dns_apply.ts";
import type { MemberNameServer } from "./dns_names.ts";
import { writeFileAtomicSync } from "./atomic_write.ts";
import { NodeStateStore } from "./node_state_store.ts";
import { initHome } from "./home.ts";
import { HomeLock } from "./home_lock.ts";
import { HttpServer } from "./http_server.ts";
import { localInterfaceAddresses } from "./local_addresses.ts";
import { loadLocalConf, type LocalConf } from "./local_conf.ts";
import {
  DEFAULT_LOCAL_CONF_POLL_MS,
  type LocalConfChanges,
  LocalConfWatcher,
  settingEffect,
} from "./local_conf_reload.ts";
import type { Logger } from "./logger.ts";
import {
  apiTableMetrics,
  type MetricsInput,
  MetricsWriter,
  multicastTableMetrics,
  nodeCounters,
  nodeTableMetrics,
  ServiceMetrics,
} from "./metrics.ts";
import { metricsRoutes } from "./metrics_api.ts";
import { ruleCountersOf } from "../vl2/rules_filter.ts";
import { moonRoutes } from "./moon_api.ts";
import { makePathCheck } from "./path_check.ts";
import { installPacketCrypto } from "./packet_crypto.ts";
import { PortInUseError, type UdpTransportApi } from "./udp_transport.ts";
import { openUdpTransport } from "./udp_transport_ffi.ts";
import { Reactor } from "../../ffi/reactor.ts";
import { TransportMux } from "./transport_mux.ts";
import { openExtraPort, PORT_INDEX, SecondaryPortKeeper } from "./udp_ports.ts";
import { PortMapper } from "./port_mapper.ts";
import { TCP_FALLBACK_AFTER_MS, TcpFallbackPolicy } from "./tcp_fallback.ts";
import type { UpperLayerMux } from "../vl2/upper_layer_mux.ts";
import { defaultConfigRequestMetadata } from "../vl2/config_request_metadata.ts";
import type { NetworkInfo } from "../vl2/network.ts";
import type { Networks } from "../vl2/networks.ts";
import { networkApiRoutes } from "./network_api.ts";
import { NetworkFiles } from "./network_store.ts";
import { EventHub } from "./event_stream.ts";
import { TrafficHistory } from "./traffic_history.ts";
import { controllerStreamEvent, statePoller } from "./ui_events.ts";
import { uiRoutes, webUiEnabled, webUiTls } from "./ui_routes.ts";

/** A problem that stops the service before it runs (message is user-facing, exit status 1). */
export class ServiceError extends Error {
  /** @param message what went wrong. */
  constructor(message: string) {
    super(message);
    this.name = "ServiceError";
  }
}

/** What a node factory receives (src/vl1/node.ts's NodeOptions, built by the {@link Core}). */
export type NodeFactoryOptions = NodeOptions;

/** Options of {@link Service.start}. */
export interface ServiceOptions {
  /** Home directory (created if missing). */
  home: string;
  /** Primary port: overrides local.conf; 0 = random in 20000..65499. */
  port?: number;
  /** Logger. */
  log: Logger;
  /**
   * Builds the core's VL1 node (`createNode` of node_factory.ts: a `Node` charged with the
   * identity check costs measured here; default `new Node(o)`).
   */
  createNode?: (o: NodeFactoryOptions) => Node;
  /** Random source (default: crypto.getRandomValues). */
  random?: (n: number) => Uint8Array;
  /** Clock (default Date.now). */
  now?: () => number;
  /**
   * Local API listen addresses, the first one required (default: {@link apiListenPlan} of
   * local.conf - loopback only unless `allowManagementFrom` is set).
   */
  apiHosts?: string[];
  /** More API routes (networks, controller). */
  apiExtensions?: ApiRoutes[];
  /** Network and controller figures for the metrics (peers and packets come from the node). */
  metricsExtras?: () => Pick<MetricsInput, "networks" | "controller">;
  /** Run the embedded network controller (default true: every 1.14 node has one, spec §10). */
  controller?: boolean;
  /** Controller database overriding `settings.controllerDbPath` (`zt controller serve --db`). */
  controllerDb?: string;
  /**
   * Trim the process's resident set this long after start (`src/service/memory_trim.ts`), unless
   * local.conf sets `memoryTrim` false. `zt run` passes it (it owns its process); unset: never.
   */
  memoryTrimAfterMs?: number;
  /**
   * With `memoryTrimAfterMs`: trim again each time the process has been quiet after working
   * (`IdleTrimPolicy`); unset or `quietMs` 0: only the start-up trim.
   */
  memoryIdleTrim?: IdleTrimOptions;
  /** Network joined/changed (`info`) or left (undefined): the TAP layer's hook. */
  onNetworkChanged?: (nwid: bigint, info: NetworkInfo | undefined) => void;
  /** Bring up a TAP interface per configured network (default true; needs root on Linux). */
  dataPlane?: boolean;
  /**
   * Makes each network's port instead of the kernel TAP (userspace mode passes
   * `UserspaceNet.createTap`); default: the OS TAP. With it, network DNS is not applied to
   * the OS.
   */
  createTap?: () => Tap;
  /** Told which UDP transport opened ("ffi", "dgram"), before any network port is made. */
  onTransportOpened?: (kind: string) => void;
  /** Names each network's port (default: the OS interface name). */
  deviceName?: (nwid: bigint) => string;
  /**
   * A `<home>/planet` that cannot be used: false (default) stops the start with a
   * {@link ServiceError}; true warns and uses the built-in planet (ZeroTier's public roots).
   */
  planetFallback?: boolean;
  /** How often local.conf is looked at while running, ms (default 2000; 0 = never). */
  localConfPollMs?: number;
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

/** ZeroTier's public TCP fallback relay: the default only for a node on the default planet. */
export const ZEROTIER_TCP_FALLBACK_RELAY = "204.80.128.1/443";

/**
 * The relay a node tunnels through: `tcpFallbackRelay` if set, ZeroTier's own only on the
 * default planet (a deliberate deviation: the reference uses its relay whatever the planet, so a
 * self-hosted network would leak to ZeroTier's servers), else none.
 */
export function fallbackRelayFor(conf: LocalConf, planet: World): InetAddress | undefined {
  if (conf.settings.tcpFallbackRelay) return conf.settings.tcpFallbackRelay;
  const dflt = parseWorld(DEFAULT_PLANET)!;
  return planet.id === dflt.id ? InetAddress.parse(ZEROTIER_TCP_FALLBACK_RELAY) : undefined;
}

/**
 * The fallback delay: the reference's 60 s, or `ZT_TCP_FALLBACK_AFTER_MS` (hidden, for tests
 * that cannot wait a minute; 1000..600000).
 */
function fallbackAfterMs(): number {
  let v: string | undefined;
  try {
    v = Deno.env.get("ZT_TCP_FALLBACK_AFTER_MS");
  } catch {
    v = undefined;
  }
  const n = v !== undefined && /^[0-9]{1,6}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return n >= 1000 && n <= 600_000 ? n : TCP_FALLBACK_AFTER_MS;
}

/** Bounds on the node's requested tick delay. */
const MIN_TICK_MS = 60;
const MAX_TICK_MS = 5000;
/** Tries when picking a random port. */
const RANDOM_PORT_TRIES = 16;
/** How often the interface addresses given to the node are re-read (the reference: 30 s). */
const ADDRESS_REFRESH_MS = 30_000;

/** The local.conf in force and the path check built from it (replaced on reload). */
interface LiveConf {
  conf: LocalConf;
  pathCheck: ReturnType<typeof makePathCheck>;
}

/**
 * Start-up notes about settings the file sets that zt keeps (and shows in /status) but does not
 * act on, e.g. `lowBandwidthMode`; a default local.conf produces none.
 */
export function startupNotes(conf: LocalConf): string[] {
  const s = conf.raw.settings;
  if (s === null || typeof s !== "object" || Array.isArray(s)) return [];
  return Object.keys(s).filter((k) => settingEffect(k) === "unused").sort()
    .map((k) => `settings.${k}: kept (shown in /status) but not acted on by zt`);
}

/**
 * Loads `<home>/planet`. No file: the built-in planet (ZeroTier's public roots), said in the log.
 * A file that cannot be read or is not a valid signed planet: {@link ServiceError}, unless
 * `fallback` is set, in which case a warning is logged and the built-in planet is used.
 */
export function loadPlanet(
  home: string,
  log: Logger,
  fallback = false,
): { planet: World; fromFile: boolean } {
  const path = `${home}/planet`;
  let problem: string;
  try {
    const bytes = Deno.readFileSync(path);
    const w = parseWorld(bytes);
    if (w && w.type === WorldType.PLANET) return { planet: w, fromFile: true };
    problem = w
      ? `${path} is a moon, not a planet`
      : `${path} is not a valid planet (${bytes.length} bytes that do not parse as a signed world)`;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      log.info(`no planet file in ${home}: using ZeroTier's public roots (the built-in planet)`);
      return { planet: parseWorld(DEFAULT_PLANET)!, fromFile: false };
    }
    problem = `cannot read ${path}: ${e instanceof Error ? e.message : e}`;
  }
  if (!fallback) {
    throw new ServiceError(
      `${problem}; fix or remove it (without a planet file zt uses ZeroTier's public roots), ` +
        `or start with --planet-fallback to use the public roots anyway`,
    );
  }
  log.warn(`${problem}; --planet-fallback: using ZeroTier's public roots (the built-in planet)`);
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

/** The running service. Create with {@link Service.start}; stop with {@link Service.stop}. */
export class Service {
  /** Home directory. */
  readonly home: string;
  /** Primary port (UDP and API TCP). */
  readonly port: number;
  /** The core: node, upper-layer mux, networks, frames, controller responder. */
  readonly core: Core;
  /** The core's VL1 node. */
  get node(): Node {
    return this.core.node;
  }
  /** local.conf as in force (re-read while running; see {@link LocalConfWatcher}). */
  get conf(): LocalConf {
    return this.#live.conf;
  }
  /** The node's VL2 hook (the core's upper-layer mux). */
  get upperLayer(): UpperLayerMux {
    return this.core.upper;
  }
  /** The embedded network controller (undefined if disabled or its database failed to open). */
  controller: ControllerService | undefined;
  /** Joined networks (the core's member side of VL2). */
  get networks(): Networks {
    return this.core.networks;
  }
  /** networks.d persistence; add `listeners` here for network changes (the TAP layer). */
  networkFiles: NetworkFiles | undefined;
  /** TAP interfaces (undefined when disabled). */
  dataPlane: DataPlane | undefined;
  /** DNS for member names of the controller's own networks (with the controller and TAPs). */
  memberNames: MemberNameServer | undefined;
  /** Applies joined networks' DNS to the OS where `allowDNS` is set (kernel TAPs only). */
  dnsApplier: DnsApplier | undefined;
  /** The web UI's event stream (GET /events). */
  uiEvents: EventHub | undefined;
  /** Traffic samples for the web UI. */
  traffic: TrafficHistory | undefined;
  /** Resolves when the service has stopped. */
  readonly stopped: Promise<void>;
  readonly #log: Logger;
  readonly #transport: TransportMux;
  readonly #servers: HttpServer[];
  readonly #now: () => number;
  readonly #metricsWriter: MetricsWriter;
  readonly #live: LiveConf;
  readonly #confWatcher: LocalConfWatcher;
  #lastAddressRefresh: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #memory: ResidentSetKeeper | undefined;
  #lock: HomeLock | undefined;
  #secondary: SecondaryPortKeeper | undefined;
  #listening: () => InetAddress[] = () => [];
  #lastPortCheck = 0;
  #portMapper: PortMapper | undefined;
  #lazyController: LazyController | undefined;
  #stopping = false;
  #resolveStopped!: () => void;

  private constructor(
    p: {
      home: string;
      port: number;
      core: Core;
      live: LiveConf;
      confWatcher: LocalConfWatcher;
      log: Logger;
      transport: TransportMux;
      servers: HttpServer[];
      now: () => number;
      metricsWriter: MetricsWriter;
    },
  ) {
    this.home = p.home;
    this.port = p.port;
    this.core = p.core;
    this.#live = p.live;
    this.#confWatcher = p.confWatcher;
    this.#lastAddressRefresh = p.now();
    this.#log = p.log;
    this.#transport = p.transport;
    this.#servers = p.servers;
    this.#now = p.now;
    this.#metricsWriter = p.metricsWriter;
    this.stopped = new Promise((r) => (this.#resolveStopped = r));
  }

  /**
   * Starts everything. First takes the home lock (`zerotier-one.pid`, held until {@link stop})
   * and only then sweeps leftovers of a crash and touches any state. @throws HomeLockedError
   * (another node uses the home), HomeError (identity/home problems), ServiceError
   * (local.conf, TCP port), PortInUseError (UDP port taken).
   */
  static async start(opts: ServiceOptions): Promise<Service> {
    try {
      Deno.mkdirSync(opts.home, { recursive: true, mode: 0o700 });
    } catch {
      // initHome reports it
    }
    const lock = HomeLock.acquire(opts.home);
    try {
      const swept = lock.sweepTemps();
      if (swept > 0) opts.log.info(`removed ${swept} temporary file(s) left by a crash`);
      const service = await Service.#startLocked(opts);
      service.#lock = lock;
      return service;
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /** {@link start} once the home lock is held. */
  static async #startLocked(opts: ServiceOptions): Promise<Service> {
    const log = opts.log;
    const random = opts.random ?? systemRandom;
    const now = opts.now ?? Date.now;
    const home = opts.home;

    const hs = initHome(home, { random, log: (m) => log.info(m) });
    const lc = loadLocalConf(`${home}/local.conf`);
    if (!lc.ok) throw new ServiceError(lc.error);
    const conf = lc.conf;
    for (const w of conf.warnings) log.warn(`local.conf: ${w}`);
    for (const n of startupNotes(conf)) log.info(n);

    const { planet, fromFile } = loadPlanet(home, log, opts.planetFallback === true);
    log.debug(
      `planet ${planet.id} (timestamp ${planet.timestamp}) from ${fromFile ? "home" : "built-in"}`,
    );

    // Late-bound: the transport delivers to the core, which is built after the port is known.
    let core: Core | undefined;
    const onPacket = (sock: number, remote: InetAddress, data: Uint8Array) => {
      core?.receive(now(), sock, remote, data);
    };
    const relay = fallbackRelayFor(conf, planet);
    const fallbackOn = conf.settings.allowTcpFallbackRelay && relay !== undefined;
    if (conf.settings.forceTcpRelay && !fallbackOn) {
      log.warn("forceTcpRelay: no TCP relay to use (set tcpFallbackRelay); using UDP");
    }
    const mux = new TransportMux({
      onPacket,
      now,
      log,
      ...(fallbackOn
        ? {
          fallback: {
            relay: relay!,
            policy: new TcpFallbackPolicy({
              allowed: true,
              force: conf.settings.forceTcpRelay,
              afterMs: fallbackAfterMs(),
            }, now()),
          },
        }
        : {}),
    });
    if (fallbackOn) log.debug(`TCP fallback relay ${relay}`);

    const wanted = opts.port ?? conf.settings.primaryPort;
    let port = wanted;
    let transport: UdpTransportApi | undefined;
    for (let tries = 0; transport === undefined; tries++) {
      if (wanted === 0) port = randomPort(random);
      try {
        transport = await openUdpTransport({
          port,
          bind: conf.settings.bind,
          log,
          onPacket: mux.handler(0),
        });
      } catch (e) {
        if (!(e instanceof PortInUseError) || wanted !== 0 || tries >= RANDOM_PORT_TRIES) throw e;
      }
    }
    opts.onTransportOpened?.((transport as { kind?: string }).kind ?? "unknown");

    mux.attach(PORT_INDEX.primary, transport);
    // The secondary port (and, with port mapping, the tertiary one), as the reference binds them.
    const extra = { mux, random, bind: conf.settings.bind, log };
    const secondaryOpts = {
      ...extra,
      port: conf.settings.secondaryPort,
      index: PORT_INDEX.secondary,
    };
    const secondary = new SecondaryPortKeeper(
      conf.settings.allowSecondaryPort ? await openExtraPort(secondaryOpts) : 0,
      secondaryOpts,
      now(),
    );
    // Port mapping (and so the tertiary port) needs a non-loopback address to map.
    const mappingOn = conf.settings.portMappingEnabled &&
      !(conf.settings.bind.length > 0 &&
        conf.settings.bind.every((a) => a.scope() === IpScope.LOOPBACK));
    const tertiaryPort = mappingOn
      ? await openExtraPort({
        ...extra,
        port: conf.settings.tertiaryPort,
        index: PORT_INDEX.tertiary,
      })
      : 0;
    if (secondary.port || tertiaryPort) {
      log.debug(
        `UDP ports: primary ${port}, secondary ${secondary.port}, tertiary ${tertiaryPort}`,
      );
    }
    const servers: HttpServer[] = [];
    let ctlService: ControllerService | undefined;
    let lazyCtl: LazyController | undefined;
    let adoptController: ((c: ControllerService) => Promise<void>) | undefined = undefined;
    let started: () => void = () => {};
    const ready = new Promise<void>((r) => started = r);
    let dataPlane: DataPlane | undefined;
    let memberNames: MemberNameServer | undefined;
    let dnsApplier: DnsApplier | undefined;
    let uiHub: EventHub | undefined;
    let traffic: TrafficHistory | undefined;
    const metrics = new ServiceMetrics();
    const metricsInput = (): MetricsInput => ({
      counters: nodeCounters(core?.node),
      peers: core?.peers() ?? [],
      ...(ctlService ?? lazyCtl ? { controller: (ctlService ?? lazyCtl)!.metrics() } : {}),
      ...(core
        ? {
          networks: core.networkInfos().map((i) => {
            const rc = ruleCountersOf(core?.frames?.filter);
            return {
              id: i.nwid.toString(16).padStart(16, "0"),
              multicastGroups: i.multicastSubscriptions.length,
              ...(rc ? { packets: rc.get(i.nwid) } : {}),
            };
          }),
        }
        : {}),
      tables: {
        ...nodeTableMetrics(core?.node),
        ...(core?.frames ? multicastTableMetrics(core.frames.multicast) : {}),
        ...(ctlService ?? lazyCtl)?.tableMetrics(),
        ...apiTableMetrics(servers.map((s) => s.stats)),
      },
      ...(opts.metricsExtras?.() ?? {}),
    });
    const renderMetrics = async () => {
      metrics.update(metricsInput());
      return await metrics.text();
    };
    const store = new NodeStateStore(home, (m) => log.warn(m));
    const networkFiles = new NetworkFiles(home, store, log);
    /** Starts the controller's member-name DNS server for the core's joined networks. */
    const serveMemberNames = async (ctl: ControllerService, joined: Core) => {
      const { MemberNameServer } = await import("./dns_names.ts");
      const names = memberNames = new MemberNameServer({
        controller: ctl.controller,
        networks: () => joined.networkInfos(),
        log,
        now,
      });
      networkFiles.listeners.push(() => names.reconcile());
      return names;
    };
    if (opts.onNetworkChanged) networkFiles.listeners.push(opts.onNetworkChanged);
    const packetCrypto = installPacketCrypto();
    log.info(
      `key crypto: X25519, Ed25519, SHA-2 on ${c25519BackendName()}${
        c25519BackendName() === "libcrypto" || nativeCrypto.reason === undefined
          ? ""
          : ` (${nativeCrypto.reason})`
      }`,
    );
    log.info(
      `packet crypto: AES-GMAC-SIV on ${packetCrypto.aes}${
        packetCrypto.reason ? ` (${packetCrypto.reason})` : ""
      }; cipher to AES-capable peers: ${conf.settings.cipher ?? packetCrypto.defaultCipher}${
        conf.settings.cipher ? " (local.conf)" : ""
      }`,
    );
    const live: LiveConf = { conf, pathCheck: makePathCheck(conf) };
    /** Addresses assigned to our own networks (never paths, never listening addresses). */
    const ownAddresses = (): InetAddress[] =>
      core?.networkInfos().flatMap((i) => i.assignedAddresses) ?? [];
    /** Every bound port's interface addresses (listeningOn; the node advertises them). */
    const listening = () =>
      [port, secondary.port, tertiaryPort].filter((p) => p !== 0).flatMap((p) =>
        localInterfaceAddresses(p, conf.settings.bind, {
          prefixBlacklist: live.conf.settings.interfacePrefixBlacklist,
          blacklist: live.conf.physical.filter((p) => p.blacklist).map((p) => p.network),
          ownAddresses: ownAddresses(),
        })
      );
    const ref: { service?: Service } = {};
    try {
      // The data plane exists before the core: the core writes frames straight to its ports.
      if (opts.dataPlane !== false) {
        const t = mux;
        dataPlane = new DataPlane({
          log,
          now,
          flush: () => t.flush?.(),
          onWarm: (hook) => Reactor.shared().onWarm(hook),
          ...(opts.createTap ? { createTap: opts.createTap } : {}),
          ...(opts.deviceName ? { deviceName: opts.deviceName } : {}),
        });
      }
      const host: CoreHost = {
        send: (sock, remote, data, ttl) => mux.send(sock, remote, data, ttl),
        rehearseSend: (sock, remote, data) => mux.rehearseSend(sock, remote, data),
        tapWrite: dataPlane ? dataPlane.tapWrite : () => {},
        ...(dataPlane ? { tapRehearse: dataPlane.tapRehearse } : {}),
        networkChanged: (nwid, info) => networkFiles.onNetworkChanged(nwid, info),
        random,
        now,
        storePut: (kind, id, data) => store.put(kind, id, data),
        storeGet: (kind, id) => store.get(kind, id),
        event: (e) => {
          if (ref.service) ref.service.onEvent(e);
          else Service.logEvent(log, hs.identity.address, e);
        },
        pathCheck: (peer, sock, remote) =>
          live.pathCheck(peer, sock, remote) &&
          !ownAddresses().some((a) => a.containsAddress(remote)),
      };
      const c = core = new Core({
        identity: hs.identity,
        host,
        now: now(),
        planet,
        settings: {
          physical: physicalSettings(conf),
          localAddresses: listening(),
          cipher: conf.settings.cipher ?? packetCrypto.defaultCipher,
        },
        metadata: defaultConfigRequestMetadata(`${Deno.build.os}/${Deno.build.arch}`),
        frames: dataPlane !== undefined,
        deferSettle: true,
        rehearsal: dataPlane !== undefined,
        ...(opts.createNode ? { createNode: opts.createNode } : {}),
      });
      dataPlane?.attach(c);
      const openController = async () =>
        await (await import("./controller_service.ts")).ControllerService.open({
          db: opts.controllerDb,
          home,
          conf,
          identity: hs.identity,
          random,
          now,
          log,
        });
      if (opts.controller !== false && controllerAtStart(home, conf, opts.controllerDb)) {
        try {
          ctlService = await openController();
          ctlService.attach(c); // also serves our own networks: before rejoining them
        } catch (e) {
          log.warn(`network controller disabled: ${e instanceof Error ? e.message : e}`);
        }
      } else if (opts.controller !== false) {
        lazyCtl = new LazyController({
          open: async () => {
            const c = await openController();
            await ready;
            return c;
          },
          adopt: (ctl) => adoptController!(ctl),
          mux: c.upper,
          now,
          log,
        });
      }
      if (dataPlane) {
        networkFiles.listeners.push(dataPlane.onNetworkChanged);
        // userspace ports (opts.createTap): the OS cannot reach the overlay's DNS servers,
        // so nothing is applied to it; names resolve inside zt (overlay_resolver.ts)
        const dns = dnsApplier = opts.createTap ? undefined : await DnsApplier.start({
          home,
          log,
          networks: () => c.networkInfos(),
        });
        networkFiles.listeners.push(() => dns?.reconcile());
        if (ctlService) await serveMemberNames(ctlService, c);
      }
      const refusal = joinRefusal(conf);
      if (refusal) log.info(`not rejoining networks from networks.d: ${refusal}`);
      else {
        for (const nwid of networkFiles.rejoinAll(c, now())) {
          log.info(`rejoining network ${nwid.toString(16).padStart(16, "0")} (from networks.d)`);
        }
      }
      for (const id of store.list("moon")) {
        log.info(`orbiting moon ${id} (from moons.d)`);
        c.orbit(now(), BigInt("0x" + id), undefined);
      }

      const hub = new EventHub({
        poll: statePoller({
          online: () => c.online(),
          peers: () => c.peers(),
          networks: () => c.networkInfos(),
        }),
      });
      uiHub = hub;
      ctlService?.controller.onChange((e) => hub.publish(controllerStreamEvent(e)));
      traffic = new TrafficHistory({
        now,
        networks: () => {
          const out: Record<string, [number, number, number, number]> = {};
          const rc = ruleCountersOf(c.frames?.filter);
          for (const i of c.networkInfos()) {
            const p = rc?.get(i.nwid), b = rc?.bytes(i.nwid);
            out[i.nwid.toString(16).padStart(16, "0")] = [
              p?.rxAccepted ?? 0,
              p?.txAccepted ?? 0,
              b?.rxBytes ?? 0,
              b?.txBytes ?? 0,
            ];
          }
          return out;
        },
        peers: () => {
          const out: Record<string, [number, number, number, number]> = {};
          for (const [a, n] of nodeCounters(c.node)?.peers ?? []) {
            out[a] = [n.rx, n.tx, n.rxBytes, n.txBytes];
          }
          return out;
        },
      });
      traffic.start();
      const app = createApiApp({
        node: c.node,
        authToken: () => hs.authToken,
        metricsToken: () => hs.metricsToken,
        allowManagementFrom: () => live.conf.settings.allowManagementFrom,
        now,
        statusExtras: () => ({
          localConf: live.conf.raw,
          effective: {
            primaryPort: port,
            secondaryPort: conf.settings.secondaryPort || secondary.port,
            tertiaryPort: conf.settings.tertiaryPort || tertiaryPort,
            allowTcpFallbackRelay: conf.settings.allowTcpFallbackRelay,
            forceTcpRelay: conf.settings.forceTcpRelay,
            portMappingEnabled: mappingOn,
            softwareUpdate: live.conf.settings.softwareUpdate,
            softwareUpdateChannel: live.conf.settings.softwareUpdateChannel,
            homeDir: home,
          },
          listeningOn: listening(),
          surfaceAddresses: c.surfaceAddresses().filter((a) =>
            !ownAddresses().some((o) => o.containsAddress(a))
          ),
          tcpFallbackActive: mux.tcpFallbackActive,
        }),
        tunneled: () => mux.tcpFallbackActive,
      }, [
        moonRoutes(),
        networkApiRoutes(() => c.networks, now, () => joinRefusal(live.conf)),
        configRoutes(home, () => ref.service?.checkLocalConf()),
        metricsRoutes(renderMetrics),
        appRoutes({ home, enabled: () => webServerEnabled(live.conf.raw) }),
        ...(ctlService ? [ctlService.routes()] : lazyCtl ? [lazyCtl.routes()] : []),
        uiRoutes({
          enabled: () => webUiEnabled(live.conf.raw),
          hub,
          traffic,
          controller: () => ctlService?.controller,
          loadController: () => lazyCtl?.load(),
          now,
          peerInfo: (a) => {
            const p = c.peers().find((x) => x.address.toString() === a);
            if (!p) return undefined;
            const path = p.paths.find((x) => x.preferred && !x.expired) ?? p.paths[0];
            return { latency: p.latency, path: path ? path.address.toString() : "" };
          },
          random: () => {
            const b = random(4);
            return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
          },
        }),
        ...(opts.apiExtensions ?? []),
      ]);
      const plan: ApiListenHost[] = opts.apiHosts
        ? opts.apiHosts.map((hostname, i) => ({ hostname, required: i === 0 }))
        : apiListenPlan(conf.settings);
      for (const h of plan) {
        try {
          servers.push(HttpServer.listen({
            hostname: h.hostname,
            port,
            handler: (req, remoteAddr) => app.fetch(req, { remoteAddr }),
            onError: (m) => log.warn(m),
          }));
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
      const tls = webUiTls(conf.raw, home);
      if (tls && "warning" in tls) log.warn(tls.warning);
      else if (tls) {
        // the same API and UI over HTTPS, on the same addresses; failures only warn
        for (const h of plan) {
          try {
            servers.push(HttpServer.listen({
              hostname: h.hostname,
              port: tls.port,
              tls: { cert: tls.cert, key: tls.key },
              handler: (req, remoteAddr) => app.fetch(req, { remoteAddr }),
              onError: (m) => log.warn(m),
            }));
          } catch (e) {
            log.warn(`HTTPS on ${h.hostname}:${tls.port}: ${e instanceof Error ? e.message : e}`);
          }
        }
        log.info(`web UI over HTTPS on port ${tls.port}: https://127.0.0.1:${tls.port}/ui/`);
      }
      try {
        writeFileAtomicSync(`${home}/zerotier-one.port`, new TextEncoder().encode(String(port)), {
          skipUnchanged: true,
        });
      } catch (e) {
        log.warn(`cannot write zerotier-one.port: ${e instanceof Error ? e.message : e}`);
      }
    } catch (e) {
      await memberNames?.close();
      await dnsApplier?.close();
      uiHub?.close();
      traffic?.stop();
      await dataPlane?.close();
      for (const s of servers) await s.shutdown().catch(() => {});
      await mux.close();
      throw e;
    }

    const metricsWriter = new MetricsWriter(home, metrics, metricsInput, (m) => log.warn(m));
    const pollMs = opts.localConfPollMs ?? DEFAULT_LOCAL_CONF_POLL_MS;
    const confWatcher = new LocalConfWatcher({
      path: `${home}/local.conf`,
      current: conf,
      intervalMs: pollMs,
      onChange: (next, changes) => ref.service?.applyLocalConf(next, changes),
      onError: (m) => log.error(m),
    });
    const service = new Service({
      home,
      port,
      core: core!,
      live,
      confWatcher,
      log,
      transport: mux,
      servers,
      now,
      metricsWriter,
    });
    service.#secondary = secondary;
    service.#listening = listening;
    if (mappingOn && tertiaryPort !== 0) {
      service.#portMapper = new PortMapper({
        port: tertiaryPort,
        description: `ZeroTier/${hs.identity.address}@${tertiaryPort}`,
        log,
        onChange: () => service.#updateLocalAddresses(),
      });
    }
    service.controller = ctlService;
    service.networkFiles = networkFiles;
    service.dataPlane = dataPlane;
    service.memberNames = memberNames;
    service.dnsApplier = dnsApplier;
    service.uiEvents = uiHub;
    service.traffic = traffic;
    service.#lazyController = lazyCtl;
    ref.service = service;
    // a controller loaded on first use gets what the start-up path above gives one
    adoptController = async (ctl) => {
      ctlService = ctl;
      if (core) ctl.attach(core); // also serves our own networks
      if (dataPlane && core) service.memberNames = await serveMemberNames(ctl, core);
      ctl.controller.onChange((e) => uiHub?.publish(controllerStreamEvent(e)));
      service.controller = ctl;
    };
    started();
    log.info(
      `zt: node ${hs.identity.address} started (home ${home}, port ${port}` +
        `${hs.identityCreated ? ", new identity" : ""})`,
    );
    // interface addresses of every bound port plus the mapped public address, every 30 s
    service.#refreshAddresses = () => service.#updateLocalAddresses();
    if (pollMs > 0) confWatcher.start();
    service.#scheduleTick(0);
    if (opts.memoryTrimAfterMs !== undefined && conf.settings.memoryTrim) {
      const mib = (n: number) => (n / 1048576).toFixed(1);
      service.#memory = new ResidentSetKeeper(
        opts.memoryTrimAfterMs,
        opts.memoryIdleTrim,
        (t, why) =>
          log.debug(
            `memory trim${why === "idle" ? " (idle)" : ""}: resident set ${mib(t.before)} -> ${
              mib(t.after)
            } MiB`,
          ),
      );
    }
    return service;
  }

  /** Pushes the current interface addresses to the node (set by {@link start}). */
  #refreshAddresses: () => void = () => {};

  /** Looks at local.conf now instead of at the next poll (after the API rewrote it). */
  checkLocalConf(): void {
    this.#confWatcher.check();
  }

  /**
   * Applies a re-read local.conf: path checks, physical MTUs and trusted paths, cipher, API
   * access list, interface blacklists and web server take effect now; what is bound at start
   * (ports, bind addresses, API listen addresses, controller database) is logged as needing a
   * restart and keeps its running value.
   */
  applyLocalConf(next: LocalConf, changes: LocalConfChanges): void {
    this.#live.conf = next;
    this.#live.pathCheck = makePathCheck(next);
    this.core.updateSettings({
      physical: physicalSettings(next),
      cipher: next.settings.cipher ?? installPacketCrypto().defaultCipher,
    });
    this.#refreshAddresses();
    for (const w of next.warnings) this.#log.warn(`local.conf: ${w}`);
    const log = this.#log;
    if (changes.live.length + changes.restart.length + changes.unused.length === 0) {
      log.info("local.conf re-read: valid again, no setting changed");
    }
    if (changes.live.length > 0) {
      log.info(`local.conf re-read: applied ${changes.live.join(", ")}`);
    }
    if (changes.unused.length > 0) {
      log.info(`local.conf re-read: ${changes.unused.join(", ")} changed (not used by zt)`);
    }
    if (changes.restart.length > 0) {
      log.warn(
        `local.conf re-read: ${changes.restart.join(", ")} changed; restart zt to apply ` +
          `(still running with the values it started with)`,
      );
    }
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
      case "internalError":
        // counted in zt_internal_errors_total{where}; the stack is for whoever debugs it
        log.debug(`internal error in ${e.where}: ${e.stack ?? e.message}`);
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

  /** Runs the core's tick and re-arms the timer for its next deadline (60..5000 ms away). */
  #scheduleTick(delay: number): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      let next = MAX_TICK_MS;
      try {
        const now = this.#now();
        this.#transport.tick(now);
        next = this.core.tick(now) - now;
        this.#checkPorts(now);
      } catch (e) {
        this.#log.warn(`node tick failed: ${e instanceof Error ? e.stack : e}`);
      }
      if (!Number.isFinite(next)) next = MAX_TICK_MS;
      const now = this.#now();
      if (now - this.#lastAddressRefresh >= ADDRESS_REFRESH_MS) {
        this.#lastAddressRefresh = now;
        this.#refreshAddresses();
      }
      this.#scheduleTick(Math.max(MIN_TICK_MS, Math.min(MAX_TICK_MS, next)));
    }, delay);
  }

  /**
   * Every 30 s (the reference's binder refresh): a random secondary port is replaced after two
   * minutes offline; the node's advertised local addresses follow.
   */
  #checkPorts(now: number): void {
    const k = this.#secondary;
    if (!k || now - this.#lastPortCheck < 30_000) return;
    this.#lastPortCheck = now;
    void k.check(now, this.node.online()).then((changed) => {
      if (changed) this.#updateLocalAddresses();
    }).catch((e) => this.#log.warn(`secondary port: ${e instanceof Error ? e.message : e}`));
  }

  /**
   * The addresses the node advertises: every bound port's interface addresses plus the mapped
   * public address, as the reference adds its port mapper's addresses.
   */
  #updateLocalAddresses(): void {
    const mapped = this.#portMapper?.mapping?.external;
    this.core.updateSettings({
      localAddresses: [...this.#listening(), ...(mapped ? [mapped] : [])],
    });
  }

  /** The current port mapping's public address, if any. */
  get mappedAddress(): InetAddress | undefined {
    return this.#portMapper?.mapping?.external;
  }

  /** The secondary UDP port bound now (0 = none). */
  get secondaryPort(): number {
    return this.#secondary?.port ?? 0;
  }

  /** Whether the TCP fallback tunnel is up (`tcpFallbackActive`). */
  get tcpFallbackActive(): boolean {
    return this.#transport.tcpFallbackActive;
  }

  /** The transports (UDP ports, TCP fallback tunnel) behind the node's socket ids. */
  get transports(): TransportMux {
    return this.#transport;
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
   * Stops: timers, the local API, the peer cache write, UDP sockets.
   * zerotier-one.port is left in place (as the reference does). Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return await this.stopped;
    this.#stopping = true;
    this.#confWatcher.stop();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#memory?.stop();
    try {
      this.core.savePeers(this.#now());
    } catch (e) {
      this.#log.warn(`writing the peer cache failed: ${e instanceof Error ? e.message : e}`);
    }
    this.uiEvents?.close(); // open event streams would hold the server's shutdown
    this.traffic?.stop();
    await Promise.all(this.#servers.map((s) => s.shutdown().catch(() => {})));
    await this.#metricsWriter.stop();
    this.#lazyController?.stop();
    await this.controller?.stop();
    await this.memberNames?.close();
    await this.dnsApplier?.close();
    await this.#portMapper?.stop().catch(() => {});
    await this.dataPlane?.close();
    await this.#transport.close();
    this.#lock?.release();
    this.#log.info(`zt: node ${this.node.identity.address} stopped`);
    this.#resolveStopped();
  }
}
