// The embedded network controller inside the service: file database, local API routes, node wiring.
import { controllerApi } from "./controller_api.ts";
import { Controller } from "../controller/controller.ts";
import { FileStore } from "./controller_file_store.ts";
import { ControllerResponder, type ResponderNode } from "../controller/responder.ts";
import { serveOwnNetworks } from "../controller/self_member.ts";
import type { Identity } from "../vl1/identity.ts";
import type { Node } from "../vl1/node.ts";
import type { Networks } from "../vl2/networks.ts";
import { UpperLayerMux } from "../vl2/upper_layer_mux.ts";
import type { ApiRoutes } from "./api_server.ts";
import type { LocalConf } from "./local_conf.ts";
import type { Logger } from "./logger.ts";
import type { ServiceNode } from "./service_node.ts";

/** The parts of the real node the controller and the VL2 hook need (absent on fake nodes). */
type WiredNode = Pick<Node, "address" | "sendPacket" | "identityOf" | "setUpperLayer">;

/** Whether `node` can carry VL2 traffic (a real VL1 node, not a test fake). */
function wiredNode(node: ServiceNode): WiredNode | undefined {
  const n = node as ServiceNode & Partial<WiredNode>;
  if (typeof n.sendPacket !== "function" || typeof n.setUpperLayer !== "function") return undefined;
  if (typeof n.identityOf !== "function" || !n.address) return undefined;
  return n as WiredNode;
}

/** The responder's view of a wired node, through its public methods only. */
function wiredResponderNode(n: WiredNode): ResponderNode {
  return {
    address: n.address,
    sendPacket: (now, dest, verb, payload, opts) => n.sendPacket(now, dest, verb, payload, opts),
    peerIdentity: (addr) => n.identityOf(addr),
    internalError: (where, e) =>
      (n as Partial<Pick<Node, "internalError">>).internalError?.(where, e),
  };
}

/**
 * Installs one {@link UpperLayerMux} as the node's VL2 hook and returns it, or undefined if the
 * node cannot carry VL2 traffic. The member side (joined networks) plugs in with
 * `mux.setMember(...)`, the controller with `mux.setConfigRequestHandler(...)`; with no
 * controller installed, config requests are answered ERROR(UNSUPPORTED_OPERATION).
 */
export function installUpperLayer(node: ServiceNode): UpperLayerMux | undefined {
  const n = wiredNode(node);
  if (!n) return undefined;
  const mux = new UpperLayerMux({ sender: n });
  n.setUpperLayer(mux);
  return mux;
}

/**
 * The controller database directory: local.conf `settings.controllerDbPath` if it is a plain
 * path (relative paths are taken relative to `home`), else `<home>/controller.d` (spec §10.2).
 * A `postgres:` path is not supported: a warning is returned and the default is used.
 */
export function controllerDbPath(
  home: string,
  conf: LocalConf,
): { path: string; warning?: string } {
  const s = conf.raw.settings;
  const v = s !== null && typeof s === "object" && !Array.isArray(s)
    ? (s as Record<string, unknown>).controllerDbPath
    : undefined;
  const dflt = `${home}/controller.d`;
  if (v === undefined || v === "") return { path: dflt };
  if (typeof v !== "string") {
    return { path: dflt, warning: "settings.controllerDbPath is not a string; using controller.d" };
  }
  if (v.startsWith("postgres:")) {
    return {
      path: dflt,
      warning: "settings.controllerDbPath: PostgreSQL is not supported; using controller.d",
    };
  }
  return { path: v.startsWith("/") ? v : `${home}/${v}` };
}

/** Options of {@link ControllerService.open}. */
export interface ControllerServiceOptions {
  /** Home directory. */
  home: string;
  /** local.conf (for `settings.controllerDbPath`). */
  conf: LocalConf;
  /** The node's identity (with private key): networks `<address>xxxxxx` are ours. */
  identity: Identity;
  /** Random source. */
  random: (n: number) => Uint8Array;
  /** Clock (ms). */
  now: () => number;
  /** Logger. */
  log: Logger;
}

/**
 * The embedded controller of a running service (every 1.14 node has one, spec §10): a
 * {@link Controller} over the file database, its HTTP routes on the local API (same token
 * auth as every other route) and, once {@link attach}ed, a {@link ControllerResponder} that
 * answers NETWORK_CONFIG_REQUEST and pushes configs/revocations through the node.
 */
export class ControllerService {
  /** The controller. */
  readonly controller: Controller;
  /** Where its database lives. */
  readonly dbPath: string;
  #responder: ControllerResponder | undefined;
  #undoSelf: (() => void) | undefined;
  readonly #random: (n: number) => Uint8Array;
  readonly #log: Logger;

  private constructor(
    controller: Controller,
    dbPath: string,
    random: (n: number) => Uint8Array,
    log: Logger,
  ) {
    this.controller = controller;
    this.dbPath = dbPath;
    this.#random = random;
    this.#log = log;
  }

  /** Opens (creating if needed) the database and builds the controller. @throws on I/O errors. */
  static open(o: ControllerServiceOptions): ControllerService {
    const db = controllerDbPath(o.home, o.conf);
    if (db.warning) o.log.warn(db.warning);
    const store = new FileStore(db.path);
    const controller = new Controller({
      identity: o.identity,
      store,
      random: o.random,
      now: o.now,
    });
    return new ControllerService(controller, db.path, o.random, o.log);
  }

  /** The responder, once attached. */
  get responder(): ControllerResponder | undefined {
    return this.#responder;
  }

  /** Local API routes: the controller's `/controller…` and `/unstable/controller…` paths. */
  routes(): ApiRoutes {
    const sub = controllerApi(this.controller);
    return (app) => {
      app.route("/", sub);
    };
  }

  /**
   * Puts the controller on the wire: installs the responder as the config-request handler of
   * `mux`. False (controller reachable only through the API) if there is no mux.
   */
  attach(node: ServiceNode, mux: UpperLayerMux | undefined): boolean {
    const n = wiredNode(node);
    if (!n || !mux) return false;
    this.#responder?.dispose();
    this.#responder = new ControllerResponder({
      node: wiredResponderNode(n),
      controller: this.controller,
      random: this.#random,
      log: (m) => this.#log.debug(`controller: ${m}`),
    });
    mux.setConfigRequestHandler(this.#responder);
    const nets = this.controller.listNetworks().length;
    this.#log.info(
      `zt: network controller ${this.controller.address} ready (${nets} network${
        nets === 1 ? "" : "s"
      }, database ${this.dbPath})`,
    );
    return true;
  }

  /**
   * Lets this node join its own controller's networks (requests answered in process, as the
   * reference does). Needs {@link attach} first; false if there is no responder.
   */
  serveOwnNetworks(networks: Networks): boolean {
    if (!this.#responder) return false;
    this.#undoSelf?.();
    this.#undoSelf = serveOwnNetworks(this.#responder, networks);
    return true;
  }

  /** Controller figures for the metrics (families of spec §11.4). */
  metrics(): Record<string, number> {
    let members = 0;
    for (const id of this.controller.listNetworks()) {
      members += this.controller.memberCounts(id).total;
    }
    return {
      controller_network_count: this.controller.listNetworks().length,
      controller_member_count: members,
      controller_network_config_request: this.#responder?.stats.requests ?? 0,
    };
  }

  /** Table figures of the controller (member status entries and evictions). */
  tableMetrics(): Record<string, number> {
    const t = this.controller.memberStatusTable;
    return {
      zt_controller_member_status_entries: t.size,
      zt_controller_member_status_evicted: t.evicted,
    };
  }

  /** Stops sending (the database needs no closing). */
  stop(): void {
    this.#undoSelf?.();
    this.#undoSelf = undefined;
    this.#responder?.dispose();
    this.#responder = undefined;
  }
}
