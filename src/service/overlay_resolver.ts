// Userspace name resolution: names under a joined network's DNS domain are asked (A, then AAAA) of that network's DNS servers over the overlay, with a timeout and a bounded TTL cache; other names are refused, never passed to the host's resolver.
import { ipKey, parseIp } from "../netstack/ip_addr.ts";
import type { NetworkInfo } from "../vl2/network.ts";
import { wantedDns } from "./dns_apply.ts";
import {
  type AddressAnswer,
  decodeAddressAnswer,
  encodeAddressQuery,
  RCODE,
} from "./dns_message.ts";
import type { DnsEntry } from "./resolv_conf.ts";

/** A UDP socket into the overlay (OverlayUdp fits). */
export interface ResolverUdp {
  send(data: Uint8Array, host: string, port: number): boolean;
  receive(): Promise<[Uint8Array, Deno.NetAddr]>;
  close(): void;
}

/** Options of {@link OverlayResolver}. */
export interface OverlayResolverOptions {
  /** The DNS domains and servers of the joined networks (see {@link networkDomains}). */
  domains: () => DnsEntry[];
  /** Opens an overlay UDP socket on the network that reaches `towards`. */
  udp: (towards: string) => ResolverUdp;
  /** Clock (default Date.now). */
  now?: () => number;
  /** Random bytes for message ids (default crypto.getRandomValues). */
  random?: (n: number) => Uint8Array;
  /** Time allowed for one name, all servers and both types, ms (default 4000). */
  timeoutMs?: number;
  /** Time one query waits for its answer before the next try, ms (default 1000). */
  tryMs?: number;
  /** Most names cached (default 256; the oldest goes first). */
  cacheSize?: number;
  /** Longest time an answer is kept, s (default 300). */
  maxTtl?: number;
  /** Longest time a "no such name" is kept, s (default 30). */
  maxNegativeTtl?: number;
}

/** Why a name did not resolve. */
export type ResolveFailure = "outside" | "invalid" | "nxdomain" | "nodata" | "timeout" | "failed";

/** A name that did not resolve, with the reason. */
export class ResolveError extends Error {
  /** The reason. */
  readonly kind: ResolveFailure;
  constructor(kind: ResolveFailure, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** Counters of a resolver. */
export interface ResolverCounters {
  /** Queries sent. */
  queries: number;
  /** Names answered from the cache. */
  cacheHits: number;
  /** Names refused because no joined network's domain holds them. */
  refused: number;
  /** Queries that got no answer in time. */
  timeouts: number;
}

/** The DNS of each joined network the names feature may use (same rule as the kernel-TAP member: allowDNS set). */
export function networkDomains(infos: NetworkInfo[]): DnsEntry[] {
  return infos.flatMap((i) => {
    const e = wantedDns(i);
    return e && normalize(e.domain) ? [e] : [];
  });
}

const DNS_PORT = 53;
const NAME = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

function normalize(name: string): string | undefined {
  const n = name.trim().toLowerCase().replace(/\.$/, "");
  if (n === "" || n.length > 253) return undefined;
  return n.split(".").every((l) => NAME.test(l)) ? n : undefined;
}

interface CacheEntry {
  address: string | undefined;
  failure?: ResolveError;
  expires: number;
}

/** Resolves names under the joined networks' DNS domains through their servers in the overlay. */
export class OverlayResolver {
  /** Counters. */
  readonly counters: ResolverCounters = { queries: 0, cacheHits: 0, refused: 0, timeouts: 0 };
  readonly #o: OverlayResolverOptions;
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inFlight = new Map<string, Promise<string>>();

  constructor(o: OverlayResolverOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#random = o.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n)));
  }

  /** Cached names (for tests and status). */
  get cacheSize(): number {
    return this.#cache.size;
  }

  /** The network DNS whose domain holds `name` (the longest domain wins), if any. */
  domainFor(name: string): DnsEntry | undefined {
    const n = normalize(name);
    if (!n) return undefined;
    let best: DnsEntry | undefined;
    let bestLen = -1;
    for (const d of this.#o.domains()) {
      const dom = normalize(d.domain);
      if (!dom || d.servers.length === 0) continue;
      if ((n === dom || n.endsWith("." + dom)) && dom.length > bestLen) {
        best = d;
        bestLen = dom.length;
      }
    }
    return best;
  }

  /**
   * The overlay address of `name` (the first A record, else the first AAAA record).
   * @throws ResolveError naming the reason: outside every joined network's DNS domain (never
   * asked of the host's resolver), not a valid name, no such name, no address, no answer in
   * time.
   */
  resolve(name: string): Promise<string> {
    const n = normalize(name);
    if (!n) {
      return Promise.reject(new ResolveError("invalid", `"${name}" is not a valid host name`));
    }
    const now = this.#now();
    const hit = this.#cache.get(n);
    if (hit && hit.expires > now) {
      this.counters.cacheHits++;
      return hit.address ? Promise.resolve(hit.address) : Promise.reject(hit.failure);
    }
    if (hit) this.#cache.delete(n);
    const d = this.domainFor(n);
    if (!d) {
      this.counters.refused++;
      const doms = this.#o.domains().map((x) => x.domain).filter((x) => x);
      return Promise.reject(
        new ResolveError(
          "outside",
          `${n} is not under the DNS domain of a joined network with allowDNS set (${
            doms.length ? doms.join(", ") : "none"
          }); other names are not resolved (the host's resolver would bypass the overlay)`,
        ),
      );
    }
    let p = this.#inFlight.get(n);
    if (!p) {
      p = this.#lookup(n, d).finally(() => this.#inFlight.delete(n));
      this.#inFlight.set(n, p);
    }
    return p;
  }

  async #lookup(name: string, d: DnsEntry): Promise<string> {
    const deadline = this.#now() + (this.#o.timeoutMs ?? 4000);
    for (const type of ["A", "AAAA"] as const) {
      const a = await this.#ask(name, type, d.servers, deadline);
      if (a.rcode === RCODE.NXDOMAIN) {
        throw this.#remember(
          name,
          undefined,
          a.ttl,
          new ResolveError("nxdomain", `${name}: no such name (asked ${d.servers.join(", ")})`),
        );
      }
      if (a.rcode !== RCODE.NOERROR) {
        throw new ResolveError("failed", `${name}: the DNS server answered with rcode ${a.rcode}`);
      }
      if (a.addresses.length > 0) {
        this.#remember(name, a.addresses[0], a.ttl);
        return a.addresses[0];
      }
    }
    throw this.#remember(
      name,
      undefined,
      0,
      new ResolveError("nodata", `${name}: the name has no IPv4 or IPv6 address`),
    );
  }

  #remember(
    name: string,
    address: string | undefined,
    ttl: number,
    failure?: ResolveError,
  ): ResolveError | undefined {
    const cap = address ? this.#o.maxTtl ?? 300 : this.#o.maxNegativeTtl ?? 30;
    const keep = Math.min(Math.max(ttl, address ? 1 : 0), cap);
    if (keep > 0) {
      const max = Math.max(1, this.#o.cacheSize ?? 256);
      while (this.#cache.size >= max) {
        const oldest = this.#cache.keys().next().value;
        if (oldest === undefined) break;
        this.#cache.delete(oldest);
      }
      this.#cache.set(name, { address, failure, expires: this.#now() + keep * 1000 });
    }
    return failure;
  }

  /** Asks the servers in turn (one try each round) until one answers or the deadline passes. */
  async #ask(
    name: string,
    type: "A" | "AAAA",
    servers: string[],
    deadline: number,
  ): Promise<AddressAnswer> {
    const tryMs = this.#o.tryMs ?? 1000;
    let last = "no answer";
    for (let i = 0; this.#now() < deadline; i++) {
      const server = servers[i % servers.length];
      const left = deadline - this.#now();
      let sock: ResolverUdp;
      try {
        sock = this.#o.udp(server);
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
        if (i + 1 >= servers.length) break; // no server reachable at all
        continue;
      }
      try {
        const r = await this.#once(sock, server, name, type, Math.min(tryMs, left));
        if (r) return r;
        this.counters.timeouts++;
        last = `no answer from ${servers.join(", ")}`;
      } finally {
        sock.close();
      }
    }
    throw new ResolveError("timeout", `${name}: ${last} (${type} query over the overlay)`);
  }

  /** One query on `sock`; the answer, or undefined after `ms`. */
  async #once(
    sock: ResolverUdp,
    server: string,
    name: string,
    type: "A" | "AAAA",
    ms: number,
  ): Promise<AddressAnswer | undefined> {
    const sip = parseIp(server);
    const serverKey = sip ? ipKey(sip) : server;
    const rb = this.#random(2);
    const id = (rb[0] << 8) | rb[1];
    this.counters.queries++;
    try {
      if (!sock.send(encodeAddressQuery(id, name, type), server, DNS_PORT)) return undefined;
    } catch {
      return undefined; // not an IP, or the port went away: counts as no answer
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
    try {
      for (;;) {
        const got = await Promise.race([sock.receive().catch(() => undefined), expired]);
        if (!got) return undefined;
        const [data, from] = got;
        const fromIp = parseIp(from.hostname);
        if (from.port !== DNS_PORT || !fromIp || ipKey(fromIp) !== serverKey) continue;
        const a = decodeAddressAnswer(data, id, name, type);
        if (a) return a;
      }
    } finally {
      clearTimeout(timer);
    }
  }
}
