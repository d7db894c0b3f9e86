// Wires a PostgreSQL-backed controller into the service: start-up retry, replies after commit, pushes.
import type { Controller, ControllerEvent } from "../../controller/controller.ts";
import type { ControllerResponder, ResponderNode } from "../../controller/responder.ts";
import { Verb } from "../../vl1/packet.ts";
import type { UpperLayer } from "../../vl1/node.ts";
import { decodeNetworkConfigRequest } from "../../vl1/verbs/network_config.ts";
import type { Logger } from "../logger.ts";
import { describeConnInfo, parsePgConnInfo } from "./pg_conninfo.ts";
import { isConnectionError, PgStore, type RemoteChange } from "./pg_store.ts";

/** Options of {@link openPgController}. */
export interface OpenPgControllerOptions {
  /** `postgres:...` keyword string or `postgres://` URL. */
  dbPath: string;
  /** This instance's name (see {@link PgStore}). */
  instance: string;
  /** Logger. */
  log: Logger;
  /** Give up after this long (ms) while the database is unreachable (default: never). */
  waitMs?: number;
  /** Pause between attempts (ms, default 2000). */
  retryMs?: number;
}

/**
 * Opens the PostgreSQL store, retrying while the database is unreachable (each failure logged
 * with the target, never the password).
 * @throws on a malformed connection string, a newer schema, or when `waitMs` runs out.
 */
export async function openPgController(o: OpenPgControllerOptions): Promise<PgController> {
  const conn = parsePgConnInfo(o.dbPath);
  if (typeof conn === "string") throw new Error(`settings.controllerDbPath: ${conn}`);
  const start = Date.now();
  for (let attempt = 1;; attempt++) {
    try {
      const store = await PgStore.open({
        conn,
        instance: o.instance,
        log: (level, m) => level === "warn" ? o.log.warn(m) : o.log.info(m),
      });
      return new PgController(store);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      if (!isConnectionError(e)) throw new Error(`controller database: ${why}`);
      const waited = Date.now() - start;
      if (o.waitMs !== undefined && waited >= o.waitMs) {
        throw new Error(`controller database ${describeConnInfo(conn)} unreachable: ${why}`);
      }
      const retry = o.retryMs ?? 2000;
      o.log.warn(
        `controller database ${describeConnInfo(conn)} unreachable (attempt ${attempt}): ` +
          `${why}; retrying in ${retry / 1000} s`,
      );
      await new Promise((r) => setTimeout(r, retry));
    }
  }
}

type Send = Parameters<ResponderNode["sendPacket"]>;

/**
 * The PostgreSQL side of a running controller: the store, replies held back until the writes
 * they depend on are committed (a first-time member's IP is in the database before it hears of
 * it), member status written back in batches, and pushes for changes other instances made.
 */
export class PgController {
  #controller: Controller | undefined;
  #responder: ControllerResponder | undefined;
  #buffer: Send[] | undefined;
  #node: ResponderNode | undefined;

  /** Wraps an open store. */
  constructor(readonly store: PgStore) {
    store.onRemoteChange((c) => this.#onRemote(c));
  }

  /** Connects the controller (for pushes after remote changes). */
  bind(controller: Controller): void {
    this.#controller = controller;
  }

  /** The node the responder sends through: calls made while a request is handled are held. */
  deferringNode(node: ResponderNode): ResponderNode {
    this.#node = node;
    return {
      address: node.address,
      peerIdentity: (a) => node.peerIdentity(a),
      sendPacket: (...args: Send) => {
        if (this.#buffer) {
          this.#buffer.push(args);
          return undefined;
        }
        return node.sendPacket(...args);
      },
    };
  }

  /**
   * The config-request handler to install: runs the responder, and sends its reply only once
   * the writes the request caused are committed (at once if it caused none, or if the database
   * is down: config requests are answered from memory then). A reply whose write lost to
   * another instance (e.g. the IP was taken) is dropped; the member asks again.
   */
  wrap(responder: ControllerResponder): UpperLayer {
    this.#responder = responder;
    return {
      handle: (now, source, verb, payload, info) => {
        if (verb !== Verb.NETWORK_CONFIG_REQUEST) return false;
        const held: Send[] = [];
        this.#buffer = held;
        let r: { result: boolean; entries: Promise<string>[] };
        try {
          r = this.store.track(() => responder.handle(now, source, verb, payload, info));
        } finally {
          this.#buffer = undefined;
        }
        this.#noteStatus(responder.controller, source.toString(), payload);
        const send = () => {
          for (const a of held) this.#node?.sendPacket(...a);
        };
        if (r.entries.length === 0 || this.store.unavailable) send();
        else {
          Promise.all(r.entries).then((o) => {
            if (o.every((x) => x === "ok")) send();
          });
        }
        return r.result;
      },
    };
  }

  /** Records the status a request reported, for the batched write-back. */
  #noteStatus(ctl: Controller, addr: string, payload: Uint8Array): void {
    const req = decodeNetworkConfigRequest(payload);
    if (!req) return;
    const nwid = req.networkId.toString(16).padStart(16, "0");
    const s = ctl.memberStatus(nwid, addr);
    if (!s || !ctl.store.getMember(nwid, addr)) return;
    const md = s.metadata;
    this.store.noteStatus(nwid, addr, {
      lastSeen: s.lastSeen,
      physicalAddress: s.physicalAddress?.toString() ?? null,
      clientVersion: md.majorVersion !== undefined && md.minorVersion !== undefined &&
          md.revision !== undefined
        ? `${md.majorVersion}.${md.minorVersion}.${md.revision}`
        : null,
    });
  }

  /** A change made by another instance: push to the members we serve, revoke if needed. */
  #onRemote(c: RemoteChange): void {
    const ctl = this.#controller;
    const resp = this.#responder;
    if (!ctl || !resp) return;
    const now = ctl.now();
    const events: ControllerEvent[] = [];
    if (c.kind === "network") {
      if (c.after) {
        events.push({ type: "network", nwid: c.nwid, pushTo: ctl.onlineMembers(c.nwid, now) });
      } else events.push({ type: "networkDeleted", nwid: c.nwid });
    } else {
      const online = ctl.onlineMembers(c.nwid, now).includes(c.addr);
      if (c.before?.authorized === true && c.after?.authorized !== true) {
        events.push({
          type: "revocation",
          nwid: c.nwid,
          address: c.addr,
          revocation: ctl.revocationFor(c.nwid, c.addr, now),
          notify: ctl.onlineMembers(c.nwid, now),
        });
      }
      if (c.after) events.push({ type: "member", nwid: c.nwid, address: c.addr, online });
    }
    for (const e of events) resp.onControllerEvent(e);
  }

  /** Closes the store. */
  async close(): Promise<void> {
    await this.store.close();
  }
}
