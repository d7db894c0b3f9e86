// The frame port role: one network's virtual Ethernet device (frames in and out, MAC, MTU), apart from the OS network configuration.
import type { MulticastGroup } from "../vl2/multicast.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { Route } from "../vl2/network_config.ts";

/** Receives one frame the OS sent out of the port (a view valid only during the call). */
export type PortFrameCallback = (frame: Uint8Array) => void;

/**
 * A virtual Ethernet device for one network (the model is wireguard-go's `tun.Device`): the
 * kernel TAP (`ffi/tap_linux.ts`), a userspace IP stack, or the in-memory double
 * `src/sim/mem_frame_port.ts`. Lifecycle: `open` → `onFrame` / `write` ... → `close`. Frames from
 * the port go to the core's `tapFrame`; frames the core delivers come through its host's
 * `tapWrite` to {@link write}.
 */
export interface FramePort {
  /** Interface name (`portDeviceName`); "" until opened. */
  readonly deviceName: string;
  /** Whether the device uses offloads (TSO / checksum offload, write coalescing); optional. */
  readonly offload?: boolean;
  /**
   * Creates the device `name` with MAC `mac` (48-bit number or 6 bytes) and MTU `mtu`, up.
   * @throws an error saying what is missing (driver, permission, name clash).
   */
  open(name: string, mac: number | Uint8Array, mtu: number): Promise<void>;
  /**
   * Sends one Ethernet frame `frame[start, end)` into the OS; false if refused or closed. May
   * buffer a copy until {@link flush}.
   */
  write(frame: Uint8Array, start?: number, end?: number): boolean;
  /**
   * Runs the code of {@link write} for one frame without writing it (a rehearsal, see
   * `Core.rehearse`): nothing reaches the OS, nothing is counted. Optional.
   */
  rehearseWrite?(frame: Uint8Array, start?: number, end?: number): void;
  /** Writes frames buffered by {@link write} now; optional. */
  flush?(): void;
  /**
   * Receives frames the OS sends out of the device. Callback exceptions are caught and given to
   * `onError`. `onRoundEnd`, if given, runs after each burst of frames read together (the flush
   * point for batched sends).
   */
  onFrame(cb: PortFrameCallback, onError?: (e: unknown) => void, onRoundEnd?: () => void): void;
  /** Changes the MTU (network config update). */
  setMtu(mtu: number): void;
  /** Stops reading and removes the device. */
  close(): Promise<void>;
}

/** The local per-network settings that gate managed addresses and routes (spec §11.1). */
export interface ManagedPolicy {
  /** Apply managed addresses and routes at all (default true). */
  allowManaged: boolean;
  /** Also apply ones in global (public) IP space (default false). */
  allowGlobal: boolean;
  /** Also apply default routes 0.0.0.0/0 and ::/0 (default false). */
  allowDefault: boolean;
  /** If non-empty, only targets inside one of these networks (port = prefix bits) are allowed. */
  allowManagedWhitelist?: InetAddress[];
}

/** What applying a configuration did: the commands run and the ones that failed. */
export interface NetConfigReport {
  /** Argument lists of every change made (e.g. `ip` invocations), in order. */
  ran: string[][];
  /** The failed ones. */
  failed: { args: string[]; error: string }[];
}

/**
 * The OS network configuration of one network's interface, apart from its frames (the model is
 * Tailscale's `wgengine/router`: one call sets the whole wanted state, the implementation diffs):
 * managed addresses and routes (iproute2 on Linux, the userspace stack's tables, or the in-memory
 * double `src/sim/fake_net_config.ts`) and the link-layer multicast groups the OS listens to.
 * DNS is applied per network by the service's DNS applier.
 */
export interface NetConfig {
  /**
   * Applies a network config's assigned addresses and routes as `policy` allows, removing what
   * no longer applies.
   */
  syncManaged(
    assigned: InetAddress[],
    routes: Route[],
    policy: ManagedPolicy,
  ): Promise<NetConfigReport>;
  /**
   * Multicast groups to announce (MULTICAST_LIKE): the interface's link-layer memberships plus
   * (broadcast, IPv4) for each applied IPv4 address (spec §5.3).
   */
  multicastGroups(): MulticastGroup[];
}
