// The embedded network controller inside the service: file database, local API routes, node wiring.
import { controllerApi } from "./controller_api.ts";
import { Controller } from "../controller/controller.ts";
import { FileStore } from "./controller_file_store.ts";
import type { ControllerStore } from "../controller/store.ts";
// The PostgreSQL store (and npm:postgres) is loaded only when the database is PostgreSQL.
import type { PgController } from "./pg/pg_controller.ts";
import { isPostgresDbPath, redactDbPath } from "./pg/pg_conninfo.ts";
import { ControllerResponder } from "../controller/responder.ts";
import type { Core } from "../core/core.ts";
import type { Identity } from "../vl1/identity.ts";
import type { ApiRoutes } from "./api_server.ts";
import { controllerDbPath, controllerInstanceName } from "./controller_wiring.ts";
import type { LocalConf } from "./local_conf.ts";
import type { Logger } from "./logger.ts";
import { installSigningCrypto } from "./signing_crypto.ts";

export { controllerDbPath, controllerInstanceName, joinRefusal } from "./controller_wiring.ts";

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
  /** `zt controller serve --db`: overrides `settings.controllerDbPath`. */
  db?: string;
  /** Stop waiting for an unreachable PostgreSQL at start after this long (ms; default: never). */
  dbWaitMs?: number;
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
  /** Where its database lives (a PostgreSQL password is redacted). */
  readonly dbPath: string;
  /** The PostgreSQL side, if the database is PostgreSQL. */
  readonly pg: PgController | undefined;
  #core: Core | undefined;
  readonly #log: Logger;

  private constructor(
    controller: Controller,
    dbPath: string,
    log: Logger,
    pg?: PgController,
  ) {
    this.controller = controller;
    this.dbPath = dbPath;
    this.pg = pg;
    this.#log = log;
  }

  /**
   * Opens (creating if needed) the database and builds the controller. A PostgreSQL database
   * that is unreachable is retried (logging why) until it answers or `dbWaitMs` passes.
   * @throws on I/O errors, a bad connection string or a newer database schema.
   */
  static async open(o: ControllerServiceOptions): Promise<ControllerService> {
    const db = o.db !== undefined
      ? (isPostgresDbPath(o.db)
        ? { path: redactDbPath(o.db), postgres: o.db }
        : { path: o.db.startsWith("/") ? o.db : `${o.home}/${o.db}` })
      : controllerDbPath(o.home, o.conf);
    if ("warning" in db && db.warning) o.log.warn(db.warning);
    let store: ControllerStore;
    let pg: PgController | undefined;
    if (db.postgres !== undefined) {
      const { openPgController } = await import("./pg/pg_controller.ts");
      pg = await openPgController({
        dbPath: db.postgres,
        instance: `${controllerInstanceName(o.conf)}/${Deno.pid}`,
        log: o.log,
        waitMs: o.dbWaitMs,
      });
      store = pg.store;
    } else {
      store = new FileStore(db.path);
    }
    const controller = new Controller({
      identity: o.identity,
      store,
      random: o.random,
      now: o.now,
    });
    pg?.bind(controller);
    return new ControllerService(controller, db.path, o.log, pg);
  }

  /** The responder, once attached. */
  get responder(): ControllerResponder | undefined {
    return this.#core?.responder;
  }

  /** Local API routes: the controller's `/controller…` and `/unstable/controller…` paths. */
  routes(): ApiRoutes {
    const sub = controllerApi(this.controller);
    return (app) => {
      app.route("/", sub);
    };
  }

  /**
   * Puts the controller on the wire: attaches it to `core` (its responder answers config
   * requests and pushes through the node; the node's own joins of our networks are answered in
   * process). With PostgreSQL, replies wait for the commit and requests go through its queue.
   */
  attach(core: Core): void {
    const pg = this.pg;
    const signer = installSigningCrypto();
    this.#log.debug(
      `controller: Ed25519 signing on ${signer.ed25519}${
        signer.reason ? ` (${signer.reason})` : ""
      }`,
    );
    core.attachController({
      controller: this.controller,
      Responder: ControllerResponder,
      log: (m) => this.#log.debug(`controller: ${m}`),
      ...(pg ? { wrapNode: (n) => pg.deferringNode(n), wrapHandler: (r) => pg.wrap(r) } : {}),
    });
    this.#core = core;
    const nets = this.controller.listNetworks().length;
    this.#log.info(
      `zt: network controller ${this.controller.address} ready (${nets} network${
        nets === 1 ? "" : "s"
      }, database ${this.dbPath})`,
    );
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
      controller_network_config_request: this.responder?.stats.requests ?? 0,
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

  /** Stops sending; closes a PostgreSQL database (queued writes get a moment to finish). */
  async stop(): Promise<void> {
    this.#core?.detachController();
    this.#core = undefined;
    await this.pg?.close();
  }
}
