// The Tap adapter: a virtual Ethernet interface per network, the frame port (frames in and out) and
// its OS configuration (linux_net_config.ts: managed IPs and routes, multicast groups) on one
// object, and createTap() choosing the OS implementation (Linux so far).
import {
  type FrameCallback,
  LinuxTapDevice,
  pickLinuxTapDeviceName,
  type RoundEndCallback,
  type TapCounters,
  type TapOffloadCounters,
} from "../../ffi/tap_linux.ts";
import type { FramePort, NetConfig } from "../core/frame_port.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { Route } from "../vl2/network_config.ts";
import type { ManagedPolicy, SystemRoute } from "./managed_diff.ts";
import type { ApplyReport, IpRunner } from "./managed_routes.ts";
import { runIp } from "./managed_routes.ts";
import { LinuxNetConfig } from "./linux_net_config.ts";
export { parseDevMcast } from "./linux_net_config.ts";

export type {
  FrameCallback,
  RoundEndCallback,
  TapCounters,
  TapOffloadCounters,
} from "../../ffi/tap_linux.ts";

/** A multicast group the interface listens to (spec §5.3): 48-bit MAC and 32-bit ADI. */
export interface MulticastSubscription {
  /** Group MAC (48-bit number). */
  mac: number;
  /** Additional distinguishing information (u32; the IPv4 address for ARP groups). */
  adi: number;
}

/**
 * A virtual Ethernet interface for one network: the core's two port roles on one OS object, the
 * {@link FramePort} (frames, MAC, MTU) and the {@link NetConfig} (addresses, routes, multicast
 * groups). Lifecycle: {@link createTap} -> `open` -> `onFrame` / `write` / `syncManaged` ... ->
 * `close` (the interface disappears).
 */
export interface Tap extends FramePort, NetConfig {
  /** OS interface name (`portDeviceName`); "" until opened. */
  readonly deviceName: string;
  /** Frame counters. */
  readonly counters: TapCounters;
  /** Whether the device uses offloads (TSO / checksum offload, write coalescing); optional. */
  readonly offload?: boolean;
  /** Offload counters (super-frames, segments, coalesced writes); optional. */
  readonly offloadCounters?: TapOffloadCounters;
  /** Addresses zt applied to the interface (port = prefix bits). */
  readonly addresses: InetAddress[];
  /** Routes zt applied to the interface. */
  readonly routes: SystemRoute[];
  /**
   * Creates the interface `name` with MAC `mac` (48-bit number or 6 bytes) and MTU `mtu`, up.
   * @throws TapError saying what is missing (driver, permission, name clash).
   */
  open(name: string, mac: number | Uint8Array, mtu: number): Promise<void>;
  /**
   * Sends one Ethernet frame `frame[start, end)` into the OS; false if refused or closed. May
   * buffer a copy until {@link flush} (which then runs from a microtask by itself).
   */
  write(frame: Uint8Array, start?: number, end?: number): boolean;
  /** Writes frames buffered by {@link write} now; optional (unbuffered taps need none). */
  flush?(): void;
  /**
   * Receives frames the OS sends out of the interface. `frame` is a view into a reused buffer,
   * valid only during the call. Callback exceptions are caught and given to `onError`.
   * `onRoundEnd`, if given, runs after each burst of frames read together (flush point for
   * batched sends).
   */
  onFrame(cb: FrameCallback, onError?: (e: unknown) => void, onRoundEnd?: RoundEndCallback): void;
  /** Changes the MTU (network config update). */
  setMtu(mtu: number): void;
  /** Makes the applied addresses exactly `addresses` (diffed against what was applied). */
  setAddresses(addresses: InetAddress[]): Promise<ApplyReport>;
  /** Makes the applied routes exactly `routes` (diffed against what was applied). */
  setRoutes(routes: SystemRoute[]): Promise<ApplyReport>;
  /**
   * Applies a network config's assigned addresses and routes as `policy` allows
   * (allowManaged / allowGlobal / allowDefault), removing what no longer applies.
   */
  syncManaged(
    assigned: InetAddress[],
    routes: Route[],
    policy: ManagedPolicy,
  ): Promise<ApplyReport>;
  /**
   * Multicast groups to announce (MULTICAST_LIKE): the interface's kernel link-layer
   * memberships plus (broadcast, IPv4) for each applied IPv4 address (spec §5.3).
   */
  multicastGroups(): MulticastSubscription[];
  /** Stops reading and removes the interface (with its addresses and routes). */
  close(): Promise<void>;
}

/**
 * The OS interface name for network `nwid` as the reference picks it on Linux
 * ("zt" + 8 base32 chars, skipping names already taken).
 */
export function tapDeviceName(nwid: bigint): string {
  return pickLinuxTapDeviceName(nwid);
}

/**
 * Linux implementation of {@link Tap}: the frame port is the FFI TAP device
 * (`ffi/tap_linux.ts`), the OS configuration a {@link LinuxNetConfig} on its interface
 * (iproute2 for addresses and routes, /proc for multicast memberships).
 */
class LinuxTap implements Tap {
  #dev: LinuxTapDevice | undefined;
  #net: LinuxNetConfig | undefined;
  #run: IpRunner;
  #closed = false;

  constructor(run: IpRunner) {
    this.#run = run;
  }

  get deviceName(): string {
    return this.#dev?.name ?? "";
  }

  get counters(): TapCounters {
    return this.#dev?.counters ??
      { framesRead: 0, framesWritten: 0, writeErrors: 0, polls: 0, callbackErrors: 0 };
  }

  get offload(): boolean {
    return this.#dev?.offload ?? false;
  }

  get offloadCounters(): TapOffloadCounters | undefined {
    return this.#dev?.offloadCounters;
  }

  get addresses(): InetAddress[] {
    return this.#net?.addresses ?? [];
  }

  get routes(): SystemRoute[] {
    return this.#net?.routes ?? [];
  }

  #device(): LinuxTapDevice {
    if (!this.#dev || this.#closed) throw new Error("zt: TAP device is not open");
    return this.#dev;
  }

  /** The OS configuration of the open interface. */
  #config(): LinuxNetConfig {
    this.#device();
    return this.#net!;
  }

  open(name: string, mac: number | Uint8Array, mtu: number): Promise<void> {
    if (this.#dev) return Promise.reject(new Error("zt: TAP device already opened"));
    try {
      this.#dev = LinuxTapDevice.open(name, mac, mtu);
    } catch (e) {
      return Promise.reject(e);
    }
    this.#net = new LinuxNetConfig(this.#dev.name, this.#run);
    return Promise.resolve();
  }

  write(frame: Uint8Array, start = 0, end = frame.length): boolean {
    return this.#dev ? this.#dev.write(frame, start, end) : false;
  }

  rehearseWrite(frame: Uint8Array, start = 0, end = frame.length): void {
    this.#dev?.rehearseWrite(frame, start, end);
  }

  flush(): void {
    this.#dev?.flush();
  }

  onFrame(cb: FrameCallback, onError?: (e: unknown) => void, onRoundEnd?: RoundEndCallback): void {
    this.#device().onFrame(cb, onError, onRoundEnd);
  }

  setMtu(mtu: number): void {
    this.#device().setMtu(mtu);
  }

  setAddresses(addresses: InetAddress[]): Promise<ApplyReport> {
    return this.#config().setAddresses(addresses);
  }

  setRoutes(routes: SystemRoute[]): Promise<ApplyReport> {
    return this.#config().setRoutes(routes);
  }

  syncManaged(
    assigned: InetAddress[],
    routes: Route[],
    policy: ManagedPolicy,
  ): Promise<ApplyReport> {
    return this.#config().syncManaged(assigned, routes, policy);
  }

  multicastGroups(): MulticastSubscription[] {
    return this.#config().multicastGroups();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#net?.forget();
    await this.#dev?.close();
  }
}

/**
 * A new, unopened {@link Tap} for this OS.
 * @param os the OS to build for (default: this one).
 * @param run how addresses and routes are applied (default: iproute2's `ip`).
 * @throws Error "TAP devices are only implemented for Linux so far" on other systems.
 */
export function createTap(os: string = Deno.build.os, run: IpRunner = runIp): Tap {
  if (os === "linux") return new LinuxTap(run);
  throw new Error(`zt: TAP devices are only implemented for Linux so far (this is ${os})`);
}
