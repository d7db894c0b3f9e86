// The controller node's name server: which of its overlay addresses serve DNS for which of its networks, zones kept fresh.
import { buildZone, type Zone } from "../controller/dns_zone.ts";
import type { Controller } from "../controller/controller.ts";
import { isJsonObject } from "../util/json.ts";
import { InetAddress } from "../vl1/inet_address.ts";
import type { NetworkInfo } from "../vl2/network.ts";
import { DnsServer, type DnsServerOptions } from "./dns_server.ts";
import type { Logger } from "./logger.ts";

/** Longest a zone is reused before it is rebuilt from the records (ms): renames show within it. */
export const ZONE_MAX_AGE_MS = 1000;
/** How often bindings are re-checked (addresses appear on the interface after the config). */
export const RECONCILE_MS = 1000;

/** A bind failing this long (ms) is logged as a warning. */
const BIND_WARN_MS = 10_000;

/** Options of {@link MemberNameServer}. */
export interface MemberNameServerOptions {
  /** The embedded controller. */
  controller: Controller;
  /** Networks this node has joined, as snapshots. */
  networks: () => NetworkInfo[];
  /** Logger. */
  log: Logger;
  /** Clock (ms). */
  now: () => number;
  /** DNS port (default 53) and TCP bounds, for tests. */
  server?: Omit<DnsServerOptions, "zones" | "onError">;
}

function hex16(n: bigint): string {
  return n.toString(16).padStart(16, "0");
}

/** Canonical IP text, or undefined. */
function ipText(s: unknown): string | undefined {
  return typeof s === "string" ? InetAddress.fromIp(s)?.toIpString() : undefined;
}

/**
 * The addresses where this node should answer for its network `info`: the overlay addresses it
 * was assigned there that the controller's record lists in `dns.servers` (empty unless `nwid` is
 * one of our controller's networks with a DNS domain).
 */
export function nameServerAddresses(controller: Controller, info: NetworkInfo): string[] {
  const rec = controller.getNetwork(hex16(info.nwid));
  if (!rec || !isJsonObject(rec.dns) || typeof rec.dns.domain !== "string" || !rec.dns.domain) {
    return [];
  }
  const servers = new Set(
    (Array.isArray(rec.dns.servers) ? rec.dns.servers : []).map(ipText).filter((s) => s),
  );
  return info.assignedAddresses.map((a) => a.toIpString()).filter((ip) => servers.has(ip));
}

/**
 * Runs DNS for member names inside the controller node: whenever the node is a member of one of
 * its own networks and its overlay address there is in the network's `dns.servers`, it answers
 * on that address (UDP and TCP, port 53) from a zone built from the controller's records
 * ({@link buildZone}). Zones are rebuilt after any controller change and at least every
 * {@link ZONE_MAX_AGE_MS}; bindings are re-checked on network changes and every
 * {@link RECONCILE_MS} (the address shows up on the interface a moment after the config).
 */
export class MemberNameServer {
  /** The listener. */
  readonly server: DnsServer;
  readonly #o: MemberNameServerOptions;
  readonly #zones = new Map<string, { zone: Zone; at: number }>();
  /** Bound address → network ID. */
  readonly #bound = new Map<string, string>();
  /** Bind failures per address: the last error (logged once) and since when (warned once). */
  readonly #failed = new Map<string, { msg: string; since: number; warned: boolean }>();
  readonly #unsubscribe: () => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy: Promise<void> | undefined;
  #again = false;
  #closed = false;

  /** Starts watching; binds as soon as there is something to serve. */
  constructor(o: MemberNameServerOptions) {
    this.#o = o;
    this.server = new DnsServer({
      ...o.server,
      zones: (ip) => {
        const nwid = this.#bound.get(ip);
        const z = nwid !== undefined ? this.zone(nwid) : undefined;
        return z ? [z] : [];
      },
      onError: (m) => o.log.debug(m),
    });
    this.#unsubscribe = o.controller.onChange((e) => {
      this.#zones.delete(e.nwid);
      this.reconcile();
    });
    this.#timer = setInterval(() => this.reconcile(), RECONCILE_MS);
    this.reconcile();
  }

  /** The current zone of network `nwid` (16 hex), rebuilt when stale; undefined if unknown. */
  zone(nwid: string): Zone | undefined {
    const now = this.#o.now();
    const c = this.#zones.get(nwid);
    if (c && now - c.at >= 0 && now - c.at < ZONE_MAX_AGE_MS) return c.zone;
    const rec = this.#o.controller.getNetwork(nwid);
    const members = this.#o.controller.listMembers(nwid);
    if (!rec || !members) {
      this.#zones.delete(nwid);
      return undefined;
    }
    const zone = buildZone(rec, members);
    this.#zones.set(nwid, { zone, at: now });
    return zone;
  }

  /** Addresses served now → network ID. */
  bindings(): Map<string, string> {
    return new Map(this.#bound);
  }

  /** Re-checks what to serve (call on network changes); runs one pass at a time. */
  reconcile(): void {
    if (this.#closed) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = this.#pass().catch((e) =>
      this.#o.log.warn(`dns: ${e instanceof Error ? e.message : e}`)
    ).finally(() => {
      this.#busy = undefined;
      if (this.#again && !this.#closed) {
        this.#again = false;
        this.reconcile();
      }
    });
  }

  /** Waits for the pass in progress (tests). */
  async settled(): Promise<void> {
    while (this.#busy) await this.#busy;
  }

  /** Stops serving. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe();
    await this.#busy;
    await this.server.close();
    this.#bound.clear();
  }

  async #pass(): Promise<void> {
    const want = new Map<string, string>();
    for (const info of this.#o.networks()) {
      if (!info.config) continue;
      for (const ip of nameServerAddresses(this.#o.controller, info)) {
        if (!want.has(ip)) want.set(ip, hex16(info.nwid));
      }
    }
    const log = this.#o.log;
    for (const [ip, nwid] of this.#bound) {
      if (want.get(ip) === nwid) continue;
      this.#bound.delete(ip);
      await this.server.unbind(ip);
      log.info(`dns: stopped answering for network ${nwid} on ${ip}`);
    }
    for (const [ip, nwid] of want) {
      if (this.#bound.has(ip) || this.#closed) continue;
      try {
        await this.server.bind(ip);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const now = this.#o.now();
        const f = this.#failed.get(ip);
        if (!f || f.msg !== msg) {
          this.#failed.set(ip, { msg, since: f?.since ?? now, warned: f?.warned ?? false });
          log.debug(`dns: cannot listen on ${ip} yet (${msg}); retrying`);
        } else if (!f.warned && now - f.since > BIND_WARN_MS) {
          f.warned = true;
          log.warn(`dns: cannot listen on ${ip} port ${this.#o.server?.port ?? 53}: ${msg}`);
        }
        continue;
      }
      if (this.#closed) {
        await this.server.unbind(ip);
        return;
      }
      this.#failed.delete(ip);
      this.#bound.set(ip, nwid);
      const domain = this.zone(nwid)?.domain ?? "";
      log.info(
        `dns: answering for network ${nwid} (names under ${domain}) on ${ip} port ` +
          `${this.#o.server?.port ?? 53} (udp, tcp)`,
      );
    }
  }
}
