// Wires a PostgreSQL-backed controller into the service: start-up retry, replies after commit, pushes.
import type { Controller, ControllerEvent } from "../../controller/controller.ts";
import type { ControllerResponder, ResponderNode } from "../../controller/responder.ts";
import { Verb } from "../../vl1/packet.ts";
import type { UpperLayer } from "../../vl1/node.ts";
import { encodeNetworkConfigRequest } from "../../vl1/verbs/network_config.ts";
import { toHex } from "../../util/hex.ts";
import { Address } from "../../vl1/address.ts";
import { Identity } from "../../vl1/identity.ts";
import {
  defaultConfigRequestMetadata,
  encodeConfigRequestMetadata,
} from "../../vl2/config_request_metadata.ts";
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

/** How often orphaned members are looked for (ms). */
const TAKEOVER_MS = 5000;
/** Spacing of pushes to one taken-over member that has not asked us yet (ms). */
const TAKEOVER_PUSH_MS = 20_000;
/** Most taken-over members tracked at once. */
const TAKEOVER_MAX = 10_000;

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
  /** Taken-over members (`nwid/addr`) → time of our last push to them. */
  #claimed = new Map<string, number>();
  #takeoverTimer: ReturnType<typeof setInterval> | undefined;
  #takingOver = false;

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
    this.#takeoverTimer ??= setInterval(() => this.takeover(), TAKEOVER_MS);
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
    // the network ID is the payload's first 8 bytes (the responder has parsed the rest; a
    // second full decode here copied the metadata for nothing, on every request)
    if (payload.length < 8) return;
    const nwid = toHex(payload, 0, 8);
    this.#claimed.delete(`${nwid}/${addr}`); // it reaches us: no more takeover pushes
    const s = ctl.memberStatus(nwid, addr);
    if (!s || !this.store.hasMember(nwid, addr)) return;
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
      const online = ctl.isOnline(c.nwid, c.addr, now);
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

  /**
   * Contacts members whose instance died (see {@link PgStore.claimOrphans}): each gets its
   * config pushed (NETWORK_CONFIG, through the roots if we have no path to it yet) every 20 s
   * until it sends us a request. A member whose direct path still points at the dead instance
   * is configured this way, and the traffic teaches it a path to us.
   */
  async takeover(): Promise<number> {
    const ctl = this.#controller;
    const resp = this.#responder;
    const node = this.#node;
    if (!ctl || !resp || !node || this.#takingOver) return 0;
    this.#takingOver = true;
    let pushed = 0;
    try {
      for (const o of await this.store.claimOrphans()) {
        if (this.#claimed.size >= TAKEOVER_MAX) break;
        if (!this.#claimed.has(`${o.nwid}/${o.addr}`)) this.#claimed.set(`${o.nwid}/${o.addr}`, 0);
      }
      const now = ctl.now();
      for (const [k, last] of this.#claimed) {
        if (now - last < TAKEOVER_PUSH_MS) continue;
        const [nwid, addr] = k.split("/");
        const m = ctl.store.getMember(nwid, addr);
        const id = typeof m?.identity === "string" ? Identity.fromString(m.identity) : undefined;
        const dest = Address.parse(addr);
        if (!m || m.authorized !== true || !id || !dest || last && now - last > 600_000) {
          this.#claimed.delete(k);
          continue;
        }
        const payload = encodeNetworkConfigRequest({
          networkId: BigInt("0x" + nwid),
          metadata: encodeConfigRequestMetadata(defaultConfigRequestMetadata()),
        });
        const a = resp.answer(now, id, payload, undefined);
        this.#claimed.set(k, now);
        if (a.kind !== "config") continue;
        for (const c of a.chunks) {
          node.sendPacket(now, dest, Verb.NETWORK_CONFIG, c, { compress: true });
        }
        pushed++;
      }
    } catch {
      // database gone: the next round tries again
    } finally {
      this.#takingOver = false;
    }
    return pushed;
  }

  /** Closes the store. */
  async close(): Promise<void> {
    if (this.#takeoverTimer !== undefined) clearInterval(this.#takeoverTimer);
    await this.store.close();
  }
}
