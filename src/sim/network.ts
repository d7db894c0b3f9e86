// The simulated internet: realms (address spaces), hosts, UDP sockets and datagram delivery.
import { addrKey, isIp, type SimAddr } from "./address.ts";
import type { Clock } from "./clock.ts";
import { Link, type LinkOptions } from "./link.ts";
import type { Random } from "./random.ts";

/** Default IP TTL of datagrams sent without an explicit ttl. */
export const DEFAULT_TTL = 64;

/** A datagram in flight. `bytes` is owned by the simulator (copied on send). */
export interface Datagram {
  readonly src: SimAddr;
  readonly dst: SimAddr;
  /** Remaining IP TTL; each NAT/router that forwards it decrements it, and drops it at 0. */
  readonly ttl: number;
  readonly bytes: Uint8Array;
}

/** Why a datagram was dropped (keys of {@link SimStats.dropped}). */
export type DropReason =
  | "loss"
  | "link-down"
  | "ttl"
  | "no-route"
  | "nat-no-mapping"
  | "nat-filtered"
  | "nat-ports-exhausted"
  | "no-socket"
  | "no-handler";

/** Whole-simulation datagram counters. */
export interface SimStats {
  /** Datagrams handed to `UdpSocket.send`. */
  sent: number;
  /** Datagrams handed to a receive callback (duplicates count twice). */
  delivered: number;
  /** Extra copies created by link duplication. */
  duplicated: number;
  /** Drops by reason. */
  dropped: Record<DropReason, number>;
}

/** Per-host counters (host-level, before loss on the way out; after delivery on the way in). */
export interface TrafficStats {
  txPackets: number;
  txBytes: number;
  rxPackets: number;
  rxBytes: number;
}

/** One observable step of a datagram, for debugging and assertions via `Network.trace`. */
export interface TraceEvent {
  /** Virtual time in ms. */
  t: number;
  kind: "send" | "deliver" | "drop" | "nat-out" | "nat-in";
  /** Name of the host or NAT where it happened. */
  at: string;
  src: SimAddr;
  dst: SimAddr;
  ttl: number;
  size: number;
  reason?: DropReason;
}

/** Something with addresses in a realm, reached across its own link (a host, or a NAT's outside). */
export interface Attachment {
  readonly name: string;
  readonly link: Link;
  /** A datagram addressed to one of its IPs in `realm` has crossed its link. */
  arrive(d: Datagram, realm: Realm): void;
}

/** The way out of a private realm (a NAT's inside interface). */
export interface Gateway {
  readonly name: string;
  /** A datagram from inside for an IP not in the inside realm. */
  forwardOut(d: Datagram): void;
}

/** Delivery engine shared by all realms: timing, randomness, counters and tracing. */
export class Network {
  readonly clock: Clock;
  /** Stream used for loss, jitter, duplicates and NAT port choice. */
  readonly random: Random;
  readonly stats: SimStats = {
    sent: 0,
    delivered: 0,
    duplicated: 0,
    dropped: {
      "loss": 0,
      "link-down": 0,
      "ttl": 0,
      "no-route": 0,
      "nat-no-mapping": 0,
      "nat-filtered": 0,
      "nat-ports-exhausted": 0,
      "no-socket": 0,
      "no-handler": 0,
    },
  };
  /** Optional observer of every send, delivery, drop and NAT translation. */
  trace?: (e: TraceEvent) => void;
  #nextSocketId = 1;

  constructor(clock: Clock, random: Random) {
    this.clock = clock;
    this.random = random;
  }

  /** @internal A new simulation-wide socket id. */
  socketId(): number {
    return this.#nextSocketId++;
  }

  /** Reports a trace event (no-op when nobody listens). */
  note(kind: TraceEvent["kind"], at: string, d: Datagram, reason?: DropReason): void {
    if (!this.trace) return;
    const e: TraceEvent = {
      t: this.clock.now,
      kind,
      at,
      src: d.src,
      dst: d.dst,
      ttl: d.ttl,
      size: d.bytes.length,
    };
    if (reason) e.reason = reason;
    this.trace(e);
  }

  /** Counts and traces a drop. */
  drop(d: Datagram, reason: DropReason, at: string): void {
    this.stats.dropped[reason]++;
    this.note("drop", at, d, reason);
  }

  /**
   * Carries `d` across `link` (loss, delay = latency + jitter rounded to whole ms, maybe a
   * duplicate) and then calls `next`. A cut at entry or during flight loses it.
   */
  cross(link: Link, d: Datagram, at: string, next: (d: Datagram) => void): void {
    if (!link.up) return this.drop(d, "link-down", at);
    if (this.random.chance(link.loss)) return this.drop(d, "loss", at);
    const launch = (dg: Datagram) => {
      const delay = Math.round(
        link.latencyMs + (link.jitterMs > 0 ? this.random.next() * link.jitterMs : 0),
      );
      const epoch = link.epoch;
      this.clock.after(delay, () => {
        if (!link.up || link.epoch !== epoch) return this.drop(dg, "link-down", at);
        next(dg);
      });
    };
    launch(d);
    if (this.random.chance(link.duplicate)) {
      this.stats.duplicated++;
      launch({ ...d, bytes: d.bytes.slice() });
    }
  }

  /** Delivers `d` within `realm`: to the attachment owning `d.dst.ip`, else out the gateway. */
  route(realm: Realm, d: Datagram): void {
    const att = realm.lookup(d.dst.ip);
    if (att) {
      this.cross(att.link, d, att.name, (dg) => {
        if (realm.lookup(dg.dst.ip) !== att) return this.drop(dg, "no-route", att.name);
        att.arrive(dg, realm);
      });
    } else if (realm.gateway) {
      realm.gateway.forwardOut(d);
    } else {
      this.drop(d, "no-route", realm.name);
    }
  }
}

/** Options for a new host. */
export interface HostOptions {
  /** Label for traces (default: its first IP). */
  name?: string;
  /** Its access link (defaults come from the realm: 5 ms on the internet, 1 ms behind a NAT). */
  link?: LinkOptions;
}

/**
 * An address space: the public internet, or the private side of a NAT. Each IP belongs to at most
 * one attachment; datagrams for IPs not present leave through the gateway (if any).
 */
export class Realm {
  readonly net: Network;
  readonly name: string;
  /** Where traffic for foreign IPs goes (undefined for the internet itself). */
  readonly gateway?: Gateway;
  /** Link settings for attachments created without their own. */
  readonly defaultLink: LinkOptions;
  #members = new Map<string, Attachment>();

  constructor(net: Network, name: string, defaultLink: LinkOptions, gateway?: Gateway) {
    this.net = net;
    this.name = name;
    this.defaultLink = defaultLink;
    this.gateway = gateway;
  }

  /** Creates a host owning `ips` (one or more) in this realm. */
  host(ips: string | string[], opts: HostOptions = {}): Host {
    return new Host(this, typeof ips === "string" ? [ips] : ips, opts);
  }

  /** The attachment owning `ip` here, if any. */
  lookup(ip: string): Attachment | undefined {
    return this.#members.get(ip);
  }

  /** Claims `ip` for `att`; throws if it is malformed or taken by someone else. */
  attach(ip: string, att: Attachment): void {
    if (!isIp(ip)) throw new Error(`sim: "${ip}" is not an IP address`);
    const cur = this.#members.get(ip);
    if (cur && cur !== att) {
      throw new Error(`sim: ${ip} already in use in ${this.name} by ${cur.name}`);
    }
    this.#members.set(ip, att);
  }

  /** Releases `ip` if `att` owns it. */
  detach(ip: string, att: Attachment): void {
    if (this.#members.get(ip) === att) this.#members.delete(ip);
  }

  /** IPs in use in this realm. */
  ips(): string[] {
    return [...this.#members.keys()];
  }
}

/** Callback for received datagrams: sender as seen here, payload (owned by the callee), local port and IP. */
export type ReceiveHandler = (
  src: SimAddr,
  bytes: Uint8Array,
  localPort: number,
  localIp: string,
) => void;

/** A machine with one or more IPs in one realm, one access link and UDP sockets. */
export class Host implements Attachment {
  readonly net: Network;
  readonly name: string;
  readonly link: Link;
  readonly stats: TrafficStats = { txPackets: 0, txBytes: 0, rxPackets: 0, rxBytes: 0 };
  #realm: Realm;
  #ips: string[] = [];
  #sockets = new Map<number, UdpSocket[]>();
  #nextEphemeral = 49152;

  constructor(realm: Realm, ips: string[], opts: HostOptions = {}) {
    if (ips.length === 0) throw new Error("sim: a host needs at least one IP");
    this.net = realm.net;
    this.#realm = realm;
    this.name = opts.name ?? ips[0];
    this.link = new Link(opts.link, realm.defaultLink);
    this.#claim(realm, ips);
  }

  /** The realm (internet or NAT inside) the host is attached to. */
  get realm(): Realm {
    return this.#realm;
  }

  /** All its IPs; the first is the default source address. */
  get ips(): readonly string[] {
    return this.#ips;
  }

  /** Its primary (first) IP. */
  get ip(): string {
    return this.#ips[0];
  }

  /**
   * Opens a UDP socket on `port` (0 = next free ephemeral port from 49152), on all of the host's
   * IPs or only on `ip`. Throws if the port is taken.
   */
  bind(port = 0, ip?: string): UdpSocket {
    if (ip !== undefined && !this.#ips.includes(ip)) {
      throw new Error(`sim: ${this.name} has no IP ${ip}`);
    }
    if (port === 0) {
      for (let i = 0; i < 16384 && port === 0; i++) {
        const p = this.#nextEphemeral;
        this.#nextEphemeral = p >= 65535 ? 49152 : p + 1;
        if (!this.#sockets.get(p)?.length) port = p;
      }
      if (port === 0) throw new Error(`sim: ${this.name} has no free ephemeral port`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(`sim: bad port ${port}`);
    }
    const list = this.#sockets.get(port) ?? [];
    if (list.some((s) => s.boundIp === undefined || ip === undefined || s.boundIp === ip)) {
      throw new Error(`sim: ${this.name} port ${port} already bound`);
    }
    const s = new UdpSocket(this, port, ip);
    list.push(s);
    this.#sockets.set(port, list);
    return s;
  }

  /** Open sockets. */
  sockets(): UdpSocket[] {
    return [...this.#sockets.values()].flat();
  }

  /**
   * Changes the host's IPs and optionally moves it to another realm (e.g. `nat.inside`), as when a
   * laptop changes networks. Sockets stay open; datagrams in flight to old IPs are lost.
   */
  move(ips: string | string[], realm: Realm = this.#realm): void {
    const list = typeof ips === "string" ? [ips] : ips;
    if (list.length === 0) throw new Error("sim: a host needs at least one IP");
    for (const ip of list) {
      const cur = realm.lookup(ip);
      if (cur && cur !== this) {
        throw new Error(`sim: ${ip} already in use in ${realm.name} by ${cur.name}`);
      }
    }
    for (const ip of this.#ips) this.#realm.detach(ip, this);
    this.#realm = realm;
    this.#ips = [];
    this.#claim(realm, list);
  }

  #claim(realm: Realm, ips: string[]): void {
    for (const ip of ips) realm.attach(ip, this);
    this.#ips = [...ips];
  }

  /** @internal Socket send path. */
  transmit(sock: UdpSocket, dst: SimAddr, bytes: Uint8Array, ttl: number): void {
    const d: Datagram = {
      src: { ip: sock.boundIp ?? this.ip, port: sock.port },
      dst: { ip: dst.ip, port: dst.port },
      ttl,
      bytes: bytes.slice(),
    };
    this.net.stats.sent++;
    this.stats.txPackets++;
    this.stats.txBytes += d.bytes.length;
    this.net.note("send", this.name, d);
    if (!this.#ips.includes(d.src.ip)) return this.net.drop(d, "no-route", this.name);
    if (!(ttl >= 1)) return this.net.drop(d, "ttl", this.name);
    const realm = this.#realm;
    this.net.cross(this.link, d, this.name, (dg) => this.net.route(realm, dg));
  }

  /** A datagram for one of our IPs crossed our link: hand it to the matching socket. */
  arrive(d: Datagram, realm: Realm): void {
    if (realm !== this.#realm || !this.#ips.includes(d.dst.ip)) {
      return this.net.drop(d, "no-route", this.name);
    }
    const list = this.#sockets.get(d.dst.port);
    const sock = list?.find((s) => s.boundIp === d.dst.ip) ??
      list?.find((s) => s.boundIp === undefined);
    if (!sock) return this.net.drop(d, "no-socket", this.name);
    const h = sock.handler;
    if (!h) return this.net.drop(d, "no-handler", this.name);
    this.net.stats.delivered++;
    this.stats.rxPackets++;
    this.stats.rxBytes += d.bytes.length;
    this.net.note("deliver", this.name, d);
    h(d.src, d.bytes, d.dst.port, d.dst.ip);
  }

  /** @internal Called by `UdpSocket.close`. */
  unbind(sock: UdpSocket): void {
    const list = this.#sockets.get(sock.port);
    if (!list) return;
    const rest = list.filter((s) => s !== sock);
    if (rest.length) this.#sockets.set(sock.port, rest);
    else this.#sockets.delete(sock.port);
  }

  /** Text like `name(ip)` for messages. */
  toString(): string {
    return `${this.name}(${this.#ips.join(",")})`;
  }
}

/** A UDP socket on a simulated host. */
export class UdpSocket {
  /** Small positive integer unique within the simulation (usable as the node's local socket id). */
  readonly id: number;
  readonly host: Host;
  readonly port: number;
  /** Set when bound to one IP only; otherwise it receives on all host IPs and sends from the first. */
  readonly boundIp?: string;
  #handler?: ReceiveHandler;
  #closed = false;

  constructor(host: Host, port: number, boundIp?: string) {
    this.id = host.net.socketId();
    this.host = host;
    this.port = port;
    this.boundIp = boundIp;
  }

  /** The local address datagrams are sent from (as seen before any NAT). */
  get local(): SimAddr {
    return { ip: this.boundIp ?? this.host.ip, port: this.port };
  }

  /** Text form of {@link local}. */
  get key(): string {
    return addrKey(this.local);
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal The current receive callback. */
  get handler(): ReceiveHandler | undefined {
    return this.#closed ? undefined : this.#handler;
  }

  /**
   * Sends a copy of `bytes` to `dst` with IP TTL `ttl` (default 64). Returns false only if the
   * socket is closed; loss, cuts and filtering are silent, as with real UDP.
   */
  send(dst: SimAddr, bytes: Uint8Array, ttl: number = DEFAULT_TTL): boolean {
    if (this.#closed) return false;
    this.host.transmit(this, dst, bytes, ttl);
    return true;
  }

  /** Sets (or with undefined, clears) the single receive callback; datagrams with none are dropped. */
  onReceive(cb: ReceiveHandler | undefined): void {
    this.#handler = cb;
  }

  /** Closes the socket and frees its port. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.host.unbind(this);
  }
}
