// Member side of managed DNS: applies each joined network's DNS (when its allowDNS is set) to the OS through systemd-resolved or resolv.conf.
import type { NetworkInfo } from "../vl2/network.ts";
import type { Logger } from "./logger.ts";
import {
  type DnsEntry,
  hostFileGuard,
  inOtherNetNamespace,
  namespaceFacts,
  ResolvConfFile,
} from "./resolv_conf.ts";
import { type ResolvectlRunner, resolvedAvailable, ResolvedLink } from "./resolved.ts";

/** How DNS settings reach the OS. */
export type DnsBackend = "resolved" | "resolvconf";

/** The record of an applied resolv.conf block, in the home (restored at the next start after a crash). */
export const RESOLV_RECORD_FILE = "dns-resolv-conf.json";
/** How often the wanted settings are compared with the applied ones (ms). */
const RECONCILE_MS = 1000;

/** Options of {@link DnsApplier.start}. */
export interface DnsApplierOptions {
  /** Home directory (holds the resolv.conf record). */
  home: string;
  /** Logger. */
  log: Logger;
  /** Joined networks, as snapshots. */
  networks: () => NetworkInfo[];
  /**
   * Backend: "resolved", "resolvconf", or "auto" (default: `ZT_DNS_BACKEND` if set, else
   * systemd-resolved when it runs and we are in the host's network namespace, else resolv.conf).
   */
  backend?: "auto" | DnsBackend;
  /** The resolv.conf to edit (default /etc/resolv.conf). */
  resolvConfPath?: string;
  /** resolvectl runner (a fake in tests). */
  resolvectl?: ResolvectlRunner;
  /** systemd-resolved's socket, probed by "auto". */
  resolvedSocket?: string;
  /**
   * Why resolv.conf must not be written (default: {@link hostFileGuard} on this process's
   * namespaces); undefined = go ahead.
   */
  guard?: (path: string) => string | undefined;
}

/**
 * A network's wanted DNS: its config's servers and domain when it has a config, servers and
 * `allowDNS` set (undefined = nothing to apply). The userspace resolver uses the same rule.
 */
export function wantedDns(info: NetworkInfo): DnsEntry | undefined {
  if (!info.config || !info.localConf.allowDNS) return undefined;
  const servers = info.dns.servers.map((s) => s.toIpString());
  if (servers.length === 0) return undefined;
  return { domain: info.dns.domain, servers };
}

function hex16(n: bigint): string {
  return n.toString(16).padStart(16, "0");
}

function describe(e: DnsEntry): string {
  return `nameserver ${e.servers.join(" ")}${e.domain ? `, domain ${e.domain}` : ""}`;
}

/** Parses `ZT_DNS_BACKEND`. */
export function backendFromEnv(v: string | undefined): "auto" | DnsBackend | undefined {
  const s = v?.trim().toLowerCase();
  if (!s) return undefined;
  if (s === "resolved" || s === "systemd-resolved") return "resolved";
  if (s === "resolvconf" || s === "resolv.conf" || s === "file") return "resolvconf";
  if (s === "auto") return "auto";
  return undefined;
}

/**
 * Applies the DNS settings of joined networks whose local `allowDNS` is set, and takes them
 * away when the network is left, `allowDNS` is cleared, or zt stops:
 * - **resolved**: per-link servers and domain on the network's interface ({@link ResolvedLink});
 * - **resolvconf**: one managed block at the top of resolv.conf, edited in place, with a
 *   record in the home to restore the file exactly ({@link ResolvConfFile}); a record found at
 *   start (zt was killed) is restored first.
 * Networks without `allowDNS` are never touched.
 */
export class DnsApplier {
  /** The backend in use. */
  readonly backend: DnsBackend;
  readonly #o: DnsApplierOptions;
  readonly #file: ResolvConfFile;
  readonly #resolved: ResolvedLink;
  /** resolvconf: key of what is in the file; resolved: per network, key and interface. */
  #fileKey = "";
  readonly #fileApplied = new Map<string, DnsEntry>();
  readonly #links = new Map<string, { key: string; ifname: string; entry: DnsEntry }>();
  readonly #failedKeys = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy: Promise<void> | undefined;
  #again = false;
  #closed = false;

  private constructor(o: DnsApplierOptions, backend: DnsBackend) {
    this.#o = o;
    this.backend = backend;
    this.#file = new ResolvConfFile(
      o.resolvConfPath ?? "/etc/resolv.conf",
      `${o.home}/${RESOLV_RECORD_FILE}`,
    );
    this.#resolved = new ResolvedLink(o.resolvectl);
  }

  /** Picks the backend, restores a resolv.conf left changed by a crash, starts watching. */
  static async start(o: DnsApplierOptions): Promise<DnsApplier> {
    let choice = o.backend ?? backendFromEnv(Deno.env.get("ZT_DNS_BACKEND")) ?? "auto";
    if (choice === "auto") {
      // systemd-resolved belongs to the host: inside another network namespace it would set
      // up a link of the host's, so there only resolv.conf (the namespace's own) is used
      choice = !inOtherNetNamespace(namespaceFacts()) &&
          (await resolvedAvailable(o.resolvectl, o.resolvedSocket))
        ? "resolved"
        : "resolvconf";
    }
    const a = new DnsApplier(o, choice);
    try {
      const rec = a.#file.record();
      const how = a.#file.restore();
      if (rec && how !== "none") {
        o.log.info(
          `dns: restored ${rec.path} left changed by an earlier run (${
            how === "exact" ? "original content" : "zt lines removed; it was edited since"
          })`,
        );
      }
    } catch (e) {
      o.log.warn(`dns: cannot restore resolv.conf from the record: ${errText(e)}`);
    }
    a.#timer = setInterval(() => a.reconcile(), RECONCILE_MS);
    a.reconcile();
    return a;
  }

  /** Compares wanted and applied settings and fixes the difference (one pass at a time). */
  reconcile(): void {
    if (this.#closed) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = this.#pass(false).catch((e) => this.#o.log.warn(`dns: ${errText(e)}`))
      .finally(() => {
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

  /** Takes every applied setting away (zt stops). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.settled();
    await this.#pass(true).catch((e) => this.#o.log.warn(`dns: ${errText(e)}`));
  }

  async #pass(removeAll: boolean): Promise<void> {
    const want = new Map<string, { entry: DnsEntry; ifname: string }>();
    if (!removeAll) {
      for (const info of this.#o.networks()) {
        const e = wantedDns(info);
        if (e) want.set(hex16(info.nwid), { entry: e, ifname: info.portDeviceName });
      }
    }
    if (this.backend === "resolvconf") this.#passFile(want);
    else await this.#passResolved(want);
  }

  #passFile(want: Map<string, { entry: DnsEntry; ifname: string }>): void {
    const ids = [...want.keys()].sort();
    const key = JSON.stringify(ids.map((id) => [id, want.get(id)!.entry]));
    if (key === this.#fileKey) return;
    const log = this.#o.log;
    const path = this.#file.path;
    const refused = ids.length > 0
      ? (this.#o.guard ?? ((p) => hostFileGuard(p, namespaceFacts())))(path)
      : undefined;
    if (refused !== undefined) {
      if (!this.#failedKeys.has(key)) {
        this.#failedKeys.add(key);
        log.warn(`dns: not applying DNS to ${path}: ${refused}`);
      }
      return;
    }
    try {
      if (ids.length === 0) {
        this.#file.restore();
      } else {
        this.#file.apply(ids.map((id) => want.get(id)!.entry));
      }
    } catch (e) {
      if (!this.#failedKeys.has(key)) {
        this.#failedKeys.add(key);
        log.warn(`dns: cannot update ${path}: ${errText(e)}`);
      }
      return;
    }
    this.#failedKeys.clear();
    this.#fileKey = key;
    for (const [id, old] of this.#fileApplied) {
      if (!want.has(id)) {
        this.#fileApplied.delete(id);
        log.info(
          `network ${id}: DNS removed from ${path} (${describe(old)})` +
            (ids.length === 0 ? "; file restored" : ""),
        );
      }
    }
    for (const id of ids) {
      const e = want.get(id)!.entry;
      const old = this.#fileApplied.get(id);
      if (old && JSON.stringify(old) === JSON.stringify(e)) continue;
      this.#fileApplied.set(id, e);
      log.info(`network ${id}: DNS applied to ${path} (${describe(e)})`);
    }
  }

  async #passResolved(want: Map<string, { entry: DnsEntry; ifname: string }>): Promise<void> {
    const log = this.#o.log;
    for (const [id, cur] of [...this.#links]) {
      const w = want.get(id);
      if (w && w.ifname === cur.ifname) continue;
      this.#links.delete(id);
      try {
        await this.#resolved.revert(cur.ifname);
        log.info(`network ${id}: DNS removed from ${cur.ifname} (systemd-resolved)`);
      } catch (e) {
        // the interface may be gone already, which drops its settings too
        log.debug(`network ${id}: ${errText(e)}`);
      }
    }
    for (const [id, w] of want) {
      if (!w.ifname) continue; // no interface yet: next pass
      const key = JSON.stringify([w.ifname, w.entry]);
      if (this.#links.get(id)?.key === key || this.#failedKeys.has(key)) continue;
      try {
        await this.#resolved.apply(w.ifname, w.entry.servers, w.entry.domain);
      } catch (e) {
        this.#failedKeys.add(key);
        log.warn(`network ${id}: cannot apply DNS to ${w.ifname}: ${errText(e)}`);
        continue;
      }
      this.#links.set(id, { key, ifname: w.ifname, entry: w.entry });
      log.info(
        `network ${id}: DNS applied to ${w.ifname} via systemd-resolved (${describe(w.entry)})`,
      );
    }
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
