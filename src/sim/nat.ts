// NAT box for the simulator: a private realm behind one public IP, with cone/symmetric mapping and filtering.
import { addrKey, type SimAddr } from "./address.ts";
import { Link, type LinkOptions } from "./link.ts";
import {
  type Attachment,
  type Datagram,
  type Gateway,
  type Host,
  type HostOptions,
  type Network,
  Realm,
} from "./network.ts";

/**
 * NAT behaviour (RFC 3489 names):
 * - `full-cone`: one external port per internal ip:port; anyone may send to it.
 * - `address-restricted-cone`: same mapping; only IPs the inside host has sent to may send in (any port).
 * - `port-restricted-cone`: same mapping; only ip:port pairs the inside host has sent to may send in.
 * - `symmetric`: a new external port per (internal ip:port, destination ip:port); only that
 *   destination may send in on it.
 */
export type NatType =
  | "full-cone"
  | "address-restricted-cone"
  | "port-restricted-cone"
  | "symmetric";

/** How a NAT picks external ports for new mappings. */
export type PortAllocation = "random" | "sequential" | "preserve";

/** Options for a NAT box. */
export interface NatOptions {
  /** Label for traces (default `nat <public ip>`). */
  name?: string;
  /** Its uplink in the outer realm (default: the outer realm's default link). */
  link?: LinkOptions;
  /** Default link for hosts created behind it (default 1 ms latency). */
  lanLink?: LinkOptions;
  /** Idle time after which a mapping (and each filter permission) expires; default 60,000 ms. */
  mappingTimeoutMs?: number;
  /**
   * `random` (default; unpredictable), `sequential` (next free port: predictable), or
   * `preserve` (internal port if free, else random).
   */
  portAllocation?: PortAllocation;
  /** Inclusive external port range, default [1024, 65535]. */
  portRange?: [number, number];
  /** Whether inside hosts can reach each other through the public address (default false). */
  hairpin?: boolean;
  /** Whether accepted inbound datagrams refresh the mapping's idle timer (default true). */
  inboundRefresh?: boolean;
}

/** Options for {@link Nat.rebind}. */
export interface RebindOptions {
  /** New public IP (default: keep the current one). */
  ip?: string;
  /** Keep existing mappings (default false: all are dropped, as on a NAT reboot). */
  keepMappings?: boolean;
}

/** A snapshot of one NAT mapping. */
export interface NatMapping {
  internal: SimAddr;
  external: SimAddr;
  /** The only peer allowed in (symmetric NATs). */
  remote?: SimAddr;
  /** Virtual time the mapping was last used. */
  lastUsedMs: number;
  /** Peers allowed in: `ip` (address-restricted) or `ip/port` (port-restricted, symmetric) keys. */
  permits: string[];
}

/** NAT counters. */
export interface NatStats {
  /** Datagrams translated outbound. */
  outbound: number;
  /** Datagrams translated inbound. */
  inbound: number;
  /** Mappings created since the start. */
  mappingsCreated: number;
  /** Inbound datagrams refused (no mapping or filtered). */
  refused: number;
}

interface Mapping {
  key: string;
  internal: SimAddr;
  extPort: number;
  remote?: SimAddr;
  last: number;
  permits: Map<string, number>;
}

/**
 * A NAT box: attached to an outer realm with one public IP across its own link, and gateway of an
 * inside realm of private hosts. Forwarding through it decrements the IP TTL (a datagram arriving
 * with TTL 1 is dropped, before any mapping is made), so a TTL-2 datagram leaves its own NAT,
 * creating the mapping, but dies at the next NAT. NATs can be nested (`nat.nat(...)`).
 */
export class Nat implements Attachment, Gateway {
  readonly net: Network;
  readonly type: NatType;
  readonly name: string;
  /** Uplink in the outer realm. */
  readonly link: Link;
  /** Realm the public IP lives in. */
  readonly outer: Realm;
  /** The private realm behind this NAT. */
  readonly inside: Realm;
  readonly stats: NatStats = { outbound: 0, inbound: 0, mappingsCreated: 0, refused: 0 };
  /** Idle expiry for mappings and permits, ms. */
  mappingTimeoutMs: number;
  /** See {@link NatOptions.hairpin}. */
  hairpin: boolean;
  /** See {@link NatOptions.inboundRefresh}. */
  inboundRefresh: boolean;
  readonly portAllocation: PortAllocation;
  readonly portRange: readonly [number, number];
  #ip: string;
  #byInternal = new Map<string, Mapping>();
  #byExternal = new Map<number, Mapping>();
  #nextPort: number;
  #sweepAt = 256;

  constructor(outer: Realm, publicIp: string, type: NatType, opts: NatOptions = {}) {
    this.net = outer.net;
    this.outer = outer;
    this.type = type;
    this.name = opts.name ?? `nat ${publicIp}`;
    this.link = new Link(opts.link, outer.defaultLink);
    this.mappingTimeoutMs = opts.mappingTimeoutMs ?? 60_000;
    this.hairpin = opts.hairpin ?? false;
    this.inboundRefresh = opts.inboundRefresh ?? true;
    this.portAllocation = opts.portAllocation ?? "random";
    const [lo, hi] = opts.portRange ?? [1024, 65535];
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi <= 65535 && lo <= hi)) {
      throw new RangeError(`sim: bad NAT port range ${lo}-${hi}`);
    }
    this.portRange = [lo, hi];
    this.#nextPort = lo;
    this.inside = new Realm(
      this.net,
      `inside ${this.name}`,
      opts.lanLink ?? { latencyMs: 1 },
      this,
    );
    outer.attach(publicIp, this);
    this.#ip = publicIp;
  }

  /** Current public IP. */
  get ip(): string {
    return this.#ip;
  }

  /** Creates a host behind this NAT (private IPs, e.g. `10.0.0.2`). */
  host(ips: string | string[], opts?: HostOptions): Host {
    return this.inside.host(ips, opts);
  }

  /** Creates a NAT nested behind this one (its "public" IP is private here). */
  nat(publicIp: string, type: NatType, opts?: NatOptions): Nat {
    return new Nat(this.inside, publicIp, type, opts);
  }

  /**
   * Simulates a NAT reboot or ISP address change: drops all mappings (unless `keepMappings`) and
   * optionally moves to a new public IP. Datagrams in flight to the old IP are lost.
   */
  rebind(opts: RebindOptions = {}): void {
    if (opts.ip !== undefined && opts.ip !== this.#ip) {
      this.outer.attach(opts.ip, this);
      this.outer.detach(this.#ip, this);
      this.#ip = opts.ip;
    }
    if (!opts.keepMappings) {
      this.#byInternal.clear();
      this.#byExternal.clear();
    }
  }

  /** Live (unexpired) mappings. */
  mappings(): NatMapping[] {
    this.#sweep();
    return [...this.#byExternal.values()].map((m) => ({
      internal: m.internal,
      external: { ip: this.#ip, port: m.extPort },
      ...(m.remote ? { remote: m.remote } : {}),
      lastUsedMs: m.last,
      permits: [...m.permits.keys()],
    }));
  }

  /**
   * The public address currently used for `internal` (for a symmetric NAT: toward `remote`, which
   * is then required), or undefined when there is no live mapping.
   */
  mappingFor(internal: SimAddr, remote?: SimAddr): SimAddr | undefined {
    const m = this.#live(this.#mapKey(internal, remote));
    return m ? { ip: this.#ip, port: m.extPort } : undefined;
  }

  /** @internal Outbound: a datagram from inside for an outside IP. */
  forwardOut(d: Datagram): void {
    const net = this.net;
    if (d.ttl <= 1) return net.drop(d, "ttl", this.name);
    const key = this.#mapKey(d.src, d.dst);
    let m = this.#live(key);
    const now = net.clock.now;
    if (!m) {
      const port = this.#allocate(d.src.port);
      if (port === undefined) return net.drop(d, "nat-ports-exhausted", this.name);
      m = { key, internal: d.src, extPort: port, last: now, permits: new Map() };
      if (this.type === "symmetric") m.remote = d.dst;
      this.#byInternal.set(key, m);
      this.#byExternal.set(port, m);
      this.stats.mappingsCreated++;
    }
    m.last = now;
    const permit = this.#permitKey(d.dst);
    if (permit !== undefined) m.permits.set(permit, now);
    const out: Datagram = {
      src: { ip: this.#ip, port: m.extPort },
      dst: d.dst,
      ttl: d.ttl - 1,
      bytes: d.bytes,
    };
    this.stats.outbound++;
    net.note("nat-out", this.name, out);
    if (d.dst.ip === this.#ip) {
      if (!this.hairpin) return net.drop(out, "no-route", this.name);
      return this.#inbound(out, false);
    }
    const outer = this.outer;
    net.cross(this.link, out, this.name, (dg) => net.route(outer, dg));
  }

  /** @internal Inbound: a datagram for our public IP crossed our uplink. */
  arrive(d: Datagram, realm: Realm): void {
    if (realm !== this.outer || d.dst.ip !== this.#ip) {
      return this.net.drop(d, "no-route", this.name);
    }
    this.#inbound(d, true);
  }

  #inbound(d: Datagram, decrement: boolean): void {
    const net = this.net;
    if (decrement && d.ttl <= 1) return net.drop(d, "ttl", this.name);
    const m = this.#liveByPort(d.dst.port);
    if (!m) {
      this.stats.refused++;
      return net.drop(d, "nat-no-mapping", this.name);
    }
    const permit = this.#permitKey(d.src);
    const now = net.clock.now;
    if (permit !== undefined) {
      const t = m.permits.get(permit);
      if (t === undefined || now - t > this.mappingTimeoutMs) {
        this.stats.refused++;
        return net.drop(d, "nat-filtered", this.name);
      }
      if (this.inboundRefresh) m.permits.set(permit, now);
    }
    if (this.inboundRefresh) m.last = now;
    const inn: Datagram = {
      src: d.src,
      dst: m.internal,
      ttl: decrement ? d.ttl - 1 : d.ttl,
      bytes: d.bytes,
    };
    this.stats.inbound++;
    net.note("nat-in", this.name, inn);
    net.route(this.inside, inn);
  }

  #mapKey(internal: SimAddr, remote?: SimAddr): string {
    if (this.type !== "symmetric") return addrKey(internal);
    if (!remote) throw new Error("sim: a symmetric NAT mapping is per destination; pass `remote`");
    return `${addrKey(internal)}>${addrKey(remote)}`;
  }

  #permitKey(peer: SimAddr): string | undefined {
    switch (this.type) {
      case "full-cone":
        return undefined;
      case "address-restricted-cone":
        return peer.ip;
      default:
        return addrKey(peer);
    }
  }

  #expired(m: Mapping): boolean {
    return this.net.clock.now - m.last > this.mappingTimeoutMs;
  }

  #remove(m: Mapping): void {
    this.#byInternal.delete(m.key);
    if (this.#byExternal.get(m.extPort) === m) this.#byExternal.delete(m.extPort);
  }

  #live(key: string): Mapping | undefined {
    const m = this.#byInternal.get(key);
    if (m && this.#expired(m)) {
      this.#remove(m);
      return undefined;
    }
    return m;
  }

  #liveByPort(port: number): Mapping | undefined {
    const m = this.#byExternal.get(port);
    if (m && this.#expired(m)) {
      this.#remove(m);
      return undefined;
    }
    return m;
  }

  #sweep(): void {
    for (const m of [...this.#byExternal.values()]) if (this.#expired(m)) this.#remove(m);
  }

  #free(port: number): boolean {
    return this.#liveByPort(port) === undefined;
  }

  #allocate(internalPort: number): number | undefined {
    if (this.#byExternal.size >= this.#sweepAt) {
      this.#sweep();
      this.#sweepAt = Math.max(256, 2 * this.#byExternal.size);
    }
    const [lo, hi] = this.portRange;
    const span = hi - lo + 1;
    const rnd = this.net.random;
    if (
      this.portAllocation === "preserve" && internalPort >= lo && internalPort <= hi &&
      this.#free(internalPort)
    ) {
      return internalPort;
    }
    let start: number;
    if (this.portAllocation === "sequential") {
      start = this.#nextPort;
    } else {
      for (let i = 0; i < 32; i++) {
        const p = lo + rnd.int(span);
        if (this.#free(p)) return p;
      }
      start = lo + rnd.int(span);
    }
    for (let i = 0; i < span; i++) {
      const p = lo + ((start - lo + i) % span);
      if (this.#free(p)) {
        if (this.portAllocation === "sequential") this.#nextPort = p === hi ? lo : p + 1;
        return p;
      }
    }
    return undefined;
  }
}
