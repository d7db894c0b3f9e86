// The service's data plane: one TAP interface per configured network, frames between it and the core, managed IPs/routes, multicast polling.
import type { Core } from "../core/core.ts";
import type { MulticastGroup } from "../vl2/multicast.ts";
import type { NetworkInfo } from "../vl2/network.ts";
import type { NetworkLocalConf } from "../vl2/network_local_conf.ts";
import type { Logger } from "./logger.ts";
import type { ManagedPolicy } from "./managed_diff.ts";
import { createTap, type Tap, tapDeviceName } from "./tap.ts";
import { LastHitMap } from "../util/last_hit_map.ts";

/**
 * `portError` reported when the interface cannot be brought up (the generic failure code the
 * reference's service returns for a port it could not create). The network then shows
 * PORT_ERROR.
 */
export const PORT_ERROR_CODE = -999;
/** How often each interface's kernel multicast memberships are polled (spec §5.3). */
export const MULTICAST_POLL_MS = 5_000;

/** What the data plane drives in the core (a {@link Core} is one; without `rehearse`, no rehearsals). */
export type DataPlaneCore =
  & Pick<Core, "tapFrame" | "multicastGroupsChanged" | "network">
  & Partial<Pick<Core, "rehearse">>;

/** Construction options of {@link DataPlane}. */
export interface DataPlaneOptions {
  /** Logger. */
  log: Logger;
  /** Clock. */
  now: () => number;
  /** Makes an unopened TAP (default {@link createTap}; tests may fake it). */
  createTap?: () => Tap;
  /** Picks the interface name of a network (default {@link tapDeviceName}). */
  deviceName?: (nwid: bigint) => string;
  /** Multicast poll period, ms (default {@link MULTICAST_POLL_MS}). */
  multicastPollMs?: number;
  /**
   * Called after each burst of frames read from a TAP (the transport's "end of batch": send
   * what the burst queued). Optional.
   */
  flush?: () => void;
  /**
   * Registers a warm hook with the poll loop that reads the ports (`Reactor.onWarm`) and returns
   * its removal; the attached core's `rehearse` goes there. Optional (no rehearsals).
   */
  onWarm?: (hook: () => boolean) => () => void;
}

/** The state of one network's port. */
interface Port {
  nwid: bigint;
  tap: Tap | undefined;
  /** Opening failed: no retries until the network is left and joined again. */
  failed: boolean;
  /** Left (or the service stops): no more work. */
  closed: boolean;
  mtu: number;
  /** The newest snapshot not yet applied. */
  pending: NetworkInfo | undefined;
  /** The running apply loop. */
  busy: Promise<void> | undefined;
  /** Last multicast groups reported (sorted key), to report only changes. */
  groupsKey: string;
}

/** The managed-address policy of a network's local settings. */
export function managedPolicy(c: NetworkLocalConf): ManagedPolicy {
  return {
    allowManaged: c.allowManaged,
    allowGlobal: c.allowGlobal,
    allowDefault: c.allowDefault,
    ...(c.allowManagedWhitelist ? { allowManagedWhitelist: c.allowManagedWhitelist } : {}),
  };
}

function hex16(nwid: bigint): string {
  return nwid.toString(16).padStart(16, "0");
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Connects the core's networks to the OS: for every joined network with a config, a TAP
 * interface (name per {@link tapDeviceName}, our MAC on the network, the config's MTU) whose
 * frames go to the core's `tapFrame` and which receives what the core writes through
 * {@link tapWrite} (give it to the core as its host's `tapWrite`); managed addresses and routes
 * synced on every change under the network's local settings; kernel multicast groups polled.
 * {@link attach} the core, subscribe {@link onNetworkChanged} to the network change fan-out
 * before networks are (re)joined; call {@link close} when the service stops.
 */
export class DataPlane {
  #core: DataPlaneCore | undefined;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #createTap: () => Tap;
  readonly #flush: (() => void) | undefined;
  readonly #onWarm: ((hook: () => boolean) => () => void) | undefined;
  #unwarm: (() => void) | undefined;
  readonly #deviceName: (nwid: bigint) => string;
  readonly #ports = new LastHitMap<bigint, Port>();
  readonly #closing = new Set<Promise<void>>();
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  /** No interface exists yet; {@link attach} the core before networks are joined. */
  constructor(opts: DataPlaneOptions) {
    this.#log = opts.log;
    this.#now = opts.now;
    this.#createTap = opts.createTap ?? (() => createTap());
    this.#flush = opts.flush;
    this.#onWarm = opts.onWarm;
    this.#deviceName = opts.deviceName ?? tapDeviceName;
    this.#pollTimer = setInterval(() => this.#pollAll(), opts.multicastPollMs ?? MULTICAST_POLL_MS);
  }

  /** The core whose networks this data plane serves (frames from the TAPs go to it). */
  attach(core: DataPlaneCore): void {
    this.#core = core;
    this.#unwarm?.();
    const rehearse = core.rehearse?.bind(core);
    if (rehearse) this.#unwarm = this.#onWarm?.(() => rehearse(this.#now()));
  }

  /**
   * Writes a frame the core delivers to network `nwid`'s interface (the core host's
   * `tapWrite`; per frame, so one map lookup and the write). Dropped without a port.
   */
  readonly tapWrite = (nwid: bigint, frame: Uint8Array, start: number, end: number): void => {
    this.#ports.get(nwid)?.tap?.write(frame, start, end);
  };

  /** A rehearsal of {@link tapWrite} (the core host's `tapRehearse`; see `Core.rehearse`). */
  readonly tapRehearse = (nwid: bigint, frame: Uint8Array, start: number, end: number): void => {
    this.#ports.get(nwid)?.tap?.rehearseWrite?.(frame, start, end);
  };

  /** Interface names by network (open ports only). */
  deviceNames(): Map<bigint, string> {
    const out = new Map<bigint, string>();
    for (const [nwid, p] of this.#ports) if (p.tap) out.set(nwid, p.tap.deviceName);
    return out;
  }

  /**
   * The network change hook (`NetworkFiles.listeners`): a snapshot brings the port up once the
   * network has a config and re-syncs it; undefined (left) closes the port.
   */
  readonly onNetworkChanged = (nwid: bigint, info: NetworkInfo | undefined): void => {
    if (this.#stopped) return;
    if (!info) {
      this.#closePort(nwid);
      return;
    }
    let p = this.#ports.get(nwid);
    if (!p) {
      if (!info.config) return;
      p = {
        nwid,
        tap: undefined,
        failed: false,
        closed: false,
        mtu: info.mtu,
        pending: undefined,
        busy: undefined,
        groupsKey: "",
      };
      this.#ports.set(nwid, p);
    }
    if (!info.config) return;
    if (p.failed) return;
    p.pending = info;
    this.#kick(p);
  };

  /**
   * Resolves once no port update is running or queued and no port is closing: every network
   * change seen so far has been applied (tests wait for this instead of sleeping).
   */
  async idle(): Promise<void> {
    // bounded: each round waits for the updates running now; a round starts only if one is left
    for (let round = 0; round < 100; round++) {
      const running: Promise<void>[] = [...this.#closing];
      for (const p of this.#ports.values()) if (p.busy) running.push(p.busy);
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  /** Closes every interface (addresses and routes go with them) and stops the poll timer. */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#unwarm?.();
    this.#unwarm = undefined;
    if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    for (const nwid of [...this.#ports.keys()]) this.#closePort(nwid);
    await Promise.all([...this.#closing]);
  }

  // ---- private ---------------------------------------------------------------------------------

  #kick(p: Port): void {
    if (p.busy) return;
    p.busy = (async () => {
      while (p.pending && !p.closed) {
        const info = p.pending;
        p.pending = undefined;
        try {
          await this.#apply(p, info);
        } catch (e) {
          this.#log.warn(`network ${hex16(p.nwid)}: port update failed: ${errText(e)}`);
        }
      }
    })().finally(() => {
      p.busy = undefined;
      if (p.pending && !p.closed) this.#kick(p);
    });
  }

  async #apply(p: Port, info: NetworkInfo): Promise<void> {
    const id = hex16(p.nwid);
    if (!p.tap) {
      if (p.failed) return;
      let tap: Tap;
      let name = "";
      try {
        tap = this.#createTap();
        name = this.#deviceName(p.nwid);
        await tap.open(name, info.mac, info.mtu);
      } catch (e) {
        p.failed = true;
        this.#core?.network(p.nwid)?.setPort({ error: PORT_ERROR_CODE, deviceName: "" });
        this.#log.error(
          `network ${id}: cannot create its interface${name ? ` ${name}` : ""} ` +
            `(${errText(e)}); the network stays joined without one (status PORT_ERROR)`,
        );
        return;
      }
      if (p.closed) {
        await tap.close();
        return;
      }
      p.tap = tap;
      p.mtu = info.mtu;
      const nwid = p.nwid;
      const core = this.#core;
      if (!core) throw new Error("data plane: no core attached");
      tap.onFrame(
        (frame) => void core.tapFrame(this.#now(), nwid, frame, 0, frame.length),
        (e) => this.#log.debug(`network ${id}: frame from ${tap.deviceName} failed: ${errText(e)}`),
        this.#flush,
      );
      core.network(nwid)?.setPort({ deviceName: tap.deviceName, error: 0 });
      this.#log.info(
        `network ${id}: interface ${tap.deviceName} up (mac ${macText(info.mac)}, mtu ${info.mtu}` +
          `, offloads ${tap.offload ? "on" : "off"})`,
      );
    }
    const tap = p.tap;
    if (info.mtu !== p.mtu) {
      try {
        tap.setMtu(info.mtu);
        p.mtu = info.mtu;
      } catch (e) {
        this.#log.warn(`network ${id}: cannot set MTU ${info.mtu}: ${errText(e)}`);
      }
    }
    const report = await tap.syncManaged(
      info.assignedAddresses,
      info.routes,
      managedPolicy(info.localConf),
    );
    if (p.closed) return;
    for (const args of report.ran) this.#log.debug(`network ${id}: ip ${args.join(" ")}`);
    for (const f of report.failed) {
      this.#log.warn(`network ${id}: ip ${f.args.join(" ")} failed: ${f.error}`);
    }
    this.#poll(p);
  }

  #closePort(nwid: bigint): void {
    const p = this.#ports.get(nwid);
    if (!p) return;
    this.#ports.delete(nwid);
    p.closed = true;
    p.pending = undefined;
    const done = (async () => {
      try {
        await p.busy;
      } catch {
        // reported by the loop
      }
      const tap = p.tap;
      p.tap = undefined;
      if (!tap) return;
      const name = tap.deviceName;
      const o = tap.offloadCounters;
      if (o && (o.superFrames > 0 || o.coalescedWrites > 0)) {
        this.#log.debug(
          `network ${hex16(nwid)}: ${name} offloads: ${o.superFrames} super-frames read \u2192 ` +
            `${o.segments} segments; ${o.coalescedFrames} frames written in ${o.coalescedWrites} ` +
            `merged writes`,
        );
      }
      try {
        await tap.close();
        this.#log.info(`network ${hex16(nwid)}: interface ${name} removed`);
      } catch (e) {
        this.#log.warn(`network ${hex16(nwid)}: closing ${name} failed: ${errText(e)}`);
      }
    })();
    this.#closing.add(done);
    void done.finally(() => this.#closing.delete(done));
  }

  #pollAll(): void {
    for (const p of this.#ports.values()) this.#poll(p);
  }

  /** Reads the interface's multicast groups; reports them to VL2 and the API when changed. */
  #poll(p: Port): void {
    const tap = p.tap;
    if (!tap || p.closed) return;
    let groups: MulticastGroup[];
    try {
      groups = tap.multicastGroups();
    } catch (e) {
      this.#log.debug(`network ${hex16(p.nwid)}: multicast poll failed: ${errText(e)}`);
      return;
    }
    groups.sort((a, b) => a.mac - b.mac || a.adi - b.adi);
    groups = groups.filter((g, i) =>
      i === 0 || g.mac !== groups[i - 1].mac || g.adi !== groups[i - 1].adi
    );
    const key = groups.map((g) => `${g.mac}/${g.adi}`).join(",");
    if (key === p.groupsKey) return;
    p.groupsKey = key;
    this.#core?.multicastGroupsChanged(this.#now(), p.nwid, groups);
    this.#core?.network(p.nwid)?.setPort({ multicastSubscriptions: groups });
  }
}

function macText(mac: number): string {
  return mac.toString(16).padStart(12, "0").replace(/(..)(?!$)/g, "$1:");
}
