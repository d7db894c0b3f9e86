// What the service needs of the embedded controller before (or without) loading it: the lazy
// config-request hook, the database location, the joining-instance rule. Light on purpose: the controller itself
// (controller_service.ts and what it imports) is loaded only when there is something to serve.
import { type Context, Router } from "./router.ts";
import type { UpperLayer } from "../vl1/node.ts";
import type { UpperLayerMux } from "../vl2/upper_layer_mux.ts";
import { type ApiRoutes, sendJson } from "./api_server.ts";
import type { ControllerService } from "./controller_service.ts";
import type { LocalConf } from "./local_conf.ts";
import type { Logger } from "./logger.ts";
import { isPostgresDbPath, redactDbPath } from "./pg/pg_conninfo.ts";

/**
 * The controller database: local.conf `settings.controllerDbPath` if it is a plain path
 * (relative paths are taken relative to `home`), else `<home>/controller.d` (spec §10.2). A
 * `postgres:` keyword string or `postgres://`/`postgresql://` URL is returned as is in
 * `postgres` (the database then holds every network and member).
 */
export function controllerDbPath(
  home: string,
  conf: LocalConf,
): { path: string; postgres?: string; warning?: string } {
  const s = conf.raw.settings;
  const v = s !== null && typeof s === "object" && !Array.isArray(s)
    ? (s as Record<string, unknown>).controllerDbPath
    : undefined;
  const dflt = `${home}/controller.d`;
  if (v === undefined || v === "") return { path: dflt };
  if (typeof v !== "string") {
    return { path: dflt, warning: "settings.controllerDbPath is not a string; using controller.d" };
  }
  if (isPostgresDbPath(v)) return { path: redactDbPath(v), postgres: v };
  return { path: v.startsWith("/") ? v : `${home}/${v}` };
}

/** A string setting of local.conf, or undefined. */
function stringSetting(conf: LocalConf, key: string): string | undefined {
  const s = conf.raw.settings;
  const v = s !== null && typeof s === "object" && !Array.isArray(s)
    ? (s as Record<string, unknown>)[key]
    : undefined;
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * This controller instance's name: `settings.controllerInstanceName`, else the host name.
 * Instances sharing one identity and one database tell each other apart by it.
 */
export function controllerInstanceName(conf: LocalConf): string {
  return stringSetting(conf, "controllerInstanceName") ?? Deno.hostname();
}

/**
 * Why this node must not join networks, if so: several controller instances share one identity
 * (so one MAC and one set of managed IPs); `settings.controllerJoiningInstance` names the one
 * that joins (its own networks, the name server) and every other instance refuses. Unset: no
 * restriction.
 */
export function joinRefusal(conf: LocalConf): string | undefined {
  const joiner = stringSetting(conf, "controllerJoiningInstance");
  if (joiner === undefined) return undefined;
  const me = controllerInstanceName(conf);
  if (joiner === me) return undefined;
  return `controller instance ${me} does not join networks ` +
    `(settings.controllerJoiningInstance is ${joiner})`;
}

/**
 * Whether the service opens the controller as it starts: with a database named on the command
 * line or in local.conf's `controllerDbPath` that is PostgreSQL, or a file database that holds
 * a network (or anything else in its `network` folder, e.g. what a crash left for the open to
 * sweep). Otherwise (a member that never created a network) the controller is loaded on first
 * use ({@link LazyController}): it costs a member several MiB of code it would not run.
 */
export function controllerAtStart(home: string, conf: LocalConf, db?: string): boolean {
  if (db !== undefined) return true;
  const where = controllerDbPath(home, conf);
  if (where.postgres !== undefined || where.warning !== undefined) return true;
  try {
    // a network, or what a crash left (tombstones, temp files, member folders): the store's
    // open sweeps those at start
    for (const _ of Deno.readDirSync(`${where.path}/network`)) return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound); // unreadable: let the open report it
  }
  return false;
}

/** Options of {@link LazyController}. */
export interface LazyControllerOptions {
  /** Loads and opens the controller. */
  open: () => Promise<ControllerService>;
  /** Wires an opened controller into the service (config requests, routes' data, events...). */
  adopt: (c: ControllerService) => void | Promise<void>;
  /** The node's VL2 hook: config requests load the controller (its attach replaces this hook). */
  mux: UpperLayerMux | undefined;
  /** Clock (ms). */
  now: () => number;
  /** Logger. */
  log: Logger;
}

/**
 * The embedded controller before anything asked for it: its local API routes and the
 * NETWORK_CONFIG_REQUEST hook are in place, and the first request to either loads and opens it
 * (once), then is served by it as if it had been there from the start. Metrics read zero until.
 */
export class LazyController {
  readonly #o: LazyControllerOptions;
  #loading: Promise<ControllerService | undefined> | undefined;
  #stopped = false;
  readonly #requests: UpperLayer = {
    handle: (_now, source, verb, payload, info) => {
      const copy = payload.slice(); // the packet buffer is reused once this returns
      void this.load().then(() => {
        const mux = this.#o.mux;
        // adopted: the responder replaced this hook; failed: none (UNSUPPORTED_OPERATION)
        if (!mux || mux.configRequestHandler === this.#requests || this.#stopped) return;
        mux.handle(this.#o.now(), source, verb, copy, info);
      });
      return true;
    },
  };

  /** Installs the config-request hook. */
  constructor(o: LazyControllerOptions) {
    this.#o = o;
    o.mux?.setConfigRequestHandler(this.#requests);
  }

  /** Whether loading started. */
  get loading(): boolean {
    return this.#loading !== undefined;
  }

  /** Loads, opens and adopts the controller (once); undefined if it could not be opened. */
  load(): Promise<ControllerService | undefined> {
    this.#loading ??= this.#o.open().then(async (c) => {
      if (this.#stopped) {
        await c.stop();
        return undefined;
      }
      await this.#o.adopt(c);
      return c;
    }, (e) => {
      this.#o.log.warn(`network controller disabled: ${e instanceof Error ? e.message : e}`);
      if (this.#o.mux?.configRequestHandler === this.#requests) {
        this.#o.mux.setConfigRequestHandler(undefined);
      }
      return undefined;
    });
    return this.#loading;
  }

  /** The controller's API paths; the first request loads it (404 if it cannot be opened). */
  routes(): ApiRoutes {
    return (app) => {
      let sub: Promise<Router | undefined> | undefined;
      const handler = async (c: Context) => {
        sub ??= this.load().then((svc) => {
          if (!svc) return undefined;
          const h = new Router();
          h.onError((err, c) =>
            sendJson(c, {
              error: 500,
              description: err instanceof Error ? err.message : String(err),
            }, 500)
          );
          h.notFound((c) => sendJson(c, {}, 404));
          svc.routes()(h, undefined as never);
          return h;
        });
        const h = await sub;
        if (!h) return sendJson(c, {}, 404);
        const method = c.req.method;
        const body = method === "GET" || method === "HEAD" ? undefined : await c.req.arrayBuffer();
        const req = new Request(c.req.url, { method, headers: c.req.raw.headers, body });
        return await h.fetch(req, c.env);
      };
      for (const p of ["/controller", "/controller/*", "/unstable/controller/*"]) {
        app.all(p, handler);
      }
    };
  }

  /** The controller families while nothing is loaded (see ControllerService.metrics). */
  metrics(): Record<string, number> {
    return {
      controller_network_count: 0,
      controller_member_count: 0,
      controller_network_config_request: 0,
    };
  }

  /** The table figures while nothing is loaded (see ControllerService.tableMetrics). */
  tableMetrics(): Record<string, number> {
    return { zt_controller_member_status_entries: 0, zt_controller_member_status_evicted: 0 };
  }

  /** No loading after this; a load in progress is closed when it finishes. */
  stop(): void {
    this.#stopped = true;
    if (this.#o.mux?.configRequestHandler === this.#requests) {
      this.#o.mux.setConfigRequestHandler(undefined);
    }
  }
}
