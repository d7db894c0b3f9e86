// Applies managed IPs and routes to a Linux interface with iproute2 (`ip addr` / `ip route`), keeping
// what it applied so that each config change becomes a small add/remove diff (see managed_diff.ts).
import { InetAddress } from "../vl1/inet_address.ts";
import type { Route } from "../vl2/network_config.ts";
import {
  diffAddresses,
  diffRoutes,
  emptyManagedState,
  type ManagedPolicy,
  type ManagedState,
  planManaged,
  type SystemRoute,
} from "./managed_diff.ts";

/** Result of one `ip` invocation. */
export interface IpResult {
  /** Exit code. */
  code: number;
  /** Standard error text (the reason on failure). */
  stderr: string;
}

/** Runs `ip <args>`; injectable so tests can record commands instead. */
export type IpRunner = (args: string[]) => Promise<IpResult>;

/** One change that failed. */
export interface ApplyFailure {
  /** The `ip` arguments. */
  args: string[];
  /** Why (stderr of `ip`, or the spawn error). */
  error: string;
}

/** Outcome of applying a diff: the commands that ran and those that failed. */
export interface ApplyReport {
  /** Argument lists of every `ip` run, in order. */
  ran: string[][];
  /** The failed ones (the state still records successful changes only). */
  failed: ApplyFailure[];
}

const decoder = new TextDecoder();

/** Where `ip` lives, checked in order. */
const IP_PATHS = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];

/** Finds the iproute2 `ip` binary. @throws Error naming the missing tool. */
function ipBinary(): string {
  for (const p of IP_PATHS) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    "zt: cannot configure managed addresses/routes: `ip` (iproute2) not found; install iproute2",
  );
}

/** The default {@link IpRunner}: spawns iproute2's `ip` (found in /usr/sbin, /sbin, ...). */
export const runIp: IpRunner = async (args) => {
  const out = await new Deno.Command(ipBinary(), {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: decoder.decode(out.stderr).trim() };
};

/** `ip` arguments adding an address (IPv6 without duplicate detection: the controller owns them). */
export function ipAddrAddArgs(dev: string, a: InetAddress): string[] {
  const args = ["addr", "add", a.toString(), "dev", dev];
  if (a.family === 6) args.push("nodad");
  return args;
}

/** `ip` arguments removing an address. */
export function ipAddrDelArgs(dev: string, a: InetAddress): string[] {
  return ["addr", "del", a.toString(), "dev", dev];
}

/** `ip` arguments installing (or replacing) a route through `dev`. */
export function ipRouteAddArgs(dev: string, r: SystemRoute): string[] {
  const args = [r.target.family === 6 ? "-6" : "-4", "route", "replace", r.target.toString()];
  if (r.via) args.push("via", r.via.toIpString());
  args.push("dev", dev);
  if (r.src) args.push("src", r.src.toIpString());
  return args;
}

/** `ip` arguments deleting a route through `dev`. */
export function ipRouteDelArgs(dev: string, r: SystemRoute): string[] {
  const args = [r.target.family === 6 ? "-6" : "-4", "route", "del", r.target.toString()];
  if (r.via) args.push("via", r.via.toIpString());
  args.push("dev", dev);
  return args;
}

/**
 * Managed addresses and routes of one interface. It remembers what it applied, so
 * {@link ManagedRoutes.sync} only adds what is new and removes what went away; it never touches
 * addresses or routes it did not add.
 */
export class ManagedRoutes {
  /** Interface name. */
  readonly device: string;
  #run: IpRunner;
  #state: ManagedState = emptyManagedState();

  /**
   * @param device the interface to configure.
   * @param run how to run `ip` (default: the real binary).
   */
  constructor(device: string, run: IpRunner = runIp) {
    this.device = device;
    this.#run = run;
  }

  /** Addresses applied so far (sorted). */
  get addresses(): InetAddress[] {
    return [...this.#state.addresses];
  }

  /** Routes applied so far. */
  get routes(): SystemRoute[] {
    return [...this.#state.routes];
  }

  async #exec(args: string[], report: ApplyReport): Promise<boolean> {
    report.ran.push(args);
    try {
      const r = await this.#run(args);
      if (r.code === 0) return true;
      report.failed.push({ args, error: r.stderr || `exit code ${r.code}` });
    } catch (e) {
      report.failed.push({ args, error: e instanceof Error ? e.message : String(e) });
    }
    return false;
  }

  /** Makes the applied addresses exactly `desired` (port = prefix bits). */
  async setAddresses(desired: InetAddress[], report = newReport()): Promise<ApplyReport> {
    const d = diffAddresses(this.#state.addresses, desired);
    const keep = new Set(this.#state.addresses.map((a) => a.key()));
    for (const a of d.remove) {
      // A failed delete (already gone with the device, say) still stops being ours.
      await this.#exec(ipAddrDelArgs(this.device, a), report);
      keep.delete(a.key());
    }
    const next = this.#state.addresses.filter((a) => keep.has(a.key()));
    for (const a of d.add) {
      if (await this.#exec(ipAddrAddArgs(this.device, a), report)) next.push(a);
    }
    this.#state = { ...this.#state, addresses: next.sort(InetAddress.compare) };
    return report;
  }

  /** Makes the applied routes exactly `desired`: on-link routes go in before gateway routes. */
  async setRoutes(desired: SystemRoute[], report = newReport()): Promise<ApplyReport> {
    const d = diffRoutes(this.#state.routes, desired);
    const gone = new Set(d.remove);
    for (const r of d.remove) await this.#exec(ipRouteDelArgs(this.device, r), report);
    const next = this.#state.routes.filter((r) => !gone.has(r));
    const ordered = [...d.add.filter((r) => !r.via), ...d.add.filter((r) => r.via)];
    for (const r of ordered) {
      if (await this.#exec(ipRouteAddArgs(this.device, r), report)) next.push(r);
    }
    this.#state = { ...this.#state, routes: next };
    return report;
  }

  /**
   * Brings the interface in line with a network config under `policy` (spec §11.1
   * allowManaged/allowGlobal/allowDefault): stale routes and addresses go first, then new
   * addresses, then new routes.
   * @param assigned the config's assigned addresses (port = prefix bits).
   * @param routes the config's managed routes.
   * @param policy the local allow flags.
   */
  async sync(
    assigned: InetAddress[],
    routes: Route[],
    policy: ManagedPolicy,
  ): Promise<ApplyReport> {
    const plan = planManaged(this.#state, assigned, routes, policy);
    const report = newReport();
    // Routes whose source address is about to disappear must go before the address.
    const staleRoutes = new Set(plan.routes.remove);
    await this.setRoutes(this.#state.routes.filter((r) => !staleRoutes.has(r)), report);
    await this.setAddresses(plan.next.addresses, report);
    await this.setRoutes(plan.next.routes, report);
    return report;
  }

  /** Removes everything this object applied. */
  async clear(): Promise<ApplyReport> {
    const report = newReport();
    await this.setRoutes([], report);
    await this.setAddresses([], report);
    return report;
  }

  /**
   * Forgets the applied state without running anything (for when the interface is gone and the
   * kernel dropped its addresses and routes with it).
   */
  forget(): void {
    this.#state = emptyManagedState();
  }
}

/** An empty {@link ApplyReport}. */
function newReport(): ApplyReport {
  return { ran: [], failed: [] };
}
